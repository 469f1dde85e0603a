"""Crossing barriers for the same budget: plain MALA vs parallel tempering vs SMC on three wells of
masses 0.2 / 0.3 / 0.5 separated by barriers of about 10 (the landscape of the tempering tests).

Each method gets the same number of gradient evaluations (walkers x steps, all replicas counted). The
table gives wall time, the largest mode-mass error in standard errors (binomial with N chains for MALA
and PT, island standard error for SMC), PT's swap rates and round trips, and SMC's log Z error over its
reported standard error. Prints a markdown table and writes a JSON record.

    python bench/bench_tempering.py --threads 1 --json bench/results/tempering_cpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import datetime, timezone

import numpy as np
import torch

from ebm_explorer import __version__
from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.landscapes import GaussianMixture
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.samplers import SAMPLERS, SamplerParams, initial_positions, run_chain
from ebm_explorer.core.tempering import PTConfig, SMCConfig, geometric_ladder, run_parallel_tempering, run_smc, smc_mode_masses

STEP = 0.3


def three_wells() -> GaussianMixture:
    return GaussianMixture([0.2, 0.3, 0.5], [[-4.5, -2.6], [4.5, -2.6], [0.0, 5.2]], stds=1.0)


def _worst_z(masses: np.ndarray, se: np.ndarray, exact: np.ndarray) -> float:
    return float(np.max(np.abs(masses - exact) / se))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", type=int, default=2000, help="MALA walkers = PT chains")
    ap.add_argument("--replicas", type=int, default=5)
    ap.add_argument("--steps", type=int, default=1000, help="PT steps; MALA gets replicas x steps")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    land = three_wells()
    ref = compute_reference(land, land.box)
    exact = ref.mode_weights
    budget = args.chains * args.replicas * args.steps  # gradient evaluations
    params = SamplerParams(step_size=STEP)
    rows = []

    gen = make_generator(0, device)
    x0 = initial_positions("uniform", args.chains, land.box, gen, device, torch.float32)
    t0 = time.perf_counter()
    chain = run_chain(SAMPLERS["mala"], land, x0, params, args.replicas * args.steps, gen)
    elapsed = time.perf_counter() - t0
    m = ref.mode_weights_of(chain.state.position.cpu().numpy())
    rows.append(dict(method="MALA", seconds=elapsed, masses=m.tolist(),
                     worst_z=_worst_z(m, np.sqrt(exact * (1 - exact) / args.chains), exact)))

    gen = make_generator(0, device)
    x0 = initial_positions("uniform", args.chains, land.box, gen, device, torch.float32)
    cfg = PTConfig(tuple(geometric_ladder(args.replicas, 0.1)), kernel="mala", params=params)
    t0 = time.perf_counter()
    pt = run_parallel_tempering(land, land.box, x0, cfg, args.steps, gen)
    elapsed = time.perf_counter() - t0
    m = ref.mode_weights_of(pt.positions[0])
    rows.append(dict(method=f"PT, {args.replicas} replicas", seconds=elapsed, masses=m.tolist(),
                     worst_z=_worst_z(m, np.sqrt(exact * (1 - exact) / args.chains), exact),
                     swap_acceptance=pt.swap_acceptance.tolist(), round_trips_per_chain=pt.round_trips / args.chains))

    # SMC with the same budget: walkers x levels x (moves + 1 evaluation per level)
    moves = 5
    probe = run_smc(land, land.box, 2000, SMCConfig(kernel="mala", params=params, moves=moves), make_generator(1, device),
                    device=device)
    levels = len(probe.betas) - 1
    n_smc = max(32, budget // (levels * (moves + 1)) // 16 * 16)
    t0 = time.perf_counter()
    smc = run_smc(land, land.box, n_smc, SMCConfig(kernel="mala", params=params, moves=moves), make_generator(0, device),
                  device=device)
    elapsed = time.perf_counter() - t0
    mm = smc_mode_masses(smc, ref.basin_of(smc.positions), ref.n_modes)
    rows.append(dict(method=f"SMC, {n_smc} walkers", seconds=elapsed, masses=mm.masses.tolist(),
                     worst_z=_worst_z(mm.masses, mm.se_islands, exact), levels=len(smc.betas) - 1,
                     log_z=smc.log_z_estimate, log_z_stderr=smc.log_z_stderr, log_z_exact=ref.log_z,
                     log_z_z=(smc.log_z_estimate - ref.log_z) / smc.log_z_stderr))

    print(f"three wells, exact masses {np.round(exact, 4).tolist()}, budget {budget:.3g} gradient evaluations, "
          f"{torch.get_num_threads()} thread(s), {device}")
    print("| method | seconds | mode masses | worst error / SE | notes |")
    print("|---|---:|---|---:|---|")
    for r in rows:
        notes = ""
        if "swap_acceptance" in r:
            notes = (f"swap rates {', '.join(f'{a:.2f}' for a in r['swap_acceptance'])}; "
                     f"{r['round_trips_per_chain']:.1f} round trips per chain")
        if "log_z" in r:
            notes = (f"{r['levels']} levels; log Z {r['log_z']:.4f} ± {r['log_z_stderr']:.4f} "
                     f"(exact {r['log_z_exact']:.4f}, {r['log_z_z']:+.2f} SE)")
        print(f"| {r['method']} | {r['seconds']:.2f} | {' / '.join(f'{v:.3f}' for v in r['masses'])} | "
              f"{r['worst_z']:.1f} | {notes} |")
    if args.json:
        record = dict(version=__version__, date=datetime.now(timezone.utc).isoformat(), machine=platform.platform(),
                      threads=torch.get_num_threads(), device=str(device), budget=budget, exact=exact.tolist(), rows=rows)
        with open(args.json, "w") as fh:
            json.dump(record, fh, indent=1)


if __name__ == "__main__":
    main()
