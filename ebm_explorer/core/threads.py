"""How many intra-op torch threads a computation uses: one rule for the app's runs and headless commands.

Chosen, not inherited (:func:`choose_threads`): whether a second core helps depends on the job's size
and on what else the machine runs right now, so a short probe of the work a step does at the job's
size (exponentials, products and reductions over the walkers) is timed at one thread and at every
core, alternately, and the faster count wins. ``--threads`` (commands) overrides it.

Measured (bench/bench_threads.py, bench/results/threads_cpu.json) on 2 cores loaded by other work
(load average 11-19): torch's default of one thread per core made typical ``sample`` and ``train``
jobs 2.1-6.4x slower than one thread (a ``reference`` at 1024^2 1.2x), because every parallel op waits
for a thread that another process has descheduled. 16-core machines were not available to measure.
The rule: every core but one, which is left to the UI thread in the app and to the rest of the
machine (and the Python thread feeding torch) in a headless command. On 1 or 2 cores that is one thread.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from dataclasses import dataclass

__all__ = ["available_cores", "compute_threads", "set_compute_threads", "choose_threads", "ThreadChoice",
           "last_choice"]


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


@dataclass(frozen=True)
class ThreadChoice:
    """The outcome of one probe: the chosen count and each candidate's median probe time (seconds)."""

    threads: int
    size: int
    seconds: dict[int, float]
    load: float  # 1-minute load average when measured (NaN where the OS does not say)


_choices: dict[int, ThreadChoice] = {}
_last: list[ThreadChoice] = []


def last_choice() -> ThreadChoice | None:
    """The most recent :func:`choose_threads` outcome of this process (None before any)."""
    return _last[-1] if _last else None


def _size_bucket(size: int) -> int:
    """Jobs within a factor ~3 of each other share a decision (a power of sqrt(10))."""
    return int(round(2 * math.log10(max(size, 1))))


def _probe(x, y):  # noqa: ANN001 - torch tensors
    """A step's kind of work at the job's size: an exponential, products and a reduction."""
    import torch

    e = torch.exp(-0.5 * (x * x + y * y))
    return float((e * x).sum() + (e * y).sum())


def choose_threads(size: int, rounds: int = 3, set_it: bool = True) -> int:
    """Thread count for a job over ``size`` walkers (or grid points): one thread against every core,
    each timed up to ``rounds`` times alternately on a probe of that size (capped at 2e5 points)
    repeated over 30-150 parallel regions per timing, as a run's many steps are. Every core is chosen
    only when it wins every round and its median is under 0.8x one thread's: on a busy machine a
    short lucky burst must not commit a long job to threads that then wait for each other (measured:
    a 1e5-walker MALA run 6x slower at 2 threads than at 1 on 2 cores at load 10). Decisions are
    remembered per size bucket for this process. With one core there is nothing to measure."""
    import torch

    cores = available_cores()
    bucket = _size_bucket(size)
    if cores == 1:
        choice = ThreadChoice(1, size, {}, _load())
    elif bucket in _choices:
        choice = _choices[bucket]
    else:
        n = int(min(max(size, 1000), 200_000))
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(n, generator=gen)
        y = torch.randn(n, generator=gen)
        before = torch.get_num_threads()
        times: dict[int, list[float]] = {1: [], cores: []}
        reps = max(10, min(50, int(1e6 // n)))  # 3 ops a probe: 30-150 parallel regions a timing
        try:
            for _ in range(rounds):
                for t in (1, cores):
                    torch.set_num_threads(t)
                    _probe(x, y)  # the pool's threads wake up
                    # every core stops as soon as it has taken longer than one thread did: on a busy
                    # machine each of its parallel regions can wait a time slice for a descheduled thread
                    limit = math.inf if t == 1 else times[1][-1]
                    start = time.perf_counter()
                    for _ in range(reps):
                        _probe(x, y)
                        if time.perf_counter() - start > limit:
                            break
                    times[t].append(time.perf_counter() - start)
                if times[cores][-1] >= times[1][-1]:
                    break  # every core lost a round: one thread, no need to measure on
        finally:
            torch.set_num_threads(before)
        med = {t: statistics.median(v) for t, v in times.items()}
        wins_always = all(m < o for m, o in zip(times[cores], times[1]))
        best = cores if wins_always and med[cores] < 0.8 * med[1] else 1
        choice = ThreadChoice(best, size, med, _load())
        _choices[bucket] = choice
    _last.append(choice)
    del _last[:-1]
    if set_it:
        torch.set_num_threads(choice.threads)
    return choice.threads


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return math.nan
