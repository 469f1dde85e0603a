"""Buttons whose text changes (Run / Pause) keep one width, so the buttons beside them never shift.

The width is the widest of the texts the button can show, measured in its current font, and it is
measured again when the font changes (presenter mode's large fonts).
"""

from __future__ import annotations

from typing import Sequence

import shiboken6
from PySide6 import QtCore, QtWidgets

__all__ = ["keep_width"]


class _WidthKeeper(QtCore.QObject):
    def __init__(self, widget: QtWidgets.QWidget, texts: Sequence[str]) -> None:
        super().__init__(widget)
        self.widget, self.texts = widget, tuple(texts)
        # a timer owned by this object (a child of the widget): it dies with the widget, so a font
        # change during the window's teardown never calls apply() on a deleted button
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.apply)
        widget.installEventFilter(self)
        self.apply()

    def apply(self) -> None:
        if not shiboken6.isValid(self.widget):
            return
        fm = self.widget.fontMetrics()
        current = self.widget.sizeHint().width() - fm.horizontalAdvance(getattr(self.widget, "text", lambda: "")())
        self.widget.setFixedWidth(max(current, 0) + max(fm.horizontalAdvance(t) for t in self.texts))

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            self._timer.start()
        return False


def keep_width(widget: QtWidgets.QWidget | None, texts: Sequence[str]) -> None:
    """Fix ``widget``'s width to fit the widest of ``texts`` (no-op for None)."""
    if widget is not None:
        _WidthKeeper(widget, texts)
