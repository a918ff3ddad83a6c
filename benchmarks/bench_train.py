#!/usr/bin/env python
"""Training throughput: `mdrdx_learner` (fastai, with modality masking and the loss-term callback) against a plain
PyTorch loop over the same model, the same batches and the same optimiser, and the process's peak memory.

  python benchmarks/bench_train.py [--n 600] [--bs 32] [--epochs 2] [--warmup 0] [--csv out.csv]
  python benchmarks/bench_train.py --methods     # MDR-Dx (defaults) against early and late fusion, samples/s in one run
  python benchmarks/bench_train.py --methods --variant 'fast:pixel_taper=True,train_impute_steps=3'   # and a variant
  python benchmarks/bench_train.py --methods --epochs 4 --warmup 1 --rounds 4    # medians over 4 runs, the order rotated

Both runs train a freshly built model from the same seed for `--epochs` epochs on the phantom's training split
(validation is skipped in both, so only the training loop is compared). With --warmup 0, samples/s is all samples
over the whole run; with --warmup k, the first k epochs are not counted and samples/s comes from the median time of
the remaining epochs. Prints one table; with --csv also writes it. `benchmarks/suite.py` calls `measure` too.
"""
import argparse, os, shutil, statistics, tempfile, time, warnings
from pathlib import Path

import pandas as pd
import torch

from benchlib import peak_mb

OPTS = dict(d_model=64, encoder_kwargs=dict(image='mobilenetv3_small_050', text='tiny', freeze_text=False))


def _rate(n_train, times, warmup):
    "samples/s and the relative half-range of the epoch times counted"
    counted = times[warmup:] if warmup else times
    if not warmup: return n_train * len(times) / sum(times), float('nan')
    med = statistics.median(counted)
    return n_train / med, ((max(counted) - min(counted)) / 2 / med if len(counted) > 1 else float('nan'))


def measure(pt, bs: int = 32, epochs: int = 2, warmup: int = 0, opts=None, log=print) -> list:
    "Rows 'fastai mdrdx_learner' and 'plain PyTorch' for the `PatientTable` `pt`: epochs, samples, seconds, samples/s, peak RSS"
    from mdrdx.learner import mdrdx_learner, drop_modalities
    from mdrdx.core import seed_everything
    if warmup >= epochs: raise ValueError(f"warmup ({warmup}) must leave at least one of the {epochs} epochs to count")
    opts = OPTS if opts is None else opts
    rows = []
    warm = mdrdx_learner(pt.dataloaders(bs=bs, seed=0), seed=0, **opts)   # first-call costs paid before either timing
    inputs, presence, y = warm.dls.one_batch()
    warm.model(inputs, presence).logits.sum().backward()
    def add(loop, times):
        rate, spread = _rate(n_train, times, warmup)
        rows.append(dict(loop=loop, epochs=epochs, samples=n_train * epochs, seconds=round(sum(times), 1),
                         **{'samples/s': round(rate, 1), 'peak RSS MB': round(peak_mb())}, spread=spread))
        log({k: v for k, v in rows[-1].items() if k != 'spread'})

    # fastai: the learner as users run it, validation switched off
    dls = pt.dataloaders(bs=bs, seed=0)
    n_train = len(dls.train.dataset)
    learn = mdrdx_learner(dls, seed=0, **opts)
    timer = epoch_timer()
    with learn.no_bar(), learn.no_logging():
        learn.fit(epochs, 1e-3, cbs=[skip_validate(), timer])
    add('fastai mdrdx_learner', timer.times)

    # plain PyTorch: same model construction, same masking rule and loss terms, same optimiser
    dls = pt.dataloaders(bs=bs, seed=0)
    seed_everything(0)
    model = mdrdx_learner(dls, seed=0, **opts).model
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    model.train()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for inputs, presence, y in dls.train:
            pres = drop_modalities(presence, .5, gen)
            out = model(inputs, pres, y)                 # the target reaches the per-modality heads' loss
            loss = out.losses['L']
            opt.zero_grad(); loss.backward(); opt.step()
        times.append(time.perf_counter() - t0)
    add('plain PyTorch', times)
    return rows


