#!/usr/bin/env python
"""Model benchmark on CPU: parameters and mean time per batch of each encoder choice, alone and inside the whole MDR-Dx
model, then DDIM imputation time per patient (10/25/50/1000 steps) for the MLP and transformer denoisers.

  python benchmarks/bench_model.py [--bs 32] [--reps 3] [--bs-1000 8] [--csv out.csv]

Encoder rows: the encoder alone on `bs` rows of its modality (the batch's present rows repeated to fill it).
Model rows: `MDRDx.from_dls(dls, d_model=64, encoder_kwargs=...)` with one encoder option changed from the defaults
(resnet18 image, MONAI ResNet volume, frozen MiniLM text, feature-token labs) on one phantom batch.
'seconds (fwd)' is inference (eval mode, no grad); 'seconds (fwd+bwd)' is a training step without the optimiser
(train mode, forward then backward of the sum of outputs / of `losses['L']`). Each is warmed up once, then averaged
over --reps runs. Impute rows: `model.diffusion.impute` on the batch's latents with one present modality dropped
per row (where two or more are present), time in 'seconds (fwd)'; 1000 steps on a --bs-1000 batch, one timed run
(warm-up: 10 steps).
Prints one table; with --csv also writes it, so runs can be compared side by side.
"""
import argparse, os, resource, shutil, tempfile, time, warnings
from pathlib import Path

os.environ['HF_HUB_OFFLINE'] = '1'

import pandas as pd
import torch


def peak_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mean_time(fn, reps, warm_up=None):
    (warm_up or fn)()                                      # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return sum(ts) / len(ts)


def n_params(m, trainable=False): return sum(p.numel() for p in m.parameters() if p.requires_grad or not trainable)


def take(x, ix): return {k: v[ix] for k, v in x.items()} if isinstance(x, dict) else x[ix]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=128, help='phantom patients')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--reps', type=int, default=3, help='timed repetitions after one warm-up')
    ap.add_argument('--bs-1000', type=int, default=8, help='batch for the 1000-step DDIM rows')
    ap.add_argument('--csv', help='also write the table here')
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    warnings.simplefilter('ignore')
    tmp = Path(tempfile.mkdtemp(prefix='mdrdx-bench-'))
    try: rows = run(a, tmp)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    out = pd.DataFrame(rows)
    print('\n' + out.to_string(index=False))
    print(f'load average (1/5/15 min) at the end: {os.getloadavg()}, {os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads')
    if a.csv: out.to_csv(a.csv, index=False); print(f'written to {a.csv}')


