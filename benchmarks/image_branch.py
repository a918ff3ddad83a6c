#!/usr/bin/env python
"""What the phantom's X-ray carries and what an X-ray backbone learns of it: per-finding AUROC of the image branch
alone (the 'unimodal (xray)' baseline, 10 epochs) for several backbones, on the benchmark's folds of the phantom,
beside a detector that needs no training.

  .venv/bin/python benchmarks/image_branch.py                          # every backbone, fold 0, 1,500 patients
  .venv/bin/python benchmarks/image_branch.py --images mnv3,effl0-in --folds 0,1,2
  .venv/bin/python benchmarks/image_branch.py --anatomy varied --img-size 128 --images effl0-in --folds 0,1,2
  .venv/bin/python benchmarks/image_branch.py --anatomy varied --img-size 128 --images effl0-in --folds 0,1 --models unimodal,default,default+obs
  .venv/bin/python benchmarks/image_branch.py --summary out.csv         # the table of an earlier run

`--models` puts the branch inside MDR-Dx beside the branch alone: a configuration of `levers.py` (`default` is the model
as `mdrdx_learner` builds it) is trained with the same backbone, folds and budget, and scored twice, on its diagnosis of
every test patient and on its own X-ray head's of the patients with an X-ray: where the head falls short of the branch
alone, the X-ray encoder learns less inside the model; where only the diagnosis does, the combination loses it.

The untrained detector is the largest response of a Laplacian-of-Gaussian filter (sigma 2 px, about a nodule's radius)
inside the lung fields, scored on the test patients who have an X-ray: how well a nodule can be found without learning
anything. On the varied anatomy (`--anatomy varied`: every patient's chest deformed, lit and imaged differently, with
vessels, electrodes and tubes that are not findings) the lung fields move from patient to patient, so the detector
searches the whole image inside a margin, with sigma scaled to the image size. The backbones are those of `levers.py --image` (mnv3 is the one the benchmark experiments use). Patients
without an X-ray stay in the test fold (the branch gives them all one
prediction, from its learned 'absent' embedding), as in the benchmark, so a branch's ceiling is a little below the
detector's, which is scored on X-rays only.
"""
import argparse, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

from levers import IMAGES, CONFIGS, encoder_options


def head_probs(learn, dl, name: str):
    "Probabilities of MDR-Dx's own head of modality `name` for the patients of `dl` who have it, their targets and those rows"
    import torch
    m, P, Y, U = learn.model.eval(), [], [], []
    j = m.names.index(name)
    with torch.no_grad():
        for b in dl:
            inputs, pres, y = b[0], b[1].bool(), b[-1]
            _, lat = m.encode(inputs, pres)
            per = m.unimodal(lat, pres)[0]
            P.append(torch.sigmoid(per[:, j]).cpu()); Y.append(y.cpu()); U.append(pres[:, j].cpu())
    return torch.cat(P).numpy(), torch.cat(Y).numpy(), torch.cat(U).numpy()


