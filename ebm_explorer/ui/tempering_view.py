"""Tempered runs in the window: the settings tab (parallel tempering or annealed SMC) and the "Crossing
barriers" dock that shows what only these runs have.

* :class:`TemperingPanel`: one :class:`TemperedSettings` (the scene's, the worker's and the CLI's type),
  checked by its own ``validated()`` before it is sent; a refused combination is said under the fields
  and nothing changes.
* :class:`TemperingDisplay`: PT (replica selector, swap acceptance per neighbouring pair as bars, round
  trips, the beta = 1 replica's mode weights beside the exact ones) and SMC (ESS / N per level with the
  levels that resampled marked, log Z_t with its ±2 SE band beside the exact log Z_t, the estimate in
  words). It draws only what the worker sent (``TemperedSnapshot``).
* :class:`TemperingController`: the dock on the right, shown while a tempered run exists, and the replica
  choice sent to the PT worker.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.limits import RANGES
from ebm_explorer.core.run_settings import RunSpec, TemperedSettings
from ebm_explorer.core.samplers import MAX_LEAPFROG_STEPS
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.fields import SeedField
from ebm_explorer.ui.landscape_view import RUN_COLOURS
from ebm_explorer.ui.panels import _combo, _int_spin, _keep_device, _devices, _kept, log_spin
from ebm_explorer.ui.ports import Shell
from ebm_explorer.workers.tempering_messages import TemperedSnapshot

__all__ = ["TemperingPanel", "TemperingDisplay", "TemperingController", "ALGORITHM_NAMES"]

ALGORITHM_NAMES = {"pt": "Parallel tempering", "smc": "Annealed SMC (AIS + resampling)"}
_KERNELS = {"mh": "Random-walk MH", "mala": "MALA", "hmc": "HMC"}
_EXACT = "#ffffff"
_BAND = (76, 201, 240, 70)


class TemperingPanel(QtWidgets.QWidget):
    """The settings of a tempered run; emits ``changed`` with a validated :class:`TemperedSettings`."""

    changed = QtCore.Signal(object)  # TemperedSettings

    def __init__(self, settings: TemperedSettings = TemperedSettings(), parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = settings
        self._last_good = settings
        self.refused: str | None = None  # why the fields shown make no valid run (None: they do)
        form = QtWidgets.QFormLayout(self)
        self.algorithm = _combo(ALGORITHM_NAMES, settings.algorithm)
        self.kernel = _combo(_KERNELS, settings.kernel)
        self.kernel.setToolTip("Moves inside each replica / level; ULA is not offered: its bias would break the swap "
                               "test and the importance weights")
        self.step_size = log_spin(1e-4, 10.0, settings.step_size, name="Step size")
        self.leapfrog = _int_spin(1, MAX_LEAPFROG_STEPS, settings.leapfrog_steps, "Leapfrog steps")
        self.walkers = _int_spin(2, RANGES["walkers"][1], settings.walkers, "Walkers")
        self.walkers.setToolTip("PT: independent chains (each has every replica); SMC: weighted walkers")
        self.start = _combo({"uniform": "Uniform in the box", "gaussian": "Gaussian (truncated to the box)"},
                            settings.start)
        self.seed = SeedField(settings.seed)
        self.device = _combo(_devices(), settings.device)
        self.replicas = _int_spin(2, int(RANGES["replicas"][1]), settings.replicas, "Replicas")
        self.beta_min = log_spin(1e-4, 0.9999, settings.beta_min, name="Smallest beta")
        self.beta_min.setToolTip("The hottest replica's inverse temperature; the ladder is geometric from 1")
        self.swap_every = _int_spin(1, 100_000, settings.swap_every, "Swap every")
        self.swap_scheme = _combo({"even-odd": "Even / odd pairs", "random": "One random pair"}, settings.swap_scheme)
        self.schedule = _combo({"adaptive": "Adaptive (ESS target)", "fixed": "Fixed number of levels"},
                               "fixed" if settings.levels else "adaptive")
        self.levels = _int_spin(1, 10_000, settings.levels or 20, "Levels")
        self.target_ess = log_spin(0.01, 0.99, settings.target_ess, decimals=3, name="Target ESS / N")
        self.target_ess.setToolTip("Each next level is chosen so that the conditional ESS / N of its reweighting is this")
        self.moves = _int_spin(1, int(RANGES["moves"][1]), settings.moves, "Kernel steps per level")
        self.islands = _int_spin(2, int(RANGES["islands"][1]), settings.islands, "Islands")
        self.islands.setToolTip("Independent groups of walkers; their spread gives the standard error of log Z")
        self.levels_per_s = log_spin(0.1, 1000.0, settings.levels_per_s or 4.0, decimals=2, name="Levels per second")
        self.levels_per_s.setToolTip("Pace of the annealing animation (the speed slider can slow it further)")
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #e63946")
        self.message.setVisible(False)
        form.addRow("Algorithm", self.algorithm)
        form.addRow("Kernel", self.kernel)
        form.addRow("Step size", self.step_size)
        form.addRow("Leapfrog steps", self.leapfrog)
        form.addRow("Walkers", self.walkers)
        form.addRow("Start", self.start)
        form.addRow("Seed", self.seed)
        form.addRow("Device", self.device)
        self._pt_rows = [("Replicas", self.replicas), ("Smallest beta", self.beta_min), ("Swap every", self.swap_every),
                         ("Swap pairs", self.swap_scheme)]
        self._smc_rows = [("Schedule", self.schedule), ("Levels", self.levels), ("Target ESS / N", self.target_ess),
                          ("Steps per level", self.moves), ("Islands", self.islands), ("Levels per second", self.levels_per_s)]
        for label, w in self._pt_rows + self._smc_rows:
            form.addRow(label, w)
        form.addRow(self.message)
        hint = QtWidgets.QLabel("PT: the view shows the replica chosen in the Crossing barriers panel, over its own "
                                "tempered density. SMC: walkers are drawn with opacity by weight over the level's "
                                "exact density; Run replays a finished annealing.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        form.addRow(hint)
        for w in (self.algorithm, self.kernel, self.start, self.device, self.swap_scheme, self.schedule):
            w.currentIndexChanged.connect(self._emit)
        for w in (self.step_size, self.leapfrog, self.walkers, self.seed, self.replicas, self.beta_min, self.swap_every,
                  self.levels, self.target_ess, self.moves, self.islands, self.levels_per_s):
            w.valueChanged.connect(self._emit)
        self._update_visible()

    def fields(self) -> dict[str, Any]:
        """Setting name -> the field showing it (scenes check their values against the fields' ranges)."""
        return {"step_size": self.step_size, "leapfrog_steps": self.leapfrog, "walkers": self.walkers, "seed": self.seed,
                "replicas": self.replicas, "beta_min": self.beta_min, "swap_every": self.swap_every,
                "target_ess": self.target_ess, "moves": self.moves, "islands": self.islands}

    def _update_visible(self) -> None:
        pt = self.algorithm.currentData() == "pt"
        form: QtWidgets.QFormLayout = self.layout()  # type: ignore[assignment]
        for rows, on in ((self._pt_rows, pt), (self._smc_rows, not pt)):
            for _label, w in rows:
                w.setVisible(on)
                lab = form.labelForField(w)
                if lab is not None:
                    lab.setVisible(on)
        fixed = self.schedule.currentData() == "fixed"
        for w, on in ((self.levels, fixed and not pt), (self.target_ess, not fixed and not pt)):
            w.setVisible(on)
            lab = form.labelForField(w)
            if lab is not None:
                lab.setVisible(on)
        hmc = self.kernel.currentData() == "hmc"
        self.leapfrog.setVisible(hmc)
        lab = form.labelForField(self.leapfrog)
        if lab is not None:
            lab.setVisible(hmc)

    def _candidate(self) -> TemperedSettings:
        b = self._base
        return replace(
            b, algorithm=self.algorithm.currentData(), kernel=self.kernel.currentData(),
            step_size=_kept(self.step_size, b.step_size), leapfrog_steps=self.leapfrog.value(),
            walkers=self.walkers.value(), start=self.start.currentData(), seed=self.seed.value(),
            device=self.device.currentData(), replicas=self.replicas.value(),
            beta_min=_kept(self.beta_min, b.beta_min), swap_every=self.swap_every.value(),
            swap_scheme=self.swap_scheme.currentData(),
            levels=self.levels.value() if self.schedule.currentData() == "fixed" else 0,
            target_ess=_kept(self.target_ess, b.target_ess), moves=self.moves.value(), islands=self.islands.value(),
            levels_per_s=_kept(self.levels_per_s, b.levels_per_s))

    def settings(self) -> TemperedSettings:
        """The settings shown, if they make a valid run; else the last valid ones (the message says why)."""
        try:
            value = self._candidate().validated()
        except UserInputError as exc:
            self.refused = str(exc)
            self.message.setText(f"Not applied: {exc}")
            self.message.setVisible(True)
            return self._last_good
        self.refused = None
        self.message.setVisible(False)
        self._last_good = value
        return value

    def set_settings(self, settings: TemperedSettings) -> None:
        """Show ``settings`` (a scene's), without emitting ``changed``."""
        self._base = settings
        self._last_good = settings
        widgets = (self.algorithm, self.kernel, self.step_size, self.leapfrog, self.walkers, self.start, self.seed,
                   self.device, self.replicas, self.beta_min, self.swap_every, self.swap_scheme, self.schedule,
                   self.levels, self.target_ess, self.moves, self.islands, self.levels_per_s)
        for w in widgets:
            w.blockSignals(True)
        self.algorithm.setCurrentIndex(max(0, self.algorithm.findData(settings.algorithm)))
        self.kernel.setCurrentIndex(max(0, self.kernel.findData(settings.kernel)))
        self.step_size.setValue(settings.step_size)
        self.leapfrog.setValue(settings.leapfrog_steps)
        self.walkers.setValue(settings.walkers)
        self.start.setCurrentIndex(max(0, self.start.findData(settings.start)))
        self.seed.setValue(settings.seed)
        _keep_device(self.device, settings.device)
        self.replicas.setValue(settings.replicas)
        self.beta_min.setValue(settings.beta_min)
        self.swap_every.setValue(settings.swap_every)
        self.swap_scheme.setCurrentIndex(max(0, self.swap_scheme.findData(settings.swap_scheme)))
        self.schedule.setCurrentIndex(self.schedule.findData("fixed" if settings.levels else "adaptive"))
        if settings.levels:
            self.levels.setValue(settings.levels)
        self.target_ess.setValue(settings.target_ess)
        self.moves.setValue(settings.moves)
        self.islands.setValue(settings.islands)
        if settings.levels_per_s:
            self.levels_per_s.setValue(settings.levels_per_s)
        for w in widgets:
            w.blockSignals(False)
        self.refused = None
        self.message.setVisible(False)
        self._update_visible()

    def _emit(self, *_args: object) -> None:
        self._update_visible()
        value = self.settings()
        if self.refused is None:
            self.changed.emit(value)


def _num(x: float) -> str:
    """Four decimals, and never "-0.0000"."""
    return f"{round(float(x), 4) + 0.0:.4f}"


def _plot(graphics: pg.GraphicsLayoutWidget, row: int, title: str, left: str) -> pg.PlotItem:
    p = graphics.addPlot(row=row, col=0, title=title)
    p.setMenuEnabled(False)
    p.hideButtons()
    p.setMouseEnabled(False, False)
    p.showGrid(x=False, y=True, alpha=0.25)
    if left:
        p.setLabel("left", left)
    p.getAxis("left").enableAutoSIPrefix(False)
    p.getAxis("left").setWidth(48)
    return p


class TemperingDisplay(QtWidgets.QWidget):
    """The PT and SMC panels (see the module docstring); ``replica_chosen`` carries the selector's index."""

    replica_chosen = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QHBoxLayout(self)  # side by side: the dock sits under the live panels
        lay.setContentsMargins(2, 2, 2, 2)
        # ---- parallel tempering ----
        self.pt_box = QtWidgets.QGroupBox("Parallel tempering")
        pl = QtWidgets.QVBoxLayout(self.pt_box)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Replica shown"))
        self.replica = QtWidgets.QComboBox()
        self.replica.setToolTip("The landscape view shows this replica's walkers over its own tempered density")
        self.replica.currentIndexChanged.connect(lambda i: self.replica_chosen.emit(i) if i >= 0 else None)
        row.addWidget(self.replica, 1)
        pl.addLayout(row)
        self.pt_text = QtWidgets.QLabel("")
        self.pt_text.setObjectName("pt_summary")
        self.pt_text.setWordWrap(True)
        pl.addWidget(self.pt_text)
        self.pt_graphics = pg.GraphicsLayoutWidget()
        self.pt_graphics.setMinimumHeight(220)
        self.swap_plot = _plot(self.pt_graphics, 0, "Swap rate per pair", "")
        self.swap_plot.setYRange(0, 1, padding=0.02)
        self.swap_bars = pg.BarGraphItem(x=[0], height=[0], width=0.7, brush=RUN_COLOURS[0])
        self.swap_plot.addItem(self.swap_bars)
        self.modes_plot = _plot(self.pt_graphics, 1, "Masses at β = 1", "")
        self.modes_plot.setYRange(0, 1, padding=0.02)
        self.mode_bars = pg.BarGraphItem(x=[0], height=[0], width=0.6, brush=RUN_COLOURS[2])
        self.mode_err = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), pen=pg.mkPen("w", width=1.5))
        self.mode_exact = pg.PlotDataItem(pen=pg.mkPen(_EXACT, width=3), connect="finite")
        for item in (self.mode_bars, self.mode_err, self.mode_exact):
            self.modes_plot.addItem(item)
        pl.addWidget(self.pt_graphics, 1)
        self.pt_box.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        lay.addWidget(self.pt_box, 1)
        # ---- annealed SMC ----
        self.smc_box = QtWidgets.QGroupBox("Annealed SMC")
        sl = QtWidgets.QVBoxLayout(self.smc_box)
        self.smc_text = QtWidgets.QLabel("")
        self.smc_text.setObjectName("smc_summary")
        self.smc_text.setWordWrap(True)
        sl.addWidget(self.smc_text)
        self.smc_graphics = pg.GraphicsLayoutWidget()
        self.smc_graphics.setMinimumHeight(220)
        self.ess_plot = _plot(self.smc_graphics, 0, "ESS / N", "")
        self.ess_plot.setYRange(0, 1.05, padding=0)
        self.ess_curve = pg.PlotDataItem(pen=pg.mkPen(RUN_COLOURS[0], width=2), symbol="o", symbolSize=5,
                                         symbolBrush=RUN_COLOURS[0], symbolPen=None)
        self.resample_marks = pg.ScatterPlotItem(size=11, symbol="t1", brush=pg.mkBrush("#e63946"), pen=None)
        self.ess_plot.addItem(self.ess_curve)
        self.ess_plot.addItem(self.resample_marks)
        # the error, not log Z_t itself: log Z_t falls from log Z_0 to log Z by far more than its standard error,
        # so on that scale the band and the gap to the truth would be invisible
        self.logz_plot = _plot(self.smc_graphics, 1, "log Z_t error ±2 SE", "")
        self.logz_plot.setLabel("bottom", "level t")
        self.logz_plot.setXRange(0, 1, padding=0.02)
        self.ess_plot.setXLink(self.logz_plot)
        self.band_hi = pg.PlotDataItem(pen=None)
        self.band_lo = pg.PlotDataItem(pen=None)
        self.band = pg.FillBetweenItem(self.band_lo, self.band_hi, brush=pg.mkBrush(*_BAND))
        self.logz_curve = pg.PlotDataItem(pen=pg.mkPen(RUN_COLOURS[0], width=2.5))
        self.logz_exact = pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen(_EXACT, width=2, style=QtCore.Qt.PenStyle.DashLine),
                                          label="exact", labelOpts={"position": 0.92, "color": _EXACT})
        for item in (self.band_hi, self.band_lo, self.band, self.logz_exact, self.logz_curve):
            self.logz_plot.addItem(item)
        sl.addWidget(self.smc_graphics, 1)
        self.smc_box.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        lay.addWidget(self.smc_box, 1)
        self.pt_snapshot: TemperedSnapshot | None = None
        self.smc_snapshot: TemperedSnapshot | None = None
        self._dirty = False
        self.show_runs(None, None)

    def plots(self) -> list[pg.PlotItem]:
        """Every plot of the two boxes (presenter mode restyles them)."""
        return [self.swap_plot, self.modes_plot, self.ess_plot, self.logz_plot]

    def graphics(self) -> list[pg.GraphicsLayoutWidget]:
        return [self.pt_graphics, self.smc_graphics]

    # ---- inputs ----------------------------------------------------------------------------
    def show_runs(self, pt_label: str | None, smc_label: str | None) -> None:
        """Which boxes are shown (a run of that kind exists) and their titles; clears the old data."""
        self.pt_box.setVisible(pt_label is not None)
        self.smc_box.setVisible(smc_label is not None)
        self.pt_box.setTitle(pt_label or "Parallel tempering")
        self.smc_box.setTitle(smc_label or "Annealed SMC")
        self.pt_snapshot = self.smc_snapshot = None
        self.replica.blockSignals(True)
        self.replica.clear()
        self.replica.blockSignals(False)
        self.pt_text.setText("waiting for the first steps…")
        self.smc_text.setText("waiting for the first level…")
        self._dirty = True

    def set_snapshot(self, snap: TemperedSnapshot) -> None:
        if snap.pt is not None:
            self.pt_snapshot = snap
        if snap.smc is not None:
            self.smc_snapshot = snap
        self._dirty = True

    # ---- drawing (draw loop) -----------------------------------------------------------------
    def draw(self) -> bool:
        if not self._dirty or not self.isVisible():
            return False
        self._dirty = False
        if self.pt_snapshot is not None:
            self._draw_pt(self.pt_snapshot)
        if self.smc_snapshot is not None:
            self._draw_smc(self.smc_snapshot)
        return True

    def _draw_pt(self, snap: TemperedSnapshot) -> None:
        v = snap.pt
        r = len(v.betas)
        if self.replica.count() != r:
            self.replica.blockSignals(True)
            self.replica.clear()
            for i, b in enumerate(v.betas):
                self.replica.addItem(f"{i + 1}: β = {b:.3g}")
            self.replica.setCurrentIndex(v.replica)
            self.replica.blockSignals(False)
            self.swap_plot.getAxis("bottom").setTicks([[(i, f"{i + 1}–{i + 2}") for i in range(r - 1)]])
            self.swap_plot.setXRange(-0.6, r - 1.4, padding=0)
        rates = np.nan_to_num(v.swap_acceptance)
        self.swap_bars.setOpts(x=np.arange(r - 1), height=rates, width=0.7)
        m = v.mode_weights.size
        if m:
            x = np.arange(m)
            self.mode_bars.setOpts(x=x, height=v.mode_weights, width=0.6)
            self.mode_err.setData(x=x, y=v.mode_weights, height=4 * v.mode_weights_se, beam=0.15)
            xs = np.stack([x - 0.4, x + 0.4, np.full(m, np.nan)], axis=1).ravel()
            ys = np.stack([v.mode_weights_exact, v.mode_weights_exact, np.full(m, np.nan)], axis=1).ravel()
            self.mode_exact.setData(xs, ys, connect="finite")
            self.modes_plot.setXRange(-0.6, m - 0.4, padding=0)
            self.modes_plot.getAxis("bottom").setTicks([[(j, f"mode {j}") for j in range(m)]])
        per_chain = v.round_trips / max(1, snap.n_walkers)
        lines = [f"step {snap.step:,}: {v.round_trips:,} round trips ({per_chain:.1f} per chain)"]
        if m:
            z = np.abs(v.mode_weights - v.mode_weights_exact) / np.maximum(v.mode_weights_se, 1e-12)
            lines.append("β = 1: " + " / ".join(f"{a:.3f}" for a in v.mode_weights)
                         + ", exact (white) " + " / ".join(f"{a:.3f}" for a in v.mode_weights_exact)
                         + f" ({z.max():.1f} SE)")
            if v.replica:
                lines.append(f"replica {v.replica + 1} (β = {v.betas[v.replica]:.3g}): "
                             + " / ".join(f"{a:.3f}" for a in v.replica_mode_weights) + ", its exact "
                             + " / ".join(f"{a:.3f}" for a in v.replica_mode_weights_exact))
        self.pt_text.setText("\n".join(lines))

    def _draw_smc(self, snap: TemperedSnapshot) -> None:
        v = snap.smc
        ts = np.concatenate([[0.0], v.ts])
        ess = np.concatenate([[1.0], v.ess])
        self.ess_curve.setData(ts, ess)
        hit = v.resampled > 0
        self.resample_marks.setData(v.ts[hit], v.ess[hit])
        err = np.concatenate([[0.0], v.log_z - v.log_z_exact_t])  # NaN until the reference has arrived
        se = np.concatenate([[0.0], v.log_z_se])
        ok = np.isfinite(err)
        self.logz_curve.setData(ts[ok], err[ok])
        self.band_hi.setData(ts[ok], (err + 2 * se)[ok])
        self.band_lo.setData(ts[ok], (err - 2 * se)[ok])
        reach = float(np.nanmax(np.abs(err) + 2 * se)) if ok.any() else 0.1
        self.logz_plot.setYRange(-max(reach, 0.02) * 1.15, max(reach, 0.02) * 1.15, padding=0)
        if v.level:
            z = (v.log_z[-1] - v.log_z_exact_t[-1]) / v.log_z_se[-1] if v.log_z_se[-1] > 0 else float("nan")
            where = "t = 1: done" if v.finished else f"t = {v.t:.3f}"
            lines = [f"level {v.level} ({where}), ESS / N {v.ess[-1]:.2f}, {int(v.resampled.sum())} resamplings (▲)",
                     f"log Z_t = {_num(v.log_z[-1])} ± {v.log_z_se[-1]:.4f}, exact {_num(v.log_z_exact_t[-1])} ({z:+.1f} SE)"]
            if v.mode_weights.size:
                lines.append("masses " + " / ".join(f"{a:.3f}" for a in v.mode_weights)
                             + f" (± {np.nanmax(v.mode_weights_se):.3f}), exact "
                             + " / ".join(f"{a:.3f}" for a in v.mode_weights_exact))
            self.smc_text.setText("\n".join(lines))


