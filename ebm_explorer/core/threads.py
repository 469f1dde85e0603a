"""How many intra-op torch threads a computation uses: one rule for the app's runs and headless commands.

Measured (bench/bench_threads.py, bench/results/threads_cpu.json) on 2 cores loaded by other work
(load average 11-19): torch's default of one thread per core made typical ``sample`` and ``train``
jobs 2.1-6.4x slower than one thread (a ``reference`` at 1024^2 1.2x), because every parallel op waits
for a thread that another process has descheduled. 16-core machines were not available to measure.
The rule: every core but one, which is left to the UI thread in the app and to the rest of the
machine (and the Python thread feeding torch) in a headless command. On 1 or 2 cores that is one thread.
"""

from __future__ import annotations

import os

__all__ = ["available_cores", "compute_threads", "set_compute_threads"]


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it, else the core count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def compute_threads() -> int:
    """Default intra-op thread count: every available core but one, at least one."""
    return max(1, available_cores() - 1)


def set_compute_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads to ``threads`` (default :func:`compute_threads`); returns the count."""
    import torch

    n = compute_threads() if threads is None else int(threads)
    torch.set_num_threads(n)
    return n
