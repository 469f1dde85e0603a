"""Live metric panels: time series that scroll (or freeze), one colour per run, exact values dashed in
the run's colour.

All curves are created once (one per run slot and series); :meth:`MetricsPanel.draw` copies the
histories into them when new points arrived. Runs in compare mode overlay in the same plots.

Repainting eight plots with axes costs more than the landscape, so the panels are refreshed at most
``1 / REDRAW_INTERVAL_S`` times per second and a refresh is spread over several frames
(``PLOTS_PER_FRAME`` plots each), which keeps every frame short. Axes are cached as pixmaps. The
histogram divergences of even perfect samples are not zero: the iid noise floor is drawn dotted.
Plots whose quantity only exists during training show a centred note instead of an empty axis.
Titles follow what the runs are (:meth:`MetricsPanel.set_kinds`: sampling, training or both), and a
change of sampler, step size, walkers or landscape in the middle of a run is marked on every time plot
(a vertical line with a short label, from :attr:`MetricsHistory.marks`).
The Jarzynski estimates (log Z, cross-entropy) come in two: the training walkers' own ("plain", biased
low by the feedback of the walkers on the parameters) and the held-out walkers' ("cross-fitted"), each
with a shaded band of +-2 reported standard errors; a legend in each of those plots names the lines.
"""

from __future__ import annotations

import html
import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.export.metrics_history import MetricsHistory
from ebm_explorer.ui.label_fit import shrinkable
from ebm_explorer.ui.landscape_view import RUN_COLOURS

__all__ = ["MetricsPanel", "MAX_RUNS", "MAX_MODES"]

MAX_RUNS = 4
#: mode-weight lines are drawn for at most this many modes (bars show them all)
MAX_MODES = 12
#: the panels refresh at most this often
REDRAW_INTERVAL_S = 0.5
#: the widest tick label a left axis makes room for (pyqtgraph keeps labels short with SI prefixes)
WIDEST_TICK_LABEL = "-0.0000"
#: plots updated per draw-loop frame during a refresh (bounds the UI-thread time of one frame)
PLOTS_PER_FRAME = 1

_DASH = QtCore.Qt.PenStyle.DashLine
_DOT = QtCore.Qt.PenStyle.DotLine
_DASHDOT = QtCore.Qt.PenStyle.DashDotLine

# plot key -> (title, [(series key, history field, line style)]); "exact" series: dashed, in the run's colour
_PLOTS = {
    "energy": ("Mean energy (dashed: exact E[U])", [("mean_energy", "mean_energy", None),
                                                     ("mean_energy_exact", "mean_energy_exact", "exact"),
                                                     ("model_energy_data", "model_energy_data", None),
                                                     ("model_energy_walkers", "model_energy_walkers", _DASH)]),
    "acceptance": ("Acceptance rate", [("acceptance", "acceptance", None)]),
    "ess": ("Bulk ESS of x (32 chains); ESS/N dotted", [("ess", "ess", None),
                                                                         ("ess_fraction", "ess_fraction", _DOT)]),
    "divergence": ("KL solid · TV dashed · Fisher dash-dot",
                   [("kl", "kl", None), ("tv", "tv", _DASH), ("fisher", "fisher", _DASHDOT),
                    ("kl_expected", "kl_expected", "floor"), ("tv_expected", "tv_expected", "floor")]),
    "logz": ("log Z: Jarzynski estimates (bands ±2 SE) vs exact",
             [("log_z_est", "log_z_est", None), ("log_z_est_xfit", "log_z_est_xfit", _DASHDOT),
              ("log_z_exact", "log_z_exact", "exact")]),
    "cross_entropy": ("Cross-entropy: exact vs Jarzynski (±2 SE)",
                      [("cross_entropy", "cross_entropy", None), ("cross_entropy_est", "cross_entropy_est", _DASH),
                       ("cross_entropy_est_xfit", "cross_entropy_est_xfit", _DASHDOT)]),
}
#: plot key -> [(series key, its standard-error history field)]: shaded +-BAND_SE bands
_BANDS = {
    "logz": [("log_z_est", "log_z_se"), ("log_z_est_xfit", "log_z_se_xfit")],
    "cross_entropy": [("cross_entropy_est", "log_z_se"), ("cross_entropy_est_xfit", "log_z_se_xfit")],
}
BAND_SE = 2.0
#: legend names of the estimate series (the legend shows run 1's lines; other runs share the styles)
_LEGEND = {
    "log_z_est": "plain (training walkers)", "log_z_est_xfit": "cross-fitted (held-out walkers)",
    "log_z_exact": "exact", "cross_entropy": "exact",
    "cross_entropy_est": "plain (training walkers)", "cross_entropy_est_xfit": "cross-fitted (held-out walkers)",
}


