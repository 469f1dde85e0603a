"""Record the landscape view (or the whole window) as GIF and MP4 while a run animates.

A ``QTimer`` in the UI thread grabs the target widget (grabbing is UI work) whenever a run sent a new
snapshot since the last frame and the picture changed, so every frame shows a new state (a GIF keeps
as many frames as the MP4) and paused runs add no frames. The
frames go through a queue to an encoder thread that feeds :class:`ebm_explorer.export.Recorder`
(palette reduction and H.264 are slow); the files appear atomically when the recording stops.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.export import ExportCancelled, Recorder
from ebm_explorer.ui.app_model import AppModel

__all__ = ["ScreenRecorder", "grab_rgb"]

_STOP = object()


def grab_rgb(widget: QtWidgets.QWidget) -> np.ndarray:
    """The widget as it is on screen, an ``(H, W, 3)`` uint8 array (UI thread only)."""
    img = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    h, w = img.height(), img.width()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes()).reshape(h, img.bytesPerLine())
    return buf[:, : 3 * w].reshape(h, w, 3).copy()


class ScreenRecorder(QtCore.QObject):
    """One recording at a time: ``start(target, gif, mp4, fps)`` then ``stop()``; ``finished`` or ``failed``."""

    progress = QtCore.Signal(str)  # status text for the indicator
    finished = QtCore.Signal(list)  # paths written
    failed = QtCore.Signal(str)

    def __init__(self, model: AppModel, frame: QtWidgets.QWidget, view_page: Callable[[], QtWidgets.QWidget],
                 redraw: Callable[[], None]) -> None:
        """``frame``: the whole window; ``view_page()``: the landscape widget on screen (view, compare grid or
        3-D); ``redraw()``: draw the newest snapshots now (before a frame is grabbed)."""
        super().__init__(frame)
        self.model = model
        self.frame = frame
        self.view_page = view_page
        self.redraw = redraw
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.recorder: Recorder | None = None
        self.frames_grabbed = 0
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._target = "view"
        self._last_key: Any = None
        self._last_frame: np.ndarray | None = None
        self._t0 = 0.0
        self._encoded = 0
        self.error: str | None = None

    @property
    def recording(self) -> bool:
        return self.timer.isActive()

    @property
    def busy(self) -> bool:
        """Recording or still encoding."""
        return self.recording or (self._thread is not None and self._thread.is_alive())

    def target_widget(self) -> QtWidgets.QWidget:
        return self.view_page() if self._target == "view" else self.frame

    def start(self, target: str, gif_path: str | Path | None, mp4_path: str | Path | None, fps: float = 10.0) -> None:
        """Start grabbing ``target`` (``"view"``: the landscape view or compare grid; ``"window"``)."""
        if self.busy:
            raise UserInputError("a recording is already running: stop it first")
        if target not in ("view", "window"):
            raise UserInputError(f"record target must be view or window, got {target!r}")
        self.recorder = Recorder(gif_path, mp4_path, fps=fps)
        self._target = target
        self.frames_grabbed = 0
        self._encoded = 0
        self.error = None
        self._last_key = None
        self._last_frame = None
        self._queue = queue.Queue()
        self._thread = threading.Thread(target=self._encode, args=(self.recorder, self._queue), daemon=True,
                                        name="ebm-recorder")
        self._thread.start()
        self._t0 = time.perf_counter()
        self.timer.start(int(1000 / fps))
        self.progress.emit("● REC 0 frames")

    def _snapshot_key(self) -> tuple[Any, ...]:
        return tuple(None if s is None else (s.run_id, s.step) for s in self.model.latest)

    def _tick(self) -> None:
        key = self._snapshot_key()
        if key == self._last_key or all(k is None for k in key):
            return  # nothing new to show: no duplicate frames
        self._last_key = key
        self.redraw()  # the newest snapshot drawn before the grab
        frame = grab_rgb(self.target_widget())
        if self._last_frame is not None and np.array_equal(frame, self._last_frame):
            return  # not redrawn yet: a GIF would merge it with the previous frame
        self._last_frame = frame
        self._queue.put(frame)
        self.frames_grabbed += 1
        self.progress.emit(f"● REC {self.frames_grabbed} frames  {time.perf_counter() - self._t0:.1f} s")

    def stop(self) -> None:
        """Stop grabbing; the encoder thread finishes the files and emits ``finished`` (or ``failed``)."""
        if not self.recording:
            return
        self.timer.stop()
        self._queue.put(_STOP)
        self.progress.emit(f"encoding {self.frames_grabbed} frames…")

    def cancel(self) -> None:
        """Stop and write nothing."""
        self.timer.stop()
        self._queue.put(None)

    def wait(self, timeout_s: float | None = 60.0) -> bool:
        """Join the encoder thread (tests; shutdown passes None: no limit); True when it ended."""
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True

    def _encode(self, rec: Recorder, frames: queue.Queue[Any]) -> None:
        """Encoder thread: add frames as they come; finish on stop, abort on cancel or error."""
        try:
            while True:
                item = frames.get()
                if item is _STOP:
                    if rec.frames_added == 0:
                        rec.abort()
                        raise UserInputError("nothing recorded: no run was animating")
                    self.finished.emit([str(p) for p in rec.finish()])
                    return
                if item is None:
                    rec.abort()
                    return
                rec.add_frame(item)
                self._encoded += 1
        except (UserInputError, ExportCancelled, OSError, RuntimeError) as exc:
            rec.abort()
            self.error = str(exc)
            self.failed.emit(str(exc))
