#!/usr/bin/env python
"""The benchmark suite: data loading, training throughput, model forward latency, DDIM imputation, explainers,
synthetic patients (and optionally `mdrdx demo` and the test suite), printed as ONE table and saved as a CSV.

  python benchmarks/suite.py [--quick] [--only explain,generate] [--threads 1] [--with-demo] [--with-tests]
                             [--compare benchmarks/results/suite-....csv] [--out FILE.csv]

Blocks (each runs in a fresh Python process, so its peak RSS is its own and a failure loses only that block):
  data      DataLoader items/s per phantom modality and all four together (+ the IU cohort in the full run),
            through `bench_data.measure`
  train     training samples/s of the fastai `mdrdx_learner` against a plain PyTorch loop (`bench_train.measure`)
            and of MDR-Dx (its defaults) against early and late fusion (`bench_train.methods`)
  model     MDR-Dx forward latency (eval, no grad) for a batch and for one patient, library-default encoders and
            the benchmark model
  impute    DDIM imputation latency per patient against the number of steps: the latent diffusion alone, and
            end to end through `Learner.predict_uncertain`
  explain   seconds per patient of each explainer of `mdrdx.explain`, and of `MDRDxInterpretation.explain`,
            `plot_patient` and `Learner.explain` for one patient
  generate  seconds to generate 1,000 synthetic patients with `mdrdx.synthesis` (sample_latents, label_latents,
            synthetic_table with the fitted decoders) and per patient, plus the one-off fitting costs
  demo      (--with-demo, 4-10 min) `mdrdx demo` wall time and peak RSS, with --threads threads
  tests     (--with-tests, ~4 min; run it on an otherwise idle machine) `tools/test.sh nbdev-test pytest`

The benchmark model is the `mdrdx_learner` of `bench_train.OPTS` (mobilenetv3_small_050 X-ray encoder, MONAI ResNet
volume encoder, a small trainable BERT on report tokens, feature-token labs, d_model 64) trained briefly on the
phantom cohort; it is trained once per suite run and reloaded by the blocks that need it.

Timing: `time.perf_counter`, a warm-up call, then the median of the repeats (--quick: fewer); `spread` is the
half-range of the repeats over the median. Columns of the table and the CSV: block, metric, value, unit, spread,
settings. Each block ends with its 'peak RSS' row (the block process's `ru_maxrss`, the imports included) and its
'block wall time' (process start to end, imports and set-up included). The CSV goes to
benchmarks/results/suite-<date>-<commit>[-quick][-<--only blocks>][-with-demo][-with-tests].csv; --compare PREV.csv
prints the previous values beside these with the ratio new/old.
"""
import argparse, datetime, json, math, os, platform, re, resource, shutil, subprocess, sys, tempfile, time, traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BLOCKS = ['data', 'train', 'model', 'impute', 'explain', 'generate', 'demo', 'tests']
PROFILES = {   # quick: a smoke run of every block in a few minutes; full: the numbers to compare
    'quick': dict(n=200, bs=32, reps=3, train_epochs=3, fit_epochs=1, steps=(1, 10, 50), explain_batch=8, explain_reps=2,
                  explain_patients=3, gen_n=1000, gen_reps=1, diff_steps=200, dec_epochs=20, iu=False, minilm=False),
    'full': dict(n=600, bs=32, reps=5, train_epochs=4, fit_epochs=3, steps=(1, 5, 10, 25, 50), explain_batch=16,
                 explain_reps=3, explain_patients=8, gen_n=1000, gen_reps=3, diff_steps=1500, dec_epochs=100, iu=True, minilm=True),
}
# lower is better for times and memory, higher for rates; neither for ratios and plain numbers
LOWER_BETTER = {'s', 'ms', 's/patient', 'ms/patient', 'MB'}
HIGHER_BETTER = {'items/s', 'samples/s', 'patients/s'}


# ---------------------------------------------------------------------------------------------------------------
# inside a block's process

