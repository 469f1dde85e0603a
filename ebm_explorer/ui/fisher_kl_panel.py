"""The sweep widgets of the lecture scenes: Fisher vs KL against a mode weight (scene 3) and the
inverse-temperature slider (scene 5).

The curves are exact (computed in the job thread by ``scenes.science.mode_weight_curve``); these
widgets only draw them and report where the slider is.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

__all__ = ["FisherKLPanel", "BetaPanel"]

_KL_COLOUR = "#f72585"
_FISHER_COLOUR = "#4cc9f0"


class FisherKLPanel(QtWidgets.QWidget):
    """KL and Fisher divergence from the truth to the mixture whose mode ``mode`` has weight w."""

    point_wanted = QtCore.Signal(float)  # the slider moved to this weight: compute the exact point

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumHeight(220)
        self.plot = self.graphics.addPlot(title="KL sees the mode weight, Fisher does not")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "divergence to the truth")
        self.plot.setXRange(0, 1)
        self.plot.setYRange(0, 2)
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self.kl = self.plot.plot([], [], pen=pg.mkPen(_KL_COLOUR, width=2.5), name="KL(truth ‖ p_w)")
        self.fisher = self.plot.plot([], [], pen=pg.mkPen(_FISHER_COLOUR, width=2.5), name="Fisher(truth ‖ p_w)")
        self.marker = pg.InfiniteLine(0.5, angle=90, pen=pg.mkPen("w", width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        self.plot.addItem(self.marker)
        self.dots = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w", width=1.5))
        self.plot.addItem(self.dots)
        lay.addWidget(self.graphics, 1)
        row = QtWidgets.QHBoxLayout()
        self.label = QtWidgets.QLabel("weight of mode 0")
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(1, 99)
        self.slider.setValue(50)
        self.readout = QtWidgets.QLabel("")
        row.addWidget(self.label)
        row.addWidget(self.slider, 1)
        lay.addLayout(row)
        lay.addWidget(self.readout)
        self.mode = 0
        self.curve: dict[str, np.ndarray] | None = None
        self.point: dict[str, np.ndarray] | None = None
        self.slider.valueChanged.connect(self._moved)

    @property
    def weight(self) -> float:
        return self.slider.value() / 100.0

    def set_sweep(self, mode: int, values: Sequence[float]) -> None:
        """A new sweep: clear the curves (they arrive from the job thread) and ask for the marked point."""
        self.mode = int(mode)
        self.label.setText(f"weight of mode {self.mode}")
        self.plot.setLabel("bottom", f"weight w of mode {self.mode} in the model p_w")
        self.curve = self.point = None
        self.kl.setData([], [])
        self.fisher.setData([], [])
        self.dots.setData([])
        self.readout.setText("computing the exact curves…")
        self._moved(self.slider.value())

    def set_curve(self, curve: dict[str, np.ndarray]) -> None:
        self.curve = curve
        self.kl.setData(curve["weight"], curve["kl"])
        self.fisher.setData(curve["weight"], curve["fisher"])
        top = float(np.nanmax(curve["kl"])) if np.isfinite(curve["kl"]).any() else 1.0
        self.plot.setYRange(0.0, 1.05 * max(top, 1e-3), padding=0)

    def set_point(self, point: dict[str, np.ndarray]) -> None:
        self.point = point
        w, kl, fi = float(point["weight"][0]), float(point["kl"][0]), float(point["fisher"][0])
        self.dots.setData([{"pos": (w, kl), "brush": pg.mkBrush(_KL_COLOUR)},
                           {"pos": (w, fi), "brush": pg.mkBrush(_FISHER_COLOUR)}])
        self.readout.setText(f"w = {w:.2f}:  KL = {kl:.3f}   Fisher = {fi:.2e}")

    def _moved(self, value: int) -> None:
        self.marker.setValue(value / 100.0)
        self.point_wanted.emit(value / 100.0)


class BetaPanel(QtWidgets.QWidget):
    """A log-scale slider for beta between the sweep's smallest and largest value, plus one button per mark."""

    beta_changed = QtCore.Signal(float)

    STEPS = 200

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = QtWidgets.QHBoxLayout()
        self.title = QtWidgets.QLabel("β (inverse temperature)")
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, self.STEPS)
        self.value_label = QtWidgets.QLabel("β = 1")
        self.value_label.setMinimumWidth(90)
        row.addWidget(self.title)
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)
        lay.addLayout(row)
        self.buttons_row = QtWidgets.QHBoxLayout()
        lay.addLayout(self.buttons_row)
        hint = QtWidgets.QLabel("The walkers keep their positions when β moves: watch them re-equilibrate.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        lay.addWidget(hint)
        lay.addStretch(1)
        self.lo, self.hi = 0.25, 4.0
        self.beta = 1.0
        self.slider.valueChanged.connect(self._moved)

    def set_values(self, values: Sequence[float], beta: float) -> None:
        self.lo, self.hi = float(min(values)), float(max(values))
        if not self.hi > self.lo:
            self.lo, self.hi = self.lo / 4, self.hi * 4
        while self.buttons_row.count():
            item = self.buttons_row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for v in values:
            b = QtWidgets.QPushButton(f"β = {v:g}")
            b.clicked.connect(lambda _c=False, v=float(v): self.set_beta(v))
            self.buttons_row.addWidget(b)
        self.slider.blockSignals(True)
        self.slider.setValue(self._pos(beta))
        self.slider.blockSignals(False)
        self.beta = float(beta)
        self.value_label.setText(f"β = {self.beta:.3g}")

    def _pos(self, beta: float) -> int:
        t = (math.log(beta) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        return int(round(min(max(t, 0.0), 1.0) * self.STEPS))

    def set_beta(self, beta: float) -> None:
        """Move to exactly ``beta`` (a mark button or a test); emits ``beta_changed``."""
        self.slider.blockSignals(True)
        self.slider.setValue(self._pos(beta))
        self.slider.blockSignals(False)
        self._emit(float(beta))

    def _moved(self, pos: int) -> None:
        t = pos / self.STEPS
        self._emit(float(math.exp(math.log(self.lo) + t * (math.log(self.hi) - math.log(self.lo)))))

    def _emit(self, beta: float) -> None:
        self.beta = beta
        self.value_label.setText(f"β = {beta:.3g}")
        self.beta_changed.emit(beta)