def run(a, tmp):
    from mdrdx.data.table import phantom_table
    from mdrdx.encoders import encoder_for
    from mdrdx.model import MDRDx
    rows = []
    def add(section, what, params, batch, fwd=None, bwd=None, per_patient=None, note=''):
        r2 = lambda s: None if s is None else round(s, 3)
        rows.append({'section': section, 'what': what, 'params': params, 'batch': batch, 'seconds (fwd)': r2(fwd),
                     'seconds (fwd+bwd)': r2(bwd), 'per patient ms': None if per_patient is None else round(per_patient * 1e3, 2),
                     'peak RSS MB': round(peak_mb()), 'note': note})
        print(rows[-1], flush=True)

    from fastai.torch_core import set_seed
    pt = phantom_table(tmp / 'ph', n=a.n, seed=0)
    set_seed(0)                                            # the same shuffled batch on every run
    dls = pt.dataloaders(bs=a.bs)
    inputs, presence, y = dls.one_batch()
    presence = presence.bool()
    specs = {s.name: s for s in pt.specs}
    names = [s.name for s in pt.specs]
    nf = {n: norm.n_features for n, norm in dls.train.dataset.norms.items()}
    B = len(presence)

    # 1a. each encoder alone, on bs rows of its modality
    enc_opts = [('xray', dict(image='resnet18'), 'resnet18 (timm)'),
                ('xray', dict(image='efficientnet_lite0'), 'efficientnet_lite0 (timm)'),
                ('xray', dict(image='vit_tiny_patch16_224'), 'vit_tiny_patch16_224 (timm, img_size=64)'),
                ('mri', dict(), 'VolumeEncoder (MONAI ResNet, layers 1-1-1-1)'),
                ('report', dict(text='tiny'), "TextEncoder 'tiny' (random BERT, frozen)"),
                ('report', dict(text='tiny', freeze_text=False), "TextEncoder 'tiny' (random BERT, trainable)"),
                ('report', dict(text='minilm'), 'TextEncoder MiniLM (frozen, default)'),
                ('report', dict(text='minilm', freeze_text=False), 'TextEncoder MiniLM (fine-tuned)'),
                ('labs', dict(), 'TabularEncoder')]
    for name, kw, what in enc_opts:
        j = names.index(name)
        pres = presence[:, j].nonzero().squeeze(1)
        x = take(inputs[name], pres[torch.arange(a.bs) % len(pres)])
        torch.manual_seed(0)
        try: enc = encoder_for(specs[name], 64, n_features=nf.get(name), **kw)
        except Exception as e:
            add('encoder', what, None, a.bs, note=f'failed: {type(e).__name__}: {e}'[:120]); continue
        def fwd():
            enc.eval()
            with torch.no_grad(): enc(x)
        def fwd_bwd():
            enc.train(); enc.zero_grad(set_to_none=True)
            o = enc(x); (o.tokens.mean() + o.pooled.mean()).backward()
        add('encoder', what, n_params(enc), a.bs, mean_time(fwd, a.reps), mean_time(fwd_bwd, a.reps),
            note=f'{n_params(enc, True):,} trainable; {len(pres)} present rows repeated')

    # 1b. the whole model, one encoder option changed from the defaults
    model_opts = [(dict(), 'MDRDx defaults (resnet18, MONAI, MiniLM frozen, tabular)'),
                  (dict(image='efficientnet_lite0'), 'MDRDx image=efficientnet_lite0'),
                  (dict(image='vit_tiny_patch16_224'), 'MDRDx image=vit_tiny_patch16_224'),
                  (dict(text='tiny'), "MDRDx text='tiny' (frozen)"),
                  (dict(text='tiny', freeze_text=False), "MDRDx text='tiny' trainable"),
                  (dict(freeze_text=False), 'MDRDx MiniLM fine-tuned (freeze_text=False)')]
    for kw, what in model_opts:
        torch.manual_seed(0)
        try: model = MDRDx.from_dls(dls, d_model=64, encoder_kwargs=kw)
        except Exception as e:
            add('model', what, None, B, note=f'failed: {type(e).__name__}: {e}'[:120]); continue
        def fwd():
            model.eval()
            with torch.no_grad(): model(inputs, presence, y)
        def fwd_bwd():
            model.train(); model.zero_grad(set_to_none=True)
            model(inputs, presence, y).losses['L'].backward()
        add('model', what, n_params(model), B, mean_time(fwd, a.reps), mean_time(fwd_bwd, a.reps),
            note=f'{n_params(model, True):,} trainable; {int((~presence).sum())} absent latents imputed ({model.impute_steps} DDIM steps in eval, {model.train_impute_steps or model.impute_steps} in training)')

    # 2. DDIM imputation per patient
    g = torch.Generator().manual_seed(0)
    present = presence.clone()
    for i in range(B):                                     # drop one present modality from each row that has two or more
        on = present[i].nonzero().squeeze(1)
        if len(on) > 1: present[i, on[torch.randint(len(on), (1,), generator=g)]] = False
    for den in ('mlp', 'transformer'):
        torch.manual_seed(0)
        model = MDRDx.from_dls(dls, d_model=64, denoiser=den).eval()
        with torch.no_grad(): lat = model.encode(inputs, presence)[1]
        for steps in (10, 25, 50, 1000):
            b = min(a.bs_1000, B) if steps == 1000 else B
            l, p = lat[:b], present[:b]
            reps = 1 if steps == 1000 else a.reps
            secs = mean_time(lambda: model.diffusion.impute(l, p, steps=steps, w=1.), reps,   # 1000 steps: warm up on 10
                             lambda: model.diffusion.impute(l, p, steps=min(steps, 10), w=1.))
            note = f'{int((~p).sum())} absent of {p.numel()} latents'
            if steps == 1000: note += f'; batch {b} (slow), 1 timed run, 10-step warm-up'
            add('impute', f'DDIM {steps} steps, {den} denoiser', n_params(model.diffusion), b, secs, None, secs / b, note)
    return rows


if __name__ == '__main__': main()
