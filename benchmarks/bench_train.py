#!/usr/bin/env python
"""Training throughput: `mdrdx_learner` (fastai, with modality masking and the loss-term callback) against a plain
PyTorch loop over the same model, the same batches and the same optimiser, and the process's peak memory.

  python benchmarks/bench_train.py [--n 600] [--bs 32] [--epochs 2] [--csv out.csv]

Both runs train a freshly built model from the same seed for `--epochs` epochs on the phantom's training split
(validation is skipped in both, so only the training loop is compared). Prints one table; with --csv also writes it.
"""
import argparse, os, resource, shutil, tempfile, time, warnings
from pathlib import Path

import pandas as pd
import torch


def peak_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=600, help='phantom patients')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--csv', help='also write the table here')
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    warnings.simplefilter('ignore')
    from mdrdx.data.table import phantom_table
    from mdrdx.learner import mdrdx_learner, drop_modalities
    from mdrdx.core import seed_everything
    tmp = Path(tempfile.mkdtemp(prefix='mdrdx-bench-'))
    pt = phantom_table(tmp / 'ph', n=a.n, seed=0)
    opts = dict(d_model=64, encoder_kwargs=dict(image='mobilenetv3_small_050', text='tiny', freeze_text=False))
    rows = []
    warm = mdrdx_learner(pt.dataloaders(bs=a.bs, seed=0), seed=0, **opts)   # first-call costs paid before either timing
    inputs, presence, y = warm.dls.one_batch()
    warm.model(inputs, presence).logits.sum().backward()

    # fastai: the learner as users run it, validation switched off
    dls = pt.dataloaders(bs=a.bs, seed=0)
    n_train = len(dls.train.dataset)
    learn = mdrdx_learner(dls, seed=0, **opts)
    with learn.no_bar(), learn.no_logging():
        t0 = time.perf_counter()
        learn.fit(a.epochs, 1e-3, cbs=[skip_validate()])
        secs = time.perf_counter() - t0
    rows.append(dict(loop='fastai mdrdx_learner', epochs=a.epochs, samples=n_train * a.epochs, seconds=round(secs, 1),
                     **{'samples/s': round(n_train * a.epochs / secs, 1), 'peak RSS MB': round(peak_mb())}))
    print(rows[-1], flush=True)

    # plain PyTorch: same model construction, same masking rule and loss terms, same optimiser
    dls = pt.dataloaders(bs=a.bs, seed=0)
    seed_everything(0)
    model = mdrdx_learner(dls, seed=0, **opts).model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    lossf = torch.nn.BCEWithLogitsLoss()
    model.train()
    t0 = time.perf_counter()
    for _ in range(a.epochs):
        for inputs, presence, y in dls.train:
            pres = drop_modalities(presence, .5, gen)
            out = model(inputs, pres)
            loss = lossf(out.logits, y.float()) + out.losses['L_diff'] + model.lambdas['rec'] * out.losses['L_rec']
            opt.zero_grad(); loss.backward(); opt.step()
    secs = time.perf_counter() - t0
    rows.append(dict(loop='plain PyTorch', epochs=a.epochs, samples=n_train * a.epochs, seconds=round(secs, 1),
                     **{'samples/s': round(n_train * a.epochs / secs, 1), 'peak RSS MB': round(peak_mb())}))
    print(rows[-1], flush=True)

    df = pd.DataFrame(rows)
    df['fastai overhead'] = (df['samples/s'].iloc[1] / df['samples/s']).round(3)
    print(df.to_string(index=False))
    if a.csv: df.to_csv(a.csv, index=False); print(f'written to {a.csv}')
    shutil.rmtree(tmp, ignore_errors=True)


def skip_validate():
    "A fastai callback that cancels validation (only the training loop is timed)"
    from fastai.callback.core import Callback, CancelValidException
    class SkipValidate(Callback):
        def before_validate(self): raise CancelValidException()
    return SkipValidate()


if __name__ == '__main__': main()
