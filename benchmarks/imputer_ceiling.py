#!/usr/bin/env python
"""How much of a modality's latent can any imputer recover? On one fold of the phantom (n=600, the levers' folds),
MDR-Dx is trained (per-modality heads, gated fused path, z0-predicting denoiser, 4 imputation draws; 10 epochs),
then each modality of the held-out patients is hidden in turn and predicted from the others' latents by:

  - the model's own imputation (`imputation_report`);
  - the same denoiser trained again, alone, on the frozen latents of the training patients (300 steps);
  - one step of that denoiser from pure noise at t = T (its estimate of the posterior mean), averaged over 8 noises;
  - a ridge regression from the other modalities' latents (a linear reference for what they determine).

Each is scored by its skill, 1 - MSE / MSE(mean latent of the training patients): above 0, it knows more than the mean.

  .venv/bin/python benchmarks/imputer_ceiling.py            # fold 0, about 3 minutes on two cores
  .venv/bin/python benchmarks/imputer_ceiling.py --fold 2
"""
import argparse, copy, warnings
import numpy as np, pandas as pd


def run(fold: int, n: int = 600, epochs: int = 10, seed: int = 0):
    warnings.simplefilter('ignore')
    import torch
    from sklearn.linear_model import Ridge
    from mdrdx.core import seed_everything
    from mdrdx.data.phantom import FINDINGS
    from mdrdx.data.table import phantom_table, PatientTable, TargetSpec, text, kfold_splits, PatientDL, PatientDataset
    from mdrdx.learner import mdrdx_learner
    from mdrdx.evaluation import imputation_report
    t = phantom_table(n=n, seed=0)
    specs = t.specs; specs[2] = text('report', 'report', encoder='minilm')
    table = PatientTable(t.df, specs, TargetSpec(list(FINDINGS)), root=t.root)
    tr, va = kfold_splits(table.ids, table.target.encode(table.df), 5, seed)[fold]
    dls = table.dataloaders(bs=32, splits={'train': tr, 'valid': va}, seed=seed)
    seed_everything(seed)
    learn = mdrdx_learner(dls, seed=seed, encoder_kwargs=dict(image='mobilenetv3_small_050'), unimodal_heads=True,
                          fused_gate=True, detach_fused=True, diff_prediction='sample', impute_draws=4)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 3e-3)
    m = learn.model.eval()
    dl = lambda ids: PatientDL(PatientDataset(table, ids, dls.train.dataset.norms), bs=64, shuffle=False, device=dls.device)
    test_dl = dl(va)
    own = imputation_report(learn, test_dl)

    @torch.no_grad()
    def latents(d):
        L, P = [], []
        for b in d:
            p = b[1].bool(); L.append(m.encode(b[0], p)[1]); P.append(p)
        return torch.cat(L), torch.cat(P)
    L, P = latents(dl(tr)); Lt, Pt = latents(test_dl)
    torch.manual_seed(seed)
    den = copy.deepcopy(m.diffusion).train()                       # stage 2: the denoiser alone on frozen latents
    opt = torch.optim.AdamW(den.parameters(), lr=2e-3); sch = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=300)
    for _ in range(300):
        b = torch.randint(0, len(L), (128,)); loss = den.loss(L[b], P[b]); opt.zero_grad(); loss.backward(); opt.step(); sch.step()
    den.eval()
    m.diffusion, first = den, m.diffusion
    stage2 = imputation_report(learn, test_dl)
    m.diffusion = first
    rows, T = [], den.ddpm.config.num_train_timesteps
    for j, name in enumerate(m.names):
        others = [k for k in range(m.M) if k != j]
        X = lambda LL, PP: (LL[:, others] * PP[:, others, None]).flatten(1).numpy()
        rtr, rte = P[:, j] & (P.sum(1) > 1), Pt[:, j] & (Pt.sum(1) > 1)
        real, mean = Lt[rte, j], L[P[:, j], j].mean(0)
        mse_mean = ((mean - real) ** 2).mean().item()
        skill = lambda pred: 1 - ((pred - real) ** 2).mean().item() / mse_mean
        ridge = Ridge(10.).fit(X(L, P)[rtr.numpy()], L[rtr, j].numpy()).predict(X(Lt, Pt)[rte.numpy()])
        cond = Pt[rte].clone(); cond[:, j] = False
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            one = torch.stack([den.net(torch.randn(len(real), m.M, m.D, generator=g), torch.full((len(real),), T - 1),
                                       Lt[rte] * cond[..., None], cond)[:, j] for _ in range(8)]).mean(0)
        rows.append({'modality': name, 'n': int(rte.sum()), 'own imputation': own.loc[name, 'skill'],
                     'stage 2 imputation': stage2.loc[name, 'skill'], 'stage 2 one-step mean': skill(one),
                     'ridge (linear reference)': skill(torch.tensor(ridge, dtype=torch.float32)),
                     'L_diff own': own.loc[name, 'L_diff'], 'L_diff stage 2': stage2.loc[name, 'L_diff']})
    return pd.DataFrame(rows).set_index('modality')


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--fold', type=int, default=0); ap.add_argument('--n', type=int, default=600)
    ap.add_argument('--epochs', type=int, default=10)
    a = ap.parse_args()
    r = run(a.fold, a.n, a.epochs)
    print(f'skill = 1 - MSE / MSE(mean latent), held-out patients of fold {a.fold}')
    print(r.round(3).to_string())
