"""How cost grows: seconds per walker-step against the number of walkers, and the exact grid
reference against its resolution. Prints markdown tables (for the README) and writes a JSON record.

Walkers: ULA (eager and fused by ``torch.compile``; compile time not counted) and MALA on the
8-Gaussian mixture and ULA on the double well (fast analytic gradients), beside the naive eager-autograd ULA baseline of ``bench_samplers.py``, for N = 1e3 ... 1e7 (float32;
each size is skipped, and the skip printed, when one step would take longer than ``--max-step-s``
as extrapolated from the previous size). Grid: ``compute_reference`` on the 8-Gaussian mixture and
on Mueller-Brown for R = 64 ... 2048 (R^2 energy evaluations plus the watershed).

    python bench/bench_scaling.py --threads 1 --json scaling.json
    python bench/bench_scaling.py --sizes 1e3 1e4 --resolutions 64 128 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from datetime import datetime, timezone
from typing import Callable

import torch

from bench_samplers import STEP_SIZE, baseline_ula, sync, timed
from ebm_explorer import __version__
from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.samplers import SAMPLERS, SamplerParams, compiled_sampler, initial_positions

#: (column label, landscape, sampler); "baseline" is the naive eager-autograd ULA, "+compile" the fused step
WALKER_CASES = (
    ("baseline ULA, 8 Gaussians", "eight_gaussians", "baseline"),
    ("ULA, 8 Gaussians", "eight_gaussians", "ula"),
    ("ULA --compile, 8 Gaussians", "eight_gaussians", "ula+compile"),
    ("MALA, 8 Gaussians", "eight_gaussians", "mala"),
    ("ULA, double well", "double_well", "ula"),
)
GRID_LANDSCAPES = ("eight_gaussians", "mueller_brown")


def walker_step(label_case: tuple[str, str, str], n: int, device: torch.device, dtype: torch.dtype) -> Callable[[], None]:
    """A closure doing one step of the case on ``n`` walkers (state kept inside)."""
    _, name, sampler_name = label_case
    land = make_landscape(name)
    gen = torch.Generator(device=device).manual_seed(0)
    x0 = initial_positions("gaussian", n, land.box, gen, device, dtype)
    if sampler_name == "baseline":
        step = baseline_ula(land, device, dtype, STEP_SIZE["ula"])
        box = {"x": x0}

        def run_base() -> None:
            box["x"] = step(gen, box["x"])

        return run_base
    base_name, _, fused = sampler_name.partition("+")
    sampler = compiled_sampler(SAMPLERS[base_name]) if fused else SAMPLERS[base_name]
    params = SamplerParams(step_size=STEP_SIZE[base_name])
    holder = {"s": sampler.init(x0, land)}

    def run() -> None:
        holder["s"] = sampler.step(gen, holder["s"], land, params)[0]

    return run


def walker_scaling(sizes: list[int], device: torch.device, dtype: torch.dtype, rounds: int, max_step_s: float) -> list[dict]:
    rows = []
    for case in WALKER_CASES:
        last: tuple[int, float] | None = None  # (n, seconds per step) of the previous size
        for n in sizes:
            if last is not None and last[1] * n / last[0] > max_step_s:
                rows.append(dict(case=case[0], n=n, skipped=f"one step would take ~{last[1] * n / last[0]:.1f} s"))
                continue
            steps = int(min(20, max(2, 2e6 // n)))
            secs = timed(device, walker_step(case, n, device, dtype), steps, rounds) / steps
            last = (n, secs)
            rows.append(dict(case=case[0], n=n, steps=steps, seconds_per_step=secs, ns_per_walker_step=1e9 * secs / n))
    return rows


def grid_scaling(resolutions: list[int], device: torch.device, rounds: int) -> list[dict]:
    rows = []
    for name in GRID_LANDSCAPES:
        land = make_landscape(name)
        for r in resolutions:
            best = math.inf
            for _ in range(rounds):
                sync(device)
                start = time.perf_counter()
                compute_reference(land, land.box, resolution=r, device=device)
                sync(device)
                best = min(best, time.perf_counter() - start)
            rows.append(dict(landscape=name, resolution=r, seconds=best, ns_per_cell=1e9 * best / r**2))
    return rows


def markdown(walker_rows: list[dict], grid_rows: list[dict], sizes: list[int], resolutions: list[int]) -> str:
    cell = {(r["case"], r["n"]): r for r in walker_rows}
    labels = [c[0] for c in WALKER_CASES]
    lines = ["ns per walker-step (best of rounds)", "", "| walkers | " + " | ".join(labels) + " |",
             "|---:|" + "---:|" * len(labels)]
    for n in sizes:
        vals = []
        for lab in labels:
            r = cell.get((lab, n))
            vals.append("skipped" if r is None or "skipped" in r else f"{r['ns_per_walker_step']:.0f}")
        lines.append(f"| {n:.0e} | " + " | ".join(vals) + " |")
    gcell = {(r["landscape"], r["resolution"]): r for r in grid_rows}
    lines += ["", "grid reference (compute_reference), seconds", "",
              "| resolution | " + " | ".join(GRID_LANDSCAPES) + " | ns per cell (" + GRID_LANDSCAPES[0] + ") |",
              "|---:|" + "---:|" * (len(GRID_LANDSCAPES) + 1)]
    for res in resolutions:
        vals = [f"{gcell[(g, res)]['seconds']:.3f}" for g in GRID_LANDSCAPES]
        lines.append(f"| {res} | " + " | ".join(vals) + f" | {gcell[(GRID_LANDSCAPES[0], res)]['ns_per_cell']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e3, 1e4, 1e5, 1e6, 1e7], help="walker counts N")
    ap.add_argument("--resolutions", type=int, nargs="+", default=[64, 128, 256, 512, 1024, 2048])
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--rounds", type=int, default=3, help="timing rounds per point; the best is kept")
    ap.add_argument("--max-step-s", type=float, default=5.0, help="skip sizes whose step would take longer")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        ap.error("cuda requested but not available")
    sizes = [int(s) for s in args.sizes]
    walker_rows = walker_scaling(sizes, device, getattr(torch, args.dtype), args.rounds, args.max_step_s)
    for r in walker_rows:
        if "skipped" in r:
            print(f"skipped: {r['case']} at N = {r['n']:.0e} ({r['skipped']})", flush=True)
    grid_rows = grid_scaling(args.resolutions, device, args.rounds)
    print(markdown(walker_rows, grid_rows, sizes, args.resolutions))
    if args.json:
        meta = dict(
            version=__version__, torch=torch.__version__, dtype=args.dtype, threads=torch.get_num_threads(),
            rounds=args.rounds, device=str(device), cpu=platform.processor() or platform.machine(),
            python=platform.python_version(), cuda=torch.cuda.get_device_name(0) if device.type == "cuda" else None,
            date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        with open(args.json, "w") as fh:
            json.dump(dict(meta=meta, walkers=walker_rows, grid=grid_rows), fh, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
