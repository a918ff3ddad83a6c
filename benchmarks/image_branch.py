#!/usr/bin/env python
"""What the phantom's X-ray carries and what an X-ray backbone learns of it: per-finding AUROC of the image branch
alone (the 'unimodal (xray)' baseline, 10 epochs) for several backbones, on the benchmark's folds of the phantom,
beside a fixed detector that needs no training.

  .venv/bin/python benchmarks/image_branch.py                          # every backbone, fold 0, 1,500 patients
  .venv/bin/python benchmarks/image_branch.py --images mnv3,effl0-in --folds 0,1,2
  .venv/bin/python benchmarks/image_branch.py --summary out.csv         # the table of an earlier run

The fixed detector is the largest response of a Laplacian-of-Gaussian filter (sigma 2 px, about a nodule's radius)
inside the lung fields, scored on the test patients who have an X-ray: how well a nodule can be found without learning
anything. The backbones are those of `levers.py --image` (mnv3 is the one the benchmark experiments use). Patients
without an X-ray stay in the test fold (the branch gives them all one
prediction, from its learned 'absent' embedding), as in the benchmark, so a branch's ceiling is a little below the
detector's, which is scored on X-rays only.
"""
import argparse, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

from levers import IMAGES, encoder_options


def run(images, folds, n, epochs, out):
    warnings.simplefilter('ignore')
    from sklearn.metrics import roc_auc_score
    from scipy import ndimage as ndi
    from mdrdx.core import seed_everything
    from mdrdx.data.phantom import make_phantom, _lung_masks
    from mdrdx.data.table import kfold_splits, PatientDL, PatientDataset
    from mdrdx.baselines import method_learner
    from mdrdx.evaluation import predict_with, benchmark_table
    table = benchmark_table('phantom', n=n, seed=0)
    ph = make_phantom(n, seed=0)                                  # the same patients, for the raw images of the fixed detector
    if list(ph.table.patient_id) != list(table.ids): raise RuntimeError('the phantom and the benchmark table list different patients')
    lungs = _lung_masks(ph.xray.shape[-1]); inside = ndi.binary_erosion(lungs[0] | lungs[1])
    FINDINGS, rows = list(table.target.columns), []
    splits = kfold_splits(table.ids, table.target.encode(table.df), 5, 0)
    for i, (tr, va) in enumerate(splits):
        if i not in folds: continue
        rows_x = [r for r in va if ph.table.has_xray.iloc[r]]     # `va`: row positions of the held-out patients
        score = [(-ndi.gaussian_laplace(ph.xray[r].astype(float), 2.))[inside].max() for r in rows_x]
        rows.append(dict(fold=i, image='fixed LoG detector', fit_s=0., nodule=roc_auc_score(ph.table.nodule.iloc[rows_x].astype(int), score)))
        for name in images:
            enc = encoder_options(name)
            dls = table.dataloaders(bs=32, splits={'train': tr, 'valid': va}, seed=0)
            seed_everything(0)
            learn = method_learner(dls, 'unimodal (xray)', seed=0, encoder_kwargs=enc)
            t0 = time.time()
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 3e-3)
            fit_s = time.time() - t0
            test_dl = PatientDL(PatientDataset(table, va, dls.train.dataset.norms), bs=64, shuffle=False)
            p, y, used = predict_with(learn, test_dl)
            per = {f: roc_auc_score(y[used, j], p[used, j]) for j, f in enumerate(FINDINGS) if 0 < y[used, j].sum() < used.sum()}
            rows.append(dict(fold=i, image=name, fit_s=fit_s, **per))
            print(f"fold {i} {name}: fit {fit_s:.0f}s, " + ', '.join(f'{f} {v:.3f}' for f, v in per.items()), flush=True)
            pd.DataFrame(rows).to_csv(out, index=False)
    return pd.DataFrame(rows)


def summary(d):
    from scipy import stats
    def cell(v):
        v = v.dropna().values
        if len(v) < 2: return f'{v.mean():.3f}' if len(v) else ''
        h = stats.t.ppf(.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
        return f'{v.mean():.3f} [{v.mean() - h:.3f}, {v.mean() + h:.3f}]'
    cols = [c for c in ('nodule', 'mass', 'effusion', 'atrophy', 'inflammation') if c in d]
    t = d.groupby('image', sort=False)[cols].agg(cell)
    t['folds'] = d.groupby('image', sort=False).fold.nunique()
    t['fit s / fold'] = d.groupby('image', sort=False).fit_s.mean().round(0)
    print('AUROC of the X-ray branch alone per finding (mean over folds, 95% t-interval where there are 2 or more)')
    print(t.to_string())


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--images', default=','.join(IMAGES)); ap.add_argument('--folds', default='0')
    ap.add_argument('--n', type=int, default=1500); ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--out', default=None); ap.add_argument('--summary', nargs='*', default=None)
    a = ap.parse_args()
    if a.summary: summary(pd.concat([pd.read_csv(f) for f in a.summary]))
    else:
        out = Path(a.out or Path(__file__).parent / 'results' / 'image_branch.csv'); out.parent.mkdir(parents=True, exist_ok=True)
        summary(run(a.images.split(','), [int(f) for f in a.folds.split(',')], a.n, a.epochs, out))
