"""One fixed-rate timer that draws every view from its newest snapshot (compute pace != draw pace).

Views receive messages whenever workers send them but only *store* the newest one; this timer then
asks each view to draw what changed since the last frame. A fast worker cannot flood the event loop
and a slow one cannot stall it: the loop ticks at ``FPS`` whatever the sampler's speed, and
:attr:`DrawLoop.ticks` counts the frames the UI was able to serve (the frame rate a user sees),
:attr:`DrawLoop.frames` those that had new data to draw.
"""

from __future__ import annotations

import time
from typing import Protocol

from PySide6 import QtCore

__all__ = ["Drawable", "DrawLoop", "FPS"]

#: frames per second of the draw loop
FPS = 30


class Drawable(Protocol):
    def draw(self) -> bool:
        """Draw what changed since the last call; True when something was drawn."""


class DrawLoop(QtCore.QObject):
    """Calls ``draw()`` on registered views ``FPS`` times per second.

    ``ticks`` counts serviced timer ticks (a late tick is not queued twice by Qt, so ticks per
    second is the frame rate the event loop sustains); ``frames`` counts ticks that drew new data.
    """

    frame_drawn = QtCore.Signal()

    def __init__(self, parent: QtCore.QObject | None = None, fps: int = FPS) -> None:
        super().__init__(parent)
        self._views: list[Drawable] = []
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(int(1000 / fps))
        self._timer.timeout.connect(self.tick)
        self.ticks = 0
        self.frames = 0
        self.last_frame_s = 0.0  # duration of the last frame that drew
        self.longest_frame_s = 0.0  # longest draw() pass so far (the UI-thread cost of drawing)

    def add(self, view: Drawable) -> None:
        if view not in self._views:
            self._views.append(view)

    def remove(self, view: Drawable) -> None:
        if view in self._views:
            self._views.remove(view)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        t0 = time.perf_counter()
        self.ticks += 1
        drew = False
        for view in list(self._views):
            drew = bool(view.draw()) or drew
        if drew:
            self.frames += 1
            self.last_frame_s = time.perf_counter() - t0
            self.longest_frame_s = max(self.longest_frame_s, self.last_frame_s)
            self.frame_drawn.emit()
