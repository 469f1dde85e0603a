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
from ebm_explorer.core.run_settings import KERNELS, METHODS, OPTIMIZERS, TrainSettings, settings_to_mapping
from ebm_explorer.core.training import RESAMPLING_SCHEMES, load_points
from ebm_explorer.core.training.recipe import build_trainer, data_box, training_data

#: the one set of defaults (the same a scene file or the training panel starts from)
D = TrainSettings()


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
    p.add_argument("--components", type=ranged_int("components"), default=D.components,
                   help=f"mixture components (gmm; default {D.components})")
    p.add_argument("--mixture-init", choices=("kmeans++", "centre"), default=D.mixture_init,
                   help="gmm: kmeans++ (means from k-means++ on the data, common width, widths learnt) or centre "
                        f"(the paper's start: unit widths at the box centre, first z frozen) (default {D.mixture_init})")
    p.add_argument("--hidden", type=ranged_int("hidden"), nargs="+", default=list(D.hidden),
                   help="MLP hidden sizes (default " + " ".join(map(str, D.hidden)) + ")")
    p.add_argument("--method", choices=METHODS, required=True)
    p.add_argument("--kernel", choices=KERNELS, default=D.kernel, help=f"walker kernel (default {D.kernel})")
    p.add_argument("--cd-steps", type=ranged_int("cd_steps"), default=D.cd_steps,
                   help=f"CD: kernel steps per iteration (default {D.cd_steps})")
    p.add_argument("--cd-reset", type=ranged_int("cd_reset"), default=D.cd_reset,
                   help=f"CD: restart walkers at data every this many iterations (default {D.cd_reset}; the "
                        "authors' mode-weight script GMM.py uses 4)")
    p.add_argument("--leapfrog-steps", type=ranged_int("leapfrog_steps"), default=D.leapfrog_steps,
                   help=f"HMC leapfrog steps (default {D.leapfrog_steps})")
    p.add_argument("--walkers", type=ranged_int("walkers"), default=D.walkers,
                   help=f"number of walkers N (default {D.walkers})")
    p.add_argument("--data-size", type=ranged_int("data_size"), default=None,
                   help=f"data points n (target: default {D.data_size}; data file: a random subset of this size)")
    p.add_argument("--iterations", type=ranged_int("iterations"), default=D.iterations,
                   help=f"training iterations K (default {D.iterations})")
    p.add_argument("--lr", type=ranged_float("lr"), default=D.lr, help=f"learning rate (default {D.lr})")
    p.add_argument("--means-lr-scale", type=positive_float, default=D.means_lr_scale,
                   help=f"gmm: the means learn at lr times this (default {D.means_lr_scale}, as GMM.py)")
    p.add_argument("--lr-z", type=ranged_float("lr"), default=None, help="gmm: learning rate of the log-weights z")
    p.add_argument("--lr-means", type=ranged_float("lr"), default=None, help="gmm: learning rate of the means")
    p.add_argument("--lr-widths", type=ranged_float("lr"), default=None,
                   help="gmm: learning rate of the log-widths (learnt with --mixture-init kmeans++)")
    p.add_argument("--noise-std", type=positive_float, default=D.noise_std,
                   help=f"dsm: noise level sigma of denoising score matching (default {D.noise_std})")
    p.add_argument("--step-size", type=ranged_float("step_size"), default=D.step_size,
                   help=f"ULA/MALA h or HMC eps (default {D.step_size})")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=D.optimizer)
    p.add_argument("--resample-threshold", type=_fraction, default=D.resample_threshold,
                   help=f"Jarzynski: resample when ESS/N falls below this (default {D.resample_threshold})")
    p.add_argument("--resampling", choices=RESAMPLING_SCHEMES, default=D.resample_scheme)
    p.add_argument("--no-cross-fit", dest="cross_fit", action="store_false",
                   help="Jarzynski: skip the held-out walkers that give the cross-fitted log Z estimate "
                        "(free of the training walkers' feedback bias; costs about one more walker population)")
    p.add_argument("--grid-resolution", type=ranged_int("grid_resolution"), default=128, help="diagnostics grid (default 128)")
    p.add_argument("--seed", type=seed_int, default=D.seed, help=f"random seed in [0, 2**63 - 1] (default {D.seed})")
    p.add_argument("--device", type=device_name, default=D.device, help=f"cpu, cuda or cuda:N (default {D.device})")
    p.add_argument("--out", required=True, metavar="FILE.npz")
    p.set_defaults(func=run)