class Ctx:
    "What a block needs: options, profile, the shared temp directory, the rows it adds"
    def __init__(self, a, block):
        self.a, self.block, self.p = a, block, PROFILES[a.profile]
        self.tmp, self.rows = Path(a.tmp), []
        self.reps = self.p['reps']

    def add(self, metric, value, unit, settings='', spread=float('nan')):
        r = dict(block=self.block, metric=metric, value=float(value), unit=unit,
                 spread=None if spread is None or (isinstance(spread, float) and math.isnan(spread)) else round(float(spread), 4),
                 settings=settings)
        self.rows.append(r)
        sp = '' if r['spread'] is None else f" (±{r['spread']:.0%})"
        print(f"  [{self.block}] {metric}: {fmt(value)} {unit}{sp}   {settings}", flush=True)

    def table(self):
        from mdrdx.data.table import phantom_table
        return phantom_table(self.tmp / 'phantom', n=self.p['n'], seed=0)

    def learner(self):
        "The benchmark model: `bench_train.OPTS` trained `fit_epochs` epochs once per suite run, reloaded from the temp directory"
        import torch
        from mdrdx.learner import mdrdx_learner
        from bench_train import OPTS
        pt = self.table()
        dls = pt.dataloaders(bs=self.p['bs'], seed=0)
        learn = mdrdx_learner(dls, seed=0, **OPTS)
        f = self.tmp / 'learner.pt'
        if f.exists(): learn.model.load_state_dict(torch.load(f, weights_only=True))
        else:
            t0 = time.perf_counter()
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(self.p['fit_epochs'], 3e-3)
            torch.save(learn.model.state_dict(), f)
            print(f"  [{self.block}] benchmark model trained: {self.p['fit_epochs']} epoch(s) in {time.perf_counter() - t0:.1f}s", flush=True)
        learn.model.eval()
        return learn

    @property
    def model_desc(self):
        return f"benchmark model (trained {self.p['fit_epochs']} epoch(s) on {self.p['n']} phantom patients)"


def block_data(c):
    import bench_data
    p = c.p
    rows = bench_data.measure(c.tmp / 'data', p['n'], p['bs'], c.reps, iu=p['iu'], minilm=p['minilm'], log=lambda r: None)
    for r in rows:
        timed = 'epoch' in r['what']
        how = f"median of {c.reps} passes after a warm-up pass" if timed else 'one pass'
        note = re.sub(r'build [\d.]+s, ', '', r['note'])        # settings hold what the number depends on, not measurements
        c.add(f"{r['data']}: {r['what']}", r['items/s'], 'items/s',
              f"{r['items']} items, bs {p['bs']}, {how}" + (f"; {note}" if note else ''), r['spread'])


def block_train(c):
    import bench_train
    p = c.p
    pt = c.table()
    rows = bench_train.measure(pt, p['bs'], p['train_epochs'], warmup=1, log=lambda r: None)
    n_train = rows[0]['samples'] // rows[0]['epochs']
    s = (f"{n_train} training patients, bs {p['bs']}, median of {p['train_epochs'] - 1} epochs after 1 warm-up, no validation; "
         "mobilenetv3_small_050 + MONAI + tiny BERT, d_model 64")
    for r in rows: c.add(r['loop'], r['samples/s'], 'samples/s', s, r['spread'])
    c.add('fastai / plain PyTorch throughput', rows[0]['samples/s'] / rows[1]['samples/s'], 'x', 'samples/s ratio (1 = no overhead)')
    # MDR-Dx with its defaults against early and late fusion, the same batches, one after the other in this process
    rows = bench_train.methods(pt, p['bs'], p['train_epochs'], warmup=1, log=lambda r: None)
    for r in rows: c.add(f"training: {r['method']}", r['samples/s'], 'samples/s', s + '; fastai learners', r['spread'])
    lf = next(r['samples/s'] for r in rows if r['method'] == 'late fusion')
    c.add('MDR-Dx / late fusion throughput', rows[0]['samples/s'] / lf, 'x', 'samples/s ratio of the two rows above (the target: at least 0.85)')


