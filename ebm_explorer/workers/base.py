"""A run in its own thread: a cooperative loop driven by commands, emitting throttled snapshots.

The loop owns its ``QThread`` (no event loop is needed there): the UI thread only puts typed commands
(``commands.py``: run, pause, step, reset, new settings / landscape / reference / speed, stop) on a
thread-safe queue and receives messages through
queued signals. Pausing is a flag checked between batches of steps, so it takes effect after the
current batch; stopping joins the thread. Any exception in the run becomes a :class:`WorkerError`
message and leaves the worker in the ``failed`` state, waiting for a reset or a stop: the run
stops, the application does not.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import traceback
from typing import Any

import torch
from PySide6 import QtCore

from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.threads import choose_threads
from ebm_explorer.core.threads import compute_threads as core_compute_threads
from ebm_explorer.core.resources import is_out_of_memory, out_of_memory_message
from ebm_explorer.workers.commands import (
    Capture,
    Command,
    Pause,
    Reset,
    Restore,
    Run,
    SetLandscape,
    SetReference,
    SetSettings,
    SetSpeed,
    SettingCommand,
    Step,
    Stop,
)
from ebm_explorer.workers.messages import RunState, WorkerError

__all__ = ["LoopWorker", "EMIT_INTERVAL_S", "describe_error", "compute_threads", "lower_thread_priority",
           "join_thread"]

#: shortest pause after each batch of steps, so the UI thread gets the GIL (see the loop)
YIELD_S = 0.002
#: longest pause after a batch (long batches are mostly torch compute, which releases the GIL anyway)
MAX_YIELD_S = 0.008
#: snapshots are sent at most this often (about 30 per second: the draw rate)
EMIT_INTERVAL_S = 1.0 / 30.0
#: when steps are fast, a batch runs about this long: several steps per GIL hand-over, several batches
#: per snapshot (snapshots stay limited to EMIT_INTERVAL_S)
BATCH_S = 0.006
#: at most this many steps in one batch (pause and setting changes wait for the batch to end)
MAX_BATCH = 1000


def compute_threads() -> int:
    """Intra-op torch threads of the job thread (references, thumbnails): every core but one, which is
    left to the UI thread. (A run's thread measures instead: :func:`ebm_explorer.core.threads.choose_threads`.)

    On a small machine a worker using every core makes OpenMP's threads and the UI thread fight for
    the same cores: each parallel op then waits for a descheduled thread (measured on 2 busy cores:
    1e5-walker gradients 15x slower with 2 threads than with 1) and frames stall. The setting is
    made inside the worker's thread; headless commands follow the same rule
    (:func:`ebm_explorer.core.threads.compute_threads`).
    """
    return core_compute_threads()


#: niceness added to a run's thread (Linux): the UI thread wins the CPU when both want it
WORKER_NICE = 10


def lower_thread_priority() -> None:
    """Make the calling (worker) thread yield the CPU to the UI thread on a busy machine.

    On Linux each thread has its own nice value (and threads it starts inherit it); elsewhere, or
    when not permitted, nothing changes. Throughput is unaffected when cores are free.
    """
    if not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICE)
    except OSError:
        pass


def join_thread(thread: QtCore.QThread, timeout_ms: int | None = None) -> bool:
    """Wait until ``thread`` has ended (at most ``timeout_ms``, if given); True when it has."""
    if not thread.isRunning():
        return True
    return thread.wait() if timeout_ms is None else thread.wait(timeout_ms)


def describe_error(exc: BaseException, n_walkers: int | None = None, device: str = "cpu") -> str:
    """A one-line message for the user: user and numerical errors speak for themselves; an
    allocation failure says how many walkers to try instead."""
    if isinstance(exc, (UserInputError, NumericalError)):
        return str(exc)
    if is_out_of_memory(exc):
        return out_of_memory_message(exc, n_walkers, device)
    return f"{type(exc).__name__}: {exc}"


class LoopWorker(QtCore.QThread):
    """Base class of the sampling and training runs.

    Subclasses implement :meth:`setup` (build the state from the settings), :meth:`advance`
    (``n`` steps), :meth:`make_snapshot` (a frozen message) and :meth:`apply` (a setting changed).
    All four run in the worker thread only.
    """

    message = QtCore.Signal(object)  # RunSnapshot
    _live = 0  # run threads inside their loop (they share the GIL with the UI thread)
    _live_lock = threading.Lock()
    failed = QtCore.Signal(object)  # WorkerError
    state_changed = QtCore.Signal(object)  # RunState
    captured = QtCore.Signal(object)  # (run_id, SavedRun | None): answer to request_capture (autosave)

    def __init__(self, run_id: int) -> None:
        super().__init__()  # no parent: the owner stops and joins it explicitly
        self.run_id = run_id
        self._commands: queue.Queue[Command] = queue.Queue()
        self._running = False
        self._ok = False
        self._pending_steps = 0
        self.steps_per_batch = 1
        self.max_steps_per_s = 0.0  # 0: as fast as possible
        self.step_count = 0
        self._rate_steps = 0
        self._rate_t0 = time.perf_counter()
        self.steps_per_s = 0.0
        self._step_s = 0.0  # measured seconds per step (sizes the batches)

    # ---- called from the UI thread -------------------------------------------------------
    def resume(self) -> None:
        self._commands.put(Run())

    def pause(self) -> None:
        self._commands.put(Pause())

    def single_step(self, n: int = 1) -> None:
        self._commands.put(Step(int(n)))

    def reset(self) -> None:
        self._commands.put(Reset())

    def send(self, command: SettingCommand) -> None:
        """Change a setting of the live run (applied between batches, never blocking the UI)."""
        if not isinstance(command, (SetSettings, SetLandscape, SetReference, SetSpeed)):
            raise TypeError(f"not a setting command: {command!r}")
        self._commands.put(command)

    def request_capture(self) -> None:
        """Ask for a copy of the run's state (walkers, parameters, step); answered by ``captured``."""
        self._commands.put(Capture())

    def restore(self, saved: Any) -> None:
        """Put a saved state (``scenes.state.SavedRun``) back into the run, between batches."""
        self._commands.put(Restore(saved))

    def request_stop(self) -> None:
        """Ask the loop to end after the current batch (join with :meth:`stop`)."""
        self._commands.put(Stop())

    def stop(self, timeout_ms: int | None = None) -> bool:
        """Ask the loop to end and join the thread; True when it ended (in ``timeout_ms``, if given).

        Without a limit it waits for the batch in progress, however slow the machine: a QThread that
        still runs when Python exits aborts the process ("QThread: Destroyed while thread is still running").
        """
        self.request_stop()
        return join_thread(self, timeout_ms)

    # ---- subclass hooks (worker thread) --------------------------------------------------
    def setup(self) -> None:
        raise NotImplementedError

    def advance(self, n: int) -> None:
        raise NotImplementedError

    def make_snapshot(self) -> Any:
        raise NotImplementedError

    def apply(self, command: SettingCommand) -> None:
        """Change a setting; must also work before :meth:`setup` succeeded (store it for the next reset)."""
        raise NotImplementedError

    def resource_hint(self) -> tuple[int | None, str]:
        """Walker count and device of this run, for the advice in an out-of-memory message."""
        return None, "cpu"

    def capture_state(self) -> Any:
        """A ``SavedRun`` of the current state (worker thread); None where a run cannot be saved."""
        return None

    def restore_state(self, saved: Any) -> None:
        """Load a ``SavedRun`` (worker thread), after :meth:`setup` built the run."""
        raise NotImplementedError

    def finish(self) -> None:
        """Called by a subclass from :meth:`advance` when the run reached its end (e.g. iteration limit)."""
        self._running = False
        self.state_changed.emit(RunState(self.run_id, "finished"))

    # ---- the loop ------------------------------------------------------------------------
    def run(self) -> None:  # noqa: D401 - QThread entry point
        lower_thread_priority()
        # one thread or every core, whichever a probe of this run's size finds faster now (with the
        # UI and the other runs as they are); remembered per size for the process
        choose_threads(self.resource_hint()[0] or 100_000)
        with LoopWorker._live_lock:
            LoopWorker._live += 1
        try:
            self._loop()
        finally:
            with LoopWorker._live_lock:
                LoopWorker._live -= 1

    def _loop(self) -> None:
        self._guarded(self._reset)
        last_emit = 0.0
        next_due = time.perf_counter()
        while True:
            busy = self._ok and (self._running or self._pending_steps > 0)
            wait = max(0.0, next_due - time.perf_counter()) if busy else 0.1
            if not self._drain(wait):
                break
            if not (self._ok and (self._running or self._pending_steps > 0)):
                continue
            if self._running and time.perf_counter() < next_due:
                continue
            single = not self._running
            n = self._pending_steps if single else self._batch_size()
            self._pending_steps = 0
            t0 = time.perf_counter()
            if not self._guarded(self.advance, n):
                continue
            if not single:
                self._step_s = (time.perf_counter() - t0) / n
            self.step_count += n
            self._count_rate(n)
            # hand the GIL to the UI thread between batches: a worker making many short torch calls
            # holds the GIL between them and otherwise starves the UI (the GIL convoy; frames stall
            # for 100s of ms). Pausing as long as the batch took, times the number of live runs,
            # leaves the UI thread about an equal share of the GIL however many runs there are.
            with LoopWorker._live_lock:
                live = max(LoopWorker._live, 1)
            time.sleep(min(max(YIELD_S, (time.perf_counter() - t0) * live), MAX_YIELD_S * live))
            now = time.perf_counter()
            if self.max_steps_per_s > 0:
                next_due = t0 + n / self.max_steps_per_s
            else:
                next_due = now
            if single or now - last_emit >= EMIT_INTERVAL_S:
                if not self._guarded(self._emit):
                    continue
                last_emit = time.perf_counter()
            if single:
                self.state_changed.emit(RunState(self.run_id, "paused"))
        self.state_changed.emit(RunState(self.run_id, "stopped"))

    def _batch_size(self) -> int:
        """``steps_per_batch``, or more when steps are fast and the speed is not limited: a batch then
        lasts about ``BATCH_S``, so the per-batch overhead (GIL hand-over, command queue) is shared by
        several steps and the sampler's speed does not depend on the draw rate."""
        if self.max_steps_per_s > 0 or self._step_s <= 0:
            return self.steps_per_batch
        return max(self.steps_per_batch, min(MAX_BATCH, int(BATCH_S / self._step_s)))

    def _drain(self, wait: float) -> bool:
        """Handle queued commands, waiting up to ``wait`` seconds for the first; False on stop."""
        try:
            cmd = self._commands.get(timeout=wait) if wait > 0 else self._commands.get_nowait()
        except queue.Empty:
            return True
        while True:
            if isinstance(cmd, Stop):
                self._running = False
                return False
            if isinstance(cmd, Run):
                if self._ok:
                    self._running = True
                    self.state_changed.emit(RunState(self.run_id, "running"))
            elif isinstance(cmd, Pause):
                self._running = False
                self.state_changed.emit(RunState(self.run_id, "paused"))
                if self._ok:
                    self._guarded(self._emit)
            elif isinstance(cmd, Step):
                self._running = False
                self._pending_steps += cmd.n
            elif isinstance(cmd, Reset):
                was_running = self._running
                self._guarded(self._reset)
                self._running = was_running and self._ok
            elif isinstance(cmd, Capture):
                try:
                    saved = self.capture_state() if self._ok else None
                except Exception:  # noqa: BLE001 - a failed snapshot only skips this autosave
                    saved = None
                self.captured.emit((self.run_id, saved))
            elif isinstance(cmd, Restore):
                if self._ok and self._guarded(self.restore_state, cmd.saved):
                    self._guarded(self._emit)
            else:
                was_ok = self._ok
                self._guarded(self.apply, cmd)
                if was_ok and self._ok and not self._running:
                    self._guarded(self._emit)
            try:
                cmd = self._commands.get_nowait()
            except queue.Empty:
                return True

    def _reset(self) -> None:
        self._ok = False
        self.step_count = 0
        self._rate_steps = 0
        self._rate_t0 = time.perf_counter()
        self.steps_per_s = 0.0
        self.setup()
        self._ok = True
        self._emit()

    def _emit(self) -> None:
        snap = self.make_snapshot()
        if snap is not None:
            self.message.emit(snap)

    def _count_rate(self, n: int) -> None:
        self._rate_steps += n
        now = time.perf_counter()
        elapsed = now - self._rate_t0
        if elapsed >= 0.5:
            self.steps_per_s = self._rate_steps / elapsed
            self._rate_steps = 0
            self._rate_t0 = now

    def _guarded(self, fn, *args) -> bool:
        """Run ``fn``; an exception becomes a WorkerError message and the failed state."""
        try:
            fn(*args)
            return True
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user, not kill the thread
            self._ok = False
            self._running = False
            n, device = self.resource_hint()
            self.failed.emit(WorkerError(self.run_id, describe_error(exc, n, device), traceback.format_exc()))
            self.state_changed.emit(RunState(self.run_id, "failed"))
            return False


class LandscapeWorker(LoopWorker):
    """A run on a landscape that the UI can swap while it runs: the settings every such run shares.

    :class:`SetLandscape` replaces the landscape and forgets its reference, :class:`SetReference` is kept
    only if it belongs to the current version (a late answer for an older landscape is dropped),
    :class:`SetSpeed` caps the pace, and :class:`SetSettings` goes to :meth:`apply_config`.
    """

    def __init__(self, run_id: int, landscape: Any, landscape_version: int = 0) -> None:
        super().__init__(run_id)
        self.landscape = landscape
        self.landscape_version = landscape_version
        self.reference: Any = None  # ReferenceReady of the current landscape, when it has arrived

    def apply(self, command: SettingCommand) -> None:
        if isinstance(command, SetSettings):
            self.apply_config(command.settings)
        elif isinstance(command, SetLandscape):
            self.landscape, self.landscape_version = command.landscape, command.version
            self.reference = None
            self.landscape_changed()
        elif isinstance(command, SetReference):
            if command.reference.version == self.landscape_version:
                self.reference = command.reference
        elif isinstance(command, SetSpeed):
            self.max_steps_per_s = float(command.steps_per_s)
        else:
            raise TypeError(f"unknown setting command {command!r}")

    def apply_config(self, value: Any) -> None:
        """Take new run settings (also before :meth:`setup` succeeded)."""
        raise NotImplementedError

    def landscape_changed(self) -> None:
        """React to a new :attr:`landscape` (already stored)."""
        raise NotImplementedError
