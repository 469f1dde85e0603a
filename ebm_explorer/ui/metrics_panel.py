"""Live metric panels: time series that scroll (or freeze), one colour per run, exact values dashed.

All curves are created once (one per run slot and series); :meth:`MetricsPanel.draw` copies the
histories into them when new points arrived. Runs in compare mode overlay in the same plots.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ebm_explorer.ui.history import MetricsHistory
from ebm_explorer.ui.landscape_view import RUN_COLOURS

__all__ = ["MetricsPanel", "MAX_RUNS", "MAX_MODES"]

MAX_RUNS = 4
#: mode-weight lines are drawn for at most this many modes (bars show them all)
MAX_MODES = 12
#: the panels repaint at most this often
REDRAW_INTERVAL_S = 0.25

_DASH = QtCore.Qt.PenStyle.DashLine
_DOT = QtCore.Qt.PenStyle.DotLine

# plot key -> (title, [(series key, history field, line style)]); "exact" series are drawn white
_PLOTS = {
    "energy": ("Mean energy  (dashed: exact E[U])", [("mean_energy", "mean_energy", None),
                                                     ("mean_energy_exact", "mean_energy_exact", "exact")]),
    "acceptance": ("Acceptance rate", [("acceptance", "acceptance", None)]),
    "ess": ("ESS (bulk, x; 32 chains x 400 steps)  /  Jarzynski ESS/N", [("ess", "ess", None),
                                                                         ("ess_fraction", "ess_fraction", _DOT)]),
    "divergence": ("Divergence to exact: KL solid, TV dashed, Fisher dotted",
                   [("kl", "kl", None), ("tv", "tv", _DASH), ("fisher", "fisher", _DOT)]),
    "logz": ("log Z: estimate solid, exact dashed", [("log_z_est", "log_z_est", None),
                                                     ("log_z_exact", "log_z_exact", "exact")]),
    "cross_entropy": ("Cross-entropy: exact solid, estimate dashed",
                      [("cross_entropy", "cross_entropy", None), ("cross_entropy_est", "cross_entropy_est", _DASH)]),
}


class MetricsPanel(QtWidgets.QWidget):
    """The live panels. ``set_histories`` once per set of runs; ``mark_dirty`` when points arrive."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        bar = QtWidgets.QHBoxLayout()
        self.freeze = QtWidgets.QCheckBox("Freeze")
        self.freeze.setToolTip("Stop updating the plots (data keeps being recorded)")
        self.window = QtWidgets.QSpinBox()
        self.window.setRange(0, 10_000_000)
        self.window.setSingleStep(500)
        self.window.setValue(0)
        self.window.setSpecialValueText("all steps")
        self.window.setSuffix(" steps")
        self.window.setToolTip("Scroll: show only the last N steps (0: everything)")
        self.legend = QtWidgets.QLabel("")
        bar.addWidget(self.freeze)
        bar.addWidget(QtWidgets.QLabel("Window"))
        bar.addWidget(self.window)
        bar.addStretch(1)
        bar.addWidget(self.legend)
        lay.addLayout(bar)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumHeight(4 * 150)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.graphics)
        lay.addWidget(scroll)

        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, list[pg.PlotDataItem]] = {}
        order = ["energy", "acceptance", "divergence", "ess", "modes_bar", "modes_time", "logz", "cross_entropy"]
        for i, key in enumerate(order):
            title = _PLOTS[key][0] if key in _PLOTS else (
                "Mode weights now (bars: runs, dashed: exact)" if key == "modes_bar"
                else "Mode weights vs step (dashed: exact)")
            p = self.graphics.addPlot(row=i // 2, col=i % 2, title=title)
            p.showGrid(x=True, y=True, alpha=0.2)
            p.setMenuEnabled(False)
            p.titleLabel.setText(title, size="9pt")
            self.plots[key] = p
        for key, (_, series) in _PLOTS.items():
            for skey, _field, style in series:
                items = []
                for r in range(MAX_RUNS):
                    if style == "exact":
                        pen = pg.mkPen((230, 230, 230), width=1.5, style=_DASH)
                    else:
                        pen = pg.mkPen(RUN_COLOURS[r], width=1.8, style=style or QtCore.Qt.PenStyle.SolidLine)
                    c = pg.PlotDataItem(pen=pen, clipToView=True, autoDownsample=True, downsampleMethod="peak")
                    self.plots[key].addItem(c)
                    items.append(c)
                self.curves[skey] = items
        self.bars = []
        for r in range(MAX_RUNS):
            b = pg.BarGraphItem(x=[0], height=[0], width=0.2, brush=RUN_COLOURS[r], pen=None)
            self.plots["modes_bar"].addItem(b)
            self.bars.append(b)
        self.bars_truth = pg.PlotDataItem(pen=pg.mkPen("w", width=2, style=_DASH), connect="finite")
        self.plots["modes_bar"].addItem(self.bars_truth)
        self.plots["modes_bar"].setLabel("bottom", "mode")
        self.plots["modes_bar"].setYRange(0, 1)
        self.mode_lines: list[list[pg.PlotDataItem]] = []
        for r in range(MAX_RUNS):
            row = []
            for _m in range(MAX_MODES):
                c = pg.PlotDataItem(pen=pg.mkPen(RUN_COLOURS[r], width=1.5), clipToView=True, autoDownsample=True)
                self.plots["modes_time"].addItem(c)
                row.append(c)
            self.mode_lines.append(row)
        self.mode_truth = pg.PlotDataItem(pen=pg.mkPen("w", width=1.5, style=_DASH), connect="finite")
        self.plots["modes_time"].addItem(self.mode_truth)
        self.plots["modes_time"].setYRange(0, 1)
        for key in ("energy", "acceptance", "divergence", "ess", "logz", "cross_entropy", "modes_time"):
            self.plots[key].setLabel("bottom", "step")

        self._histories: list[MetricsHistory] = []
        self._dirty = False
        self._last_draw = 0.0
        self.freeze.toggled.connect(lambda on: self.mark_dirty() if not on else None)
        self.window.valueChanged.connect(lambda _v: self.mark_dirty())

    # ---- inputs --------------------------------------------------------------------------
    def set_histories(self, histories: list[MetricsHistory], labels: list[str]) -> None:
        self._histories = histories  # the model's own list: histories replaced in it are seen here
        self.legend.setText("   ".join(
            f'<span style="color:{RUN_COLOURS[i]}">&#9632; {lab}</span>' for i, lab in enumerate(labels[:MAX_RUNS])))
        self._dirty = True

    def mark_dirty(self) -> None:
        self._dirty = True

    def series(self, key: str, run: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The data currently plotted for series ``key`` of run ``run`` (tests read this)."""
        x, y = self.curves[key][run].getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    # ---- drawing -------------------------------------------------------------------------
    def draw(self) -> bool:
        if not self._dirty or self.freeze.isChecked():
            return False
        now = time.perf_counter()
        if now - self._last_draw < REDRAW_INTERVAL_S:
            return False  # eight plots with axes cost more to repaint than the landscape: ~4 per second
        self._last_draw = now
        self._dirty = False
        window = self.window.value()
        for r in range(MAX_RUNS):
            h = self._histories[r] if r < len(self._histories) else None
            steps = h.series("acceptance")[0] if h is not None else np.zeros(0)
            sel = slice(None)
            if h is not None and window > 0 and steps.size:
                sel = slice(int(np.searchsorted(steps, steps[-1] - window)), None)
            for key, (_, series) in _PLOTS.items():
                for skey, field, _style in series:
                    c = self.curves[skey][r]
                    if h is None:
                        c.setData([], [])
                        continue
                    x, y = h.series(field)
                    x, y = x[sel], y[sel]
                    ok = np.isfinite(y)
                    if not ok.any():
                        c.setData([], [])
                    else:
                        c.setData(x[ok], y[ok])
            self._draw_modes(r, h, sel)
        self._draw_truth()
        return True

    def _draw_modes(self, r: int, h: MetricsHistory | None, sel: slice) -> None:
        lines = self.mode_lines[r]
        if h is None or h.latest is None or h.n == 0:
            self.bars[r].setOpts(x=[0], height=[0], width=0)
            for c in lines:
                c.setData([], [])
            return
        steps, modes = h.mode_series()
        steps, modes = steps[sel], modes[sel]
        m = modes.shape[1]
        n_runs = max(1, len(self._histories))
        width = 0.8 / n_runs
        latest = modes[-1] if modes.shape[0] else np.zeros(m)
        xs = np.arange(m) - 0.4 + width * (r + 0.5)
        self.bars[r].setOpts(x=xs, height=np.nan_to_num(latest), width=width * 0.9)
        for j, c in enumerate(lines):
            if j < m:
                c.setData(steps, modes[:, j])
            else:
                c.setData([], [])

    def _draw_truth(self) -> None:
        truth = next((h.mode_weights_true for h in self._histories if h.mode_weights_true.size), np.zeros(0))
        if not truth.size:
            self.bars_truth.setData([], [])
            self.mode_truth.setData([], [])
            return
        m = truth.shape[0]
        x = np.stack([np.arange(m) - 0.45, np.arange(m) + 0.45, np.full(m, np.nan)], axis=1).ravel()
        y = np.repeat(truth, 3).reshape(m, 3)
        y[:, 2] = np.nan
        self.bars_truth.setData(x, y.ravel(), connect="finite")
        last = [h.series("acceptance")[0] for h in self._histories if h.n]
        if not last:
            self.mode_truth.setData([], [])
            return
        lo = min(float(s[0]) for s in last)
        hi = max(float(s[-1]) for s in last)
        tx = np.tile([lo, hi, np.nan], m)
        ty = np.stack([truth, truth, np.full(m, np.nan)], axis=1).ravel()
        self.mode_truth.setData(tx, ty, connect="finite")
