"""The compare page: the runs' landscape views in the rows x columns arrangement that gives each plot the
most room for the box's shape (three runs of a wide box: three rows, not a 2x2 grid with an empty cell
and plots filling a third of their cells).

A pan or zoom by the mouse in one view is copied to the others. (pyqtgraph's own axis links align
linked views by their positions on the screen, which shifts views in other cells off their box.)
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from ebm_explorer.ui.landscape_view import LandscapeView

__all__ = ["CompareGrid", "best_arrangement"]

#: pixels of a view that are not plot: left axis + colour bar across, title + bottom axis down
_OVERHEAD = (115.0, 70.0)


def best_arrangement(n: int, width: float, height: float, ratio: float) -> tuple[int, int]:
    """(rows, columns) for ``n`` plots of aspect ``ratio`` (width / height) in a ``width x height`` page."""
    best, best_scale = (1, max(n, 1)), -1.0
    for cols in range(1, max(n, 1) + 1):
        rows = math.ceil(n / cols)
        w = width / cols - _OVERHEAD[0]
        h = height / rows - _OVERHEAD[1]
        scale = min(w / ratio, h)  # the plot's height when it fills its cell in one direction
        if scale > best_scale + 1e-9:
            best, best_scale = (rows, cols), scale
    return best


class CompareGrid(QtWidgets.QWidget):
    """Holds the compare views; shown views are re-arranged on resize, show/hide and a new box."""

    def __init__(self, views: list[LandscapeView], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = views
        self.grid = QtWidgets.QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self._shape: tuple[int, int, int] | None = None
        # re-arranged from the event loop, never inside Qt's own layout or resize handling
        self._arrange_timer = QtCore.QTimer(self)
        self._arrange_timer.setSingleShot(True)
        self._arrange_timer.setInterval(0)
        self._arrange_timer.timeout.connect(self.arrange)
        for i, v in enumerate(views):
            v.setMinimumSize(160, 120)  # three rows of a wide box fit a 800-pixel window
            self.grid.addWidget(v, i // 2, i % 2)
            v.box_changed.connect(self.arrange)
            v.plot.getViewBox().sigRangeChangedManually.connect(lambda _mask, v=v: self._follow(v))
        self._following = False

    def _follow(self, source: LandscapeView) -> None:
        """The user panned or zoomed ``source``: show the same region in every other view."""
        if self._following:
            return
        self._following = True
        try:
            (x0, x1), (y0, y1) = source.plot.getViewBox().viewRange()
            for v in self.views:
                if v is not source:
                    v.plot.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        finally:
            self._following = False

    def arrange(self) -> None:
        shown = [v for v in self.views if not v.isHidden()]
        box = self.views[0]._box
        ratio = box.width / box.height if box is not None and box.height > 0 else 1.0
        rows, cols = best_arrangement(len(shown), max(self.width(), 1), max(self.height(), 1), ratio)
        shape = (len(shown), rows, cols)
        if shape == self._shape:
            return
        self._shape = shape
        for v in self.views:
            self.grid.removeWidget(v)
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 0)
        hidden = [v for v in self.views if v.isHidden()]
        for i, v in enumerate(shown + hidden):
            self.grid.addWidget(v, i // cols, i % cols)
        for r in range(rows):
            self.grid.setRowStretch(r, 1)
        for c in range(cols):
            self.grid.setColumnStretch(c, 1)

    def resizeEvent(self, event: QtCore.QEvent) -> None:
        super().resizeEvent(event)
        self._arrange_timer.start()

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.LayoutRequest:  # a view was shown or hidden
            self._arrange_timer.start()
        return super().event(event)
