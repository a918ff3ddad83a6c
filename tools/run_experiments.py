#!/usr/bin/env python
"""Run every experiment notebook in nbs/experiments/ through papermill.

  python tools/run_experiments.py --smoke --out DIR     CI: smoke parameters from nbs/experiments/smoke.yml,
                                                        executed copies in DIR (the repo is left untouched)
  python tools/run_experiments.py --inplace [NAME...]   the full run with each notebook's default parameters,
                                                        outputs written back into the notebooks for the docs

A notebook that raises fails the run (exit 1), after the others have run, and the failures are listed.
"""
import argparse, os, sys, time
from pathlib import Path

import re
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXP = ROOT / 'nbs' / 'experiments'


def param_value(v: str):
    "A -p value as YAML reads it, except that a number YAML 1.1 leaves a string ('3e-3', '1E5') is a number, as papermill's -p makes it"
    x = yaml.safe_load(v)
    return float(x) if isinstance(x, str) and re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+', x) else x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('names', nargs='*', help='notebook names (default: all)')
    ap.add_argument('--smoke', action='store_true', help='use the smoke parameters of smoke.yml')
    ap.add_argument('--out', help='directory for executed copies')
    ap.add_argument('--inplace', action='store_true', help='write outputs back into the notebooks')
    ap.add_argument('-p', nargs=2, action='append', default=[], metavar=('NAME', 'VALUE'), help='extra parameter')
    a = ap.parse_args()
    if bool(a.out) == a.inplace: sys.exit('give exactly one of --out DIR or --inplace')
    import papermill as pm
    os.environ.setdefault('HF_HUB_DISABLE_PROGRESS_BARS', '1')   # the kernels inherit it: no "Loading weights" bars

    nbs = sorted(p for p in EXP.glob('*.ipynb') if not a.names or p.name in a.names or p.stem in a.names)
    if not nbs: sys.exit(f'no experiment notebooks found in {EXP} (asked for: {a.names or "all"})')
    smoke = yaml.safe_load((EXP / 'smoke.yml').read_text()) or {} if a.smoke else {}
    extra = {k: param_value(v) for k, v in a.p}
    failed, rows = [], []
    for nb in nbs:
        params = {**(smoke.get(nb.name) or {}), **extra}
        out = nb if a.inplace else Path(a.out) / nb.name
        out.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        print(f'== {nb.name} {params or "(default parameters)"}', flush=True)
        try:
            pm.execute_notebook(str(nb), str(out), parameters=params, kernel_name='python3', cwd=str(out.parent),
                                progress_bar=False)
            status = 'ok'
        except Exception as e:  # papermill raises PapermillExecutionError with the cell's traceback
            status = 'FAILED'; failed.append(nb.name)
            print(f'{nb.name} failed:\n{e}', file=sys.stderr)
        rows.append((nb.name, status, time.time() - t0))
    print('\nnotebook                          result   seconds')
    for n, s, dt in rows: print(f'{n:<33} {s:<8} {dt:7.1f}')
    if failed: sys.exit(f'experiment notebooks failed: {failed}')


if __name__ == '__main__': main()