#: plot key -> (series that must have data for the plot to mean something, note shown otherwise)
_ONLY_WHEN = {
    "logz": (("log_z_est",), "log Z estimate: Jarzynski training only"),
    "cross_entropy": (("cross_entropy", "cross_entropy_est"), "cross-entropy: training only"),
}
#: spans (x 10^k) that a time plot's x range takes as it grows
_NICE_SPANS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
_FLOOR_LABELS = {"kl_expected": "KL noise floor", "tv_expected": "TV noise floor"}
#: plot titles per kind of runs shown ("sample", "train", "mixed": a scene with both); default: _PLOTS' titles
_TITLES = {
    "sample": {"energy": "Mean U of the walkers (dashed: exact E[U])",
               "ess": "Bulk ESS of x (32 chains)",
               "divergence": "KL solid · TV dashed · dotted: iid floor at this N"},
    "train": {"energy": "Model energy U_θ: data solid, walkers dashed",
              "acceptance": "Acceptance of the walker kernel",
              "ess": "Jarzynski ESS/N of the walker weights",
              "divergence": "Exact KL(target‖model) · Fisher dash-dot"},
    "mixed": {"energy": "Mean U (sampling) · U_θ data/walkers (training)",
              "ess": "Bulk ESS of x · Jarzynski ESS/N dotted",
              "divergence": "KL solid · TV dashed · Fisher dash-dot"},
}
#: time plots that show change marks
_MARKED = ("energy", "acceptance", "divergence", "ess", "logz", "cross_entropy", "modes_time")
#: marks drawn per plot (the newest)
MAX_MARKS = 6
_MARK_COLOUR = (255, 210, 90)