def block_model(c):
    import torch
    from fastai.torch_core import set_seed
    from mdrdx.model import MDRDx
    from benchlib import timeit
    from bench_train import OPTS
    pt = c.table()
    set_seed(0)
    dls = pt.dataloaders(bs=c.p['bs'], seed=0)
    inputs, presence, y = dls.one_batch()
    presence = presence.bool()
    B = len(presence)
    i1 = int((~presence.all(1)).nonzero()[0]) if (~presence.all(1)).any() else 0
    one = ({k: ({kk: vv[i1:i1 + 1] for kk, vv in v.items()} if isinstance(v, dict) else v[i1:i1 + 1]) for k, v in inputs.items()},
           presence[i1:i1 + 1])
    absent = int((~presence).sum())
    configs = [('library-default encoders (resnet18, MONAI ResNet, MiniLM on tokens)', dict(d_model=64)),
               ('benchmark model encoders (mobilenetv3_small_050, MONAI, tiny BERT)', OPTS)]
    for what, kw in configs:
        torch.manual_seed(0)
        model = MDRDx.from_dls(dls, **kw).eval()
        def fwd(x, p):
            with torch.no_grad(): model(x, p)
        t = timeit(lambda: fwd(inputs, presence), c.reps)
        c.add(f"forward, batch of {B}: {what}", t.median * 1e3 / B, 'ms/patient',
              f"eval, no grad; {absent} absent latents imputed (10 DDIM steps)", t.spread)
        t = timeit(lambda: fwd(*one), c.reps)
        c.add(f"forward, 1 patient: {what}", t.median * 1e3, 'ms/patient',
              f"eval, no grad; present {[n for n, q in zip(model.names, one[1][0]) if q]}, the rest imputed (10 DDIM steps)", t.spread)


