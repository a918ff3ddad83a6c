#!/usr/bin/env python
"""`DenoiserFinish` measured: each fold's MDR-Dx (today's defaults, 10 epochs) before and after `Learner.finish_denoiser`,
paired by fold. The second stage changes only the denoiser, so the pairs differ in nothing else. Per fold: macro AUROC
at 0 / 50 / 80 % missing, the imputer's skill per modality and held-out L_diff (`imputation_report`), and for the
`what_if` draws with half the modalities dropped: how often the revealed risk falls inside the draws' 10-90 % band
(`band_coverage`; 0.62 is what exchangeable draws give with K = 8) and the spread's AUROC for errors against the
margin's (`error_auroc`).

  .venv/bin/python benchmarks/denoiser_finish.py --cohort whas500            # 5 folds, about 2 minutes
  .venv/bin/python benchmarks/denoiser_finish.py --cohort iu                 # about 15 minutes
  .venv/bin/python benchmarks/denoiser_finish.py --cohort phantom --n 1000   # about 25 minutes
  .venv/bin/python benchmarks/denoiser_finish.py --summary a.csv b.csv       # the tables of earlier runs
"""
import argparse, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

def run(cohort, n, k, folds, seed, out):
    import torch
    from sklearn.metrics import roc_auc_score
    from mdrdx.core import seed_everything
    from mdrdx.data.table import kfold_splits, PatientDL, PatientDataset
    from mdrdx.baselines import method_learner
    from mdrdx.evaluation import benchmark_table, predict_with, drop_rate, imputation_report
    from mdrdx.uncertainty import what_if, band_coverage, error_auroc, margin
    warnings.simplefilter('ignore')
    t = benchmark_table(cohort, n=n, seed=seed, max_patients=0)
    splits = list(kfold_splits(t.ids, t.target.encode(t.df), k, seed))
    rows = []
    for fold in folds:
        tr, va = splits[fold]
        dls = t.dataloaders(bs=32, splits={'train': tr, 'valid': va}, seed=seed)
        seed_everything(seed)
        learn = method_learner(dls, 'MDR-Dx', seed=seed, encoder_kwargs=dict(image='mobilenetv3_small_050'))
        t0 = time.time()
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(10, 3e-3)
        fit_s = time.time() - t0
        test_dl = PatientDL(PatientDataset(t, va, dls.train.dataset.norms), bs=64, shuffle=False)
        def report(when, secs, best_step=np.nan):
            r = dict(cohort=cohort, fold=fold, when=when, fit_s=fit_s, finish_s=secs, best_step=best_step)
            for rate in (0, .5, .8):
                p, y, used = predict_with(learn, test_dl, drop_rate(rate, seed + 1) if rate else None)
                p, y = p[used], y[used]
                r[f'auroc {rate:.0%}'] = np.nanmean([roc_auc_score(y[:, j], p[:, j]) for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)])
            ir = imputation_report(learn, test_dl)
            r.update({f'skill {m}': v for m, v in ir['skill'].items()})
            r['L_diff'] = float((ir['L_diff'] * ir['n']).sum() / ir['n'].sum())
            w = what_if(learn, test_dl, k=8, edit=drop_rate(.5, seed + 7))
            rv = predict_with(learn, test_dl, None, with_presence=True)
            bc = band_coverage(w, rv[0], rv[3])
            r.update({f'band {c}': bc[c] for c in ('coverage', 'below', 'above', 'width')})
            inc = ~w.presence.numpy().all(1)
            pp, yy = w.probs.numpy()[inc], w.targets.numpy()[inc]
            r['error AUROC spread'] = error_auroc(w.full.std(0).numpy()[inc], pp, yy, w.task)
            r['error AUROC margin'] = error_auroc(margin(pp), pp, yy, w.task)
            rows.append(r)
        report('before', 0.)
        t0 = time.time()
        h = learn.finish_denoiser(seed=seed)
        report('after', time.time() - t0, int(h[h.best].step.iloc[0]))
        print(f"{cohort} fold {fold}: fit {fit_s:.0f}s, finish {rows[-1]['finish_s']:.1f}s (best at step {rows[-1]['best_step']}), "
              f"L_diff {rows[-2]['L_diff']:.3f} -> {rows[-1]['L_diff']:.3f}, band coverage {rows[-2]['band coverage']:.2f} -> {rows[-1]['band coverage']:.2f}", flush=True)
        pd.DataFrame(rows).to_csv(out, index=False)
    return pd.DataFrame(rows)

def summary(d):
    from scipy import stats
    cols = [c for c in d.columns if c not in ('cohort', 'fold', 'when', 'fit_s', 'finish_s', 'best_step') and d[c].notna().any()]
    for cohort, g in d.groupby('cohort'):
        w = g.pivot_table(index='fold', columns='when', values=cols)
        out = []
        for c in cols:
            v = (w[(c, 'after')] - w[(c, 'before')]).dropna().values
            h = stats.t.ppf(.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
            out.append(dict(measure=c, before=w[(c, 'before')].mean(), after=w[(c, 'after')].mean(),
                            change=f"{v.mean():+.3f} [{v.mean() - h:+.3f}, {v.mean() + h:+.3f}]"))
        a = g[g.when == 'after']
        print(f"\n{cohort}: {len(w)} folds, after minus before paired by fold (mean, 95% t-interval); "
              f"second stage {a.finish_s.mean():.1f} s per fold (fit {a.fit_s.mean():.0f} s), best step {a.best_step.median():.0f} (median)")
        print(pd.DataFrame(out).set_index('measure').round(3).to_string())

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cohort', default='whas500', help='phantom, iu, flchain or whas500 (`benchmark_table`)')
    ap.add_argument('--n', type=int, default=1000, help='phantom patients'); ap.add_argument('--k', type=int, default=5)
    ap.add_argument('--folds', default=None, help='run only these folds, e.g. 0,1'); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default=None); ap.add_argument('--summary', nargs='*', default=None, help='CSV(s) of earlier runs: print their tables only')
    a = ap.parse_args()
    if a.summary: summary(pd.concat([pd.read_csv(f) for f in a.summary]))
    else:
        out = Path(a.out or Path(__file__).parent / 'results' / f'denoiser_finish_{a.cohort}.csv'); out.parent.mkdir(parents=True, exist_ok=True)
        folds = range(a.k) if a.folds is None else [int(f) for f in a.folds.split(',')]
        summary(run(a.cohort, a.n, a.k, folds, a.seed, out))
