"""``ebm-explorer generate``: walkers from noise to a landscape along a noising path, against the exact rho_t.

The npz holds ``positions`` (N, 2) at the last time, ``log_weights`` (N,) (with ``--jarzynski``),
``mode_weights`` (M,) (weighted when corrected), ``mode_weights_se`` (M,) (from the weights and the
resampling genealogy; binomial without weights), ``mode_weights_se_ess`` (M,) (``sqrt(p (1 - p) / ESS)``),
``mode_weights_exact`` (M,) (exact basin masses of rho at the last time), ``times`` (S,),
``kl_history`` (S,) (the walkers' histogram against rho_t at each recorded time), ``kl_floor`` (S,)
(its noise floor for exact samples), ``ess_history`` (S,), ``train_loss`` (with ``--score learned``)
and ``meta`` (JSON: every setting, timings, the package version).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from ebm_explorer import __version__
from ebm_explorer.cli.common import (
    add_device_seed_args,
    add_landscape_args,
    landscape_from_args,
    positive_float,
    ranged_int,
    require_suffix,
)
from ebm_explorer.cli.interrupt import EXIT_INTERRUPTED, stop_on_signals
from ebm_explorer.cli.outputs import check_output_file
from ebm_explorer.core.atomic import save_npz_atomic
from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.diffusion.generate import SOLVERS, GenerateConfig, generate
from ebm_explorer.core.diffusion.learned import train_score_network
from ebm_explorer.core.diffusion.paths import PATHS, make_schedule, noised_density
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.resources import check_walker_memory
from ebm_explorer.core.safe_io import printable
from ebm_explorer.core.training.resampling import RESAMPLING_SCHEMES


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate walkers from noise (reverse SDE, ODE, annealed Langevin), "
                                        "optionally Jarzynski-weighted, against the exact noised densities")
    add_landscape_args(p)
    p.add_argument("--path", choices=PATHS, default="vp",
                   help="vp diffusion, linear stochastic interpolant, or ve (Song and Ermon's levels)")
    p.add_argument("--solver", choices=SOLVERS, default="sde")
    p.add_argument("--steps", type=ranged_int("steps"), default=100,
                   help="time steps K (sde, ode) or noise levels (annealed-langevin); default 100")
    p.add_argument("--walkers", type=ranged_int("walkers"), default=10_000)
    p.add_argument("--score", choices=["exact", "learned"], default="exact",
                   help="exact score of rho_t, or a network trained by denoising score matching first")
    p.add_argument("--train-iterations", type=ranged_int("iterations"), default=2000,
                   help="learned score: Adam iterations of 512 fresh samples (default 2000)")
    p.add_argument("--jarzynski", action="store_true", help="Jarzynski/SMC weights along the path (sde, annealed-langevin)")
    p.add_argument("--resample-threshold", type=_fraction, default=0.5,
                   help="with --jarzynski: resample when ESS/N falls below this (0: never; default 0.5)")
    p.add_argument("--resampling", choices=RESAMPLING_SCHEMES, default="systematic")
    p.add_argument("--langevin-steps", type=ranged_int("steps"), default=100, help="annealed-langevin: steps per level")
    p.add_argument("--langevin-eps", type=positive_float, default=0.1,
                   help="annealed-langevin: step h = eps sigma_t^2 / sigma_last^2 (default 0.1)")
    p.add_argument("--sigma-min", type=positive_float, default=0.01, help="ve path: smallest noise (default 0.01)")
    p.add_argument("--sigma-max", type=positive_float, default=None,
                   help="ve path: largest noise (default: the box's diagonal)")
    p.add_argument("--resolution", type=ranged_int("resolution"), default=160,
                   help="reference grid for landscapes without a closed form (default 160)")
    p.add_argument("--record-every", type=ranged_int("record_every"), default=None,
                   help="KL/ESS every this many steps (default: about 100 records)")
    add_device_seed_args(p)
    p.add_argument("--out", required=True, metavar="FILE.npz")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = check_output_file(require_suffix(args.out, ".npz", "--out"))
    device = resolve_device(args.device)
    land = landscape_from_args(args)
    check_output_file(out)  # never over the landscape file just read
    check_walker_memory(args.walkers, device, torch.float64, landscape=land)
    if args.path == "ve":
        b = land.box
        sigma_max = args.sigma_max or float(np.hypot(b.width, b.height))
        schedule = make_schedule("ve", sigma_min=args.sigma_min, sigma_max=sigma_max)
    else:
        if args.sigma_max is not None:
            raise UserInputError("--sigma-min/--sigma-max apply to --path ve only")
        schedule = make_schedule(args.path)
    config = GenerateConfig(
        solver=args.solver, steps=args.steps, walkers=args.walkers, jarzynski=args.jarzynski,
        resample_threshold=args.resample_threshold, resampling=args.resampling,
        langevin_steps=args.langevin_steps, langevin_eps=args.langevin_eps,
        record_every=args.record_every or 0, seed=args.seed,
    ).validated()
    density = noised_density(land, schedule, resolution=args.resolution)
    arrays: dict[str, np.ndarray] = {}
    score = None
    train_seconds = 0.0
    meta = {
        "version": __version__, "command": "generate",
        "landscape": args.landscape, "formula": args.formula, "box": list(land.box.as_tuple()), "beta": args.beta,
        "path": args.path, "schedule": {k: getattr(schedule, k) for k in ("beta_min", "beta_max", "sigma_min",
                                                                          "sigma_max", "t_end")},
        "t_min": density.t_min, "score": args.score,
        "train_iterations": args.train_iterations if args.score == "learned" else None,
        "resolution": args.resolution, "device": str(device), "train_seconds": train_seconds,
        "config": config.__dict__,
    }
    with stop_on_signals() as stop:  # Ctrl-C / SIGTERM: stop at the next iteration or step, save what we have
        if args.score == "learned":
            net, info = train_score_network(density, args.train_iterations, make_generator(args.seed + 1),
                                            device=device, seed=args.seed, should_stop=stop)
            score = net.score_fn()
            arrays["train_loss"] = np.array(info["loss"], dtype=np.float64)
            meta["train_seconds"] = train_seconds = info["seconds"]
            meta["train_iterations_done"] = len(info["loss"])
            if not stop():
                print(f"score network: {args.train_iterations} iterations in {train_seconds:.1f} s, "
                      f"final loss {np.mean(info['loss'][-50:]):.4f}")
        if stop():  # stopped while training the score: the losses so far, no walkers
            meta.update(interrupted=stop.name, stage="score training", steps_done=0)
            arrays["meta"] = np.array(json.dumps(meta))
            save_npz_atomic(out, **arrays)
            print(f"interrupted by {stop.name} after {len(info['loss']):,} of {args.train_iterations:,} "
                  f"score-network iterations (no walkers generated): wrote the losses so far to "
                  f"{printable(out)}", file=sys.stderr)
            return EXIT_INTERRUPTED
        with torch.no_grad():
            result = generate(density, config, score, make_generator(args.seed, device), device, should_stop=stop)
    arrays.update(
        positions=result.positions, mode_weights=result.mode_weights, mode_weights_se=result.mode_weights_se,
        mode_weights_se_ess=result.mode_weights_se_ess,
        mode_weights_exact=result.mode_weights_exact, times=result.times, kl_history=result.kl_history,
        kl_floor=result.kl_floor, ess_history=result.ess_history,
    )
    if args.jarzynski:
        arrays["log_weights"] = result.log_weights
    meta.update(final_time=result.final_time, resample_count=result.resample_count, seconds=result.seconds,
                steps_done=result.steps_done, interrupted=stop.name or None)
    arrays["meta"] = np.array(json.dumps(meta))
    save_npz_atomic(out, **arrays)
    if stop():  # walkers, weights and exact mode weights belong to rho at the time reached (final_time)
        print(f"interrupted by {stop.name} after {result.steps_done:,} of {args.steps:,} steps (t = "
              f"{result.final_time:.4g}): wrote the results so far to {printable(out)}", file=sys.stderr)
        return EXIT_INTERRUPTED

    what = f"{args.solver} on the {args.path} path, {args.steps} steps, {args.score} score"
    print(f"{what}{' + Jarzynski' if args.jarzynski else ''}: {args.walkers} walkers in {result.seconds:.1f} s")
    print("  mode weights  " + " ".join(f"{w:.4f}" for w in result.mode_weights)
          + "  (+- " + " ".join(f"{s:.4f}" for s in result.mode_weights_se) + ")")
    print("  exact         " + " ".join(f"{w:.4f}" for w in result.mode_weights_exact)
          + f"  (rho at t = {result.final_time:.3g})")
    print(f"  KL(walkers || rho) {result.kl_history[-1]:.4f}, noise floor {result.kl_floor[-1]:.4f}")
    if args.jarzynski:
        print(f"  ESS/N {result.ess_history[-1]:.3f} at the end (smallest {result.ess_history.min():.3f}), "
              f"{result.resample_count} resampling(s)")
    print(f"wrote {out}")
    return 0