def methods(pt, bs: int = 32, epochs: int = 2, warmup: int = 0, opts=None, log=print, variants=None, order=None) -> list:
    "Training samples/s of MDR-Dx (the defaults), early fusion and late fusion as fastai learners, in one run, same batches; `order`: the methods' order (a rotation)"
    from mdrdx.learner import mdrdx_learner
    from mdrdx.baselines import EarlyFusion, LateFusion, baseline_learner
    opts = OPTS if opts is None else opts
    enc = opts.get('encoder_kwargs')
    build = {'MDR-Dx': lambda d: mdrdx_learner(d, seed=0, **opts),
             **{f'MDR-Dx ({k})': (lambda d, v=v: mdrdx_learner(d, seed=0, **opts, **v)) for k, v in (variants or {}).items()},
             'early fusion': lambda d: baseline_learner(d, EarlyFusion.from_dls(d, d_model=opts.get('d_model', 64), encoder_kwargs=enc), seed=0),
             'late fusion': lambda d: baseline_learner(d, LateFusion.from_dls(d, d_model=opts.get('d_model', 64), encoder_kwargs=enc), seed=0)}
    rows = []
    for name in (order or list(build)):
        make = build[name]
        dls = pt.dataloaders(bs=bs, seed=0)
        n_train = len(dls.train.dataset)
        learn = make(dls)
        timer = epoch_timer()
        with learn.no_bar(), learn.no_logging(): learn.fit(epochs, 1e-3, cbs=[skip_validate(), timer])
        rate, spread = _rate(n_train, timer.times, warmup)
        rows.append(dict(method=name, epochs=epochs, samples=n_train * epochs, seconds=round(sum(timer.times), 1), **{'samples/s': round(rate, 1)},
                         spread=round(spread, 3)))
        log(rows[-1])
    lf = next(r['samples/s'] for r in rows if r['method'] == 'late fusion')
    for r in rows: r['x late fusion'] = round(r['samples/s'] / lf, 3)
    return rows


def rounds(pt, n_rounds: int, bs: int = 32, epochs: int = 2, warmup: int = 0, variants=None, log=print) -> pd.DataFrame:
    "`methods` run `n_rounds` times, the order of the methods rotated by one each round (no method always runs first or last, when the machine is warm or busy): median samples/s and ratio to late fusion over rounds, and the ratio's range"
    names = ['MDR-Dx', *[f'MDR-Dx ({k})' for k in (variants or {})], 'early fusion', 'late fusion']
    runs = []
    for r in range(n_rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        runs += [dict(row, round=r) for row in methods(pt, bs, epochs, warmup, variants=variants, order=order, log=log)]
    g = pd.DataFrame(runs).groupby('method', sort=False)
    return pd.DataFrame({'rounds': g.size(), 'samples/s (median)': g['samples/s'].median(), 'x late fusion (median)': g['x late fusion'].median(),
                         'x late fusion (min)': g['x late fusion'].min(), 'x late fusion (max)': g['x late fusion'].max()}).loc[names].reset_index()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=600, help='phantom patients')
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=0, help='epochs not counted in samples/s')
    ap.add_argument('--csv', help='also write the table here')
    ap.add_argument('--methods', action='store_true', help='MDR-Dx against early and late fusion (fastai learners) instead')
    ap.add_argument('--variant', action='append', default=[], metavar='NAME:KEY=VALUE,...',
                    help="with --methods, another MDR-Dx row with these model options, e.g. 'fast:pixel_taper=True,train_impute_steps=3'")
    ap.add_argument('--rounds', type=int, default=1, help='with --methods, repeat the run this many times, rotating the order; the table gives medians over rounds')
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    warnings.simplefilter('ignore')
    from mdrdx.data.table import phantom_table
    tmp = Path(tempfile.mkdtemp(prefix='mdrdx-bench-'))
    pt = phantom_table(tmp / 'ph', n=a.n, seed=0)
    import ast, re                   # options split at the commas before a name=: a value may hold commas, e.g. (32, 32, 32, 8)
    variants = {v.split(':', 1)[0]: {kv.split('=', 1)[0]: ast.literal_eval(kv.split('=', 1)[1]) for kv in re.split(r',(?=\s*\w+=)', v.split(':', 1)[1])}
                for v in a.variant}
    if a.methods and a.rounds > 1: df = rounds(pt, a.rounds, a.bs, a.epochs, a.warmup, variants=variants)
    elif a.methods: df = pd.DataFrame(methods(pt, a.bs, a.epochs, a.warmup, variants=variants))
    else:
        df = pd.DataFrame(measure(pt, a.bs, a.epochs, a.warmup)).drop(columns='spread')
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


def epoch_timer():
    "A fastai callback that records each epoch's training wall time in `.times`"
    from fastai.callback.core import Callback
    class EpochTimer(Callback):
        order = -100                                   # first in, so its clock includes every other callback's work
        def before_fit(self): self.times = []
        def before_epoch(self): self.t0 = time.perf_counter()
        def after_epoch(self): self.times.append(time.perf_counter() - self.t0)
    return EpochTimer()


if __name__ == '__main__': main()