def run(images, folds, n, epochs, out, anatomy='fixed', img_size=64, lr=3e-3, models=('unimodal',)):
    warnings.simplefilter('ignore')
    from sklearn.metrics import roc_auc_score
    from scipy import ndimage as ndi
    from mdrdx.core import seed_everything
    from mdrdx.data.phantom import make_phantom, _lung_masks, blob_response
    from mdrdx.data.table import kfold_splits, PatientDL, PatientDataset
    from mdrdx.baselines import method_learner
    from mdrdx.evaluation import predict_with, benchmark_table
    from mdrdx.learner import mdrdx_learner
    opts = {} if anatomy == 'fixed' else dict(anatomy=anatomy, img_size=img_size)
    table = benchmark_table('phantom', n=n, seed=0, **opts)
    ph = make_phantom(n, seed=0, **opts)                          # the same patients, for the raw images of the untrained detector
    if list(ph.table.patient_id) != list(table.ids): raise RuntimeError('the phantom and the benchmark table list different patients')
    side = ph.xray.shape[-1]
    if anatomy == 'fixed': lungs = _lung_masks(side); inside = ndi.binary_erosion(lungs[0] | lungs[1])
    else: inside = np.zeros((side, side), bool); m = side // 8; inside[m:-m, m:-m] = True   # the lungs move: the whole image
    sigma = 2. * side / 64
    FINDINGS, rows = list(table.target.columns), []
    splits = kfold_splits(table.ids, table.target.encode(table.df), 5, 0)
    for i, (tr, va) in enumerate(splits):
        if i not in folds: continue
        rows_x = [r for r in va if ph.table.has_xray.iloc[r]]     # `va`: row positions of the held-out patients
        score = blob_response(ph.xray[rows_x], sigma, inside).reshape(len(rows_x), -1).max(1)
        rows.append(dict(anatomy=anatomy, img_size=side, fold=i, image='LoG detector (no training)', fit_s=0., nodule=roc_auc_score(ph.table.nodule.iloc[rows_x].astype(int), score)))
        for name in images:
            enc = encoder_options(name)
            for model in models:                                 # the branch alone, or MDR-Dx in a configuration of levers.py
                dls = table.dataloaders(bs=32, splits={'train': tr, 'valid': va}, seed=0)
                seed_everything(0)
                if model == 'unimodal': learn = method_learner(dls, 'unimodal (xray)', seed=0, encoder_kwargs=enc)
                else:
                    _, mk, lk = CONFIGS[model]
                    learn = mdrdx_learner(dls, seed=0, encoder_kwargs=enc, **mk, **lk)
                t0 = time.time()
                with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr)
                fit_s = time.time() - t0
                test_dl = PatientDL(PatientDataset(table, va, dls.train.dataset.norms), bs=64, shuffle=False)
                p, y, used = predict_with(learn, test_dl)
                outs = {'': (p, y, used)}                        # every test patient; MDR-Dx's X-ray head: those with an X-ray
                if model != 'unimodal': outs[' X-ray head'] = head_probs(learn, test_dl, 'xray')
                for tag, (p, y, used) in outs.items():
                    per = {f: roc_auc_score(y[used, j], p[used, j]) for j, f in enumerate(FINDINGS) if 0 < y[used, j].sum() < used.sum()}
                    label = name if model == 'unimodal' else f'{name} in MDR-Dx {model}{tag or " fused"}'
                    rows.append(dict(anatomy=anatomy, img_size=side, fold=i, image=label, epochs=epochs, lr=lr, fit_s=fit_s, **per))
                    print(f"fold {i} {label}: fit {fit_s:.0f}s, " + ', '.join(f'{f} {v:.3f}' for f, v in per.items()), flush=True)
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
    d = d.assign(anatomy=d['anatomy'].fillna('fixed') if 'anatomy' in d else 'fixed')
    for c, v in (('epochs', 10), ('lr', 3e-3), ('img_size', 64)): d[c] = d[c].fillna(v) if c in d else v   # earlier runs' defaults
    d = d.assign(image=[f'LoG detector, {px:.0f} px' if 'LoG' in i else f'{i}, {px:.0f} px, {e:.0f} epochs, lr {l:g}'
                        for i, px, e, l in zip(d.image, d.img_size, d.epochs, d.lr)])
    g = d.groupby(['anatomy', 'image'], sort=False)
    t = g[cols].agg(cell)
    t['folds'] = g.fold.nunique()
    t['fit s / fold'] = g.fit_s.mean().round(0)
    print('AUROC of the X-ray branch alone per finding (mean over folds, 95% t-interval where there are 2 or more)')
    print(t.to_string())


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--images', default=','.join(IMAGES)); ap.add_argument('--folds', default='0')
    ap.add_argument('--n', type=int, default=1500); ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--anatomy', default='fixed', choices=('fixed', 'varied'))
    ap.add_argument('--img-size', type=int, default=64, help='X-ray side in pixels (varied anatomy only; the fixed one is 64)')
    ap.add_argument('--lr', type=float, default=3e-3, help='one-cycle peak learning rate')
    ap.add_argument('--models', default='unimodal', help="'unimodal' (the X-ray branch alone) and/or MDR-Dx configurations of levers.py (e.g. default,default+obs): "
                    "each MDR-Dx row is scored twice, its diagnosis of every test patient ('fused') and its X-ray head's of those with an X-ray")
    ap.add_argument('--out', default=None); ap.add_argument('--summary', nargs='*', default=None)
    a = ap.parse_args()
    if a.summary: summary(pd.concat([pd.read_csv(f) for f in a.summary]))
    else:
        out = Path(a.out or Path(__file__).parent / 'results' / 'image_branch.csv'); out.parent.mkdir(parents=True, exist_ok=True)
        summary(run(a.images.split(','), [int(f) for f in a.folds.split(',')], a.n, a.epochs, out, a.anatomy, a.img_size, a.lr, a.models.split(',')))
