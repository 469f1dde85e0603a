"""The mode-weight experiment (CD, PCD, Jarzynski; 10^4 walkers; 2-D GMM) against its baselines, in one process.

Figures, each beside its baseline measured in the same run:

* the fused step (``run_mode_weight_method``, what ``ebm-explorer experiment mode-weights`` runs: exact grid
  diagnostics every 10 iterations and at the last), all three methods at the full ``--iterations``
  (default 8000): wall seconds, against the 16 s target;
* iterations/s of that fused run against a line-by-line torch port of the authors' loop (GMM.py
  ``stat()``, ``bench_training.authors_loop``) and against the general trainer with diagnostics every
  iteration (the path the command took before), both timed over ``--baseline-iterations``;
* the whole command as a user runs it (a fresh process, ``--iterations`` of each method): wall seconds.

The machine is shared: the 1-minute load average is recorded before and after; quote it with the figures.

    python bench/bench_mode_weights.py [--iterations 8000] [--baseline-iterations 200] [--no-cli]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_training import METHODS, authors_loop  # noqa: E402

from ebm_explorer.core.training.experiment import ModeWeightSettings, run_mode_weight_method  # noqa: E402

TARGET_SECONDS = 16.0
TARGET_SPEEDUP = 10.0


def load() -> float:
    return os.getloadavg()[0]


def cli_seconds(iterations: int, walkers: int) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the child's) of one whole ``experiment mode-weights`` process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "ebm_explorer", "experiment", "mode-weights", "--iterations", str(iterations),
               "--walkers", str(walkers), "--out", tmp]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=8000)
    ap.add_argument("--walkers", type=int, default=10_000)
    ap.add_argument("--baseline-iterations", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="torch threads of this process (the command picks its own)")
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-process run of the command")
    ap.add_argument("--out", default="bench/results/mode_weights_cpu.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    full = ModeWeightSettings(iterations=args.iterations, walkers=args.walkers)
    short = ModeWeightSettings(iterations=args.baseline_iterations, walkers=args.walkers)
    record: dict = {"machine": f"{platform.machine()} {os.cpu_count()} cores", "torch": torch.__version__,
                    "threads": args.threads, "iterations": args.iterations, "walkers": args.walkers,
                    "baseline_iterations": args.baseline_iterations, "load_before": load(), "methods": {}}
    run_mode_weight_method("pcd", 0, ModeWeightSettings(iterations=3, walkers=100))  # imports, first-call costs
    fused_total = fused_cpu_total = 0.0
    for method in METHODS:
        cpu0 = time.process_time()
        port = authors_loop(METHODS[method], args.baseline_iterations + 1, args.walkers, torch.device("cpu"))
        port_cpu_rate = args.baseline_iterations / (time.process_time() - cpu0)
        cpu0 = time.process_time()
        eager = run_mode_weight_method(method, 0, short, fused=False)
        eager_cpu_rate = len(eager.first_mass) / (time.process_time() - cpu0)
        eager_rate = len(eager.first_mass) / eager.seconds
        cpu0 = time.process_time()
        fused = run_mode_weight_method(method, 0, full)
        fused_cpu = time.process_time() - cpu0
        fused_cpu_total += fused_cpu
        fused_rate = len(fused.first_mass) / fused.seconds
        fused_cpu_rate = len(fused.first_mass) / fused_cpu
        fused_total += fused.seconds
        row = {"port_it_s": port, "general_it_s": eager_rate, "fused_it_s": fused_rate,
               "fused_seconds": fused.seconds, "fused_cpu_seconds": fused_cpu, "speedup_vs_port": fused_rate / port,
               "speedup_vs_general": fused_rate / eager_rate, "final_first_mass": float(fused.first_mass[-1]),
               "final_kl": float(fused.history["history_kl"][-1]),
               # CPU time (one thread) is what load on a shared machine disturbs least: the fair ratio
               "port_cpu_it_s": port_cpu_rate, "general_cpu_it_s": eager_cpu_rate, "fused_cpu_it_s": fused_cpu_rate,
               "cpu_speedup_vs_port": fused_cpu_rate / port_cpu_rate,
               "cpu_speedup_vs_general": fused_cpu_rate / eager_cpu_rate}
        record["methods"][method] = row
        print(f"{method:9s}: fused {fused_rate:7.1f} it/s ({fused.seconds:5.1f} s for {args.iterations}) | "
              f"authors' loop port {port:6.1f} it/s -> x{fused_rate / port:5.1f} | "
              f"general trainer {eager_rate:6.1f} it/s -> x{fused_rate / eager_rate:4.1f} | "
              f"mass of the -10 mode {fused.first_mass[-1]:.4f}", flush=True)
        print(f"{'':9s}  per CPU second: fused {fused_cpu_rate:7.1f} it | port {port_cpu_rate:6.1f} -> "
              f"x{fused_cpu_rate / port_cpu_rate:5.1f} | general {eager_cpu_rate:6.1f} -> x{fused_cpu_rate / eager_cpu_rate:4.1f}",
              flush=True)
    record["fused_total_seconds"] = fused_total
    record["fused_total_cpu_seconds"] = fused_cpu_total
    slowest = min(r["cpu_speedup_vs_port"] for r in record["methods"].values())
    print(f"all three methods, fused: {fused_total:.1f} s wall, {fused_cpu_total:.1f} s CPU (one thread: the wall time of "
          f"an idle core; target < {TARGET_SECONDS:.0f} s); smallest speed-up over the port x{slowest:.1f} "
          f"per CPU second (target >= {TARGET_SPEEDUP:.0f})")
    if not args.no_cli:
        secs, cpu = cli_seconds(args.iterations, args.walkers)
        record["cli_seconds"], record["cli_cpu_seconds"] = secs, cpu
        print(f"whole command (fresh process, 3 methods x {args.iterations}): {secs:.1f} s wall, {cpu:.1f} s CPU")
    record["load_after"] = load()
    print(f"1-minute load average: {record['load_before']:.1f} before, {record['load_after']:.1f} after "
          f"({os.cpu_count()} cores)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
