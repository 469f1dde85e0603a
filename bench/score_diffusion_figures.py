"""The numbers behind docs/score_and_diffusion.md: score matching vs Jarzynski on masses 1/4 and 3/4,
reverse SDE / ODE / annealed Langevin against the exact noised densities, with wall-clock times.

Single-threaded (small tensors); times on a shared machine are noisy.

    python bench/score_diffusion_figures.py [--seeds 0 1 2] [--out bench/results/score_diffusion.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.diffusion.generate import GenerateConfig, generate
from ebm_explorer.core.diffusion.learned import train_score_network
from ebm_explorer.core.diffusion.paths import make_schedule, noised_density
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.training import GridDiagnostics, MixtureEnergy, Trainer, TrainSettings, sample_mixture
from ebm_explorer.core.types import Box

SEPARATED = GaussianMixture([0.25, 0.75], [[-8.0, 0.0], [8.0, 0.0]], stds=1.0, box=Box(-13, 13, -5, 5))
TWO = GaussianMixture([0.25, 0.75], [[-4.0, 0.0], [4.0, 0.0]], stds=1.0, box=Box(-9, 9, -5, 5))
SONG = GaussianMixture([0.2, 0.8], [[-5.0, -5.0], [5.0, 5.0]], stds=1.0, box=Box(-10, 10, -10, 10))


def training(method: str, seed: int) -> dict:
    gen = make_generator(seed)
    data = sample_mixture(SEPARATED, 40_000, gen, stratified=True)
    init = torch.tensor(SEPARATED.means) + 0.7 * torch.randn((2, 2), generator=gen, dtype=torch.float64)
    if method == "jarzynski":
        model = MixtureEnergy(init, widths=1.0, box=SEPARATED.box)
        cfg, iters = TrainSettings(method=method, walkers=3000, step_size=0.05, lr=0.1, means_lr_scale=1.0, seed=seed), 400
    else:
        model = MixtureEnergy(init, widths=1.5, box=SEPARATED.box)
        cfg, iters = TrainSettings(method=method, optimizer="adam", lr=0.05, means_lr_scale=1.0, noise_std=0.5,
                                   seed=seed), 300
    tr = Trainer(model, data, cfg, GridDiagnostics(SEPARATED.box, SEPARATED, 96), generator=gen)
    start = time.perf_counter()
    for _ in range(iters):
        m = tr.step()
    return {"method": method, "seed": seed, "iterations": iters, "seconds": time.perf_counter() - start,
            "means": model.means.detach().numpy().tolist(), "fisher": m.fisher, "kl": m.kl,
            "small_mode_mass": float(m.mode_weights[0])}


def gen_row(label: str, target, path: str, cfg: GenerateConfig, learned: int = 0, **sched) -> dict:
    dens = noised_density(target, make_schedule(path, **sched))
    score, train_s = None, 0.0
    if learned:
        net, info = train_score_network(dens, learned, torch.Generator().manual_seed(0), hidden=(64, 64))
        score, train_s = net.score_fn(), info["seconds"]
    r = generate(dens, cfg, score=score)
    return {"label": label, "path": path, "solver": cfg.solver, "steps": cfg.steps, "walkers": cfg.walkers,
            "jarzynski": cfg.jarzynski, "resample_threshold": cfg.resample_threshold, "learned_iterations": learned,
            "mode_weights": r.mode_weights.tolist(), "se": r.mode_weights_se.tolist(),
            "exact": r.mode_weights_exact.tolist(),
            "z": ((r.mode_weights - r.mode_weights_exact) / r.mode_weights_se).tolist(),
            "kl": float(r.kl_history[-1]), "kl_floor": float(r.kl_floor[-1]),
            "max_kl_minus_floor": float(np.max(r.kl_history - r.kl_floor)),
            "min_ess": float(r.ess_history.min()), "resamplings": r.resample_count,
            "seconds": r.seconds, "train_seconds": train_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="bench/results/score_diffusion.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = {"training": [training(m, s) for m in ("sm", "dsm", "jarzynski") for s in args.seeds], "generate": []}
    n = 10_000
    for seed in args.seeds:
        g = rows["generate"]
        g.append(gen_row("vp sde 1000", TWO, "vp", GenerateConfig("sde", 1000, n, seed=seed)))
        for path in ("vp", "interpolant"):
            g.append(gen_row(f"{path} sde 10", TWO, path, GenerateConfig("sde", 10, n, seed=seed)))
            for thr in (0.0, 0.5):
                g.append(gen_row(f"{path} sde 10 jarzynski", TWO, path,
                                 GenerateConfig("sde", 10, n, jarzynski=True, resample_threshold=thr, seed=seed)))
        g.append(gen_row("interpolant ode 100", TWO, "interpolant", GenerateConfig("ode", 100, n, seed=seed)))
        for levels in (10, 1):
            g.append(gen_row(f"annealed langevin {levels} levels", SONG, "ve",
                             GenerateConfig("annealed-langevin", levels, n, seed=seed), sigma_min=1.0, sigma_max=20.0))
        for jz in (False, True):
            g.append(gen_row("vp sde 50 learned(400)", TWO, "vp",
                             GenerateConfig("sde", 50, n, jarzynski=jz, resample_threshold=0.3, seed=seed), learned=400))
    rows["machine"] = {"platform": platform.platform(), "torch": torch.__version__, "threads": 1}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1))
    for r in rows["training"]:
        print(f"{r['method']:9s} seed {r['seed']}: small-mode mass {r['small_mode_mass']:.4f}, Fisher {r['fisher']:.2e}, "
              f"KL {r['kl']:.4f}, means {np.round(r['means'], 3).tolist()}, {r['seconds']:.1f} s")
    for r in rows["generate"]:
        print(f"{r['label']:28s} J={int(r['jarzynski'])} thr={r['resample_threshold']}: masses "
              f"{np.round(r['mode_weights'], 4).tolist()} +- {np.round(r['se'], 4).tolist()} (exact "
              f"{np.round(r['exact'], 4).tolist()}, z {np.round(r['z'], 1).tolist()}), KL {r['kl']:.4f} floor "
              f"{r['kl_floor']:.4f}, ESS/N min {r['min_ess']:.3f}, {r['resamplings']} res, {r['seconds']:.1f} s"
              + (f" + train {r['train_seconds']:.1f} s" if r['learned_iterations'] else ""))


if __name__ == "__main__":
    main()