def block_impute(c):
    import torch
    from benchlib import timeit
    learn = c.learner()
    model = learn.model
    vdl = learn.dls.valid.new(shuffle=False, drop_last=False)
    inputs, pres, _ = learn.dls.valid.new(bs=c.p['bs'], shuffle=False).one_batch()
    pres = pres.bool()
    with torch.no_grad(): lat = model.encode(inputs, pres)[1]
    g = torch.Generator().manual_seed(0)
    present = pres.clone()
    for i in range(len(present)):                          # drop one present modality from each row that has two or more
        on = present[i].nonzero().squeeze(1)
        if len(on) > 1: present[i, on[torch.randint(len(on), (1,), generator=g)]] = False
    B, n_abs = len(present), int((~present).sum())
    for steps, w in [(s, 1.) for s in c.p['steps']] + [(10, 2.)]:
        def run():
            with torch.no_grad(): model.diffusion.impute(lat, present, steps=steps, w=w, generator=torch.Generator().manual_seed(0))
        t = timeit(run, c.reps)
        c.add(f"DDIM impute, steps={steps}" + (f", guidance w={w:g}" if w != 1 else ''), t.median * 1e3 / B, 'ms/patient',
              f"latent diffusion alone (MLP denoiser), batch of {B}, {n_abs} absent latents", t.spread)
    N = len(vdl.dataset)
    n_miss = int((~torch.as_tensor(vdl.dataset.presence).bool().all(1)).sum())
    learn.predict_uncertain(dl=vdl, n=1, steps=1)          # warm-up
    reps = max(2, c.reps // 2)
    for steps, n in [(s, 1) for s in c.p['steps']] + [(10, 5)]:
        t = timeit(lambda: learn.predict_uncertain(dl=vdl, n=n, steps=steps), reps, warmup=0)
        c.add(f"predict_uncertain, steps={steps}, n={n}" + (' (mdrdx predict default)' if n == 5 else ''), t.median * 1e3 / N,
              'ms/patient', f"{N} validation patients ({n_miss} with a modality missing), data loading and encoders included; "
              f"{c.model_desc}; median of {reps}", t.spread)


def block_explain(c):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import torch
    from benchlib import timeit
    from mdrdx.explain import (expected_log_odds, modality_shapley, grad_cam, pixel_attribution, attention_rollout,
                               token_attribution, lab_attribution, select_patients, explaining)
    from mdrdx.scoring import deletion_curve
    from mdrdx.interpret import MDRDxInterpretation
    from mdrdx.learner import mdrdx_learner
    learn = c.learner()
    model, names = learn.model, learn.model.names
    B = min(c.p['explain_batch'], len(learn.dls.valid.dataset))
    vdl = learn.dls.valid.new(bs=B, shuffle=False, drop_last=False)
    inputs, pres, _ = vdl.one_batch()
    pres = pres.bool()
    with explaining(model), torch.no_grad(): tgt = model(inputs, pres).logits.argmax(1)
    has = {n: int(pres[:, j].sum()) for j, n in enumerate(names)}
    complete = pres.all(1).nonzero().squeeze(1)
    widx = complete[:2] if len(complete) >= 2 else torch.arange(min(4, B))
    wi, wp = select_patients(inputs, pres, widx)
    wt = tgt[widx]
    batch = f"batch of {B} validation patients"

    t0 = time.perf_counter(); base = expected_log_odds(learn)
    c.add('expected_log_odds (Shapley reference, training set)', time.perf_counter() - t0, 's',
          f"{len(learn.dls.train.dataset)} training patients, once per learner (predictions over the training set); {c.model_desc}")

    def bench(metric, fn, mod, settings=''):
        n = B if mod is None else has[mod]
        if not n: print(f"  [{c.block}] {metric}: no patient of the batch has {mod}", flush=True); return None
        out = {}
        def run(): out['r'] = fn(inputs, pres, tgt)
        t = timeit(run, c.p['explain_reps'], warm_fn=lambda: fn(wi, wp, wt))
        c.add(metric, t.median / n, 's/patient', f"{batch}, {n} " + ('of them' if mod is None else f"with {mod}") +
              (f"; {settings}" if settings else ''), t.spread)
        return out['r']

    bench('modality_shapley (exact, all subsets)', lambda x, p, t: modality_shapley(model, x, p, t, base=base), None)
    cam = bench('grad_cam: xray', lambda x, p, t: grad_cam(model, x, p, t, 'xray'), 'xray', 'last feature stage')
    bench('grad_cam: mri (3D)', lambda x, p, t: grad_cam(model, x, p, t, 'mri'), 'mri', 'MONAI layer4')
    bench('grad_cam element-wise: xray', lambda x, p, t: grad_cam(model, x, p, t, 'xray', weights='element'), 'xray',
          'last feature stage, each activation weighted by its own gradient')
    for mod in ('xray', 'mri'):
        bench(f"pixel_attribution ig: {mod}", lambda x, p, t, m=mod: pixel_attribution(model, x, p, t, m, 'ig'), mod,
              '16 steps from a blurred copy, smoothed')
        bench(f"pixel_attribution saliency: {mod}", lambda x, p, t, m=mod: pixel_attribution(model, x, p, t, m, 'saliency'), mod)
    sal = bench('token_attribution saliency: report', lambda x, p, t: token_attribution(model, x, p, t, 'report', 'saliency'),
                'report', 'tiny BERT, 48 tokens')
    bench('token_attribution ig: report', lambda x, p, t: token_attribution(model, x, p, t, 'report', 'ig'), 'report',
          'tiny BERT, 48 tokens, 16 steps')
    lab = bench('lab_attribution (integrated gradients): labs', lambda x, p, t: lab_attribution(model, x, p, t, 'labs'),
                'labs', '16 steps from the training mean')
    for mod, attr, what in (('xray', cam, 'Grad-CAM'), ('report', sal.scores if sal is not None else None, 'token saliency'),
                            ('labs', lab, 'lab IG')):
        if attr is None: continue
        bench(f"deletion_curve: {mod} ({what} order)",            # the warm-up batch gets its own rows of the attribution
              lambda x, p, t, m=mod, a=attr: deletion_curve(model, x, p, t, a if len(t) == B else a[widx], m), mod,
              'attribution given; 6 fractions, attributed + 2 random orders')
    # attention rollout needs a ViT image encoder: the same model with timm's vit_tiny_patch16_224 (untrained: timing only)
    try:
        vit = mdrdx_learner(learn.dls, seed=0, d_model=64, encoder_kwargs=dict(image='vit_tiny_patch16_224', text='tiny',
                                                                               freeze_text=False)).model.eval()
        bench('attention_rollout: xray (ViT)', lambda x, p, t: attention_rollout(vit, x, p, 'xray'), 'xray',
              "timm vit_tiny_patch16_224 at 64 px (4x4 patches, 12 blocks), untrained")
    except Exception as e:
        c.add('attention_rollout: xray (ViT)', float('nan'), 's/patient', f"not measured: {type(e).__name__}: {e}"[:200])

    t0 = time.perf_counter()
    interp = MDRDxInterpretation.from_learner(learn, dl=vdl, base=base)
    c.add('MDRDxInterpretation.from_learner', time.perf_counter() - t0, 's', f"predictions of the {batch}, once")
    k = min(c.p['explain_patients'] + 1, B)
    interp.plot_patient(0, ex=interp.explain(0)).canvas.draw(); plt.close('all')   # warm-up
    secs, parts, draw = [], {}, []
    for i in range(1, k):
        t0 = time.perf_counter(); ex = interp.explain(i); secs.append(time.perf_counter() - t0)
        for key, v in ex['seconds'].items(): parts.setdefault(key, []).append(v)
        t0 = time.perf_counter(); fig = interp.plot_patient(i, ex=ex); fig.canvas.draw(); draw.append(time.perf_counter() - t0)
        plt.close('all')
    from benchlib import Timing
    T = Timing(secs)
    c.add('MDRDxInterpretation.explain (1 patient, every explainer)', T.median, 's/patient',
          f"median over {len(secs)} patients after a warm-up patient; Grad-CAM, token saliency, lab IG, Shapley", T.spread)
    for key, v in parts.items():
        c.add(f"  explain, 1 patient: {key}", Timing(v).median, 's/patient', f"batch of 1, median over {len(v)} patients with it",
              Timing(v).spread)
    c.add('MDRDxInterpretation.plot_patient (drawing only)', Timing(draw).median, 's/patient',
          f"explanation given, figure rendered (Agg); median over {len(draw)} patients", Timing(draw).spread)
    t0 = time.perf_counter(); learn.explain(0, dl=vdl); plt.close('all')
    c.add('Learner.explain, first call', time.perf_counter() - t0, 's',
          'builds the interpretation (predictions, training-set reference), explains and draws one patient')
    secs = []
    for i in range(1, k):
        t0 = time.perf_counter(); learn.explain(i, dl=vdl); secs.append(time.perf_counter() - t0); plt.close('all')
    T = Timing(secs)
    c.add('Learner.explain, later calls (explain + plot)', T.median, 's/patient', f"median over {len(secs)} patients", T.spread)


def block_generate(c):
    from benchlib import Timing
    from mdrdx.synthesis import encode_patients, fit_diffusion, fit_decoders, sample_latents, label_latents, synthetic_table
    p = c.p
    learn = c.learner()
    pt = learn.dls.table
    t0 = time.perf_counter(); lat = encode_patients(learn, learn.dls.train)
    c.add('encode_patients (training set, once)', time.perf_counter() - t0, 's', f"{len(lat.ids)} patients; {c.model_desc}")
    t0 = time.perf_counter(); gen = fit_diffusion(learn, lat, steps=p['diff_steps'])
    c.add('fit_diffusion (LatentGenerator, once)', time.perf_counter() - t0, 's', f"{p['diff_steps']} steps, bs 128")
    t0 = time.perf_counter(); decs = fit_decoders(learn, lat, epochs=p['dec_epochs'])
    c.add('fit_decoders (once)', time.perf_counter() - t0, 's', f"{p['dec_epochs']} epochs; decoders for {sorted(decs)}")
    out = c.tmp / 'synthetic'
    def generate(n):
        ts = {}
        t0 = time.perf_counter(); z = sample_latents(learn, n, diffusion=gen, seed=0); ts['sample'] = time.perf_counter() - t0
        t0 = time.perf_counter(); labels = label_latents(learn, z); ts['label'] = time.perf_counter() - t0
        t0 = time.perf_counter(); df = synthetic_table(z, labels, decs, pt, path=out); ts['table'] = time.perf_counter() - t0
        assert len(df) == n
        ts['total'] = sum(ts.values())
        return ts
    generate(50)                                           # warm-up
    N, runs = p['gen_n'], [generate(p['gen_n']) for _ in range(p['gen_reps'])]
    T = {k: Timing([r[k] for r in runs]) for k in runs[0]}
    how = f"median of {len(runs)} after a 50-patient warm-up" if len(runs) > 1 else 'one run after a 50-patient warm-up'
    c.add(f"sample_latents, {N:,} patients", T['sample'].median, 's', f"25 DDIM steps, bs 512, LatentGenerator; {how}", T['sample'].spread)
    c.add(f"label_latents, {N:,} patients", T['label'].median, 's', 'labels drawn from the head', T['label'].spread)
    c.add(f"synthetic_table, {N:,} patients", T['table'].median, 's',
          f"decode {sorted(decs)}, write {N} PNGs + patients.csv + latents.npy", T['table'].spread)
    c.add(f"generate {N:,} synthetic patients (total)", T['total'].median, 's', 'sample_latents + label_latents + synthetic_table; ' + how,
          T['total'].spread)
    c.add('generate: per synthetic patient', T['total'].median / N, 's/patient', f"total / {N}", T['total'].spread)


def _children_peak_mb():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def block_demo(c):
    exe = Path(sys.executable).parent / 'mdrdx'
    out = c.tmp / 'demo'
    env = dict(os.environ, MPLBACKEND='Agg')
    t0 = time.perf_counter()
    r = subprocess.run([str(exe), 'demo', '--out', str(out)], cwd=c.tmp, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode: raise RuntimeError(f"mdrdx demo failed ({r.returncode}): {r.stderr[-2000:]}")
    s = f"defaults (600 patients, 10 epochs x 3 methods), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    c.add('mdrdx demo wall time', wall, 's', s)
    c.add('mdrdx demo peak RSS', _children_peak_mb(), 'MB', 'largest process (ru_maxrss of the children)')
    for name, ep, secs in re.findall(r"trained (.+?): (\d+) epochs in (\d+)s", r.stdout):
        c.add(f"  demo: train {name} ({ep} epochs)", float(secs), 's', 'as printed by the demo (whole seconds)')


def block_tests(c):
    cmd = ['bash', 'tools/test.sh', 'nbdev-test', 'pytest']
    env = dict(os.environ, MDRDX_ARTIFACTS=str(c.tmp / 'test-artifacts'))
    env.pop('OMP_NUM_THREADS', None)                       # test.sh chooses: 2 for pytest, 1 per nbdev_test worker
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    (c.tmp / 'tests.log').write_text(r.stdout + r.stderr)
    status = 'passed' if r.returncode == 0 else f"FAILED (exit {r.returncode}; log {c.tmp / 'tests.log'})"
    c.add(f"{' '.join(cmd[1:])}: wall time", wall, 's', status)
    for name, res, secs in re.findall(r"^(\S+)\s+(ok|FAIL)\s+(\d+)$", r.stdout, re.M):
        c.add(f"  stage {name}", float(secs), 's', res)
    c.add('test suite peak RSS', _children_peak_mb(), 'MB', 'largest single process (ru_maxrss of the children)')
    if r.returncode: print(r.stdout[-3000:], file=sys.stderr)


def child(a):
    "Run one block in this process and write its rows as JSON to `a.rows_out`"
    from benchlib import set_threads, peak_mb
    set_threads(a.threads)
    os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
    os.environ['MPLBACKEND'] = 'Agg'
    if a.block == 'data': os.environ['MDRDX_CACHE'] = str(Path(a.tmp) / 'data-cache')   # a cold cache for the MiniLM pass
    import warnings
    warnings.simplefilter('ignore')
    c = Ctx(a, a.block)
    base = None
    if a.block not in ('demo', 'tests'):
        import importlib                                   # the library imported before the block: its baseline memory
        for mod in ('mdrdx.learner', 'mdrdx.explain', 'mdrdx.interpret', 'mdrdx.synthesis'): importlib.import_module(mod)
        from benchlib import rss_mb
        base = rss_mb()
    ok = True
    try: globals()[f'block_{a.block}'](c)
    except Exception as e:
        ok = False
        traceback.print_exc()
        c.add('FAILED', float('nan'), '', f"{type(e).__name__}: {e}"[:300])
    if base is not None:
        c.add('peak RSS', peak_mb(), 'MB', f"block process ru_maxrss; {base:.0f} MB after importing mdrdx, torch, fastai")
    Path(a.rows_out).write_text(json.dumps(c.rows))
    return 0 if ok else 1


# ---------------------------------------------------------------------------------------------------------------
# the driver

def fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)): return ''
    v = float(v)
    if v == 0: return '0'
    if abs(v) >= 1000: return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) >= .01 else f"{v:.2e}"


