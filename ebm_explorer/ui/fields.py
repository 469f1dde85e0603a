"""Input fields: a seed field wider than Qt's 32-bit spin boxes (a seed is any integer a scene file can
hold), and spin boxes that read numbers the way people type them (1e4, 10,000, 10k)."""

from __future__ import annotations

import math
import re
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.core.limits import MAX_SEED

__all__ = ["SeedField", "IntSpin", "FloatSpin", "parse_number"]


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


_SUFFIXES = {"k": 1e3, "m": 1e6}
_TYPING = re.compile(r"^[+-]?[0-9.]*(e[+-]?[0-9]*)?[km]?$")  # what a number can look like while typed


def parse_number(text: str) -> float | None:
    """``1e4``, ``10000``, ``10,000``, ``10 000``, ``10_000``, ``10k``, ``1.5M`` -> the number; else None."""
    t = text.strip().lower().replace(",", "").replace(" ", "").replace("_", "").replace("\u202f", "")
    scale = 1.0
    if t[-1:] in _SUFFIXES:
        scale, t = _SUFFIXES[t[-1]], t[:-1]
    try:
        v = float(t) * scale
    except ValueError:
        return None
    return v if math.isfinite(v) else None


class _NumberInput:
    """Spin-box text rules shared by :class:`IntSpin` and :class:`FloatSpin`: any way of writing a number
    is read, and a value out of range (or not whole, for integers) is refused with a message on the field
    while the previous value stays: never another number than the one typed."""

    integer = True

    def _setup(self, name: str) -> None:
        self.name = name
        self.message = ""  # the last refusal (empty once a value is accepted)
        self.setKeyboardTracking(False)  # "1e4" typed is one value on Enter, not 1, then 14...
        self.setCorrectionMode(QtWidgets.QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
        self.lineEdit().textEdited.connect(self._clear_message)
        self.valueChanged.connect(self._clear_message)
        self.setToolTip(self._help)

    def _state(self, text: str) -> tuple[QtGui.QValidator.State, str]:
        t = text.strip().lower().replace(",", "").replace(" ", "").replace("_", "").replace("\u202f", "")
        if not _TYPING.match(t):
            return QtGui.QValidator.State.Invalid, "not a number"
        v = parse_number(t)
        if v is None:
            return QtGui.QValidator.State.Intermediate, "not a number"
        if self.integer and v != int(v):
            return QtGui.QValidator.State.Intermediate, "must be a whole number"
        if not self.minimum() <= v <= self.maximum():
            return QtGui.QValidator.State.Intermediate, f"must be between {self.textFromValue(self.minimum())} " \
                                                       f"and {self.textFromValue(self.maximum())}"
        return QtGui.QValidator.State.Acceptable, ""

    def validate(self, text: str, pos: int) -> tuple[QtGui.QValidator.State, str, int]:
        return self._state(text)[0], text, pos

    def valueFromText(self, text: str) -> Any:  # noqa: N802 - Qt naming
        v = parse_number(text)
        if v is None:
            return self.value()
        return int(v) if self.integer else float(v)

    def fixup(self, text: str) -> str:
        """Qt calls this for a refused text (Enter, focus out): say why, keep the previous value."""
        state, why = self._state(text)
        if state != QtGui.QValidator.State.Acceptable and text.strip():
            self.message = f"{self.name}: {text.strip()} {why}; kept {self.textFromValue(self.value())}"
            self.setStyleSheet("QAbstractSpinBox { border: 2px solid #e63946; }")
            self.setToolTip(self.message)
            QtWidgets.QToolTip.showText(self.mapToGlobal(QtCore.QPoint(0, self.height())), self.message, self)
        return text

    def _clear_message(self, _text: str) -> None:
        if self.message:
            self.message = ""
            self.setStyleSheet("")
            self.setToolTip(self._help)

    @property
    def _help(self) -> str:
        return f"{self.name}: e.g. 2000, 2e3 or 2k"


class IntSpin(_NumberInput, QtWidgets.QSpinBox):
    """An integer spin box that reads 1e4, 10000, 10,000 and 10k (see :class:`_NumberInput`)."""

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._setup(name)


class FloatSpin(_NumberInput, QtWidgets.QDoubleSpinBox):
    """A decimal spin box that reads 1e-3, 0.001 and 2.5k (see :class:`_NumberInput`)."""

    integer = False

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._setup(name)
