"""``sample --sampler pt`` and ``sample --sampler smc``: crossing barriers, against the exact reference.

Kept apart from ``sample_cmd`` so that command's plain samplers stay as they are: ``sample`` adds the
arguments below and hands these two samplers over to :func:`run_tempered`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
import sys
import time

import numpy as np
import torch

from ebm_explorer import __version__
from ebm_explorer.cli.common import finite_float, ranged_int
from ebm_explorer.cli.interrupt import EXIT_INTERRUPTED, StopFlag, stop_on_signals
from ebm_explorer.core.atomic import save_npz_atomic
from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.mcmc_diagnostics import ess_bulk, split_rhat
from ebm_explorer.core.metrics import walker_metrics
from ebm_explorer.core.reference import GridReference, compute_reference
from ebm_explorer.core.run_settings import TemperedSettings
from ebm_explorer.core.samplers import SamplerParams, initial_positions
from ebm_explorer.core.tempering import (
    START_KINDS,
    SWAP_SCHEMES,
    TEMPERED_KERNELS,
    StartDistribution,
    exact_path_log_z,
    geometric_ladder,
    run_parallel_tempering,
    run_smc,
    smc_mode_masses,
)
from ebm_explorer.core.training.resampling import RESAMPLING_SCHEMES
from ebm_explorer.core.safe_io import printable

__all__ = ["TEMPERED_SAMPLERS", "STEPS_HELP", "add_tempered_args", "run_tempered"]

TEMPERED_SAMPLERS = ("pt", "smc")
STEPS_HELP = ("kernel steps per walker (default 500); pt: steps of every replica; "
              "smc does not use it (levels x --moves steps)")
#: beta = 1 chains whose energy trace feeds split R-hat / bulk ESS (as `sample` does)
TRACED_CHAINS = 64


def _fraction(text: str) -> float:
    value = finite_float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


def add_tempered_args(parser: argparse.ArgumentParser) -> None:
    """The options of ``--sampler pt`` and ``--sampler smc``."""
    g = parser.add_argument_group("parallel tempering and SMC (--sampler pt | smc)")
    g.add_argument("--kernel", choices=TEMPERED_KERNELS, default="mala",
                   help="moves inside each replica / level (default mala); --step-size and --leapfrog apply to it")
    g.add_argument("--replicas", type=ranged_int("replicas"), default=6, metavar="R",
                   help="pt: replicas on a geometric ladder from beta 1 to --beta-min (default 6)")
    g.add_argument("--beta-min", type=_fraction, default=0.1, metavar="B", help="pt: hottest beta (default 0.1)")
    g.add_argument("--betas", type=finite_float, nargs="+", metavar="BETA",
                   help="pt: the whole ladder instead, 1 first, strictly decreasing (overrides --replicas/--beta-min)")
    g.add_argument("--swap-every", type=ranged_int("swap_every"), default=1, metavar="K", help="pt: steps between swap rounds (default 1)")
    g.add_argument("--swap-scheme", choices=SWAP_SCHEMES, default="even-odd",
                   help="pt: neighbour pairs tried, alternating even/odd (default) or one random pair per round")
    sched = g.add_mutually_exclusive_group()
    sched.add_argument("--levels", type=ranged_int("levels"), metavar="K", help="smc: K equal levels from t = 0 to 1")
    sched.add_argument("--target-ess", type=_fraction, metavar="F",
                       help="smc: adaptive levels keeping the conditional ESS / N at F (default 0.95)")
    g.add_argument("--moves", type=ranged_int("moves"), default=5, metavar="M", help="smc: kernel steps per level (default 5)")
    g.add_argument("--start", choices=START_KINDS, default="gaussian",
                   help="smc: exact start density on the box (default gaussian; --init is not used)")
    g.add_argument("--resampling", choices=RESAMPLING_SCHEMES, default="systematic", help="smc (default systematic)")
    g.add_argument("--resample-threshold", type=_fraction, default=0.5, metavar="F",
                   help="smc: resample an island when its ESS / size falls below F (default 0.5)")
    g.add_argument("--islands", type=ranged_int("islands"), default=16, metavar="B",
                   help="smc: independent islands that give the standard error of log Z (default 16)")


def run_tempered(args: argparse.Namespace, land, init: tuple[str, tuple[float, float] | None], out) -> int:
    """Run PT or SMC for ``sample``; ``land`` is built, ``init`` parsed and ``out`` checked by the caller."""
    if args.compile:
        raise UserInputError("--compile applies to the plain samplers (mh, ula, mala, hmc), not to pt or smc")
    if args.sampler == "smc" and args.record_every is not None:
        raise UserInputError("--record-every applies to pt and the plain samplers, not to smc")
    device = resolve_device(args.device)
    params = SamplerParams(step_size=args.step_size, leapfrog_steps=args.leapfrog)
    ref = compute_reference(land, land.box, resolution=args.resolution)
    gen = make_generator(args.seed, device)
    meta = {
        "version": __version__, "command": "sample", "landscape": _spec_or_name(land), "sampler": args.sampler,
        "kernel": args.kernel, "walkers": args.walkers, "step_size": args.step_size, "leapfrog": args.leapfrog,
        "beta": args.beta, "seed": args.seed, "device": str(device), "resolution": args.resolution,
        "box": list(land.box.as_tuple()), "reference_warnings": ref.warnings,
    }
    if args.sampler == "pt":
        return _run_pt(args, land, ref, params, gen, device, init, out, meta)
    return _run_smc(args, land, ref, params, gen, device, out, meta)


def tempered_settings(args: argparse.Namespace) -> TemperedSettings:
    """The run's settings as the app's one type (what a scene's tempered run or the Tempering tab holds)."""
    return TemperedSettings(
        algorithm=args.sampler, kernel=args.kernel, step_size=args.step_size, leapfrog_steps=args.leapfrog,
        walkers=args.walkers, start=args.start, seed=args.seed, device=args.device, replicas=args.replicas,
        beta_min=args.beta_min, swap_every=args.swap_every, swap_scheme=args.swap_scheme, levels=args.levels or 0,
        target_ess=0.95 if args.target_ess is None else args.target_ess, moves=args.moves,
        resample_threshold=args.resample_threshold, resample_scheme=args.resampling, islands=args.islands)


def _spec_or_name(land) -> object:
    try:
        return land.spec()
    except NotImplementedError:
        return land.name


def _run_pt(args, land, ref: GridReference, params, gen, device, init, out, meta) -> int:
    betas = np.asarray(args.betas, dtype=np.float64) if args.betas else geometric_ladder(args.replicas, args.beta_min)
    cfg = replace(tempered_settings(args).pt_config(), betas=tuple(betas))  # an edited ladder replaces the geometric one
    n, r = args.walkers, len(betas)
    if args.record_every is not None and (args.steps // args.record_every + 1) * n > 5e8:
        raise UserInputError("trajectory would hold more than 5e8 points: raise --record-every or lower --walkers")
    kind, point = init
    b = land.box
    x0 = initial_positions(kind, r * n, b, gen, device, torch.float32, point=point).view(r, n, 2)
    if kind == "gaussian":  # a Gaussian start spills over the box edge; the walkers are confined to the box
        x0 = torch.stack([x0[..., 0].clamp(b.xmin, b.xmax), x0[..., 1].clamp(b.ymin, b.ymax)], dim=-1)
    n_traced = min(TRACED_CHAINS, n)
    traces: list[torch.Tensor] = []
    t0 = time.perf_counter()
    with stop_on_signals() as stop:  # Ctrl-C / SIGTERM: stop at the next step and save what we have
        res = run_parallel_tempering(
            land, land.box, x0, cfg, args.steps, gen, record_every=args.record_every, should_stop=stop,
            on_step=lambda k, state, info: traces.append(state.walkers.energy[:n_traced].clone()))
    elapsed = time.perf_counter() - t0
    pos, energy = res.positions[0], res.energies[0]
    metrics = walker_metrics(pos, energy, ref)
    trace = (torch.stack(traces).T.cpu().double().numpy()[:, res.steps_done // 2:] if traces
             else np.zeros((n_traced, 0)))
    rhat = split_rhat(trace) if trace.shape[1] >= 4 else float("nan")
    ess = ess_bulk(trace) if trace.shape[1] >= 4 else float("nan")
    meta.update(steps=args.steps, init=args.init, record_every=args.record_every, replicas=r, betas=betas.tolist(),
                swap_every=args.swap_every, swap_scheme=args.swap_scheme, elapsed_s=elapsed,
                steps_done=res.steps_done, interrupted=stop.name or None)
    if out is not None:
        arrays = dict(
            positions=pos, energies=energy, acceptance=res.acceptance[:, 0], mean_energy=res.mean_energy[:, 0],
            mode_weights=metrics.mode_weights, mode_weights_exact=ref.mode_weights, minima=ref.minima,
            mean_energy_exact=np.float64(ref.mean_energy), tv=np.float64(metrics.tv), kl=np.float64(metrics.kl),
            rhat_energy=np.float64(rhat), ess_energy=np.float64(ess), betas=res.betas,
            swap_acceptance=res.swap_acceptance, round_trips=np.int64(res.round_trips),
            replica_positions=res.positions, replica_acceptance=res.acceptance, meta=json.dumps(meta),
        )
        if res.trajectory is not None:
            arrays.update(trajectory=res.trajectory, trajectory_steps=res.trajectory_steps)
        save_npz_atomic(out, **arrays)
    if stop():
        return _interrupted(stop, f"{res.steps_done:,} of {args.steps:,} steps", out)

    print(f"PT ({args.kernel.upper()} in {r} replicas, beta {betas[0]:g} .. {betas[-1]:.3g}) on {land.name}: "
          f"{n} chains x {args.steps} steps, step size {args.step_size:g}, {elapsed:.2f} s")
    print("  replica  beta     acceptance   swap with next")
    half = res.acceptance[len(res.acceptance) // 2:]
    for i, beta in enumerate(res.betas):
        swap = f"{res.swap_acceptance[i]:.3f}" if i < r - 1 else ""
        print(f"  {i:>7}  {beta:<7.4f}  {half[:, i].mean() if len(half) else float('nan'):.3f}        {swap}")
    print(f"  round trips (cold -> hot -> cold)  {res.round_trips}  ({res.round_trips / n:.2f} per chain)")
    print(f"  beta = 1 replica: mean energy {metrics.mean_energy:.4f} ± {metrics.mean_energy_se:.4f}"
          f"   exact {metrics.mean_energy_exact:.4f};  energy R-hat / ESS {rhat:.3f} / {ess:.0f}")
    _print_modes(ref, metrics.mode_weights, metrics.mode_weights_se)
    _print_tail(ref, out)
    return 0


def _run_smc(args, land, ref: GridReference, params, gen, device, out, meta) -> int:
    cfg = tempered_settings(args).smc_config()
    t0 = time.perf_counter()
    with stop_on_signals() as stop:  # Ctrl-C / SIGTERM: stop before the next level and save what we have
        res = run_smc(land, land.box, args.walkers, cfg, gen, device=device, should_stop=stop)
    elapsed = time.perf_counter() - t0
    masses = smc_mode_masses(res, ref.basin_of(res.positions), ref.n_modes)
    exact_t = exact_path_log_z(ref.energy, ref.xs, ref.ys, StartDistribution(args.start, land.box), res.betas)
    meta.update(levels=args.levels, target_ess=cfg.target_ess if args.levels is None else None, moves=args.moves,
                start=args.start, resampling=args.resampling, resample_threshold=args.resample_threshold,
                islands=args.islands, elapsed_s=elapsed, levels_done=len(res.betas) - 1,
                t_reached=float(res.betas[-1]), interrupted=stop.name or None)
    if out is not None:
        save_npz_atomic(
            out, positions=res.positions, energies=res.energies, log_weights=res.log_weights,
            log_z_estimate=np.float64(res.log_z_estimate), log_z_stderr=np.float64(res.log_z_stderr),
            log_z_exact=np.float64(ref.log_z), log_z_start=np.float64(res.log_z_start), betas=res.betas,
            ess_history=res.ess_history, log_z_history=res.log_z_history, log_z_exact_history=exact_t[1:],
            resampled=res.resampled, acceptance=res.acceptance, island_log_z=res.island_log_z,
            mode_weights=masses.masses, mode_weights_se=masses.se_islands, mode_weights_se_ess=masses.se_ess,
            mode_weights_exact=ref.mode_weights, minima=ref.minima, ess=np.float64(masses.ess), meta=json.dumps(meta),
        )
    if stop():  # the walkers, weights and log Z are those of U_t at the t reached (meta t_reached)
        return _interrupted(stop, f"{len(res.betas) - 1:,} levels (t = {res.betas[-1]:.4g} of 1)", out)
    k = len(res.betas) - 1
    how = f"{args.levels} fixed levels" if args.levels is not None else f"{k} adaptive levels (target ESS {cfg.target_ess:g})"
    print(f"SMC ({args.kernel.upper()} x {args.moves} moves per level, {args.start} start) on {land.name}: "
          f"{args.walkers} walkers in {args.islands} islands, {how}, {elapsed:.2f} s")
    print(f"  resamplings (island-levels)        {int(res.resampled.sum())}   min ESS/N {res.ess_history.min():.3f}"
          f"   mean acceptance {res.acceptance.mean():.3f}")
    err = res.log_z_estimate - ref.log_z
    print(f"  log Z                              {res.log_z_estimate:.5f} ± {res.log_z_stderr:.5f}"
          f"   exact {ref.log_z:.5f}   (error {err / res.log_z_stderr:+.2f} SE)")
    print(f"  final ESS                          {masses.ess:.0f} of {args.walkers}")
    _print_modes(ref, masses.masses, masses.se_islands)
    _print_tail(ref, out)
    return 0


def _interrupted(stop: StopFlag, progress: str, out) -> int:
    """Say that a signal ended the run, how far it got and where the partial result went; exit 130."""
    where = f"wrote the results so far to {printable(out)}" if out is not None else "nothing written (no --out)"
    print(f"interrupted by {stop.name} after {progress}: {where}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _print_modes(ref: GridReference, weights: np.ndarray, se: np.ndarray) -> None:
    print("  mode   minimum              walkers           exact")
    for i, (m, w, s, we) in enumerate(zip(ref.minima, weights, se, ref.mode_weights)):
        print(f"  {i:>4}   ({m[0]:6.2f}, {m[1]:6.2f})   {w:.4f} ± {s:.4f}   {we:.4f}")


def _print_tail(ref: GridReference, out) -> None:
    for w in ref.warnings:
        print(f"  WARNING: {w}")
    if out is not None:
        print(f"  wrote {printable(out)}")