def git(*args) -> str:
    try: return subprocess.run(['git', *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except Exception: return ''


def text_table(rows: list, cols: list, right=(), width: dict | None = None) -> str:
    "A plain fixed-width table of dicts `rows`: `right` columns right-aligned, `width` caps a column (cut with '...')"
    width = width or {}
    cut = lambda s, c: s if c not in width or len(s) <= width[c] else s[:width[c] - 3] + '...'
    cells = [[cut(str(r.get(c, '')), c) for c in cols] for r in rows]
    w = [max([len(c)] + [len(x[i]) for x in cells]) for i, c in enumerate(cols)]
    line = lambda xs: '  '.join(x.rjust(w[i]) if cols[i] in right else x.ljust(w[i]) for i, x in enumerate(xs)).rstrip()
    return '\n'.join([line(cols), line(['-' * n for n in w])] + [line(x) for x in cells])


def print_table(df, title=None):
    import pandas as pd
    rows = [dict(block=r.block, metric=r.metric, value=fmt(r.value), unit=r.unit if isinstance(r.unit, str) else '',
                 spread='' if pd.isna(r.spread) else f"±{r.spread:.0%}", settings=r.settings if isinstance(r.settings, str) else '')
            for r in df.itertuples()]
    if title: print(f"\n== {title}")
    print(text_table(rows, ['block', 'metric', 'value', 'unit', 'spread', 'settings'], right=('value', 'spread'),
                     width=dict(metric=72, settings=120)))


def compare(df, prev_path):
    "Old and new values side by side with new/old and which way it moved"
    import pandas as pd
    old = pd.read_csv(prev_path)
    m = df.merge(old, on=['block', 'metric'], how='outer', suffixes=('_new', '_old'), indicator=True)
    keys = list(zip(df.block, df.metric))                  # this run's order, rows only the old run has at their block's end
    keys += [k for k in zip(old.block, old.metric) if k not in set(keys)]
    rank = {k: i for i, k in enumerate(keys)}
    blk = {b: i for i, b in enumerate(['run'] + BLOCKS)}
    m['_o'] = [(blk.get(b, 99), rank[(b, x)]) for b, x in zip(m.block, m.metric)]
    m = m.sort_values('_o')
    rows = []
    for _, r in m.iterrows():
        unit = r['unit_new'] if isinstance(r['unit_new'], str) else r['unit_old']
        o, n = r['value_old'], r['value_new']
        ratio = n / o if pd.notna(o) and pd.notna(n) and o else float('nan')
        noise = max(.1, 2 * max(r.get('spread_old') if pd.notna(r.get('spread_old')) else 0,
                                r.get('spread_new') if pd.notna(r.get('spread_new')) else 0))
        verdict = ''
        if pd.notna(ratio) and unit in LOWER_BETTER | HIGHER_BETTER:
            better = ratio < 1 if unit in LOWER_BETTER else ratio > 1
            verdict = '~' if abs(ratio - 1) <= noise else ('better' if better else 'WORSE')
        if r['_merge'] == 'left_only': verdict = 'new'
        elif r['_merge'] == 'right_only': verdict = 'gone'
        changed = isinstance(r['settings_old'], str) and isinstance(r['settings_new'], str) and r['settings_old'] != r['settings_new']
        rows.append(dict(block=r['block'], metric=r['metric'], unit=unit if isinstance(unit, str) else '', old=fmt(o), new=fmt(n),
                         **{'new/old': '' if pd.isna(ratio) else f"{ratio:.2f}"}, verdict=verdict,
                         settings='changed' if changed else ''))
    print(f"\n== compared with {prev_path} (verdict '~': within max(10%, twice the spread); settings 'changed': see the CSVs)")
    print(text_table(rows, ['block', 'metric', 'unit', 'old', 'new', 'new/old', 'verdict', 'settings'],
                     right=('old', 'new', 'new/old'), width=dict(metric=72)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='small cohort, fewer repeats and steps: every block in a few minutes')
    ap.add_argument('--only', help=f"comma-separated blocks to run, of {','.join(BLOCKS)}")
    ap.add_argument('--threads', type=int, default=1, help='torch / OpenMP threads in every block (default 1)')
    ap.add_argument('--with-demo', action='store_true', help='also time `mdrdx demo` (4-10 min)')
    ap.add_argument('--with-tests', action='store_true', help='also time `tools/test.sh nbdev-test pytest` (~4 min, needs an idle machine)')
    ap.add_argument('--compare', metavar='PREV.csv', help='print a previous suite CSV beside this run, with ratios')
    ap.add_argument('--out', help='CSV path (default benchmarks/results/suite-<date>-<commit>[-quick][-<only blocks>][-with-demo][-with-tests].csv)')
    ap.add_argument('--keep', action='store_true', help='keep the temp directory (phantom, trained model, synthetic patients)')
    ap.add_argument('--block', help=argparse.SUPPRESS)
    ap.add_argument('--profile', help=argparse.SUPPRESS)
    ap.add_argument('--tmp', help=argparse.SUPPRESS)
    ap.add_argument('--rows-out', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.block: return child(a)
    if a.threads < 1: ap.error('--threads must be at least 1')
    if a.compare and not Path(a.compare).is_file(): ap.error(f"--compare: no file {a.compare}")
    if a.only:
        blocks = [b.strip() for b in a.only.split(',') if b.strip()]
        bad = [b for b in blocks if b not in BLOCKS]
        if bad: ap.error(f"--only: unknown block(s) {bad}; the blocks are {BLOCKS}")
        blocks = [b for b in BLOCKS if b in blocks]
    else: blocks = BLOCKS[:6] + (['demo'] if a.with_demo else []) + (['tests'] if a.with_tests else [])
    import pandas as pd
    profile = 'quick' if a.quick else 'full'
    sha = git('rev-parse', '--short', 'HEAD') or 'nogit'
    dirty = bool(git('status', '--porcelain', '--untracked-files=no'))
    stamp = datetime.datetime.now()
    if a.out: out = Path(a.out)
    else:
        name = f"suite-{stamp:%Y-%m-%d}-{sha}" + ('-quick' if a.quick else '') + \
            ('-' + '+'.join(blocks) if a.only else ''.join(f'-with-{b}' for b in blocks[6:]))
        out = HERE / 'results' / f"{name}.csv"
    import torch
    meta = (f"commit {sha}{' + uncommitted changes' if dirty else ''}, {stamp:%Y-%m-%d %H:%M}, profile {profile}, "
            f"{a.threads} thread(s), {os.cpu_count()} CPUs, torch {torch.__version__}, python {platform.python_version()}")
    print(f"benchmark suite: blocks {blocks}; {meta}\nprofile {PROFILES[profile]}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix='mdrdx-suite-'))
    rows, failed = [], []
    load0 = os.getloadavg()[0]
    t_all = time.perf_counter()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads), PYTHONUNBUFFERED='1')
    try:
        for b in blocks:
            print(f"\n== block {b}", flush=True)
            f = tmp / f"rows-{b}.json"
            t0 = time.perf_counter()
            cmd = [sys.executable, str(Path(__file__).resolve()), '--block', b, '--profile', profile, '--tmp', str(tmp),
                   '--rows-out', str(f), '--threads', str(a.threads)]
            rc = subprocess.run(cmd, env=env, cwd=ROOT).returncode
            wall = time.perf_counter() - t0
            got = json.loads(f.read_text()) if f.exists() else \
                [dict(block=b, metric='FAILED', value=float('nan'), unit='', spread=None, settings=f"block process exit {rc}, no rows")]
            if rc: failed.append(b)
            rows += got
            rows.append(dict(block=b, metric='block wall time', value=wall, unit='s', spread=None,
                             settings="process start to end: imports and set-up included"))
            print(f"  [{b}] block wall time: {wall:.1f} s", flush=True)
    finally:
        if a.keep: print(f"temp directory kept: {tmp}")
        else: shutil.rmtree(tmp, ignore_errors=True)
    total = time.perf_counter() - t_all
    rows = [dict(block='run', metric='suite wall time', value=total, unit='s', spread=None, settings=meta),
            dict(block='run', metric='load average (1 min) at start / end', value=load0, unit='', spread=None,
                 settings=f"{load0:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")] + rows
    df = pd.DataFrame(rows, columns=['block', 'metric', 'value', 'unit', 'spread', 'settings'])
    print_table(df, f"benchmark suite ({profile}), {total / 60:.1f} min")
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    print(f"\nwritten to {out}")
    if a.compare: compare(df, a.compare)
    if failed: print(f"\nFAILED blocks: {failed}", file=sys.stderr); return 1
    return 0


if __name__ == '__main__':
    sys.path.insert(0, str(HERE))
    sys.exit(main())
