"""How many intra-op torch threads a computation uses: one rule for the app's runs and headless commands.

Measured (bench/bench_threads.py, results in bench/results/threads_*.json and docs/performance notes
of issue 18): on a busy 2-core machine torch's default (one thread per core) made ``train`` 15x and a
ULA ``sample`` 50x slower than one thread, because every parallel op waits for a thread that another
process has descheduled; on 16 idle cores extra threads pay off only for very large walker counts.
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