class TemperingController(QtCore.QObject):
    """The "Crossing barriers" dock: shown while a tempered run exists; follows the model's runs and
    snapshots. ``draw`` adds the display to the window's draw loop."""

    def __init__(self, model: AppModel, shell: Shell, draw: Callable[[Any], None]) -> None:
        super().__init__(shell.frame)
        self.model = model
        self.frame = window = shell.frame
        self.display = TemperingDisplay()
        self.dock = QtWidgets.QDockWidget("Crossing barriers", window)
        self.dock.setObjectName("tempering_dock")
        self.dock.setWidget(self.display)
        self.dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        metrics = window.findChild(QtWidgets.QDockWidget, "metrics_dock")
        if metrics is not None:
            window.splitDockWidget(metrics, self.dock, QtCore.Qt.Orientation.Vertical)
        self.dock.setVisible(False)
        self._pt_index: int | None = None
        self._smc_index: int | None = None
        self.display.replica_chosen.connect(self.select_replica)
        model.runs_rebuilt.connect(self._on_runs)
        model.snapshot.connect(self._on_snapshot)
        draw(self.display)

    def _on_runs(self, specs: list[RunSpec]) -> None:
        kinds = [(i, s) for i, s in enumerate(specs) if s.kind == "tempered"]
        pt = next(((i, s) for i, s in kinds if s.settings.algorithm == "pt"), None)
        smc = next(((i, s) for i, s in kinds if s.settings.algorithm == "smc"), None)
        self._pt_index = pt[0] if pt else None
        self._smc_index = smc[0] if smc else None
        self.display.show_runs(pt[1].display_label if pt else None, smc[1].display_label if smc else None)
        shown = self.dock.isVisible()
        self.dock.setVisible(bool(kinds))
        metrics = self.frame.findChild(QtWidgets.QDockWidget, "metrics_dock")
        if kinds and not shown and metrics is not None and metrics.isVisible():
            h = max(400, metrics.height() + self.dock.height())  # the plots below get the larger share
            self.frame.resizeDocks([metrics, self.dock], [int(0.4 * h), int(0.6 * h)], QtCore.Qt.Orientation.Vertical)

    def _on_snapshot(self, snap: Any) -> None:
        if not isinstance(snap, TemperedSnapshot):
            return
        i = self.model.index_of(snap.run_id)
        if i is not None and i in (self._pt_index, self._smc_index):
            self.display.set_snapshot(snap)

    def probe_state(self) -> dict[str, Any]:
        """What the real-window tests read (``ui.probe``): the dock, its titles, texts and drawn values."""
        d = self.display
        heights = d.swap_bars.opts.get("height")
        _x, err = d.logz_curve.getData()
        return {"visible": self.dock.isVisible(), "title": self.dock.windowTitle(),
                "pt_title": d.pt_box.title() if d.pt_box.isVisible() else None,
                "smc_title": d.smc_box.title() if d.smc_box.isVisible() else None,
                "pt_text": d.pt_text.text(), "smc_text": d.smc_text.text(), "replicas": d.replica.count(),
                "swap_bars": [] if heights is None else [float(h) for h in np.asarray(heights, dtype=float)],
                "logz_points": 0 if err is None else int(len(err))}

    def select_replica(self, index: int) -> None:
        """Show replica ``index`` of the PT run (its worker sends that replica from now on)."""
        i = self._pt_index
        workers = self.model.workers
        if i is not None and i < len(workers) and hasattr(workers[i], "select_replica"):
            workers[i].select_replica(index)
