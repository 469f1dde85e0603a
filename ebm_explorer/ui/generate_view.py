"""The Generate mode's page: a time slider over t in [0, 1] and, at the chosen t, the exact noised density
rho_t, the walkers there (opacity by Jarzynski weight), the exact score as arrows, the KL of each run's
walkers against rho_t along t, the mass of the lightest mode along t, and a table of the mode masses with
and without the weights beside the exact ones.

It only draws what the generate workers sent (``GenerateSnapshot`` frames, kept here so the slider can go
back over a whole run); the nearest frame to the slider's t is shown. While a run is going the slider
follows it, until the user moves the slider (Reset or new runs: it follows again).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.ui.landscape_view import RUN_COLOURS
from ebm_explorer.workers.generate_messages import GenerateSnapshot, GenerationFrame

__all__ = ["GenerateView", "SLIDER_STEPS", "TABLE_COLUMNS"]

#: slider positions over t (position p is t = 1 - p / SLIDER_STEPS: noise on the left, data on the right)
SLIDER_STEPS = 1000
TABLE_COLUMNS = ("mode masses, equal weights", "with Jarzynski weights", "KL to ρ_t (floor)",
                 "KL weighted (floor)", "ESS/N")
#: walker opacity levels (brushes are shared per level)
_ALPHA_LEVELS = 12


def _fmt_masses(m: np.ndarray, se: np.ndarray | None = None) -> str:
    if m is None or not np.all(np.isfinite(m)):
        return "–"
    if se is not None and np.all(np.isfinite(se)) and len(se) == len(m):
        return " / ".join(f"{v:.3f} ± {e:.3f}" for v, e in zip(m, se))
    return " / ".join(f"{v:.3f}" for v in m)


def _fmt_kl(kl: float, floor: float) -> str:
    return "–" if not math.isfinite(kl) else f"{kl:.3f} ({floor:.3f})"


class GenerateView(QtWidgets.QWidget):
    """Frames of up to four generation runs, shown at the slider's time."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.frames: list[dict[int, GenerationFrame]] = []
        self.latest: list[GenerateSnapshot | None] = []
        self.box: tuple[float, float, float, float] | None = None
        self.follow = True
        self._dirty = True
        self._brushes: dict[tuple[int, int], list[QtGui.QBrush]] = {}
        self.line_width = 2.0  # of the curves, which are redrawn each frame (presenter mode: thicker)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QtWidgets.QHBoxLayout()
        self.header = QtWidgets.QLabel("Generate: press Run (Space)")
        self.header.setObjectName("generate_header")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setVisible(False)
        top.addWidget(self.header, 1)
        top.addWidget(self.progress)
        lay.addLayout(top)

        self.graphics = pg.GraphicsLayoutWidget()
        self.landscape = self.graphics.addPlot(row=0, col=0, rowspan=2)
        self.landscape.setAspectLocked(True)
        self.landscape.setTitle("exact ρ_t and the walkers at t")
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.landscape.addItem(self.image)
        self.arrows = pg.PlotDataItem(pen=pg.mkPen(255, 255, 255, 170, width=1.2), connect="pairs")
        self.arrows.setZValue(5)
        self.landscape.addItem(self.arrows)
        self.walkers = pg.ScatterPlotItem(size=3.5, pen=None)
        self.walkers.setZValue(10)
        self.landscape.addItem(self.walkers)
        self.message = pg.TextItem("", color="w", anchor=(0.5, 0.5))
        self.landscape.addItem(self.message)
        self.kl_plot = self.graphics.addPlot(row=0, col=1)
        self.kl_plot.setTitle("KL(walkers ‖ ρ_t): solid equal weights, dashed Jarzynski, dotted floor")
        self.kl_plot.setLabel("bottom", "t (noise → data)")
        self.kl_plot.invertX(True)
        self.kl_plot.setLogMode(False, True)
        self.legend = pg.LegendItem(offset=(-8, 8), labelTextColor="#d0d0d0", brush=pg.mkBrush(0, 0, 0, 150))
        self.legend.setParentItem(self.kl_plot.vb)
        self.mass_plot = self.graphics.addPlot(row=1, col=1)
        self.mass_plot.setTitle("mass of the light mode: white exact, solid walkers, dashed weighted")
        self.mass_plot.setLabel("bottom", "t (noise → data)")
        self.mass_plot.invertX(True)
        self.cursors = []
        for p in (self.kl_plot, self.mass_plot):
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#ffffff", width=1, style=QtCore.Qt.PenStyle.DashLine))
            p.addItem(line)
            self.cursors.append(line)
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 2)
        self._curves: list[pg.PlotDataItem] = []
        lay.addWidget(self.graphics, 1)

        self.table = QtWidgets.QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        # never wider than the page: the window's minimum width must not follow the table's text (a
        # scroll bar appears instead); the height follows the rows (_fit_table_height)
        self.table.setMinimumWidth(120)
        self.table.setStyleSheet("QTableWidget { background: #15171c; color: #d0d0d0; gridline-color: #3a3d45; } "
                                 "QHeaderView::section { background: #22252c; color: #d0d0d0; padding: 2px 6px; "
                                 "border: 0px; } QTableCornerButton::section { background: #22252c; border: 0px; }")
        self.table.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        lay.addWidget(self.table)

        row = QtWidgets.QHBoxLayout()
        options = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("noise  t = 1"))
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName("time_slider")
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setSingleStep(10)
        self.slider.setPageStep(100)
        self.slider.setToolTip("Time t of the picture: drag, or the arrow keys / Page Up / Page Down")
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderPressed.connect(self._user_took_slider)
        self.slider.actionTriggered.connect(lambda _a: self._user_took_slider())
        row.addWidget(self.slider, 1)
        row.addWidget(QtWidgets.QLabel("t = 0  data"))
        self.time_label = QtWidgets.QLabel("t = 1.000")
        self.time_label.setObjectName("time_label")
        options.addWidget(self.time_label, 1)
        self.run_box = QtWidgets.QComboBox()
        self.run_box.setToolTip("Whose walkers are drawn")
        self.run_box.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_box.setMinimumContentsLength(24)
        self.run_box.currentIndexChanged.connect(lambda _i: self.mark_dirty())
        options.addWidget(self.run_box)
        self.show_arrows = QtWidgets.QCheckBox("Score arrows")
        self.show_arrows.setChecked(True)
        self.show_arrows.toggled.connect(lambda _on: self.mark_dirty())
        self.by_weight = QtWidgets.QCheckBox("Opacity by weight")
        self.by_weight.setChecked(True)
        self.by_weight.toggled.connect(lambda _on: self.mark_dirty())
        options.addWidget(self.show_arrows)
        options.addWidget(self.by_weight)
        lay.addLayout(row)
        lay.addLayout(options)

    # ---- data ----------------------------------------------------------------------------
    @property
    def t(self) -> float:
        return 1.0 - self.slider.value() / SLIDER_STEPS

    def set_runs(self, labels: list[str]) -> None:
        """New runs: forget every frame, the slider follows the runs again."""
        self.labels = list(labels)
        self.frames = [{} for _ in labels]
        self.latest = [None] * len(labels)
        self.follow = True
        self.run_box.blockSignals(True)
        self.run_box.clear()
        for i, lab in enumerate(labels):
            self.run_box.addItem(f"walkers of run {i + 1}: {lab}")
        self.run_box.setVisible(len(labels) > 1)
        self.run_box.blockSignals(False)
        self.legend.clear()
        for i, lab in enumerate(labels):
            self.legend.addItem(pg.PlotDataItem(pen=pg.mkPen(RUN_COLOURS[i % len(RUN_COLOURS)], width=3)),
                                f"{i + 1}: {lab}")
        self._set_slider(1.0)
        self.mark_dirty()

    def add_snapshot(self, index: int, snap: GenerateSnapshot) -> None:
        if index >= len(self.frames):
            return
        frames = self.frames[index]
        for f in snap.frames:
            if f.step == 0:
                frames.clear()  # the run started again
            frames[f.step] = f
        self.latest[index] = snap
        self.box = snap.box
        if self.follow and index == self.selected and snap.frames:
            self._set_slider(min(f.t for f in frames.values()))
        self.mark_dirty()

    def restart(self) -> None:
        """Reset pressed: the slider follows the runs again."""
        self.follow = True

    @property
    def selected(self) -> int:
        return max(0, self.run_box.currentIndex())

    def frame_at(self, index: int, t: float | None = None) -> GenerationFrame | None:
        """The frame of run ``index`` nearest to ``t`` (the slider's time by default)."""
        if index >= len(self.frames) or not self.frames[index]:
            return None
        t = self.t if t is None else t
        return min(self.frames[index].values(), key=lambda f: (abs(f.t - t), f.step))

    def _set_slider(self, t: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(int(round((1.0 - t) * SLIDER_STEPS)))
        self.slider.blockSignals(False)
        self.mark_dirty()

    def _user_took_slider(self) -> None:
        self.follow = False

    def _slider_moved(self, _value: int) -> None:
        self.mark_dirty()

    def mark_dirty(self) -> None:
        self._dirty = True

    # ---- drawing -------------------------------------------------------------------------
    def draw(self) -> bool:
        if not self._dirty or not self.isVisible():
            return False
        self._dirty = False
        t = self.t
        sel = self.selected
        frame = self.frame_at(sel)
        self._draw_header(sel)
        shown_t = frame.t if frame is not None else t
        step = f"step {frame.step:,} of {self._total(sel):,}" if frame is not None else "no frame yet"
        self.time_label.setText(f"t = {shown_t:.3f}  ({step})")
        for c in self.cursors:
            c.setValue(shown_t)
        if self.box is not None:
            x0, x1, y0, y1 = self.box
            self.landscape.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)
        if frame is None:
            self.image.clear()
            self.walkers.setData([], [])
            self.arrows.setData([], [])
            if self.box is not None:
                self.message.setPos((self.box[0] + self.box[1]) / 2, (self.box[2] + self.box[3]) / 2)
            self.message.setText("no walkers yet: press Run (Space)" if not any(self.latest) else
                                 "training the score network…" if self._phase(sel) == "training" else "")
        else:
            self.message.setText("")
            self._draw_frame(sel, frame)
        self._draw_curves()
        self._draw_table()
        return True

    def _total(self, index: int) -> int:
        snap = self.latest[index] if index < len(self.latest) else None
        return 0 if snap is None else snap.total_steps

    def _phase(self, index: int) -> str:
        snap = self.latest[index] if index < len(self.latest) else None
        return "" if snap is None else snap.phase

    def _draw_header(self, sel: int) -> None:
        snap = self.latest[sel] if sel < len(self.latest) else None
        if snap is None:
            self.header.setText("Generate: press Run (Space)")
            self.progress.setVisible(False)
            return
        tr = snap.score_training
        if snap.phase == "training" and tr is not None:
            self.header.setText(f"Training the score network (denoising score matching): iteration "
                                f"{tr.iteration:,} / {tr.iterations:,}, loss {tr.loss:.3f}")
            self.progress.setRange(0, tr.iterations)
            self.progress.setValue(tr.iteration)
            self.progress.setVisible(True)
            return
        self.progress.setVisible(False)
        learned = f"; score learned in {tr.iterations:,} iterations (loss {tr.loss:.3f})" if tr is not None else ""
        word = "finished" if snap.phase == "finished" else "generating"
        resampled = f", resampled {snap.resample_count}×" if snap.resample_count else ""
        self.header.setText(f"{word}: step {snap.step:,} / {snap.total_steps:,}, {snap.n_walkers:,} walkers"
                            f"{resampled}{learned}")

    def _draw_frame(self, sel: int, f: GenerationFrame) -> None:
        x0, x1, y0, y1 = self.box if self.box is not None else (-1, 1, -1, 1)
        img = f.density
        self.image.setImage(img, autoLevels=False, levels=(0.0, float(max(img.max(), 1e-300))))
        self.image.setRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        if self.show_arrows.isChecked():
            self.arrows.setData(*self._arrow_segments(f))
        else:
            self.arrows.setData([], [])
        colour = RUN_COLOURS[sel % len(RUN_COLOURS)]
        pts = f.points
        if self.by_weight.isChecked() and np.ptp(f.weights) > 0:
            ref = max(float(np.quantile(f.weights, 0.9)), 1e-12)
            level = np.clip(f.weights / ref, 0.0, 1.0)
            level = np.clip(np.round(level * (_ALPHA_LEVELS - 1)), 0, _ALPHA_LEVELS - 1).astype(int)
            brushes = self._brush_levels(colour)
            self.walkers.setData(pts[:, 0], pts[:, 1], brush=[brushes[k] for k in level])
        else:
            self.walkers.setData(pts[:, 0], pts[:, 1], brush=pg.mkBrush(colour))

    def _brush_levels(self, colour: str) -> list[QtGui.QBrush]:
        key = (hash(colour), _ALPHA_LEVELS)
        if key not in self._brushes:
            c = QtGui.QColor(colour)
            out = []
            for k in range(_ALPHA_LEVELS):
                cc = QtGui.QColor(c)
                cc.setAlphaF(0.04 + 0.96 * k / (_ALPHA_LEVELS - 1))
                out.append(pg.mkBrush(cc))
            self._brushes[key] = out
        return self._brushes[key]

    def _arrow_segments(self, f: GenerationFrame) -> tuple[np.ndarray, np.ndarray]:
        """Line pairs (shaft and two head strokes per arrow), the longest arrow about one grid cell."""
        p, s = f.arrow_at.astype(np.float64), f.score.astype(np.float64)
        if len(p) < 2:
            return np.zeros(0), np.zeros(0)
        cell = float(np.min(np.ptp(p, axis=0)) / max(math.sqrt(len(p)) - 1, 1))
        mag = np.linalg.norm(s, axis=1)
        top = float(np.max(mag[np.isfinite(mag)])) if np.isfinite(mag).any() else 0.0
        if top <= 0:
            return np.zeros(0), np.zeros(0)
        length = 0.9 * cell * np.sqrt(np.clip(mag / top, 0, 1))  # sqrt: weak scores stay visible
        u = s / np.maximum(mag, 1e-300)[:, None]
        tip = p + u * length[:, None]
        back = -u * (0.35 * length)[:, None]
        side = np.stack([-u[:, 1], u[:, 0]], 1) * (0.2 * length)[:, None]
        segs = np.stack([p, tip, tip, tip + back + side, tip, tip + back - side], 1).reshape(-1, 2)
        return segs[:, 0], segs[:, 1]

    def _draw_curves(self) -> None:
        for c in self._curves:
            c.getViewBox().removeItem(c) if c.getViewBox() is not None else None
        self._curves = []
        light = None
        for i, frames in enumerate(self.frames):
            if not frames:
                continue
            fs = sorted(frames.values(), key=lambda f: f.step)
            ts = np.array([f.t for f in fs])
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            if light is None:
                light = int(np.argmin(fs[-1].mode_weights_exact)) if len(fs[-1].mode_weights_exact) > 1 else 0
            series = [(self.kl_plot, [f.kl for f in fs], QtCore.Qt.PenStyle.SolidLine, colour),
                      (self.kl_plot, [f.kl_floor for f in fs], QtCore.Qt.PenStyle.DotLine, colour),
                      (self.kl_plot, [f.kl_weighted for f in fs], QtCore.Qt.PenStyle.DashLine, colour)]
            if len(fs[-1].mode_weights) > light:
                series += [(self.mass_plot, [f.mode_weights[light] for f in fs], QtCore.Qt.PenStyle.SolidLine, colour),
                           (self.mass_plot, [f.mode_weights_weighted[light] for f in fs],
                            QtCore.Qt.PenStyle.DashLine, colour)]
                if i == 0:
                    series.append((self.mass_plot, [f.mode_weights_exact[light] for f in fs],
                                   QtCore.Qt.PenStyle.SolidLine, "#ffffff"))
            for plot, ys, style, col in series:
                y = np.asarray(ys, dtype=float)
                ok = np.isfinite(y) & ((y > 0) if plot is self.kl_plot else True)
                if not ok.any():
                    continue
                item = pg.PlotDataItem(ts[ok], y[ok], pen=pg.mkPen(col, width=self.line_width, style=style))
                plot.addItem(item)
                self._curves.append(item)
        if light is not None:
            self.mass_plot.setTitle(f"mass of the light mode {light + 1}: white exact, solid walkers, dashed weighted")

    def _draw_table(self) -> None:
        rows: list[tuple[str, list[str], str]] = []
        ref = self.frame_at(self.selected)
        if ref is not None:
            rows.append((f"exact ρ_t (t = {ref.t:.3f})", [_fmt_masses(ref.mode_weights_exact), "", "", "", ""], ""))
        for i, frames in enumerate(self.frames):
            f = self.frame_at(i)
            if f is None:
                continue
            snap = self.latest[i]
            se = snap.mode_weights_se if (snap is not None and snap.phase == "finished"
                                          and f.step == max(frames)) else None
            weighted = np.all(np.isfinite(f.mode_weights_weighted))
            rows.append((f"run {i + 1}",
                         [_fmt_masses(f.mode_weights, None if weighted else se),
                          _fmt_masses(f.mode_weights_weighted, se if weighted else None),
                          _fmt_kl(f.kl, f.kl_floor), _fmt_kl(f.kl_weighted, f.kl_floor_weighted),
                          f"{f.ess:.2f}"], RUN_COLOURS[i % len(RUN_COLOURS)]))
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([r[0] for r in rows])
        for r, (_name, cells, colour) in enumerate(rows):
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QtWidgets.QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(text)
                item.setForeground(QtGui.QBrush(QtGui.QColor(colour or "#ffffff")))
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """As tall as the header and the rows (and the scroll bar when the columns are wider than the page)."""
        t = self.table
        t.resizeRowsToContents()
        h = t.horizontalHeader().height() + sum(t.rowHeight(r) for r in range(t.rowCount())) + 2 * t.frameWidth()
        if t.horizontalScrollBar().isVisible():
            h += t.horizontalScrollBar().height()
        t.setFixedHeight(max(h, 40))

    def set_line_width(self, width: float) -> None:
        """Width of the KL and mass curves (presenter mode doubles it)."""
        self.line_width = float(width)
        self.mark_dirty()

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt naming
        """Small: this page sits in the window's central stack beside the others, and its rows of
        controls must not set the window's minimum width (at 1280 pixels they share the width)."""
        return QtCore.QSize(320, 300)

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 - Qt naming
        """Presenter mode changes the fonts: the table's rows and height follow at the next frame."""
        if event.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            self.mark_dirty()
        super().changeEvent(event)

    # ---- outside -------------------------------------------------------------------------
    def plots(self) -> list[tuple[pg.PlotItem, bool]]:
        """(plot, is the landscape plot) for the presenter's restyling."""
        return [(self.landscape, True), (self.kl_plot, False), (self.mass_plot, False)]

    def probe_state(self) -> dict[str, Any]:
        """What the real-window tests read (plain JSON values)."""
        rect = None
        if self.slider.isVisible():
            p = self.slider.mapToGlobal(self.slider.rect().topLeft())
            rect = [p.x(), p.y(), self.slider.width(), self.slider.height()]
        return {
            "visible": self.isVisible(), "t": self.t, "slider": self.slider.value(), "slider_rect": rect,
            "time_label": self.time_label.text(), "header": self.header.text(),
            "frames": [len(f) for f in self.frames], "labels": list(self.labels),
            "phases": [self._phase(i) for i in range(len(self.latest))],
            "table": [[self.table.verticalHeaderItem(r).text() if self.table.verticalHeaderItem(r) else ""]
                      + [self.table.item(r, c).text() if self.table.item(r, c) else "" for c in range(self.table.columnCount())]
                      for r in range(self.table.rowCount())],
            "walkers_drawn": len(self.walkers.data), "arrows_drawn": 0 if self.arrows.xData is None else len(self.arrows.xData),
            "curves": len(self._curves), "follow": self.follow,
        }
