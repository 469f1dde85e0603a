"""Input fields wider than Qt's 32-bit spin boxes: a seed is any integer a scene file can hold."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.core.limits import MAX_SEED

__all__ = ["SeedField"]


class SeedField(QtWidgets.QLineEdit):
    """A validated integer field for seeds in [0, 2**63 - 1] with a spin box's ``value``/``setValue``/
    ``valueChanged``/``minimum``/``maximum`` (QSpinBox stops at 2**31 - 1, and a bigger seed from a scene
    would overflow it)."""

    valueChanged = QtCore.Signal(object)  # int: a 64-bit value does not fit Signal(int)

    def __init__(self, value: int = 0, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setValidator(QtGui.QRegularExpressionValidator(QtCore.QRegularExpression(r"^\d{0,19}$"), self))
        self.setToolTip(f"Random seed: an integer from 0 to {MAX_SEED:,}")
        self._value = 0
        self.setValue(value)
        self.editingFinished.connect(self._commit)

    def minimum(self) -> int:
        return 0

    def maximum(self) -> int:
        return MAX_SEED

    def value(self) -> int:
        return self._value

    def setValue(self, value: int) -> None:  # noqa: N802 - the QSpinBox name
        v = min(max(int(value), 0), MAX_SEED)
        self.setText(str(v))
        if v != self._value:
            self._value = v
            self.valueChanged.emit(v)

    def _commit(self) -> None:
        text = self.text().strip()
        if not text:
            self.setText(str(self._value))
            return
        v = int(text)
        if v > MAX_SEED:
            self.setText(str(self._value))  # out of range: keep the previous seed
            return
        self.setValue(v)
