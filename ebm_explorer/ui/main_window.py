"""The main window: landscape view (2-D / 3-D / compare grid), editor and settings tabs, live panels,
run controls and status bar. Wires widgets to the :class:`AppModel`; computes nothing itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import GaussianMixture, GridLandscape
from ebm_explorer.core.run_settings import RunSpec, SampleSettings
from ebm_explorer.scenes import load_default_scene
from ebm_explorer.core.safe_io import printable
from ebm_explorer.ui.app_model import AppModel, DisplayOptions
from ebm_explorer.ui.compare_grid import CompareGrid
from ebm_explorer.ui.dock_fit import fit_controls
from ebm_explorer.ui.steady_width import keep_width
from ebm_explorer.ui.draw_loop import DrawLoop
from ebm_explorer.ui.editor_panel import EditorPanel
from ebm_explorer.ui.landscape_view import RUN_COLOURS, LandscapeView
from ebm_explorer.ui.metrics_panel import MAX_RUNS, MetricsPanel
from ebm_explorer.ui.export_actions import ExportController, ExportParts
from ebm_explorer.ui.generate_mode import GenerateMode
from ebm_explorer.ui.gui_thread_gc import collect_in_gui_thread
from ebm_explorer.ui.key_guard import EditorKeyGuard
from ebm_explorer.ui.landscape_history import LandscapeHistory
from ebm_explorer.ui.panel_truth import PanelTruth
from ebm_explorer.ui.panels import ComparePanel, SamplerPanel, TrainingPanel
from ebm_explorer.ui.ports import Shell, Views
from ebm_explorer.ui.live_layout import LivePanelLayout
from ebm_explorer.ui.presenter import PresenterMode, PresenterParts
from ebm_explorer.ui.autosave import AutosaveController
from ebm_explorer.ui.banners import BannerOverlay
from ebm_explorer.ui.reference_progress import ReferenceProgress
from ebm_explorer.ui.robustness import RobustnessController
from ebm_explorer.ui.scene_actions import SceneController, SceneParts
from ebm_explorer.ui.settings_binding import bind_settings_panels
from ebm_explorer.ui.surface_view import SurfaceView, gl_unavailable_reason
from ebm_explorer.ui.tempering_view import TemperingController, TemperingPanel
from ebm_explorer.workers.commands import ThumbnailKey
from ebm_explorer.workers.messages import JobDone, ReferenceReady, RunSnapshot, RunState, WorkerError

__all__ = ["MainWindow", "DEFAULT_PRESET", "SPEEDS"]

DEFAULT_PRESET = "gmm"
#: speed slider positions: maximum steps per second (0 = as fast as possible)
SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 0]


class _PlaceHandler:
    """Default mouse handling: a left click places the walkers' start point."""

    def __init__(self, place: Callable[[float, float], None], view: LandscapeView) -> None:
        self.place, self.view = place, view

    def click(self, x: float, y: float) -> bool:
        self.place(x, y)
        return True

    def drag(self, x: float, y: float, phase: str) -> bool:
        return False

    def wheel(self, x: float, y: float, steps: float) -> bool:
        return False

    def hover(self, x: float, y: float) -> None:
        self.view.set_brush_ring(0, 0, 0, False)


