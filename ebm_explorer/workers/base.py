"""A run in its own thread: a cooperative loop driven by commands, emitting throttled snapshots.

The loop owns its ``QThread`` (no event loop is needed there): the UI thread only puts commands on
a thread-safe queue (run, pause, step, reset, set a parameter, stop) and receives messages through
queued signals. Pausing is a flag checked between batches of steps, so it takes effect after the
current batch; stopping joins the thread. Any exception in the run becomes a :class:`WorkerError`
message and leaves the worker in the ``failed`` state, waiting for a reset or a stop: the run
stops, the application does not.
"""

from __future__ import annotations

import queue
import time
import traceback
from typing import Any

from PySide6 import QtCore

from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.workers.messages import RunState, WorkerError

__all__ = ["LoopWorker", "EMIT_INTERVAL_S", "describe_error"]

#: pause after each batch of steps so the UI thread gets the GIL (see the loop)
YIELD_S = 0.002
#: snapshots are sent at most this often (about 30 per second: the draw rate)
EMIT_INTERVAL_S = 1.0 / 30.0


def describe_error(exc: BaseException) -> str:
    """A one-line message for the user: user and numerical errors speak for themselves."""
    if isinstance(exc, (UserInputError, NumericalError)):
        return str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return f"out of memory: {exc} (use fewer walkers)"
    return f"{type(exc).__name__}: {exc}"


class LoopWorker(QtCore.QThread):
    """Base class of the sampling and training runs.

    Subclasses implement :meth:`setup` (build the state from the settings), :meth:`advance`
    (``n`` steps), :meth:`make_snapshot` (a frozen message) and :meth:`apply` (a setting changed).
    All four run in the worker thread only.
    """

    message = QtCore.Signal(object)  # RunSnapshot
    failed = QtCore.Signal(object)  # WorkerError
    state_changed = QtCore.Signal(object)  # RunState

    def __init__(self, run_id: int) -> None:
        super().__init__()  # no parent: the owner stops and joins it explicitly
        self.run_id = run_id
        self._commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._running = False
        self._ok = False
        self._pending_steps = 0
        self.steps_per_batch = 1
        self.max_steps_per_s = 0.0  # 0: as fast as possible
        self.step_count = 0
        self._rate_steps = 0
        self._rate_t0 = time.perf_counter()
        self.steps_per_s = 0.0

    # ---- called from the UI thread -------------------------------------------------------
    def resume(self) -> None:
        self._commands.put(("run", None))

    def pause(self) -> None:
        self._commands.put(("pause", None))

    def single_step(self, n: int = 1) -> None:
        self._commands.put(("step", int(n)))

    def reset(self) -> None:
        self._commands.put(("reset", None))

    def send(self, key: str, value: Any) -> None:
        """Change a setting of the live run (applied between batches, never blocking the UI)."""
        self._commands.put(("set", (key, value)))

    def stop(self, timeout_ms: int = 10000) -> bool:
        """Ask the loop to end and join the thread; True when it ended in time."""
        self._commands.put(("stop", None))
        return self.wait(timeout_ms) if self.isRunning() else True

    # ---- subclass hooks (worker thread) --------------------------------------------------
    def setup(self) -> None:
        raise NotImplementedError

    def advance(self, n: int) -> None:
        raise NotImplementedError

    def make_snapshot(self) -> Any:
        raise NotImplementedError

    def apply(self, key: str, value: Any) -> None:
        """Change a setting; must also work before :meth:`setup` succeeded (store it for the next reset)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Called by a subclass from :meth:`advance` when the run reached its end (e.g. iteration limit)."""
        self._running = False
        self.state_changed.emit(RunState(self.run_id, "finished"))

    # ---- the loop ------------------------------------------------------------------------
    def run(self) -> None:  # noqa: D401 - QThread entry point
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
            n = self._pending_steps if single else self.steps_per_batch
            self._pending_steps = 0
            t0 = time.perf_counter()
            if not self._guarded(self.advance, n):
                continue
            self.step_count += n
            self._count_rate(n)
            # hand the GIL to the UI thread between batches: a CPU-bound worker making many short
            # torch calls otherwise starves it (the GIL convoy), and frames stall for 100s of ms
            time.sleep(YIELD_S)
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

    def _drain(self, wait: float) -> bool:
        """Handle queued commands, waiting up to ``wait`` seconds for the first; False on stop."""
        try:
            cmd = self._commands.get(timeout=wait) if wait > 0 else self._commands.get_nowait()
        except queue.Empty:
            return True
        while True:
            name, value = cmd
            if name == "stop":
                self._running = False
                return False
            if name == "run":
                if self._ok:
                    self._running = True
                    self.state_changed.emit(RunState(self.run_id, "running"))
            elif name == "pause":
                self._running = False
                self.state_changed.emit(RunState(self.run_id, "paused"))
                if self._ok:
                    self._guarded(self._emit)
            elif name == "step":
                self._running = False
                self._pending_steps += value
            elif name == "reset":
                was_running = self._running
                self._guarded(self._reset)
                self._running = was_running and self._ok
            elif name == "set":
                was_ok = self._ok
                self._guarded(self.apply, *value)
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
            self.failed.emit(WorkerError(self.run_id, describe_error(exc), traceback.format_exc()))
            self.state_changed.emit(RunState(self.run_id, "failed"))
            return False