def _field_of(plot: str, series: str) -> str:
    """The history field that series ``series`` of plot ``plot`` draws."""
    return next(f for skey, f, _style in _PLOTS[plot][1] if skey == series)


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
                "Mode weights now (dashed: exact)" if key == "modes_bar"
                else "Mode weights vs step (dashed: exact)")
            p = self.graphics.addPlot(row=i // 2, col=i % 2, title=title)
            p.showGrid(x=True, y=True, alpha=0.2)
            p.setMenuEnabled(False)
            p.titleLabel.setText(title, size="9pt")
            shrinkable(p.titleLabel)
            self.plots[key] = p
        for key, (_, series) in _PLOTS.items():
            for skey, _field, style in series:
                items = []
                for r in range(MAX_RUNS):
                    if style == "exact":  # the run's own exact value (runs on different landscapes differ)
                        pen = pg.mkPen(RUN_COLOURS[r], width=1, style=_DASH)  # width 1: the fast raster path
                    elif style == "floor":
                        colour = QtGui.QColor(RUN_COLOURS[r])
                        colour.setAlpha(200)
                        pen = pg.mkPen(colour, width=1, style=_DOT)
                    else:
                        pen = pg.mkPen(RUN_COLOURS[r], width=1.8, style=style or QtCore.Qt.PenStyle.SolidLine)
                    c = pg.PlotDataItem(pen=pen, clipToView=True, autoDownsample=True, downsampleMethod="peak",
                                        skipFiniteCheck=True)  # only finite points are passed
                    self.plots[key].addItem(c)
                    items.append(c)
                self.curves[skey] = items
        self.bands: dict[str, list[tuple[pg.PlotDataItem, pg.PlotDataItem]]] = {}
        for key, bands in _BANDS.items():
            for skey, _se in bands:
                pairs = []
                for r in range(MAX_RUNS):
                    lo, hi = pg.PlotDataItem(pen=None), pg.PlotDataItem(pen=None)
                    colour = QtGui.QColor(RUN_COLOURS[r])
                    colour.setAlpha(45)
                    fill = pg.FillBetweenItem(lo, hi, brush=colour)
                    fill.setZValue(-1)  # under the lines
                    self.plots[key].addItem(fill)
                    pairs.append((lo, hi))
                self.bands[skey] = pairs
        for key in _BANDS:
            legend = self.plots[key].addLegend(offset=(-5, 5), labelTextSize="7pt")
            for skey, _field, _style in _PLOTS[key][1]:
                legend.addItem(self.curves[skey][0], _LEGEND[skey])
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
                c = pg.PlotDataItem(pen=pg.mkPen(RUN_COLOURS[r], width=1.5), clipToView=True, autoDownsample=True,
                                    connect="finite")
                self.plots["modes_time"].addItem(c)
                row.append(c)
            self.mode_lines.append(row)
        self.mode_truth = pg.PlotDataItem(pen=pg.mkPen("w", width=1.5, style=_DASH), connect="finite")
        self.plots["modes_time"].addItem(self.mode_truth)
        self.plots["modes_time"].setYRange(0, 1)
        for key in ("energy", "acceptance", "divergence", "ess", "logz", "cross_entropy", "modes_time"):
            self.plots[key].setLabel("bottom", "step")
        self.plots["acceptance"].setYRange(-0.02, 1.02, padding=0)  # a rate: 0.9875-0.9895 axes mislead
        for p in self.plots.values():
            for name in ("left", "bottom"):
                p.getAxis(name).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
            p.titleLabel.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.fit_left_axes(QtGui.QFont())
        self.floor_labels: dict[str, pg.TextItem] = {}
        for skey, text in _FLOOR_LABELS.items():
            t = pg.TextItem(text, color=(200, 200, 200), anchor=(0, 1))  # above the line's first point
            t.setVisible(False)
            self.plots["divergence"].addItem(t, ignoreBounds=True)
            self.floor_labels[skey] = t
        self.notes: dict[str, pg.TextItem] = {}
        for key, (_need, text) in _ONLY_WHEN.items():
            note = pg.TextItem(text, color=(150, 150, 150), anchor=(0.5, 0.5))
            note.setParentItem(self.plots[key].getViewBox())  # in pixels of the view box: always centred
            note.setVisible(False)
            self.plots[key].getViewBox().sigResized.connect(lambda vb, n=note: n.setPos(vb.boundingRect().center()))
            self.notes[key] = note

        self._marks: dict[str, list[pg.InfiniteLine]] = {key: [] for key in _MARKED}
        self.kinds: tuple[str, ...] = ()
        self._histories: list[MetricsHistory] = []
        self._dirty = False
        self._last_draw = 0.0
        self._pending: list[str] = []  # plots still to update in the current refresh
        self._x_ranges: dict[str, tuple[float, float]] = {}  # time plot -> its stepped x range
        self.freeze.toggled.connect(lambda on: self.mark_dirty() if not on else None)
        self.window.valueChanged.connect(lambda _v: self.mark_dirty())

    def fit_left_axes(self, tick_font: QtGui.QFont) -> None:
        """Give every left axis one fixed width, sized for ``tick_font`` (presenter mode enlarges it).

        A width that followed the tick labels (0.5 -> 1000) would re-lay out all eight plots, and
        repaint every axis, whenever one label grew: 70-120 ms frames on 2 cores.
        """
        width = QtGui.QFontMetrics(tick_font).horizontalAdvance(WIDEST_TICK_LABEL) + 14
        for p in self.plots.values():
            p.getAxis("left").setWidth(width)

    # ---- inputs --------------------------------------------------------------------------
    def set_histories(self, histories: list[MetricsHistory], labels: list[str]) -> None:
        self._histories = histories  # the model's own list: histories replaced in it are seen here
        self.set_labels(labels)

    def set_labels(self, labels: list[str]) -> None:
        """The legend: one colour square and label per run (follows sampler and step-size changes)."""
        self.legend.setText("   ".join(
            f'<span style="color:{RUN_COLOURS[i]}">&#9632; {html.escape(lab)}</span>'
            for i, lab in enumerate(labels[:MAX_RUNS])))
        self._dirty = True

    def set_kinds(self, kinds: list[str]) -> None:
        """Title the plots for what the runs are: ``sample`` / ``train`` per run."""
        kinds_t = tuple(kinds)
        if kinds_t == self.kinds:
            return
        self.kinds = kinds_t
        which = "mixed" if len(set(kinds_t)) > 1 else (kinds_t[0] if kinds_t else "sample")
        for key, p in self.plots.items():
            title = _TITLES.get(which, {}).get(key) or (_PLOTS[key][0] if key in _PLOTS else None)
            if title is not None:
                p.titleLabel.setText(title)
        self._dirty = True

    def title(self, key: str) -> str:
        """The title now shown on plot ``key`` (tests and the probe read it)."""
        return self.plots[key].titleLabel.text

    def marks_drawn(self, key: str) -> list[tuple[float, str]]:
        """``(step, text)`` of the change marks now drawn on plot ``key`` (tests and the probe read them)."""
        return [(float(m.value()), m.label.toPlainText()) for m in self._marks[key] if m.isVisible()]

    def mark_dirty(self) -> None:
        self._dirty = True

    def series(self, key: str, run: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The data currently plotted for series ``key`` of run ``run`` (tests read this)."""
        x, y = self.curves[key][run].getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    # ---- drawing -------------------------------------------------------------------------
    def draw(self) -> bool:
        """Refresh the plots from the histories: at most every ``REDRAW_INTERVAL_S``, a few plots a frame."""
        if not self._pending:
            if not self._dirty or self.freeze.isChecked():
                return False
            now = time.perf_counter()
            if now - self._last_draw < REDRAW_INTERVAL_S:
                return False
            self._last_draw = now
            self._dirty = False
            self._pending = [*_PLOTS, "modes", "truth", "marks"]
        batch, self._pending = self._pending[:PLOTS_PER_FRAME], self._pending[PLOTS_PER_FRAME:]
        for key in batch:
            self._draw_plot(key)
        return True

    def flush(self) -> None:
        """Refresh every plot now (tests, exports): the same as letting the draw loop finish a refresh."""
        self._pending = []
        self._dirty = True
        self._last_draw = 0.0
        while self.draw() and self._pending:
            pass

    def _selection(self, h: MetricsHistory | None) -> slice:
        """The rows inside the scroll window (the last ``window`` steps), or all rows."""
        window = self.window.value()
        if h is None or window <= 0 or h.n == 0:
            return slice(None)
        steps = h.series("acceptance")[0]
        return slice(int(np.searchsorted(steps, steps[-1] - window)), None)

    def _draw_plot(self, key: str) -> None:
        if key == "modes":
            for r in range(MAX_RUNS):
                h = self._histories[r] if r < len(self._histories) else None
                self._draw_modes(r, h, self._selection(h))
            self._step_x_range("modes_time")
            return
        if key == "truth":
            self._draw_truth()
            return
        if key == "marks":
            self._draw_marks()
            return
        any_data = False
        for label in self.floor_labels.values() if key == "divergence" else ():
            label.setVisible(False)
        for r in range(MAX_RUNS):
            h = self._histories[r] if r < len(self._histories) else None
            sel = self._selection(h)
            for skey, field, _style in _PLOTS[key][1]:
                c = self.curves[skey][r]
                if h is None:
                    c.setData([], [])
                    continue
                x, y = h.series(field)
                x, y = x[sel], y[sel]
                ok = np.isfinite(y)
                if not ok.any():
                    c.setData([], [])
                    continue
                c.setData(x[ok], y[ok])
                any_data = any_data or skey in _ONLY_WHEN.get(key, ((skey,), ""))[0]
                if r == 0 and skey in self.floor_labels:  # at the newest point: the floor for the current N
                    label = self.floor_labels[skey]
                    label.setText(f"{_FLOOR_LABELS[skey]} {float(y[ok][-1]):.3g}")
                    label.setAnchor((1, 1) if skey == "kl_expected" else (1, 0))  # KL above, TV below: apart
                    label.setPos(float(x[ok][-1]), float(y[ok][-1]))
                    label.setVisible(True)
        for skey, se_field in _BANDS.get(key, ()):
            for r in range(MAX_RUNS):
                h = self._histories[r] if r < len(self._histories) else None
                self._draw_band(self.bands[skey][r], h, self._selection(h), _field_of(key, skey), se_field)
        if key in _ONLY_WHEN:
            self._show_note(key, not any_data)
        self._step_x_range(key)

    def _mark_list(self) -> list[tuple[float, str]]:
        """Every run's marks (a mark before a history's first point sits on that point), newest last."""
        out: dict[tuple[float, str], None] = {}
        for h in self._histories:
            if not h.n:
                continue
            first = float(h.series("acceptance")[0][0])
            for step, text in h.marks:
                out[(first if not np.isfinite(step) else float(step), text)] = None
        return list(out)[-MAX_MARKS:]

    def _draw_marks(self) -> None:
        marks = self._mark_list()
        for key in _MARKED:
            lines = self._marks[key]
            while len(lines) < len(marks):
                colour = getattr(self, "mark_colour", _MARK_COLOUR)  # the theme's (ui.theme_extras)
                line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(colour, width=1.5, style=_DASH),
                                       label="", labelOpts={"position": 0.92, "color": colour,
                                                            "anchors": [(0, 0.5), (0, 0.5)]})
                self.plots[key].addItem(line, ignoreBounds=True)
                lines.append(line)
            for i, line in enumerate(lines):
                if i < len(marks):
                    line.setValue(marks[i][0])
                    line.label.setFormat(marks[i][1])
                    line.setVisible(True)
                else:
                    line.setVisible(False)

    def band(self, key: str, run: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps, lower, upper)`` of the band drawn around series ``key`` of run ``run`` (tests read this)."""
        lo, hi = self.bands[key][run]
        x, ylo = lo.getData()
        _, yhi = hi.getData()
        if x is None:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        return np.asarray(x), np.asarray(ylo), np.asarray(yhi)

    @staticmethod
    def _draw_band(pair: tuple[pg.PlotDataItem, pg.PlotDataItem], h: MetricsHistory | None, sel: slice,
                   field: str, se_field: str) -> None:
        lo, hi = pair
        if h is None:
            lo.setData([], [])
            hi.setData([], [])
            return
        x, y = h.series(field)
        _, se = h.series(se_field)
        x, y, se = x[sel], y[sel], se[sel]
        ok = np.isfinite(y) & np.isfinite(se)
        lo.setData(x[ok], y[ok] - BAND_SE * se[ok])
        hi.setData(x[ok], y[ok] + BAND_SE * se[ok])

    def _step_x_range(self, key: str) -> None:
        """Grow a time plot's x range in steps (:data:`_NICE_SPANS` x 10^k, >= 15% head room).

        A range that followed the newest step would rebuild the bottom axis (its tick text) at every
        refresh; in steps it is rebuilt about ten times per decade, and the data fill at least 65% of
        the width. The scroll window keeps auto-range.
        """
        plot = self.plots[key]
        steps = [h.series("acceptance")[0] for h in self._histories if h.n]
        if self.window.value() > 0 or not steps:
            self._x_ranges.pop(key, None)
            plot.enableAutoRange(x=True)
            return
        lo = min(float(s[0]) for s in steps)
        hi = max(float(s[-1]) for s in steps)
        current = self._x_ranges.get(key)
        if current is not None and current[0] == lo and hi <= current[1] and hi - lo > 0.25 * (current[1] - lo):
            return
        span = max(hi - lo, 1.0) * 1.15
        magnitude = 10.0 ** np.floor(np.log10(span))
        nice = next(m * magnitude for m in _NICE_SPANS if m * magnitude >= span)
        self._x_ranges[key] = (lo, lo + nice)
        plot.setXRange(lo, lo + nice, padding=0.02)

    def _show_note(self, key: str, on: bool) -> None:
        """Replace an empty, meaningless axis (and its grid) by a centred note (and back when data arrives)."""
        plot, note = self.plots[key], self.notes[key]
        if note.isVisible() == on:
            return
        note.setPos(plot.getViewBox().boundingRect().center())
        note.setVisible(on)
        for name in ("left", "bottom"):  # transparent, not hidden: a hidden axis would re-lay out every plot
            plot.getAxis(name).setOpacity(0.0 if on else 1.0)
        for _skey, _f, _style in _PLOTS[key][1]:
            for c in self.curves[_skey]:
                c.setVisible(not on)
        if plot.legend is not None:
            plot.legend.setVisible(not on)

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
        if getattr(self, "_bar_modes", None) != m:  # one tick per mode, whatever the number of modes
            self.plots["modes_bar"].setXRange(-0.6, m - 0.4, padding=0)
            self.plots["modes_bar"].getAxis("bottom").setTicks([[(j, str(j)) for j in range(m)]])
            self.plots["modes_bar"].getAxis("bottom").enableAutoSIPrefix(False)
            self._bar_modes = m
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
