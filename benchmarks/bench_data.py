#!/usr/bin/env python
"""Data-layer benchmark: DataLoader items/s per modality kind (phantom, IU cohort), first vs cached pass of the
frozen all-MiniLM-L6-v2 text encoder on the IU indications, and the process's peak memory after each row.

  python benchmarks/bench_data.py [--n 600] [--bs 32] [--csv out.csv]

Prints one table; with --csv also writes it, so runs can be compared side by side.
"""
import argparse, os, resource, sys, tempfile, time, warnings
from pathlib import Path

import pandas as pd
import torch


def peak_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_epoch(dl):
    t0, n = time.perf_counter(), 0
    for inputs, pres, y in dl: n += len(pres)
    return n, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=600, help='phantom patients')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--csv', help='also write the table here')
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    warnings.simplefilter('ignore')
    tmp = Path(tempfile.mkdtemp(prefix='mdrdx-bench-'))
    os.environ['MDRDX_CACHE'] = str(tmp / 'cache')          # a cold cache: the first pass really encodes
    from mdrdx.data.table import phantom_specs, PatientTable, TargetSpec, text
    from mdrdx.data.phantom import make_phantom, save_phantom, FINDINGS
    rows = []
    def add(data, what, n, secs, note=''):
        rows.append({'data': data, 'what': what, 'items': n, 'seconds': round(secs, 2),
                     'items/s': round(n / secs, 1) if secs else float('nan'), 'peak RSS MB': round(peak_mb()), 'note': note})
        print(rows[-1], flush=True)

    t0 = time.perf_counter(); save_phantom(make_phantom(a.n, seed=0), tmp / 'ph')
    add('phantom', 'generate + write (PNG/NIfTI/CSV)', a.n, time.perf_counter() - t0)
    df = pd.read_csv(tmp / 'ph' / 'patients.csv')
    for spec in phantom_specs():
        t = PatientTable(df, [spec], TargetSpec(list(FINDINGS)), root=tmp / 'ph')
        t0 = time.perf_counter(); dls = t.dataloaders(bs=a.bs, splits={'train': range(len(t)), 'valid': []})
        build = time.perf_counter() - t0
        n, secs = one_epoch(dls.train)
        add('phantom', f'{spec.kind.value} ({spec.name}) epoch', n, secs, f'build {build:.2f}s, {len(t)} with it present')
    t = PatientTable(df, phantom_specs(), TargetSpec(list(FINDINGS)), root=tmp / 'ph')
    dls = t.dataloaders(bs=a.bs, splits={'train': range(len(t)), 'valid': []})
    n, secs = one_epoch(dls.train); add('phantom', 'all four modalities epoch', n, secs)

    try:
        from mdrdx.data.iu import iu_table, iu_cohort
        it = iu_table()
        dls = it.dataloaders(bs=a.bs, splits={'train': range(len(it)), 'valid': []})
        n, secs = one_epoch(dls.train); add('IU', 'text tokens + tabular epoch', n, secs)
        df = iu_cohort()
        df = df[df.abnormal.notna()].reset_index(drop=True)
        for label in ('first pass (cold cache)', 'second pass (cached)'):
            t0 = time.perf_counter()
            ti = PatientTable(df, [text('report', 'indication', encoder='minilm')], TargetSpec('abnormal'))
            ds = ti.dataset()
            secs = time.perf_counter() - t0
            add('IU', f'MiniLM indication embeddings, {label}', len(ds), secs, f'{ds.n_encoded["report"]} texts encoded')
        dl = ti.dataloaders(bs=a.bs, splits={'train': range(len(ti)), 'valid': []}).train
        n, secs = one_epoch(dl); add('IU', 'cached embeddings epoch', n, secs)
    except FileNotFoundError as e:
        print(f'IU rows not measured: {e}', file=sys.stderr)

    out = pd.DataFrame(rows)
    print('\n' + out.to_string(index=False))
    if a.csv: out.to_csv(a.csv, index=False); print(f'written to {a.csv}')


if __name__ == '__main__': main()
