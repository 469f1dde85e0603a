"""Labels in pyqtgraph layouts that never widen their column."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore

__all__ = ["shrinkable"]


def shrinkable(label: pg.LabelItem) -> None:
    """A plot title that never widens its plot: LabelItem asks for its text's width as a minimum, which made
    the two columns of plots wider than the dock (the right column was cut off); a long title is clipped."""
    original = label.updateMin

    def update_min() -> None:
        original()
        label.setMinimumWidth(0)
        label._sizeHint[QtCore.Qt.SizeHint.MinimumSize] = (0, label._sizeHint[QtCore.Qt.SizeHint.MinimumSize][1])
        label._sizeHint[QtCore.Qt.SizeHint.PreferredSize] = (0, label._sizeHint[QtCore.Qt.SizeHint.PreferredSize][1])
        label.updateGeometry()
    label.updateMin = update_min
    update_min()