class MainWindow(QtWidgets.QMainWindow):
    """The EBM Explorer window. ``settings`` is where layout and choices persist (tests pass their own)."""

    def __init__(self, settings: QtCore.QSettings | None = None, autostart: bool = True,
                 restore: bool = True) -> None:
        super().__init__()
        collect_in_gui_thread(QtWidgets.QApplication.instance())  # worker threads never destroy Qt objects
        self.setWindowTitle("EBM Explorer")
        self.settings = settings if settings is not None else QtCore.QSettings("ebm-explorer", "ebm-explorer")
        self.model = AppModel(self)
        self.draw_loop = DrawLoop(self)
        self._closing = False
        self._layout_restored = False
        self._last_status = 0.0

        # ---- central: 2-D view, compare grid, 3-D view ----
        self.stack = QtWidgets.QStackedWidget()
        single = QtWidgets.QWidget()
        sl = QtWidgets.QVBoxLayout(single)
        sl.setContentsMargins(0, 0, 0, 0)
        self.views: list[LandscapeView] = [LandscapeView(colour=RUN_COLOURS[0])]
        sl.addWidget(self.views[0])
        self.stack.addWidget(single)
        self.compare_views: list[LandscapeView] = []
        for i in range(MAX_RUNS):
            self.compare_views.append(LandscapeView(marginals=False, colour=RUN_COLOURS[i], title=f"run {i + 1}"))
        self.stack.addWidget(CompareGrid(self.compare_views))
        self.surface: SurfaceView | None = None
        self.gl_reason = gl_unavailable_reason()
        self.surface_page = QtWidgets.QWidget()
        QtWidgets.QVBoxLayout(self.surface_page).setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(self.surface_page)

        central = QtWidgets.QWidget()
        cl = QtWidgets.QVBoxLayout(central)
        cl.setContentsMargins(2, 2, 2, 2)
        self.banners = BannerOverlay(self.stack)  # over the plot, never moving it (one banner per problem)
        self.error_banner = self.banners.label("error")
        self.shell = Shell(self, cl, self.banners, self.show_error, self.hide_error)  # what controllers get
        cl.addWidget(self.stack, 1)
        self.readout = QtWidgets.QLabel("Move the mouse over the landscape")
        self.readout.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        cl.addWidget(self.readout)
        self.setCentralWidget(central)

        # ---- left dock: editor and settings ----
        self.editor = EditorPanel()
        self.model.set_sample_settings(_default_sampling(), edited=False)
        self.sampler_panel = SamplerPanel(self.model.sample)
        self.training_panel = TrainingPanel(self.model.train)
        self.tempering_panel = TemperingPanel(self.model.tempered)
        self.compare_panel = ComparePanel()
        self.display_panel = self._build_display_panel()
        self.tabs = QtWidgets.QTabWidget()
        for w, name in ((self.editor, "Landscape"), (self.sampler_panel, "Sampler"),
                        (self.training_panel, "Training"), (self.compare_panel, "Compare"),
                        (self.display_panel, "Display"), (self.tempering_panel, "Tempering")):
            scroll = QtWidgets.QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(w)
            self.tabs.addTab(scroll, name)
        fit_controls(self.tabs)
        dock = QtWidgets.QDockWidget("Controls", self)
        dock.setObjectName("controls_dock")
        dock.setWidget(self.tabs)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.metrics = MetricsPanel()
        mdock = QtWidgets.QDockWidget("Live panels", self)
        mdock.setObjectName("metrics_dock")
        mdock.setWidget(self.metrics)
        mdock.setFeatures(dock.features())
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, mdock)
        self._docks = (dock, mdock)

        self._build_toolbar()
        self._build_status()

        # ---- wiring ----
        self.place_handler = _PlaceHandler(self.place_start, self.views[0])
        m = self.model
        m.reference_ready.connect(self._on_reference)
        m.snapshot.connect(self._on_snapshot)
        m.worker_error.connect(self._on_worker_error)
        m.run_state.connect(self._on_run_state)
        m.runs_rebuilt.connect(self._on_runs_rebuilt)
        m.job_done.connect(self._on_job_done)
        m.mode_changed.connect(self._on_mode_changed)
        m.compare_changed.connect(self._on_compare_changed)
        m.display_changed.connect(self._on_display_changed)
        m.scene_changed.connect(lambda _scene: self._update_title())
        m.edited_changed.connect(lambda _unsaved: self._update_title())
        self.editor.landscape_changed.connect(self._on_landscape_edited)
        self.editor.preview.connect(lambda e, b: self.views[0].preview_energy(e, b))
        self.editor.handler_changed.connect(self._update_handler)
        self.editor.centres_changed.connect(lambda c: self.views[0].set_centres(c))
        self.editor.brush_ring.connect(lambda x, y, r, vis: self.views[0].set_brush_ring(x, y, r, vis))
        self.editor.thumbnails_wanted.connect(m.submit_job)
        self.editor.set_current_energy_source(self._current_energy)
        bind_settings_panels(m, self.sampler_panel, self.training_panel, self.compare_panel, self.tempering_panel)
        m.settings_edited.connect(self.hide_error)
        m.sample_changed.connect(self._show_start_point)
        self.training_panel.use_as_landscape.connect(self.use_learned_landscape)
        self.tabs.currentChanged.connect(lambda _i: self._update_handler())
        for v in [*self.views, *self.compare_views]:
            v.hovered.connect(self.readout.setText)
            self.draw_loop.add(v)
        self.draw_loop.add(self.metrics)
        self.draw_loop.frame_drawn.connect(self._update_status)
        self._update_handler()
        self.key_guard = EditorKeyGuard(self)  # typing into a field or a table cell never triggers a shortcut
        # controllers: each gets the model, the shell and the few parts it needs (ui/ports.py), not the window
        # scenes (File/Scenes menus), live panels (View), presenter mode (F11), export/recording (File > Export)
        views = Views(self.views[0], tuple(self.compare_views))
        self.scenes = SceneController(m, self.shell, SceneParts(
            views, self.settings, field_ranges=self._field_ranges, editor_landscape=lambda: self.editor.current,
            show_landscape=self.editor.show_landscape, show_beta=self.editor.show_beta,
            view_3d=self.view3d_action.isChecked, set_view_3d=self.view3d_action.setChecked))
        self.editor.landscape_changed.connect(self.scenes.landscape_edited)
        self.live_panels = LivePanelLayout(m, self.shell, self.metrics)
        self.tempering = TemperingController(m, self.shell, self.draw_loop.add)  # PT / SMC: Crossing barriers
        self.generate = GenerateMode(self)  # the Generate tab, page and mode entry
        # Ctrl+Z / Ctrl+Shift+Z for landscape edits and scene switches
        self.history = LandscapeHistory(m, self.shell, self.editor, self.scenes, views)
        self.scenes.scene_retitled.connect(lambda _scene: self.history.resync())
        self.presenter = PresenterMode(m, self.shell, PresenterParts(
            views, self.metrics, self.scenes.fisher_panel, self.readout, self.draw_loop.frame_drawn,
            self.tempering.display, self.generate.view))
        self.exporter = ExportController(m, self.shell, ExportParts(
            views, self.metrics, self.scenes.fisher_panel, view_page=self.stack.currentWidget,
            redraw=self.draw_loop.tick, capture_scene=self.scenes.current_scene, start_runs=self.run))
        self.panel_truth = PanelTruth(self)  # legend, titles, change marks and panels follow the runs
        # degenerate landscapes, blown-up walkers, device fallbacks (banner, wall, counter); autosave
        self.robustness = RobustnessController(m, self.shell, views)
        self.reference_progress = ReferenceProgress(m, self.shell, views)
        self.autosave = AutosaveController(m, self.shell, self.scenes.current_scene,
                                           lambda scene: self.scenes.apply(scene, start=False),
                                           enabled=restore)  # off for screenshots (restore=False)

        self.resize(1600, 950)
        self.default_layout()
        if restore:
            self._restore_settings()
        self.editor.request_thumbnails()
        self.rebuild_runs(start=False)
        if self.editor.current is None:
            self.editor.select_preset(DEFAULT_PRESET)
        self.draw_loop.start()
        if autostart:
            self.run()

    def default_layout(self) -> None:
        """Controls narrow on the left, the live panels (two columns) on the right, the view between."""
        w = self.width()
        self.resizeDocks(list(self._docks), [300, max(520, int(0.44 * w))], QtCore.Qt.Orientation.Horizontal)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._layout_restored:
            self.default_layout()

    # ---- building blocks -----------------------------------------------------------------
    def _build_display_panel(self) -> QtWidgets.QWidget:
        w = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(w)
        self.background = QtWidgets.QComboBox()
        for key, label in (("density", "Density exp(-U)/Z"), ("energy", "Energy U"),
                           ("learned", "Learned density (training)")):
            self.background.addItem(label, key)
        self.walker_mode = QtWidgets.QComboBox()
        for key, label in (("auto", "Auto (points up to 3000)"), ("points", "Points"),
                           ("histogram", "Live density image")):
            self.walker_mode.addItem(label, key)
        self.show_contours = QtWidgets.QCheckBox("Contours of the exact density")
        self.show_contours.setChecked(True)
        self.show_trails = QtWidgets.QCheckBox("Trails of 4 walkers")
        self.show_trails.setChecked(True)
        form.addRow("Background", self.background)
        form.addRow("Walkers", self.walker_mode)
        form.addRow(self.show_contours)
        form.addRow(self.show_trails)
        legend = QtWidgets.QLabel(
            "White ring: selected walker. Its last proposal: green = accepted, red = rejected.\n"
            "Cyan: HMC leapfrog path. Orange line: trails.\n"
            "Training: white dots = data, orange = negative samples (walkers).\n"
            "Top/right: walker marginals vs exact (dashed).")
        legend.setWordWrap(True)
        legend.setStyleSheet("color: gray")
        form.addRow(legend)
        self.background.currentIndexChanged.connect(self._display_changed)
        self.walker_mode.currentIndexChanged.connect(self._display_changed)
        self.show_contours.toggled.connect(self._display_changed)
        self.show_trails.toggled.connect(self._display_changed)
        return w

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Run")
        tb.setObjectName("run_toolbar")
        tb.setMovable(False)
        self.mode_box = QtWidgets.QComboBox()
        self.mode_box.addItem("Sample", "sample")
        self.mode_box.addItem("Train", "train")
        self.mode_box.addItem("Tempered (PT / SMC)", "tempered")
        self.mode_box.currentIndexChanged.connect(lambda _i: self.set_mode(self.mode_box.currentData()))
        tb.addWidget(QtWidgets.QLabel(" Mode "))
        tb.addWidget(self.mode_box)
        tb.addSeparator()
        self.run_action = QtGui.QAction("Run", self)
        self.run_action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Space))
        self.run_action.setToolTip("Run / pause (Space)")
        self.run_action.triggered.connect(self.toggle_run)
        self.step_action = QtGui.QAction("Step", self)
        self.step_action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_N))
        self.step_action.setToolTip("One step (N)")
        self.step_action.triggered.connect(self.step)
        self.reset_action = QtGui.QAction("Reset", self)
        self.reset_action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_R))
        self.reset_action.setToolTip("Reset the walkers / the model (R)")
        self.reset_action.triggered.connect(self.reset)
        for a in (self.run_action, self.step_action, self.reset_action):
            tb.addAction(a)
        keep_width(tb.widgetForAction(self.run_action), ("Run", "Pause"))  # Run <-> Pause moves no button
        tb.addSeparator()
        tb.addWidget(QtWidgets.QLabel(" Speed "))
        self.speed = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(len(SPEEDS) - 1)
        self.speed.setFixedWidth(120)
        self.speed_label = QtWidgets.QLabel("max")
        self.speed_label.setMinimumWidth(70)
        self.speed.valueChanged.connect(self._speed_changed)
        tb.addWidget(self.speed)
        tb.addWidget(self.speed_label)
        tb.addSeparator()
        self.compare_action = QtGui.QAction("Compare", self)
        self.compare_action.setCheckable(True)
        self.compare_action.setToolTip("2-4 runs side by side on the same landscape and seed (Compare tab)")
        self.compare_action.toggled.connect(self.set_compare)
        tb.addAction(self.compare_action)
        self.view3d_action = QtGui.QAction("3-D view", self)
        self.view3d_action.setCheckable(True)
        if self.gl_reason is None:
            self.view3d_action.setToolTip("Show the energy surface in 3-D (drag to rotate)")
        else:
            self.view3d_action.setToolTip(f"3-D view unavailable: {self.gl_reason}")
        self.view3d_action.toggled.connect(self.set_3d)
        tb.addAction(self.view3d_action)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_rate = QtWidgets.QLabel("0 steps/s")
        self.status_walkers = QtWidgets.QLabel("walkers: -")
        self.status_step = QtWidgets.QLabel("step 0")
        self.status_state = QtWidgets.QLabel("paused")
        for w in (self.status_state, self.status_step, self.status_rate, self.status_walkers):
            w.setMinimumWidth(90)
            sb.addPermanentWidget(w)

    # ---- landscape -----------------------------------------------------------------------
    def _on_landscape_edited(self, land: Any) -> None:
        self.model.set_landscape(land)
        self.model.set_unsaved()
        for v in self.all_views():
            v.show_message("computing the exact reference…" if self.model.reference is None else "")

    def _on_reference(self, ref: ReferenceReady) -> None:
        for v in self.all_views():
            v.set_reference(ref)
            v.show_message("")  # the reference's warnings are the landscape banner's (robustness)
        if self.surface is not None:
            self.surface.set_reference(ref)
        self.views[0].set_centres(self.editor.mix_means if self.editor.source == "gmm" else None)

    def _current_energy(self) -> tuple[np.ndarray, tuple[float, float], Any] | None:
        ref = self.model.reference
        if ref is None:
            return None
        return ref.reference.energy, ref.energy_levels, ref.reference.box

    def all_views(self) -> list[LandscapeView]:
        return [*self.views, *self.compare_views]

    # ---- runs ----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """``sample``, ``train``, ``tempered`` or ``generate`` (held by the app model)."""
        return self.model.mode

    @property
    def compare(self) -> bool:
        """Compare mode (held by the app model)."""
        return self.model.compare

    def rebuild_runs(self, start: bool | None = None) -> None:
        """Replace the runs by the ones the panels (or a scene) now describe; ``start`` None keeps running."""
        if self.model.landscape is None and self.editor.current is not None:
            self.model.set_landscape(self.editor.current)
        if self.model.landscape is None:
            return
        self.hide_error()
        self.model.rebuild_runs(start)

    def _field_ranges(self, kind: str) -> dict[str, tuple[float, float]]:
        if kind == "tempered":
            return {k: (f.minimum(), f.maximum()) for k, f in self.tempering_panel.fields().items()}
        if kind == "generate":
            return self.generate.panel.field_ranges()
        return (self.sampler_panel if kind == "sample" else self.training_panel).field_ranges()

    def _show_start_point(self, settings: SampleSettings) -> None:
        self.views[0].set_start_point(settings.init_point if settings.init == "point" else None)

    def _on_runs_rebuilt(self, specs: list[RunSpec]) -> None:
        self.metrics.set_histories(self.model.histories, [s.label for s in specs])
        for i, v in enumerate(self.compare_views):
            v.setVisible(i < len(specs))
            if i < len(specs):
                v.plot.setTitle(specs[i].label, color=RUN_COLOURS[i])
            v.set_snapshot(None)
        self.views[0].set_snapshot(None)

    def _on_snapshot(self, snap: RunSnapshot) -> None:
        i = self.model.index_of(snap.run_id)
        if i is None:
            return
        if i == 0:
            self.views[0].set_snapshot(snap)
            if self.surface is not None:
                self.surface.set_snapshot(snap)
        if i < len(self.compare_views):
            self.compare_views[i].set_snapshot(snap)
        if snap.metrics is not None:
            self.metrics.mark_dirty()

    def _on_run_state(self, state: RunState) -> None:
        running = self.model.any_running
        self.run_action.setText("Pause" if running else "Run")
        self.status_state.setText(state.state if not running else "running")

    def _on_worker_error(self, err: WorkerError) -> None:
        i = self.model.index_of(err.run_id)
        who = f"Run {i + 1} ({self.model.specs[i].label})" if i is not None else "Background job"
        self.show_error(f"{who} stopped: {err.message}")

    def _on_job_done(self, job: JobDone) -> None:
        if isinstance(job.key, ThumbnailKey):
            self.editor.set_thumbnail(job.key.name, job.result)

    def show_error(self, text: str) -> None:
        self.banners.show_text("error", f"⚠ {text}")
        self.statusBar().showMessage(text, 15000)

    def hide_error(self) -> None:
        self.banners.clear("error")

    # ---- controls ------------------------------------------------------------------------
    def _refused(self) -> bool:
        """A refused landscape (not normalisable, NaN regions) starts no walkers: the status bar says why."""
        why = self.robustness.refused
        if why is not None:
            self.statusBar().showMessage(why, 15000)
        return why is not None

    def run(self) -> None:
        if self._refused():
            return
        if not self.model.workers:
            self.rebuild_runs(start=True)
            return
        for i, s in enumerate(self.model.states):
            if s in ("failed", "finished"):
                self.model.workers[i].reset()
        self.hide_error()
        self.model.run()

    def pause(self) -> None:
        self.model.pause()

    def toggle_run(self) -> None:
        if self.model.any_running:
            self.pause()
        else:
            self.run()

    def step(self) -> None:
        if self._refused():
            return
        if not self.model.workers:
            self.rebuild_runs(start=False)
        self.model.step(1)

    def reset(self) -> None:
        self.hide_error()
        self.model.reset()

    def _speed_changed(self, pos: int) -> None:
        v = SPEEDS[pos]
        self.speed_label.setText("max" if v == 0 else f"{v} steps/s")
        self.model.set_speed(v)

    def set_mode(self, mode: str) -> None:
        if self.model.set_mode(mode):
            self.model.set_display(background="learned" if mode == "train" else "density")
            self.rebuild_runs()

    def _on_mode_changed(self, mode: str) -> None:
        self.mode_box.blockSignals(True)
        self.mode_box.setCurrentIndex(self.mode_box.findData(mode))
        self.mode_box.blockSignals(False)

    def set_compare(self, on: bool) -> None:
        self.model.set_compare(on)
        self.rebuild_runs()

    def _on_compare_changed(self, on: bool) -> None:
        self.compare_action.blockSignals(True)
        self.compare_action.setChecked(on)
        self.compare_action.blockSignals(False)
        if on and self.view3d_action.isChecked():
            self.view3d_action.setChecked(False)
        self.stack.setCurrentIndex(1 if on else 0)

    def set_3d(self, on: bool) -> None:
        if on and self.gl_reason is not None:
            self.view3d_action.blockSignals(True)
            self.view3d_action.setChecked(False)
            self.view3d_action.blockSignals(False)
            self.show_error(f"3-D view unavailable: {self.gl_reason}")
            return
        if on:
            if self.surface is None:
                self.surface = SurfaceView()
                self.surface_page.layout().addWidget(self.surface)
                self.draw_loop.add(self.surface)
                if self.model.reference is not None:
                    self.surface.set_reference(self.model.reference)
                if self.model.latest and self.model.latest[0] is not None:
                    self.surface.set_snapshot(self.model.latest[0])
            if self.compare:
                self.set_compare(False)
            self.stack.setCurrentIndex(2)
        else:
            self.stack.setCurrentIndex(1 if self.compare else 0)

    def place_start(self, x: float, y: float) -> None:
        """Walkers restart at a clicked point (the sampler panel and the view follow the model)."""
        self.model.set_sample_settings(replace(self.model.sample, init="point", init_point=(float(x), float(y))))

    def use_learned_landscape(self) -> None:
        """Swap the model being trained in as the landscape (then sample it)."""
        snap = next((s for s, spec in zip(self.model.latest, self.model.specs)
                     if spec.kind == "train" and s is not None and s.training is not None), None)
        if snap is None or snap.training.model_spec is None:
            self.show_error("No trained model yet: run a training first.")
            return
        spec = snap.training.model_spec
        box = self.model.landscape.box
        try:
            if spec["kind"] == "gmm":
                land = GaussianMixture(spec["weights"], spec["means"], stds=spec["stds"], box=box)
            else:
                land = GridLandscape(spec["values"], box)
        except UserInputError as exc:
            self.show_error(f"Cannot use the learned energy: {exc}")
            return
        self.set_mode("sample")
        self.editor.set_landscape_object(land)

    def _display_changed(self, *_args: Any) -> None:
        """A display widget changed: the model takes it (and the views follow the model)."""
        self.model.set_display(background=self.background.currentData(), walker_mode=self.walker_mode.currentData(),
                               contours=self.show_contours.isChecked(), trails=self.show_trails.isChecked())

    def _on_display_changed(self, d: DisplayOptions) -> None:
        widgets = (self.background, self.walker_mode, self.show_contours, self.show_trails)
        for w in widgets:
            w.blockSignals(True)
        self.background.setCurrentIndex(max(0, self.background.findData(d.background)))
        self.walker_mode.setCurrentIndex(max(0, self.walker_mode.findData(d.walker_mode)))
        self.show_contours.setChecked(d.contours)
        self.show_trails.setChecked(d.trails)
        for w in widgets:
            w.blockSignals(False)
        for v in self.all_views():
            v.set_display(background=d.background, walker_mode=d.walker_mode, contours=d.contours, trails=d.trails)

    def _update_title(self) -> None:
        scene = self.model.scene
        title = "EBM Explorer" if scene is None else f"EBM Explorer — {printable(scene.title, 120)}"
        self.setWindowTitle(("* " if self.model.unsaved and scene is not None else "") + title)

    def _update_handler(self) -> None:
        handler = self.editor.active_handler() if self.tabs.currentIndex() == 0 else None
        self.views[0].set_handler(handler or self.place_handler)
        if handler is not self.editor.brush:
            self.views[0].set_brush_ring(0, 0, 0, False)
        for v in self.compare_views:
            v.set_handler(self.place_handler)

    def _update_status(self) -> None:
        snaps = [s for s in self.model.latest if s is not None]
        if not snaps:
            return
        rate = sum(s.steps_per_s for s in snaps) / len(snaps)
        self.status_rate.setText(f"{rate:,.0f} steps/s")
        self.status_walkers.setText(f"walkers: {snaps[0].n_walkers:,}")
        self.status_step.setText(f"step {max(s.step for s in snaps):,}")

    # ---- persistence ---------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = s.value("window/state")
        if state is not None:
            self._layout_restored = bool(self.restoreState(state))
        sampler = s.value("sampler")
        if isinstance(sampler, dict):
            sampler = {("walkers" if k == "n_walkers" else k): v for k, v in sampler.items()}  # older versions
            try:
                cfg = SampleSettings(**{k: _coerce(SampleSettings, k, v) for k, v in sampler.items()
                                        if k in SampleSettings.__dataclass_fields__})
                self.model.set_sample_settings(cfg.validated(), edited=False)
            except (TypeError, ValueError, UserInputError):
                pass
        formula = s.value("editor/formula")
        if isinstance(formula, str) and formula:
            self.editor.formula.blockSignals(True)
            self.editor.formula.setText(formula)
            self.editor.formula.blockSignals(False)
        beta = s.value("editor/beta")
        if beta is not None:
            self.editor.beta.blockSignals(True)
            self.editor.beta.setValue(float(beta))
            self.editor.beta.blockSignals(False)
        preset = s.value("editor/preset")
        names = {self.editor.gallery.item(i).data(QtCore.Qt.ItemDataRole.UserRole)
                 for i in range(self.editor.gallery.count())}
        if isinstance(preset, str) and preset in names:
            self.editor.select_preset(preset)
        bg = s.value("display/background")
        if isinstance(bg, str) and self.background.findData(bg) >= 0:
            self.background.setCurrentIndex(self.background.findData(bg))
        speed = s.value("run/speed")
        if speed is not None:
            self.speed.setValue(int(speed))

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        cfg = self.model.sample
        s.setValue("sampler", {k: getattr(cfg, k) for k in ("sampler", "step_size", "leapfrog_steps", "walkers",
                                                            "init", "seed", "device", "steps_per_frame")})
        s.setValue("editor/formula", self.editor.formula.text())
        s.setValue("editor/beta", self.editor.beta.value())
        s.setValue("editor/preset", self.editor.preset_name)
        s.setValue("display/background", self.background.currentData())
        s.setValue("run/speed", self.speed.value())
        s.sync()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Save settings, stop the draw loop and join every worker thread (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self.save_settings()
        self.draw_loop.stop()
        self.exporter.shutdown()
        self.autosave.clean_exit()
        self.model.shutdown()


def _default_sampling() -> SampleSettings:
    """The panel's first settings: the default scene's first sampler run (else the settings' defaults)."""
    try:
        run = load_default_scene().runs[0]
    except UserInputError:
        return SampleSettings()
    return run.settings if isinstance(run.settings, SampleSettings) else SampleSettings()


def _coerce(cls: Any, key: str, value: Any) -> Any:
    """QSettings (INI) gives strings back: convert to the dataclass field's type."""
    default = cls.__dataclass_fields__[key].default
    if isinstance(default, bool):
        return str(value).lower() in ("1", "true")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return str(value)
