#!/usr/bin/env python
"""Where a method loses when modalities go missing: each method's scores per presence pattern, on the benchmark's
folds of a cohort, at 0 / 50 / 80 % random missing (`mdrdx.evaluation.pattern_report`, averaged over folds).

  .venv/bin/python benchmarks/patterns.py --cohort iu                                 # MDR-Dx, MoPoE, early and late fusion
  .venv/bin/python benchmarks/patterns.py --cohort whas500 --methods MDR-Dx,MoPoE
  .venv/bin/python benchmarks/patterns.py --cohort iu --methods MDR-Dx --options "head_dropout=0.5"   # MDR-Dx with options
  .venv/bin/python benchmarks/patterns.py --summary out.csv                           # the tables of an earlier run

For each method and missing rate the table gives, per pattern, the mean number of test patients, the prevalence,
the mean predicted probability and the AUROC, then the pooled AUROC and the pooled AUROC after each pattern's logits
are recalibrated on the same patients (a bound on what calibration across patterns could add, not a method).
Methods are built by `method_learner` as in `01_benchmark` (10 epochs, one-cycle at 3e-3, batch 32, the same drop
seeds), so two methods are compared on the same test patients with the same modalities dropped.
"""
import argparse, ast, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

from levers import fold_loaders


def run(cohort, methods, k, epochs, seed, out, n=1500, folds_only=None, options=None):
    warnings.simplefilter('ignore')
    from mdrdx.core import seed_everything
    from mdrdx.data.table import kfold_splits
    from mdrdx.baselines import method_learner
    from mdrdx.evaluation import predict_with, drop_rate, benchmark_table, pattern_report
    table = benchmark_table(cohort, n=n, seed=0)
    folds = kfold_splits(table.ids, table.target.encode(table.df), k, seed)
    rows = []
    for name in methods:
        for i, (tr, va) in enumerate(folds):
            if folds_only is not None and i not in folds_only: continue
            dls, test_dl = fold_loaders(table, tr, va, seed)
            seed_everything(seed)
            learn = method_learner(dls, name, seed=seed, encoder_kwargs=dict(image='mobilenetv3_small_050'),
                                   **((options or {}) if name == 'MDR-Dx' else {}))
            t0 = time.time()
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 3e-3)
            for rate in (0, .5, .8):
                p, y, used, pres = predict_with(learn, test_dl, drop_rate(rate, seed + 1) if rate else None, with_presence=True)
                rep = pattern_report(p[used], y[used], pres[used], table.names, min_n=1)
                rows += [dict(cohort=cohort, method=name, fold=i, rate=rate, pattern=pat, **r) for pat, r in rep.iterrows()]
            print(f"{name} fold {i}: fit {time.time() - t0:.0f}s", flush=True)
            pd.DataFrame(rows).to_csv(out, index=False)
    return pd.DataFrame(rows)


def summary(d: pd.DataFrame):
    pd.set_option('display.width', 200)
    for rate, g in d.groupby('rate'):
        t = g.groupby(['pattern', 'method'])[['n', 'prevalence', 'mean_prob', 'auroc']].mean().unstack('method')
        last = [p for p in ('pooled', 'recalibrated') if p in t.index]
        t = t.loc[[p for p in t.index if p not in last] + last]
        print(f"\n{d.cohort.iloc[0]}, {rate:.0%} missing: mean over {g.fold.nunique()} folds")
        print(t[['auroc', 'mean_prob', 'n']].round(3).to_string())


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cohort', default='iu', help='a benchmark cohort: phantom, iu, flchain or whas500')
    ap.add_argument('--methods', default='MDR-Dx,MoPoE,early fusion,late fusion')
    ap.add_argument('--k', type=int, default=5); ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--n', type=int, default=1500, help='phantom patients')
    ap.add_argument('--folds', default=None, help='run only these folds, e.g. 0,1')
    ap.add_argument('--options', default='', help="MDR-Dx's model options, e.g. 'head_dropout=0.5,impute_draws=8'")
    ap.add_argument('--out', default=None); ap.add_argument('--summary', nargs='*', default=None)
    a = ap.parse_args()
    if a.summary: summary(pd.concat([pd.read_csv(f) for f in a.summary]))
    else:
        out = Path(a.out or Path(__file__).parent / 'results' / f'patterns_{a.cohort}.csv'); out.parent.mkdir(parents=True, exist_ok=True)
        folds = None if a.folds is None else [int(f) for f in a.folds.split(',')]
        opts = {k: ast.literal_eval(v) for k, v in (kv.split('=', 1) for kv in a.options.split(',') if kv)}
        summary(run(a.cohort, a.methods.split(','), a.k, a.epochs, a.seed, out, a.n, folds, opts))