def _load_target(name: str) -> Landscape:
    if name.lower().endswith(".toml") or Path(name).suffix:
        return load_landscape_file(name)
    return make_landscape(name)


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    """The run's :class:`TrainSettings` from the command line (the recipe builds everything from it)."""
    return TrainSettings(
        model=args.model, components=args.components, mixture_init=args.mixture_init, hidden=tuple(args.hidden),
        method=args.method,
        kernel=args.kernel, cd_steps=args.cd_steps, cd_reset=args.cd_reset, step_size=args.step_size,
        leapfrog_steps=args.leapfrog_steps, optimizer=args.optimizer, lr=args.lr,
        means_lr_scale=args.means_lr_scale, walkers=args.walkers,
        data_size=args.data_size if args.data_size is not None else D.data_size, data_file=args.data or "",
        resample_threshold=args.resample_threshold, resample_scheme=args.resampling, noise_std=args.noise_std,
        cross_fit=args.cross_fit, iterations=args.iterations, seed=args.seed, device=args.device,
    ).validated()


def _group_lr(args: argparse.Namespace) -> tuple[tuple[str, float], ...]:
    pairs = (("means", args.lr_means), ("widths", args.lr_widths), ("z", args.lr_z))
    if args.model != "gmm" and any(v is not None for _, v in pairs):
        raise UserInputError("--lr-means/--lr-widths/--lr-z apply to --model gmm only")
    if args.lr_widths is not None and args.mixture_init != "kmeans++":
        raise UserInputError("--lr-widths needs --mixture-init kmeans++ (the paper's start keeps the widths fixed)")
    return tuple((k, v) for k, v in pairs if v is not None)


def run(args: argparse.Namespace) -> int:
    out = check_output_file(require_suffix(args.out, ".npz", "--out"))
    device = resolve_device(args.device)
    settings = settings_from_args(args)
    if args.target is not None:
        target: Landscape | None = _load_target(args.target)
        box = target.box
        refuse_unnormalisable(compute_reference(target, box, resolution=128), target)
        data = training_data(settings, target)
    else:
        target = None
        points = load_points(args.data)
        if args.data_size is not None:
            if args.data_size > len(points):
                raise UserInputError(f"--data-size {args.data_size} exceeds the {len(points)} points in {args.data}")
            pick = torch.randperm(len(points), generator=make_generator(args.seed + 1, "cpu"))[: args.data_size]
            points = points[pick.numpy()]
        data = torch.as_tensor(points, dtype=torch.float64)
        box = data_box(points)
    check_output_file(out)  # never over the data or target file just read
    _check_resources(args, int(data.shape[0]), target, device)
    trainer = build_trainer(settings, target, resolution=args.grid_resolution, data=data, box=box, device=device,
                            group_lr=_group_lr(args))
    diagnostics, model = trainer.diagnostics, trainer.model
    with stop_on_signals() as stop:  # Ctrl-C / SIGTERM: stop at the next iteration and save what we have
        arrays, seconds = trainer.run(args.iterations, should_stop=stop)
    done = int(arrays["history_kl"].shape[0])
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
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings_to_mapping(settings).items()},
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
        if trainer.cross_fit_resamplings is not None:
            print(f"  log Z: cross-fitted estimate {m.log_z_est_xfit:.4f} ± {m.log_z_se_xfit:.4f} (held-out walkers); "
                  f"ESS/N {m.ess_fraction_xfit:.3f}, {trainer.cross_fit_resamplings} resampling(s)")
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
