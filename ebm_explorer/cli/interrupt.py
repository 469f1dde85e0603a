"""Ctrl-C (SIGINT) and SIGTERM stop a long command-line run cleanly: the loop ends at the next step,
the command writes what it has (atomically), says so, and exits with status 130.

The first signal only sets a flag that the loops poll (``should_stop=`` of ``run_chain``,
``Trainer.run``, parallel tempering, SMC, diffusion generation and the headless scene runner); a
second signal raises ``KeyboardInterrupt`` at once (nothing half written stays: every write is atomic).
A computation with no partial result worth saving (``reference``'s grid) uses
:func:`interrupt_at_once` instead: the first signal raises :class:`Interrupted` where it runs.

A supervisor (a script, the test suite) that wants to signal a run only once it can stop cleanly sets
``EBM_EXPLORER_READY_FILE`` to a path: the file is created as soon as the handlers are in place.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["StopFlag", "stop_on_signals", "Interrupted", "interrupt_at_once", "EXIT_INTERRUPTED", "READY_FILE_ENV"]

#: the shell's convention for a run ended by SIGINT
EXIT_INTERRUPTED = 130
#: environment variable naming a file created once a run's signal handlers are installed
READY_FILE_ENV = "EBM_EXPLORER_READY_FILE"


def _announce_ready() -> None:
    """Create the supervisor's ready file, if one was asked for (best effort: a run never fails on it)."""
    path = os.environ.get(READY_FILE_ENV)
    if path:
        try:
            Path(path).touch()  # an empty marker: nothing in it can be half written
        except OSError:
            pass


class StopFlag:
    """Callable: True once SIGINT or SIGTERM arrived; ``name`` says which."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    """Within the block, SIGINT/SIGTERM set the yielded flag instead of killing the process."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, _frame: object) -> None:
        if flag.signum is not None:
            raise KeyboardInterrupt  # a second signal: stop now
        flag.signum = signum

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    _announce_ready()
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class Interrupted(KeyboardInterrupt):
    """Raised by :func:`interrupt_at_once` on SIGINT or SIGTERM; ``name`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.name = signal.Signals(signum).name


@contextlib.contextmanager
def interrupt_at_once() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM both raise :class:`Interrupted` (SIGTERM would otherwise end
    the process without a word); atomic writes under way remove their temporary file."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    _announce_ready()
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
