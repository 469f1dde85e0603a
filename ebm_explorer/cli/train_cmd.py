"""``ebm-explorer train``: train a mixture or MLP energy with CD, PCD, Jarzynski, SM or DSM; write every
diagnostic to an npz.

The npz holds ``history_*`` arrays (one value per iteration: ``history_kl``, ``history_cross_entropy``,
``history_cross_entropy_est``, ``history_log_z_exact``, ``history_log_z_est`` (NaN for CD/PCD) and its
standard error ``history_log_z_se``, the cross-fitted ``history_log_z_est_xfit``, ``history_log_z_se_xfit``,
``history_cross_entropy_est_xfit`` and ``history_ess_xfit`` (Jarzynski with the held-out walkers; NaN
otherwise or with ``--no-cross-fit``),
``history_ess``, ``history_mode_weights`` (K, M), ``history_fisher``, ``history_resampled``,
``history_resample_count``, ``history_energy_gap``, ``history_acceptance``, ``history_nonfinite_walkers``,
``history_loss`` (the SM / DSM objective; NaN for the other methods),
``history_param_*`` for the mixture), ``mode_weights_true`` (M,), the final ``walkers`` (N, 2) and
``log_weights`` (N,), the training ``data`` (n, 2), the final parameters ``param_*`` and ``meta``
(a JSON string with every setting and the package version).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ebm_explorer import __version__
from ebm_explorer.cli.common import (
    device_name,
    finite_float,
    positive_float,
    ranged_float,
    ranged_int,
    refuse_unnormalisable,
    require_suffix,
    seed_int,
)
from ebm_explorer.cli.interrupt import EXIT_INTERRUPTED, stop_on_signals
from ebm_explorer.cli.outputs import check_output_file
from ebm_explorer.core.atomic import save_npz_atomic
from ebm_explorer.core.resources import check_memory, check_walker_memory
from ebm_explorer.core.safe_io import printable
from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import Landscape, load_landscape_file, make_landscape
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.training import (
    KERNELS,
    METHODS,
    OPTIMIZERS,
    RESAMPLING_SCHEMES,
    GridDiagnostics,
    MixtureEnergy,
    MLPModel,
    TrainableEnergy,
    TrainConfig,
    Trainer,
    TrainHistory,
    load_points,
    sample_landscape,
)
from ebm_explorer.core.training.kmeans import kmeans_pp_means
from ebm_explorer.core.types import Box


def _fraction(text: str) -> float:
    value = finite_float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train an energy model (CD, PCD, Jarzynski, score matching) with exact diagnostics")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--target", metavar="NAME|FILE.toml", help="landscape to learn (data sampled exactly from it)")
    src.add_argument("--data", metavar="FILE.csv|FILE.npz", help="your own 2-D points")
    p.add_argument("--model", choices=["gmm", "mlp"], required=True, help="trainable energy")
    p.add_argument("--components", type=ranged_int("components"), default=2, help="mixture components (gmm; default 2)")
    p.add_argument("--hidden", type=ranged_int("hidden"), nargs="+", default=[64, 64], help="MLP hidden sizes (default 64 64)")
    p.add_argument("--method", choices=METHODS, required=True)
    p.add_argument("--kernel", choices=KERNELS, default="ula", help="walker kernel (default ula)")
    p.add_argument("--cd-steps", type=ranged_int("cd_steps"), default=1, help="CD: kernel steps per iteration (default 1)")
    p.add_argument("--cd-reset", type=ranged_int("cd_reset"), default=1,
                   help="CD: restart walkers at data every this many iterations (default 1; the authors' "
                        "mode-weight script GMM.py uses 4)")
    p.add_argument("--leapfrog-steps", type=ranged_int("leapfrog_steps"), default=5, help="HMC leapfrog steps (default 5)")
    p.add_argument("--walkers", type=ranged_int("walkers"), default=1000, help="number of walkers N (default 1000)")
    p.add_argument("--data-size", type=ranged_int("data_size"), default=None,
                   help="data points n (target: default 10000; data file: a random subset of this size)")
    p.add_argument("--iterations", type=ranged_int("iterations"), default=1000, help="training iterations K (default 1000)")
    p.add_argument("--lr", type=ranged_float("lr"), default=0.01, help="learning rate (default 0.01)")
    p.add_argument("--lr-z", type=ranged_float("lr"), default=None, help="gmm: learning rate of the log-weights z")
    p.add_argument("--lr-means", type=ranged_float("lr"), default=None, help="gmm: learning rate of the means")
    p.add_argument("--lr-widths", type=ranged_float("lr"), default=None, help="gmm: learning rate of the log-widths")
    p.add_argument("--noise-std", type=positive_float, default=0.1,
                   help="dsm: noise level sigma of denoising score matching (default 0.1)")
    p.add_argument("--step-size", type=ranged_float("step_size"), default=0.05, help="ULA/MALA h or HMC eps (default 0.05)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    p.add_argument("--resample-threshold", type=_fraction, default=0.5,
                   help="Jarzynski: resample when ESS/N falls below this (default 0.5)")
    p.add_argument("--resampling", choices=RESAMPLING_SCHEMES, default="systematic")
    p.add_argument("--no-cross-fit", dest="cross_fit", action="store_false",
                   help="Jarzynski: skip the held-out walkers that give the cross-fitted log Z estimate "
                        "(free of the training walkers' feedback bias; costs about one more walker population)")
    p.add_argument("--grid-resolution", type=ranged_int("grid_resolution"), default=128, help="diagnostics grid (default 128)")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed in [0, 2**63 - 1] (default 0)")
    p.add_argument("--device", type=device_name, default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--out", required=True, metavar="FILE.npz")
    p.set_defaults(func=run)


def _load_target(name: str) -> Landscape:
    if name.lower().endswith(".toml") or Path(name).suffix:
        return load_landscape_file(name)
    return make_landscape(name)


def _data_box(points: np.ndarray) -> Box:
    lo, hi = points.min(0), points.max(0)
    pad = np.maximum(0.15 * (hi - lo), 0.5)
    return Box(float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def _build_model(args: argparse.Namespace, box: Box, data: torch.Tensor, device: torch.device) -> TrainableEnergy:
    if args.model == "mlp":
        return MLPModel(box, hidden=tuple(args.hidden), generator=torch.Generator().manual_seed(args.seed),
                        device=device)
    # means from k-means++ on the data (two components no longer start, and end, on one mode); equal
    # masses and a wide common width: the initial mixture covers the box, a known, easy start
    means = kmeans_pp_means(data, args.components, torch.Generator().manual_seed(args.seed))
    width = min(box.width, box.height) / 6
    return MixtureEnergy(means, widths=width, box=box, device=device)


def _group_lr(args: argparse.Namespace) -> tuple[tuple[str, float], ...]:
    pairs = (("means", args.lr_means), ("widths", args.lr_widths), ("z", args.lr_z))
    if args.model != "gmm" and any(v is not None for _, v in pairs):
        raise UserInputError("--lr-means/--lr-widths/--lr-z apply to --model gmm only")
    return tuple((k, v) for k, v in pairs if v is not None)


def run(args: argparse.Namespace) -> int:
    out = check_output_file(require_suffix(args.out, ".npz", "--out"))
    device = resolve_device(args.device)
    gen = make_generator(args.seed, "cpu")
    if args.target is not None:
        target: Landscape | None = _load_target(args.target)
        box = target.box
        refuse_unnormalisable(compute_reference(target, box, resolution=128), target)
        n = args.data_size or 10_000
        data = sample_landscape(target, n, gen)
    else:
        target = None
        points = load_points(args.data)
        if args.data_size is not None:
            if args.data_size > len(points):
                raise UserInputError(f"--data-size {args.data_size} exceeds the {len(points)} points in {args.data}")
            points = points[torch.randperm(len(points), generator=gen)[: args.data_size].numpy()]
        data = torch.as_tensor(points, dtype=torch.float64)
        box = _data_box(points)
    check_output_file(out)  # never over the data or target file just read
    _check_resources(args, int(data.shape[0]), target, device)
    model = _build_model(args, box, data, device)
    config = TrainConfig(
        method=args.method, kernel=args.kernel, step_size=args.step_size, leapfrog_steps=args.leapfrog_steps,
        cd_steps=args.cd_steps, cd_reset=args.cd_reset, walkers=args.walkers, optimizer=args.optimizer,
        lr=args.lr, group_lr=_group_lr(args), resample_threshold=args.resample_threshold,
        resampling=args.resampling, noise_std=args.noise_std, cross_fit=args.cross_fit, seed=args.seed,
    ).validated()
    diagnostics = GridDiagnostics(box, target, args.grid_resolution, device=device)
    trainer = Trainer(model, data, config, diagnostics, generator=make_generator(args.seed, device))
    history = TrainHistory()
    trainer.add_callback("on_step_end", history)
    start = time.perf_counter()
    done = 0
    with stop_on_signals() as stop:  # Ctrl-C / SIGTERM: stop at the next iteration and save what we have
        while done < args.iterations and not stop():
            trainer.step()
            done += 1
    seconds = time.perf_counter() - start
    arrays = history.arrays()
    arrays["mode_weights_true"] = diagnostics.mode_weights_true
    arrays["walkers"] = trainer.walkers.detach().cpu().numpy()
    arrays["log_weights"] = trainer.log_weights.detach().cpu().numpy()
    arrays["data"] = data.cpu().numpy()
    for name, value in model.param_arrays().items():
        arrays[f"param_{name.replace('.', '_')}"] = value
    meta = {
        "version": __version__,
        "command": "train",
        "target": args.target, "data_file": args.data, "model": args.model,
        "components": args.components if args.model == "gmm" else None,
        "hidden": list(args.hidden) if args.model == "mlp" else None,
        "iterations": args.iterations, "iterations_done": done, "interrupted": stop.name or None,
        "data_size": int(data.shape[0]), "box": list(box.as_tuple()),
        "grid_resolution": args.grid_resolution, "device": str(device), "seconds": seconds,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.as_dict().items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    save_npz_atomic(out, **arrays)
    if stop():
        print(f"interrupted by {stop.name} after {done:,} of {args.iterations:,} iterations: wrote the "
              f"results so far to {printable(out)}", file=sys.stderr)
        return EXIT_INTERRUPTED

    m = trainer.last_metrics
    assert m is not None
    how = f"noise std {args.noise_std}" if args.method == "dsm" else "no walkers" if args.method == "sm" else args.kernel
    print(f"{args.method} ({how}) on {printable(args.target or args.data)}: {args.iterations} iterations in {seconds:.1f} s "
          f"({args.iterations / max(seconds, 1e-9):.0f} it/s)")
    line = f"  cross-entropy {m.cross_entropy:.4f}"
    if math.isfinite(m.loss):
        line = f"  {args.method} loss {m.loss:.4f}," + line[1:]
    if math.isfinite(m.kl):
        line += f", exact KL {m.kl:.4f}, Fisher {m.fisher:.4g}"
    print(line)
    if m.mode_weights.size:
        print("  mode weights  " + " ".join(f"{w:.3f}" for w in m.mode_weights)
              + "  (true " + " ".join(f"{w:.3f}" for w in m.mode_weights_true) + ")")
    if args.method == "jarzynski":
        print(f"  log Z: exact {m.log_z_exact:.4f}; estimate {m.log_z_est:.4f} ± {m.log_z_se:.4f} (training walkers, "
              f"biased low by the feedback); ESS/N {m.ess_fraction:.3f}, {m.resample_count} resampling(s)")
        if trainer.held_out is not None:
            print(f"  log Z: cross-fitted estimate {m.log_z_est_xfit:.4f} ± {m.log_z_se_xfit:.4f} (held-out walkers); "
                  f"ESS/N {m.ess_fraction_xfit:.3f}, {trainer.held_out.resample_count} resampling(s)")
    if m.nonfinite_walkers:
        print(f"  warning: {m.nonfinite_walkers} walker(s) became NaN/inf and were dropped from the estimates")
    print(f"wrote {printable(out)}")
    return 0


def _check_resources(args: argparse.Namespace, n_data: int, target: Landscape | None, device: torch.device) -> None:
    """Walkers and data, the per-iteration history, the diagnostics grid and an MLP must fit in memory:
    refused before anything is allocated, with what to change."""
    check_walker_memory(args.walkers + n_data, device, torch.float64, landscape=target)
    check_memory(args.iterations * 30 * 8, f"{args.iterations:,} iterations of history", "lower --iterations")
    check_memory(args.grid_resolution ** 2 * 8 * 16, f"a {args.grid_resolution}^2 diagnostics grid",
                 "lower --grid-resolution")
    if args.model == "mlp":
        sizes = (2, *args.hidden, 1)
        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        check_memory(n_params * 8 * 4 + (args.walkers + n_data) * max(sizes) * len(sizes) * 8 * 4,
                     f"an MLP with hidden sizes {list(args.hidden)}", "use fewer or smaller hidden layers", device)
