"""Wall time of typical headless jobs at several torch thread counts and with the measured default.

Thread count 0 in the rows is the default: no ``--threads``, the command measures one thread against
every core on a probe of the job's size and picks (``core.threads.choose_threads``); the summary puts
it beside the fastest fixed count of the same job, run alternately in the same session.

Each job runs as its own ``ebm-explorer`` process (``--threads T``), so OpenMP's pool starts as it
does for a user; the 1-minute load average is recorded before each run, because on a shared machine
the answer depends on what else runs (say so when quoting the numbers).

    python bench/bench_threads.py [--threads 1 2 ...] [--repeats 1] [--quick] [--out bench/results/threads_cpu.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ebm_explorer.core.threads import available_cores

#: name -> command-line arguments after ``ebm-explorer`` (``--out`` added); sizes a user typically runs
JOBS = {
    "sample ula 1e4 x 500": ["sample", "--landscape", "gmm", "--sampler", "ula", "--walkers", "10000", "--steps", "500",
                              "--step-size", "0.05"],
    "sample mala 1e5 x 100": ["sample", "--landscape", "eight_gaussians", "--sampler", "mala", "--walkers", "100000",
                               "--steps", "100", "--step-size", "0.05"],
    "sample hmc 1e6 x 10": ["sample", "--landscape", "gmm", "--sampler", "hmc", "--walkers", "1000000", "--steps", "10",
                             "--step-size", "0.1", "--leapfrog", "5"],
    "train jarzynski 1e3 x 500": ["train", "--target", "gmm", "--model", "gmm", "--method", "jarzynski",
                                   "--walkers", "1000", "--iterations", "500", "--grid-resolution", "64"],
    "train jarzynski 1e4 x 200": ["train", "--target", "gmm", "--model", "gmm", "--method", "jarzynski",
                                   "--walkers", "10000", "--iterations", "200", "--grid-resolution", "64"],
    "reference 1024": ["reference", "--landscape", "mueller_brown", "--resolution", "1024"],
}
QUICK = ("sample ula 1e4 x 500", "sample mala 1e5 x 100", "train jarzynski 1e3 x 500")


def run_job(args: list[str], threads: int, workdir: Path) -> float:
    out = workdir / "out.npz"
    flag = ["--threads", str(threads)] if threads else []  # 0: the measured default
    cmd = [sys.executable, "-m", "ebm_explorer", *args, *flag, "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    return time.perf_counter() - start


def main() -> None:
    cores = available_cores()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+",
                    default=[0] + sorted({1, 2, 4, 8, max(1, cores - 1), cores} & set(range(1, cores + 1))),
                    help="thread counts to run (0: the measured default)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="only " + ", ".join(QUICK))
    ap.add_argument("--out", default="bench/results/threads_cpu.json")
    args = ap.parse_args()
    jobs = {k: v for k, v in JOBS.items() if not args.quick or k in QUICK}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, job in jobs.items():
            for _ in range(args.repeats):  # the thread counts alternate
                for t in args.threads:
                    load = os.getloadavg()[0]
                    seconds = run_job(job, t, Path(tmp))
                    rows.append({"job": name, "threads": t, "seconds": seconds, "load_1min_before": load})
                    print(f"{name:28s} threads {t or 'auto':>4}: {seconds:7.2f} s   (load {load:.1f} on {cores} cores)",
                          flush=True)
    best = {}
    for name in jobs:
        sel = [r for r in rows if r["job"] == name]
        fixed = [r for r in sel if r["threads"] > 0]
        fastest = min(fixed, key=lambda r: r["seconds"]) if fixed else None
        default = min((r for r in sel if r["threads"] == 0), key=lambda r: r["seconds"], default=None)
        best[name] = {"fastest_threads": fastest["threads"] if fastest else None,
                      "fastest_s": fastest["seconds"] if fastest else None,
                      "measured_default_s": default["seconds"] if default else None}
        if fastest and default:
            print(f"{name:28s} fastest fixed count {fastest['threads']} thread(s) {fastest['seconds']:.2f} s; "
                  f"measured default {default['seconds']:.2f} s (x{default['seconds'] / fastest['seconds']:.2f} of it)")
    record = {"cores": cores, "machine": platform.processor() or platform.machine(), "python": sys.version.split()[0],
              "note": "wall times of whole processes; the load average says how busy the machine was",
              "rows": rows, "summary": best}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
