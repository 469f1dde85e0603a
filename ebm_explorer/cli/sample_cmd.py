"""``ebm-explorer sample``: run walkers on a landscape and compare them with the exact grid reference."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ebm_explorer import __version__
from ebm_explorer.cli.common import (
    DEFAULT_LANDSCAPE,
    add_device_seed_args,
    add_landscape_args,
    finite_float,
    landscape_from_args,
    ranged_float,
    ranged_int,
    refuse_unnormalisable,
    require_suffix,
)
from ebm_explorer.cli.sample_tempered import STEPS_HELP, TEMPERED_SAMPLERS, add_tempered_args, run_tempered
from ebm_explorer.cli.interrupt import EXIT_INTERRUPTED, stop_on_signals
from ebm_explorer.cli.outputs import check_output_file
from ebm_explorer.core.atomic import save_npz_atomic
from ebm_explorer.core.limits import RANGES
from ebm_explorer.core.resources import check_memory, check_walker_memory
from ebm_explorer.core.safe_io import printable
from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.mcmc_diagnostics import ess_bulk, split_rhat
from ebm_explorer.core.metrics import walker_metrics
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.run_settings import SampleSettings
from ebm_explorer.core.samplers import SAMPLERS, get_sampler, initial_positions, run_chain

#: walkers whose energy trace feeds split R-hat / bulk ESS (a subset keeps it cheap for 1e6 walkers)
TRACED_CHAINS = 64
#: the one set of defaults (scene files and the sampler panel start from the same); the command keeps its
#: own documented start (10,000 walkers, uniform in the box) for a quick look at the whole box
D = SampleSettings()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="run walkers and print how close they get to the exact density",
                       description="Run walkers on a landscape, then print how close they are to the exact "
                                   "density computed on a grid (energy, histogram TV/KL, R-hat, mode weights) "
                                   "and save everything to an .npz file.")
    add_landscape_args(p)
    p.add_argument("--sampler", choices=[*sorted(SAMPLERS), *TEMPERED_SAMPLERS], default=D.sampler,
                   help="mh (random-walk Metropolis-Hastings), ula (unadjusted Langevin, biased by the step), "
                        "mala (Langevin + accept/reject), hmc (Hamiltonian Monte Carlo), pt (parallel "
                        "tempering) or smc (annealed importance sampling / SMC) (default mala)")
    p.add_argument("--walkers", type=ranged_int("walkers"), default=10_000, metavar="N",
                   help="independent walkers run side by side (default 10000)")
    p.add_argument("--steps", type=ranged_int("steps"), default=500, metavar="K", help=STEPS_HELP)
    p.add_argument("--step-size", type=ranged_float("step_size"), default=D.step_size, metavar="H",
                   help="proposal scale (mh), Langevin step h (ula, mala) or leapfrog step (hmc) (default 0.1); "
                        "lower it when the acceptance collapses")
    p.add_argument("--leapfrog", type=ranged_int("leapfrog_steps"), default=D.leapfrog_steps, metavar="L",
                   help=f"hmc: leapfrog steps (default {D.leapfrog_steps})")
    p.add_argument("--init", default="uniform",
                   help="start: uniform over the box, gaussian, or a point x,y such as -1,0.5 (default uniform)")
    p.add_argument("--record-every", type=ranged_int("record_every"), default=None, metavar="M",
                   help="also store all positions every M steps as `trajectory` (T, N, 2) (default: off)")
    p.add_argument("--resolution", type=ranged_int("resolution"), default=256, metavar="R",
                   help="grid of the exact reference, R x R cells (default 256)")
    p.add_argument("--compile", action="store_true",
                   help="fuse each step with torch.compile: the first step compiles (15 s or more on a "
                        "2-core CPU), later steps run 2-6x faster on CPU, same random draws; pays off for "
                        "long runs only (default: off)")
    add_tempered_args(p)
    add_device_seed_args(p)
    p.add_argument("--out", metavar="FILE.npz",
                   help="where to save the walkers and the summary (default: sample_<landscape>_<sampler>"
                        "_seed<S>.npz in the current folder; the summary names the file)")
    p.set_defaults(func=run)


def parse_init(text: str) -> tuple[str, tuple[float, float] | None]:
    """``gaussian`` / ``uniform`` / ``x,y`` -> (kind, point)."""
    if text in ("gaussian", "uniform"):
        return text, None
    parts = text.split(",")
    if len(parts) == 2:
        try:
            return "point", (finite_float(parts[0]), finite_float(parts[1]))
        except argparse.ArgumentTypeError:
            pass
    raise UserInputError(f"--init must be gaussian, uniform or a point x,y; got {text!r}")


def default_out(args: argparse.Namespace) -> Path:
    """``sample_<landscape>_<sampler>_seed<S>.npz``: a file named after the run, in the current folder."""
    if args.formula is not None:
        name = "formula"
    else:
        name = Path(args.landscape or DEFAULT_LANDSCAPE).stem
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "landscape"
    return Path(f"sample_{name}_{args.sampler}_seed{args.seed}.npz")


def _check_resources(args: argparse.Namespace, land, device: torch.device) -> None:  # noqa: ANN001
    """Walkers (with the landscape's real per-walker cost), the per-step records and the trajectory must
    fit in memory: refused before anything is allocated, with what to change."""
    if args.sampler == "pt" and args.betas and len(args.betas) > RANGES["replicas"][1]:
        raise UserInputError(f"--betas: at most {RANGES['replicas'][1]} replicas, got {len(args.betas):,}")
    copies = len(args.betas) if args.sampler == "pt" and args.betas else args.replicas if args.sampler == "pt" else 1
    check_walker_memory(args.walkers * copies, device, torch.float32, landscape=land)
    per_step = min(TRACED_CHAINS, args.walkers) * 4 + 3 * 8  # energy traces + acceptance/mean energy/count
    check_memory(args.steps * per_step, f"{args.steps:,} steps of records", "lower --steps", device)
    if args.record_every is not None:
        frames = args.steps // args.record_every + 1
        if frames * args.walkers > 5e8:
            raise UserInputError("trajectory would hold more than 5e8 points: raise --record-every or lower --walkers")
        check_memory(frames * args.walkers * 2 * 4, f"a trajectory of {frames:,} frames x {args.walkers:,} walkers",
                     "raise --record-every or lower --walkers", "cpu")
    check_memory(args.resolution ** 2 * 8 * 8, f"a {args.resolution}^2 reference grid", "lower --resolution", "cpu")


def run(args: argparse.Namespace) -> int:
    out = require_suffix(args.out, ".npz", "--out") if args.out else default_out(args)
    check_output_file(out)  # a directory, a file on the way, a read-only folder: before any work
    device = resolve_device(args.device)
    land = landscape_from_args(args)
    check_output_file(out)  # now also against the files just read (a landscape TOML)
    init_kind, point = parse_init(args.init)
    _check_resources(args, land, device)
    ref = compute_reference(land, land.box, resolution=args.resolution)
    refuse_unnormalisable(ref, land)
    if args.sampler in TEMPERED_SAMPLERS:
        return run_tempered(args, land, (init_kind, point), out)
    sampler = get_sampler(args.sampler)
    settings = SampleSettings(sampler=args.sampler, step_size=args.step_size, leapfrog_steps=args.leapfrog,
                              walkers=args.walkers, init=init_kind, init_point=point or (0.0, 0.0), seed=args.seed,
                              device=args.device)
    params = settings.kernel_params()
    gen = make_generator(args.seed, device)
    x0 = initial_positions(init_kind, args.walkers, land.box, gen, device, torch.float32, point=point)

    n_traced = min(TRACED_CHAINS, args.walkers)
    traces: list[torch.Tensor] = []
    t0 = time.perf_counter()
    with stop_on_signals() as stop:
        result = run_chain(sampler, land, x0, params, args.steps, gen, record_every=args.record_every,
                           on_step=lambda k, state, info: traces.append(state.energy[:n_traced].clone()),
                           compile=args.compile, should_stop=stop)
    elapsed = time.perf_counter() - t0
    steps_done = args.steps if result.steps_done is None else result.steps_done

    pos = result.state.position.cpu().numpy()
    energy = result.state.energy.cpu().numpy()
    metrics = walker_metrics(pos, energy, ref)
    trace = (torch.stack(traces).T.cpu().double().numpy()[:, steps_done // 2:] if traces
             else np.zeros((n_traced, 0)))  # (chains, second half)
    rhat = split_rhat(trace) if trace.shape[1] >= 4 else float("nan")
    ess = ess_bulk(trace) if trace.shape[1] >= 4 else float("nan")

    meta = {
        "version": __version__, "command": "sample", "landscape": _spec_or_name(land),
        "sampler": args.sampler, "walkers": args.walkers, "steps": args.steps, "step_size": args.step_size,
        "leapfrog": args.leapfrog, "beta": args.beta, "init": args.init, "seed": args.seed,
        "device": str(device), "record_every": args.record_every, "resolution": args.resolution,
        "box": list(land.box.as_tuple()), "elapsed_s": elapsed, "reference_warnings": ref.warnings,
        "nonfinite_walkers": result.nonfinite_walkers, "compile": args.compile,
        "compile_fallback": result.compile_fallback, "steps_done": steps_done,
        "interrupted": stop.name or None,
    }
    arrays = dict(
        positions=pos, energies=energy, acceptance=result.acceptance, mean_energy=result.mean_energy,
        mode_weights=metrics.mode_weights, mode_weights_exact=ref.mode_weights, minima=ref.minima,
        mean_energy_exact=np.float64(ref.mean_energy), tv=np.float64(metrics.tv), kl=np.float64(metrics.kl),
        rhat_energy=np.float64(rhat), ess_energy=np.float64(ess), meta=json.dumps(meta),
    )
    if result.trajectory is not None:
        arrays.update(trajectory=result.trajectory, trajectory_steps=result.trajectory_steps)
    save_npz_atomic(out, **arrays)
    if stop():
        print(f"interrupted by {stop.name} after {steps_done:,} of {args.steps:,} steps: wrote the results so "
              f"far to {printable(out)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    _print_summary(args, land, ref, result, metrics, rhat, ess, elapsed, out)
    return 0


def _spec_or_name(land) -> object:
    try:
        return land.spec()
    except NotImplementedError:
        return land.name


#: second-half acceptance below this: the walkers barely move (the step is far too large)
LOW_ACCEPTANCE = 0.05
#: split R-hat above this: the chains disagree (Vehtari et al. 2021 recommend 1.01 for final results)
HIGH_RHAT = 1.1


def step_size_hints(sampler: str, step_size: float, acceptance: float, rhat: float) -> list[str]:
    """What to change when the acceptance collapses or R-hat explodes (one line each)."""
    hints = []
    if sampler != "ula" and acceptance < LOW_ACCEPTANCE:
        hints.append(f"HINT: acceptance {acceptance:.3f}: almost every proposal is rejected and the walkers "
                     f"barely move; lower --step-size (try {step_size / 4:g})")
    if not math.isfinite(rhat) or rhat > HIGH_RHAT:
        if sampler != "ula" and acceptance < LOW_ACCEPTANCE:
            hints.append(f"HINT: R-hat {_fmt(rhat)} (above {HIGH_RHAT}): the chains are stuck where they started "
                         "(see the acceptance); lower --step-size")
        else:
            hints.append(f"HINT: R-hat {_fmt(rhat)} (above {HIGH_RHAT}): the chains have not mixed yet; "
                         "run more --steps, or tune --step-size")
    return hints


def _fmt(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) and abs(value) < 100 else f"{value:.2g}"


def _print_summary(args, land, ref, result, metrics, rhat, ess, elapsed, out) -> None:
    half = result.acceptance[len(result.acceptance) // 2:]
    rate = args.walkers * args.steps / max(elapsed, 1e-9)
    print(f"{args.sampler.upper()} on {land.name}: {args.walkers} walkers x {args.steps} steps, "
          f"step size {args.step_size:g}, {elapsed:.2f} s ({rate:.3g} walker-steps/s)")
    print(f"  acceptance (second half)   {half.mean():.3f}")
    print(f"  mean energy                {metrics.mean_energy:.4f} ± {metrics.mean_energy_se:.4f}"
          f"   exact {metrics.mean_energy_exact:.4f}")
    print(f"  histogram TV / KL          {metrics.tv:.4f} / {metrics.kl:.4f}"
          f"   (iid noise floor {metrics.tv_expected:.4f} / {metrics.kl_expected:.4f})")
    print(f"  energy trace R-hat / ESS   {_fmt(rhat)} / {ess:.0f}  ({min(TRACED_CHAINS, args.walkers)} chains, second half)")
    print(f"  exact log Z                {ref.log_z:.5f}")
    print("  mode   minimum              walkers           exact")
    for i, (m, w, se, we) in enumerate(zip(ref.minima, metrics.mode_weights, metrics.mode_weights_se,
                                            ref.mode_weights)):
        print(f"  {i:>4}   ({m[0]:6.2f}, {m[1]:6.2f})   {w:.4f} ± {se:.4f}   {we:.4f}")
    if metrics.outside_fraction > 0:
        print(f"  walkers outside the box    {metrics.outside_fraction:.4f}")
    if result.nonfinite_walkers:
        print(f"  WARNING: {result.nonfinite_walkers} walkers became NaN/inf (first at step "
              f"{result.first_nonfinite_step}); lower --step-size")
    for w in ref.warnings:
        print(f"  WARNING: {w}")
    for hint in step_size_hints(args.sampler, args.step_size, float(half.mean()), rhat):
        print(f"  {hint}")
    if result.compile_fallback:
        print(f"  NOTE: --compile fell back to uncompiled steps ({result.compile_fallback})")
    print(f"  wrote {printable(out)}")
