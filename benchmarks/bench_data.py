#!/usr/bin/env python
"""Data-layer benchmark: DataLoader items/s per modality kind (phantom, IU cohort), first vs cached pass of the
frozen all-MiniLM-L6-v2 text encoder on the IU indications, and the process's peak memory after each row.

  python benchmarks/bench_data.py [--n 600] [--bs 32] [--reps 1] [--csv out.csv]

An epoch row is one pass over the training DataLoader: with --reps 1 the first pass after building it, with more
a warm-up pass and then the median of --reps timed passes. `benchmarks/suite.py` calls `measure` too.
Prints one table; with --csv also writes it, so runs can be compared side by side.
"""
import argparse, os, sys, tempfile, time, warnings
from pathlib import Path

import pandas as pd
import torch

from benchlib import peak_mb, timeit


def one_epoch(dl):
    t0, n = time.perf_counter(), 0
    for inputs, pres, y in dl: n += len(pres)
    return n, time.perf_counter() - t0


def epoch(dl, reps: int = 1):
    "(items, seconds, spread) of one pass over `dl`: the first pass (reps=1), or the median of `reps` after a warm-up pass"
    if reps == 1:
        n, secs = one_epoch(dl)
        return n, secs, float('nan')
    n = len(dl.dataset)
    t = timeit(lambda: one_epoch(dl), reps, warmup=1)
    return n, t.median, t.spread


def measure(tmp, n: int = 600, bs: int = 32, reps: int = 1, iu: bool = True, minilm: bool = True, log=print) -> list:
    "Rows of the data benchmark, files written under `tmp`; `iu`: the IU cohort rows, `minilm`: its MiniLM embedding passes"
    from mdrdx.data.table import phantom_specs, PatientTable, TargetSpec, text
    from mdrdx.data.phantom import make_phantom, save_phantom, FINDINGS
    tmp = Path(tmp)
    rows = []
    def add(data, what, n, secs, note='', spread=float('nan')):
        rows.append({'data': data, 'what': what, 'items': n, 'seconds': round(secs, 3),
                     'items/s': round(n / secs, 1) if secs else float('nan'), 'peak RSS MB': round(peak_mb()),
                     'note': note, 'spread': spread})
        log({k: v for k, v in rows[-1].items() if k != 'spread'})

    t0 = time.perf_counter(); save_phantom(make_phantom(n, seed=0), tmp / 'ph')
    add('phantom', 'generate + write (PNG/NIfTI/CSV)', n, time.perf_counter() - t0)
    df = pd.read_csv(tmp / 'ph' / 'patients.csv')
    for spec in phantom_specs():
        t = PatientTable(df, [spec], TargetSpec(list(FINDINGS)), root=tmp / 'ph')
        t0 = time.perf_counter(); dls = t.dataloaders(bs=bs, splits={'train': range(len(t)), 'valid': []})
        build = time.perf_counter() - t0
        k, secs, sp = epoch(dls.train, reps)
        add('phantom', f'{spec.kind.value} ({spec.name}) epoch', k, secs, f'build {build:.2f}s, {len(t)} with it present', sp)
    t = PatientTable(df, phantom_specs(), TargetSpec(list(FINDINGS)), root=tmp / 'ph')
    dls = t.dataloaders(bs=bs, splits={'train': range(len(t)), 'valid': []})
    k, secs, sp = epoch(dls.train, reps); add('phantom', 'all four modalities epoch', k, secs, spread=sp)
    if not iu: return rows

    try:
        from mdrdx.data.iu import iu_table, iu_cohort
        it = iu_table()
        dls = it.dataloaders(bs=bs, splits={'train': range(len(it)), 'valid': []})
        k, secs, sp = epoch(dls.train, reps); add('IU', 'text tokens + tabular epoch', k, secs, spread=sp)
        if not minilm: return rows
        df = iu_cohort()
        df = df[df.abnormal.notna()].reset_index(drop=True)
        for label in ('first pass (cold cache)', 'second pass (cached)'):
            t0 = time.perf_counter()
            ti = PatientTable(df, [text('report', 'indication', encoder='minilm')], TargetSpec('abnormal'))
            ds = ti.dataset()
            secs = time.perf_counter() - t0
            add('IU', f'MiniLM indication embeddings, {label}', len(ds), secs, f'{ds.n_encoded["report"]} texts encoded')
        dl = ti.dataloaders(bs=bs, splits={'train': range(len(ti)), 'valid': []}).train
        k, secs, sp = epoch(dl, reps); add('IU', 'cached embeddings epoch', k, secs, spread=sp)
    except FileNotFoundError as e:
        print(f'IU rows not measured: {e}', file=sys.stderr)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=600, help='phantom patients')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--reps', type=int, default=1, help='1: the first pass; more: median of that many after a warm-up pass')
    ap.add_argument('--csv', help='also write the table here')
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    warnings.simplefilter('ignore')
    tmp = Path(tempfile.mkdtemp(prefix='mdrdx-bench-'))
    os.environ['MDRDX_CACHE'] = str(tmp / 'cache')          # a cold cache: the first pass really encodes
    out = pd.DataFrame(measure(tmp, a.n, a.bs, a.reps)).drop(columns='spread')
    print('\n' + out.to_string(index=False))
    if a.csv: out.to_csv(a.csv, index=False); print(f'written to {a.csv}')


if __name__ == '__main__': main()
