"""Scenes in the app: File > Open / Save / Recent scenes, the Scenes menu (keys 1-5), and what a scene
puts on screen beyond the runs (which live panels show, the ULA-bias ellipses, the sweep sliders).

A scene is applied by handing the app model its run settings (the panels follow the model), its exact
landscape (built from the scene's ``[landscape]`` table, so a saved scene reruns bit for bit) and its
own runs, which the model plans as they are until the user changes a choice: then the runs follow the
settings again. Saving captures the runs that are live,
the landscape's ``spec()``, the view and the panels.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.safe_io import printable
from ebm_explorer.core.landscapes import Landscape, Tempered, landscape_from_spec
from ebm_explorer.core.run_settings import RunSpec
from ebm_explorer.scenes import (
    Scene,
    ViewSettings,
    list_builtin_scenes,
    load_builtin_scene,
    load_scene,
    save_scene,
)
from ebm_explorer.scenes.science import mixture_of, ula_ellipses, with_mode_weight
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.fisher_kl_panel import BetaPanel, FisherKLPanel
from ebm_explorer.ui.live_layout import METRIC_PLOTS, live_panels
from ebm_explorer.ui.ports import Shell, Views, menu
from ebm_explorer.workers.commands import CurveKey, OverlayKey
from ebm_explorer.ui.last_folder import get_open_file_name, get_save_file_name

__all__ = ["SceneController", "SceneParts", "METRIC_PLOTS", "MAX_RECENT", "menu"]

MAX_RECENT = 8
#: a run kind -> {setting name: (lowest, highest) value the app's field for it can show}
FieldRanges = Callable[[str], dict[str, tuple[float, float]]]


def _algorithm_of(run: RunSpec) -> str:
    """The name a compare-panel row shows for ``run`` (its sampler, training method or pt / smc)."""
    s = run.settings
    return s.sampler if run.kind == "sample" else s.method if run.kind == "train" else s.algorithm


@dataclass(frozen=True)
class SceneParts:
    """What the scene controller needs beyond the model and the shell."""

    views: Views  # the scene's overlays (ULA ellipses) are drawn on them
    settings: QtCore.QSettings  # the recent-scenes list persists here
    field_ranges: FieldRanges  # a scene the fields would clamp is refused
    editor_landscape: Callable[[], Landscape | None]  # the editor's landscape (saved before the model has one)
    show_landscape: Callable[[Landscape, Landscape, float], None]  # the editor shows a scene's landscape
    show_beta: Callable[[float, Landscape], None]  # the editor shows a sweep's temperature
    view_3d: Callable[[], bool]  # whether the 3-D view is on
    set_view_3d: Callable[[bool], None]


def scene_problem(field_ranges: FieldRanges, scene: Scene) -> str | None:
    """Why the app's fields cannot show ``scene`` exactly (a value beyond a field's range), or None.

    Checked before anything changes: a scene the fields would silently clamp is refused instead.
    """
    for i, run in enumerate(scene.runs):
        for name, (lo, hi) in field_ranges(run.kind).items():
            value = getattr(run.settings, name, None)
            if value is None:
                continue
            if not lo <= value <= hi:
                return (f"runs[{i}].{name} = {value:,} is outside what the app's field allows ({lo:,} to {hi:,}); "
                        f"the scene was not opened (`ebm-explorer run` runs it without a screen)")
    return None


def _base_and_beta(table: dict[str, Any]) -> tuple[Landscape, float]:
    """The landscape of a ``[landscape]`` table without its ``beta``, and the beta (1 when absent)."""
    base_table = {k: v for k, v in table.items() if k != "beta"}
    beta = float(table.get("beta", 1.0))
    return landscape_from_spec(copy.deepcopy(base_table)), beta


class SceneController(QtCore.QObject):
    """The scene menus and the scene-specific widgets (sweep dock, overlays); a scene goes to the model."""

    scene_applied = QtCore.Signal(object)  # Scene
    scene_retitled = QtCore.Signal(object)  # Scene: saved under a new title (now the scene on screen)

    @property
    def scene(self) -> Scene | None:
        """The scene on screen (held by the app model)."""
        return self.model.scene

    @property
    def sweep_base(self) -> Landscape | None:
        """The scene's landscape without beta or mode weight (its sweep builds on it); None: no sweep."""
        return self._base

    @sweep_base.setter
    def sweep_base(self, base: Landscape | None) -> None:
        self._base = base

    def __init__(self, model: AppModel, shell: Shell, parts: SceneParts) -> None:
        super().__init__(shell.frame)
        self.model = model
        self.shell = shell
        self.parts = parts
        window = shell.frame
        self.path: Path | None = None
        self.last_warnings: list[str] = []
        self._overlay_items: list[tuple[Any, Any]] = []  # (plot item, graphics item)
        self._overlay_generation = 0  # overlay curves of an older scene are dropped when they arrive
        self._base: Landscape | None = None  # the scene's landscape without beta (sweeps build on it)
        self._warning_box: QtWidgets.QMessageBox | None = None
        self.sweeping = False  # True while a sweep slider replaces the landscape (one undo step per drag)

        self.fisher_panel = FisherKLPanel()
        self.fisher_panel.point_wanted.connect(self._request_point)
        self.beta_panel = BetaPanel()
        self.beta_panel.beta_changed.connect(self.set_beta)
        self.sweep_dock = QtWidgets.QDockWidget("Sweep", window)
        self.sweep_dock.setObjectName("sweep_dock")
        holder = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(holder)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.fisher_panel)
        lay.addWidget(self.beta_panel)
        self.sweep_dock.setWidget(holder)
        self.sweep_dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                                    | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, self.sweep_dock)
        window.splitDockWidget(window.findChild(QtWidgets.QDockWidget, "metrics_dock"), self.sweep_dock,
                               QtCore.Qt.Orientation.Vertical)
        self.sweep_dock.setVisible(False)
        model.job_done.connect(self._on_job_done)
        self._build_menus()

    # ---- menus ---------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        w = self.shell.frame
        file_menu = self.shell.menu("&File")
        self.open_action = QtGui.QAction("&Open scene…", w)
        self.open_action.setShortcut(QtGui.QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_dialog)
        self.save_action = QtGui.QAction("&Save scene…", w)
        self.save_action.setShortcut(QtGui.QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(self.save_dialog)
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.save_action)
        self.recent_menu = file_menu.addMenu("Recent scenes")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        scenes_menu = self.shell.menu("&Scenes")
        self.scene_actions: dict[int, QtGui.QAction] = {}
        for number, name, _path in list_builtin_scenes():
            try:
                title = load_builtin_scene(number).title
            except UserInputError:
                title = f"{number}. {name}"
            a = QtGui.QAction(title, w)
            if 1 <= number <= 9:
                a.setShortcut(QtGui.QKeySequence(str(number)))
            a.triggered.connect(partial(self.open_builtin, number))
            w.addAction(a)  # the number keys work even where the menu bar is hidden (presenter mode)
            scenes_menu.addAction(a)
            self.scene_actions[number] = a
        scenes_menu.addSeparator()
        default = QtGui.QAction("Default scene", w)
        default.triggered.connect(partial(self.open_builtin, "default"))
        scenes_menu.addAction(default)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.recent_paths()
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for p in paths:
            self.recent_menu.addAction(p, partial(self.open_path, p))

    def recent_paths(self) -> list[str]:
        value = self.parts.settings.value("scenes/recent")
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []][:MAX_RECENT]

    def _remember(self, path: Path) -> None:
        p = str(Path(path).resolve())
        paths = [p] + [q for q in self.recent_paths() if q != p]
        self.parts.settings.setValue("scenes/recent", paths[:MAX_RECENT])
        self.parts.settings.sync()

    # ---- open / save ---------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.path.parent) if self.path else ""
        path, _ = get_open_file_name(self.shell.frame, "Open scene", start, "Scenes (*.toml)")
        if path:
            self.open_path(path)  # never raises

    def save_dialog(self) -> None:
        start = str(self.path) if self.path else "scene.toml"
        path, _ = get_save_file_name(self.shell.frame, "Save scene", start, "Scenes (*.toml)")
        if path:
            if not path.lower().endswith(".toml"):
                path += ".toml"
            title, ok = QtWidgets.QInputDialog.getText(
                self.shell.frame, "Save scene", "Title (shown in the window title and in presenter mode):",
                text=self.title_for(path))
            if ok:
                self.save_path(path, title=title.strip() or None)

    def title_for(self, path: str | Path) -> str:
        """The title offered when saving: the scene's own, or the file's name for an untitled one."""
        scene = self.scene
        if scene is None or scene.title in (Scene().title, "EBM Explorer"):
            return Path(path).stem.replace("_", " ")
        return scene.title

    def open_path(self, path: str | Path, start: bool | None = None) -> bool:
        """Open a scene file; problems go to the error banner (the previous scene stays, untouched),
        unknown keys to a non-blocking message. Never raises: a menu action must not crash the app."""
        try:
            scene, warnings = load_scene(path)  # a FIFO or a device is refused without blocking
        except UserInputError as exc:
            self.shell.show_error(f"Cannot open scene: {printable(exc, 400)}")
            return False
        except Exception as exc:  # noqa: BLE001 - any reader failure becomes a message
            self.shell.show_error(f"Cannot open scene {printable(path)}: {type(exc).__name__}: {printable(exc, 200)}")
            return False
        if not self.apply(scene, warnings, start=self.model.any_running if start is None else start):
            return False
        self.path = Path(path)
        self._remember(self.path)
        return True

    def open_builtin(self, key: int | str, start: bool = True) -> bool:
        """Open a built-in lecture scene (its number or ``"default"``); it starts animating."""
        try:
            scene = load_builtin_scene(key)
        except UserInputError as exc:
            self.shell.show_error(str(exc))
            return False
        if not self.apply(scene, [], start=start):
            return False
        self.path = None
        return True

    def save_path(self, path: str | Path, title: str | None = None) -> Path | None:
        """Save what is on screen as a scene (under ``title`` when given: the user's, kept in the file)."""
        try:
            scene = self.current_scene()
            if title:
                scene = replace(scene, title=title)
            written = save_scene(scene, path)
        except UserInputError as exc:
            self.shell.show_error(f"Cannot save scene: {exc}")
            return None
        self.path = written
        self._remember(written)
        if title and (self.scene is None or self.scene.title != title):
            self.model.set_scene(scene)  # the window title shows the saved title
            self.scene_retitled.emit(scene)  # what is on screen now (not an undo step)
        self.model.set_unsaved(False)
        self.shell.status(f"Scene saved to {written}", 5000)
        return written

    # ---- capture -------------------------------------------------------------------------------
    def current_scene(self) -> Scene:
        """Everything on screen as a :class:`Scene` (landscape, live runs, view, panels, sweep)."""
        m = self.model
        land = m.landscape if m.landscape is not None else self.parts.editor_landscape()
        if land is None:
            raise UserInputError("no landscape yet")
        try:
            table = land.spec()
        except NotImplementedError as exc:
            raise UserInputError(f"this landscape cannot be saved in a scene: {exc}") from None
        runs = list(m.specs or m.run_specs())  # the scene's own settings type: stored as they are
        display = m.display
        view = ViewSettings(show="energy" if display.background == "energy" else "density",
                            view_3d=self.parts.view_3d(), contours=display.contours, panels=display.panels,
                            overlays=self.scene.view.overlays if self.scene else ())
        if self.fisher_panel.isVisibleTo(self.sweep_dock) and "fisher_kl" not in view.panels:
            view = replace(view, panels=(*view.panels, "fisher_kl"))
        base = self.scene or Scene()
        return replace(base, landscape=copy.deepcopy(dict(table)), runs=tuple(runs[:4]), view=view)

    # ---- apply ---------------------------------------------------------------------------------
    def apply(self, scene: Scene, warnings: list[str] | None = None, start: bool = False) -> bool:
        """Put ``scene`` on screen: landscape, runs, view, panels, overlays and sweep. A scene the app cannot
        show (bad landscape, a value beyond a field) is refused before anything changes; returns whether
        it was applied."""
        m, shell = self.model, self.shell
        try:
            base, beta = _base_and_beta(dict(scene.landscape))
            problem = scene_problem(self.parts.field_ranges, scene)
        except UserInputError as exc:
            problem = str(exc)
        except Exception as exc:  # noqa: BLE001 - the scene is refused, the app runs on
            problem = f"{type(exc).__name__}: {exc}"
        if problem is not None:
            shell.show_error(f"Cannot open scene “{printable(scene.title, 80)}”: {printable(problem, 400)}")
            return False
        self.last_warnings = [printable(x) for x in warnings or []]
        if self.last_warnings:
            self._show_warnings(self.last_warnings)
        m.pause()
        shell.hide_error()
        m.set_scene(scene)  # the window title follows
        self._base = base
        land = Tempered(base, beta) if beta != 1.0 else base
        self._settings_from_runs(scene)
        self.parts.show_landscape(land, base, beta)
        m.set_landscape(land)  # the views say the reference is being computed (ui.reference_progress)
        compare = len(scene.runs) > 1 and scene.runs[0].kind != "generate"  # generation runs share one page
        m.set_compare(compare)  # the window follows (compare action, central view)
        if self.parts.view_3d() and (compare or not scene.view.view_3d):
            self.parts.set_view_3d(False)
        m.set_scene_runs(self._runs_of(scene))  # planned as they are until a choice changes
        show = scene.view.show
        if show == "density" and scene.runs[0].kind == "train":
            show = "learned"
        m.set_display(background=show, contours=scene.view.contours, panels=live_panels(scene.view.panels))
        m.rebuild_runs(start=start)
        if scene.view.view_3d and not compare:
            self.parts.set_view_3d(True)
        self._apply_overlays(scene)
        self._apply_sweep(scene, beta)
        self.scene_applied.emit(scene)
        return True

    def leave_scene(self) -> None:
        """No scene on screen any more (undo back to before the first scene): its overlays, sweep and
        run recipes go."""
        self._clear_overlays()
        self._overlay_generation += 1
        self.model.set_scene_runs(None)
        self._base = None
        self.sweep_dock.setVisible(False)

    def landscape_edited(self, _land: Any) -> None:
        """The user made another landscape: the scene's sweep (temperature, mode weight) belonged to the
        scene's landscape, so its dock closes (Ctrl+Z brings both back)."""
        if self.sweep_dock.isVisible():
            title = self.sweep_dock.windowTitle()
            self.sweep_dock.setVisible(False)
            self._base = None
            self.shell.status(f"{title} closed: it belonged to the scene's landscape (Ctrl+Z brings both back)",
                              8000)

    def _show_warnings(self, warnings: list[str]) -> None:
        if self._warning_box is not None:
            self._warning_box.close()
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "Scene opened with warnings",
                                    "The scene was opened; these entries were ignored (defaults used):\n\n"
                                    + "\n".join(warnings), QtWidgets.QMessageBox.StandardButton.Ok, self.shell.frame)
        box.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        box.show()
        self._warning_box = box
        self.shell.status(f"Scene opened with {len(warnings)} warning(s)", 10000)

    def _settings_from_runs(self, scene: Scene) -> None:
        """The scene's settings go to the model (the panels follow it); not an edit."""
        m = self.model
        sample = next((r.settings for r in scene.runs if r.kind == "sample"), None)
        train = next((r.settings for r in scene.runs if r.kind == "train"), None)
        tempered = next((r.settings for r in scene.runs if r.kind == "tempered"), None)
        if tempered is not None:
            m.set_tempered_settings(tempered, edited=False)
        generate = next((r.settings for r in scene.runs if r.kind == "generate"), None)
        if generate is not None:
            m.set_generate_state((generate, False), edited=False)
        if sample is not None:
            m.set_sample_settings(sample, edited=False)
        if train is not None:
            m.set_train_settings(train, edited=False)
        if len(scene.runs) > 1 and generate is None:
            m.set_compare_rows([(_algorithm_of(r), r.settings.step_size) for r in scene.runs], edited=False)
        m.set_mode(scene.runs[0].kind)  # the mode box follows

    def _runs_of(self, scene: Scene) -> list[RunSpec]:
        return [RunSpec(r.kind, r.display_label, r.settings) for r in scene.runs]

    # ---- overlays, sweep -----------------------------------------------------------------------
    def _clear_overlays(self) -> None:
        for plot, item in self._overlay_items:
            if isinstance(item, pg.LegendItem):
                if item.scene() is not None:
                    item.scene().removeItem(item)
            else:
                plot.removeItem(item)
        self._overlay_items = []

    def _apply_overlays(self, scene: Scene) -> None:
        """Ask the job thread for the scene's exact curves (ULA-bias ellipses); drawn when they arrive."""
        self._clear_overlays()
        self._overlay_generation += 1
        if "ula_ellipse" not in scene.view.overlays:
            return
        hs = {r.display_label: r.settings.step_size for r in scene.runs
              if r.kind == "sample" and r.settings.sampler == "ula"}
        self.model.submit_job(OverlayKey(self._overlay_generation), partial(ula_ellipses, self.model.landscape, hs))

    def _draw_overlays(self, curves: dict[str, np.ndarray]) -> None:
        n_runs = len(self.scene.runs) if self.scene is not None else 1
        views = self.parts.views.compare[:n_runs] if n_runs > 1 else [self.parts.views.main]
        for v in views:
            legend = pg.LegendItem(offset=(-8, 8), labelTextColor="w", brush=pg.mkBrush(0, 0, 0, 150))
            legend.setParentItem(v.plot.vb)
            for name, pts in curves.items():
                exact = name.startswith("exact")
                pen = pg.mkPen("w", width=2.5) if exact else pg.mkPen("#ff9f1c", width=3,
                                                                       style=QtCore.Qt.PenStyle.DashLine)
                item = pg.PlotDataItem(pts[:, 0], pts[:, 1], pen=pen)
                item.setZValue(20)
                v.plot.addItem(item)
                legend.addItem(item, "exact 2σ" if exact else name.replace(" (exact)", ": exact stationary 2σ"))
                self._overlay_items.append((v.plot, item))
            self._overlay_items.append((v.plot, legend))

    def _apply_sweep(self, scene: Scene, beta: float) -> None:
        sweep = scene.sweep
        self.fisher_panel.setVisible(False)
        self.beta_panel.setVisible(False)
        if sweep is None:
            self.sweep_dock.setVisible(False)
            return
        if sweep.parameter == "mode_weight":
            self.fisher_panel.setVisible(True)
            self.fisher_panel.set_sweep(sweep.mode, sweep.values)
            truth = self._base
            self.model.submit_job(CurveKey(), partial(_curve_job, truth, sweep.mode,
                                                      np.asarray(sweep.values, dtype=float)))
        else:
            self.beta_panel.setVisible(True)
            self.beta_panel.set_values(sweep.values, beta)
        self.sweep_dock.setVisible(True)
        self.sweep_dock.setWindowTitle("Fisher vs KL" if sweep.parameter == "mode_weight" else "Temperature")

    def _request_point(self, weight: float) -> None:
        """The w slider moved: the exact KL/Fisher point, and the landscape becomes the mixture with that
        weight (the walkers and the mode-weight panel follow it)."""
        if self._base is None or self.scene is None or self.scene.sweep is None:
            return
        self.model.submit_job(CurveKey(point=True), partial(_curve_job, self._base, self.scene.sweep.mode,
                                                            np.array([weight])))
        shown = mixture_of(self.model.landscape) if self.model.landscape is not None else None
        if shown is not None and abs(shown[0].weights[self.scene.sweep.mode] / np.sum(shown[0].weights) - weight) < 1e-12:
            return  # the landscape has this weight already (the slider was set, not moved)
        try:
            land = with_mode_weight(self._base, self.scene.sweep.mode, weight)
        except UserInputError as exc:
            self.shell.status(f"The landscape stays: {exc}", 8000)
            return
        self.parts.show_landscape(land, land, 1.0)
        self._set_sweep_landscape(land)

    def _set_sweep_landscape(self, land: Landscape) -> None:
        self.sweeping = True
        try:
            self.model.set_landscape(land)
        finally:
            self.sweeping = False

    def _on_job_done(self, job: Any) -> None:
        if isinstance(job.key, OverlayKey):
            if job.key.generation == self._overlay_generation:
                self._draw_overlays(job.result)
        elif job.key == CurveKey():
            self.fisher_panel.set_curve(job.result)
        elif job.key == CurveKey(point=True):
            self.fisher_panel.set_point(job.result)

    def set_beta(self, beta: float) -> None:
        """New inverse temperature: the live runs keep their walkers and re-equilibrate."""
        if self._base is None:
            return
        land = Tempered(self._base, beta) if beta != 1.0 else self._base
        self.parts.show_beta(beta, land)
        self._set_sweep_landscape(land)


def _curve_job(truth: Landscape, mode: int, values: np.ndarray) -> dict[str, np.ndarray]:
    """Runs in the job thread: exact KL and Fisher at these weights (grid 128: fast enough to drag)."""
    from ebm_explorer.scenes.science import mode_weight_curve

    return mode_weight_curve(truth, mode, values, resolution=128)
