"""Each controller works against the app model and fakes of its narrow interface: no main window.

The shell here is a plain QMainWindow with a central column and an error label; errors and status
messages are collected; the controller-specific parts are plain widgets and recording callbacks.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.landscapes import GaussianMixture
from ebm_explorer.core.run_settings import RunSpec, SampleSettings
from ebm_explorer.scenes import Scene, load_builtin_scene, save_scene
from ebm_explorer.scenes.state import SavedRun, save_run_states
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.autosave import AutosaveController
from ebm_explorer.ui.banners import BannerOverlay
from ebm_explorer.ui.export_actions import ExportController, ExportParts
from ebm_explorer.ui.fisher_kl_panel import FisherKLPanel
from ebm_explorer.ui.generate_view import GenerateView
from ebm_explorer.ui.landscape_view import LandscapeView
from ebm_explorer.ui.live_layout import LivePanelLayout
from ebm_explorer.ui.metrics_panel import MetricsPanel
from ebm_explorer.ui.ports import Shell, Views
from ebm_explorer.ui.presenter import PresenterMode, PresenterParts
from ebm_explorer.ui.reference_progress import ReferenceProgress
from ebm_explorer.ui.robustness import RobustnessController
from ebm_explorer.ui.scene_actions import SceneController, SceneParts
from ebm_explorer.ui.tempering_view import TemperingDisplay

pytestmark = pytest.mark.timeout(240)
WAIT = 120_000


class FakeFrame:
    """A shell over a bare QMainWindow; what the controller says is collected."""

    def __init__(self, qtbot) -> None:
        self.frame = QtWidgets.QMainWindow()
        qtbot.addWidget(self.frame)
        central = QtWidgets.QWidget()
        self.column = QtWidgets.QVBoxLayout(central)
        host = QtWidgets.QWidget()
        self.column.addWidget(host)
        self.frame.setCentralWidget(central)
        self.errors: list[str] = []
        self.hidden = 0
        self.shell = Shell(self.frame, self.column, BannerOverlay(host), self.errors.append, self._hide)

    def _hide(self) -> None:
        self.hidden += 1


@pytest.fixture
def model(qtbot):
    m = AppModel()
    yield m
    m.shutdown()


@pytest.fixture
def fake(qtbot):
    return FakeFrame(qtbot)


@pytest.fixture
def views(qtbot):
    main = LandscapeView()
    compare = tuple(LandscapeView(marginals=False) for _ in range(2))
    for v in (main, *compare):
        qtbot.addWidget(v)
    return Views(main, compare)


def _gmm() -> GaussianMixture:
    return GaussianMixture([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], stds=[0.5, 0.5])


def test_robustness_refuses_through_the_model(qtbot, model, fake, views) -> None:
    rc = RobustnessController(model, fake.shell, views)
    assert len(rc.walls) == len(views.all())
    model.reference_failed.emit("NaN region")
    assert rc.refused is not None and "NaN region" in rc.refused and rc.banner.isVisibleTo(fake.frame)
    model.set_landscape(_gmm())
    with qtbot.waitSignal(model.reference_ready, timeout=WAIT):
        pass
    assert rc.refused is None and not rc.banner.isVisibleTo(fake.frame)


def test_reference_progress_follows_the_reference_job(qtbot, model, fake, views) -> None:
    rp = ReferenceProgress(model, fake.shell, views)
    assert rp.computing  # no reference yet
    model.set_landscape(_gmm())
    assert views.compare[1].message.toPlainText().startswith("computing the exact reference")
    qtbot.waitUntil(lambda: not rp.computing, timeout=WAIT)
    assert model.reference is not None and not rp.bar.isVisibleTo(fake.frame)


def _export(qtbot, model, fake, views, started: list[int]) -> ExportController:
    metrics, fisher = MetricsPanel(), FisherKLPanel()
    qtbot.addWidget(metrics)
    qtbot.addWidget(fisher)
    parts = ExportParts(views, metrics, fisher, view_page=lambda: views.main, redraw=lambda: None,
                        capture_scene=lambda: Scene(title="fake"), start_runs=lambda: started.append(1))
    return ExportController(model, fake.shell, parts)


def test_export_controller_reads_runs_and_compare_from_the_model(qtbot, model, fake, views, tmp_path) -> None:
    started: list[int] = []
    ec = _export(qtbot, model, fake, views, started)
    assert ec.export_trajectories(tmp_path / "t.npz", dialog=False) is None
    assert fake.errors == ["Nothing to export: no run yet"]
    assert ec.landscape_target() is views.main
    model.set_compare(True)
    assert ec.landscape_target() is views.compare[0]
    menus = [a.text().replace("&", "") for a in fake.frame.menuBar().actions()]
    assert menus == ["File"]
    assert ec.export_image(views.main, tmp_path / "v.png", width=120) == tmp_path / "v.png"
    assert (tmp_path / "v.png").stat().st_size > 0 and ec.last_message.startswith("Exported")


def test_presenter_mode_changes_the_model_and_restyles_its_parts(qtbot, model, fake, views) -> None:
    metrics, fisher = MetricsPanel(), FisherKLPanel()
    readout = QtWidgets.QLabel("x, y")
    for w in (metrics, fisher):
        qtbot.addWidget(w)
    fake.column.addWidget(readout)
    drawn = FrameDrawn()
    layout = LivePanelLayout(model, fake.shell, metrics)
    tempering, generate = TemperingDisplay(), GenerateView()
    qtbot.addWidget(tempering)
    qtbot.addWidget(generate)
    pm = PresenterMode(model, fake.shell, PresenterParts(views, metrics, fisher, readout, drawn.frame_drawn,
                                                         tempering, generate))
    fake.frame.show()
    scene = load_builtin_scene(3)
    model.set_scene(scene)
    assert pm.title_label.text() == scene.title  # follows the model's scene
    pm.set_enabled(True, fullscreen=False)
    assert pm.active and model.display.one_column and pm.banner.isVisible() and not readout.isVisible()
    assert all(c == 0 for _r, c in _cells(metrics, layout))  # one column of wide plots
    snap = type("Snap", (), {"step": 42, "training": None})()
    model.latest = [snap]
    drawn.frame_drawn.emit()
    assert pm.counter_label.text() == "step 42"
    pm.set_enabled(False)
    assert not pm.active and not model.display.one_column and readout.isVisible()


class FrameDrawn(QtCore.QObject):
    frame_drawn = QtCore.Signal()


def _cells(metrics: MetricsPanel, layout: LivePanelLayout) -> list[tuple[int, int]]:
    """(row, column) of each visible plot (pyqtgraph's layout keeps item -> cells)."""
    ci = metrics.graphics.ci
    return [tuple(ci.items[metrics.plots[k]][0]) for k in layout.visible_plots()]


class SceneFakes:
    def __init__(self, views: Views, settings: QtCore.QSettings, ranges: dict[str, tuple[float, float]]) -> None:
        self.shown: list[tuple[object, object, float]] = []
        self.three_d = False
        self.parts = SceneParts(views, settings, field_ranges=lambda kind: ranges, editor_landscape=lambda: None,
                                show_landscape=lambda land, base, beta: self.shown.append((land, base, beta)),
                                show_beta=lambda beta, land: None, view_3d=lambda: self.three_d,
                                set_view_3d=self._set_3d)

    def _set_3d(self, on: bool) -> None:
        self.three_d = on


def test_scene_controller_puts_a_scene_into_the_model(qtbot, model, fake, views, tmp_path) -> None:
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    fakes = SceneFakes(views, settings, {"walkers": (1, 10)})
    sc = SceneController(model, fake.shell, fakes.parts)
    scene = load_builtin_scene(3)
    assert not sc.apply(scene)  # walkers beyond the (fake) field's range: refused, nothing changed
    assert "outside what the app's field allows" in fake.errors[-1] and model.scene is None and not model.specs

    fakes = SceneFakes(views, settings, {})
    sc = SceneController(model, fake.shell, fakes.parts)
    small = replace(scene, runs=tuple(replace(r, settings=replace(r.settings, walkers=50)) for r in scene.runs))
    assert sc.apply(small, start=False)
    assert model.scene is small and model.landscape is fakes.shown[-1][0]
    assert model.specs == [RunSpec(r.kind, r.display_label, r.settings) for r in small.runs]
    assert model.compare == (len(small.runs) > 1) and model.mode == small.runs[0].kind
    assert model.display.panels and set(model.display.panels) <= set(small.view.panels) | {"mean_energy"}
    saved = sc.save_path(tmp_path / "again.toml")
    assert saved is not None and sc.recent_paths() == [str(saved.resolve())]
    assert sc.current_scene().runs == small.runs  # captured back unchanged


def test_autosave_saves_the_models_runs_and_restores_through_its_callback(qtbot, model, fake, tmp_path) -> None:
    land = _gmm()
    model.set_landscape(land)
    model.set_runs([RunSpec("sample", "r", SampleSettings(walkers=50))])
    model.step(3)
    qtbot.waitUntil(lambda: model.latest[0] is not None and model.latest[0].step >= 3, timeout=WAIT)
    scene = Scene(landscape=land.spec(), runs=tuple(model.specs), title="fake scene")
    ac = AutosaveController(model, fake.shell, capture_scene=lambda: scene, apply_scene=lambda s: False,
                            directory=tmp_path, enabled=True)
    with qtbot.waitSignal(ac.saved, timeout=WAIT):
        ac.save_now()
    applied: list[Scene] = []
    other = FakeFrame(qtbot)
    ac2 = AutosaveController(model, other.shell, capture_scene=lambda: scene,
                             apply_scene=lambda s: applied.append(s) or True, directory=tmp_path, enabled=True)
    assert ac2.restore_pending and ac2.banner.isVisibleTo(other.frame)
    assert ac2.restore(0) and applied and applied[0].title == "fake scene"
    ac.clean_exit()
    ac2.clean_exit()
    assert not ac.slot.exists()


def test_autosave_offers_a_crashed_session(qtbot, model, fake, tmp_path) -> None:
    slot = tmp_path / "session-20260101-120000-999999999"
    slot.mkdir()
    save_scene(Scene(title="banana"), slot / "scene.toml")
    save_run_states(slot / "state.npz", [SavedRun("sample", 7, np.zeros((10, 2)))])
    refused: list[Scene] = []
    ac = AutosaveController(model, fake.shell, capture_scene=lambda: Scene(),
                            apply_scene=lambda s: (refused.append(s), False)[1], directory=tmp_path)
    assert ac.restore_pending and "restore it?" in ac.banner_label.text()
    assert not ac.restore(0) and refused[0].title == "banana" and ac.restore_pending  # refused: still offered
    ac.clean_exit()


def test_undo_history_works_on_the_model_an_editor_and_a_scene_controller(qtbot, model, fake, views,
                                                                         tmp_path) -> None:
    from ebm_explorer.ui.editor_panel import EditorPanel
    from ebm_explorer.ui.landscape_history import LandscapeHistory

    editor = EditorPanel()
    qtbot.addWidget(editor)
    editor.landscape_changed.connect(model.set_landscape)  # what the window wires
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    sc = SceneController(model, fake.shell, SceneFakes(views, settings, {}).parts)
    history = LandscapeHistory(model, fake.shell, editor, sc, views)
    editor.select_preset("gmm")
    qtbot.wait(20)
    first = model.landscape
    editor.select_preset("eight_gaussians")
    qtbot.wait(20)
    assert model.landscape is not first and history.stack.count() == 1
    history.undo_action.trigger()
    assert model.landscape is first and editor.preset_name == "gmm"
    assert [a.text().replace("&", "") for a in fake.frame.menuBar().actions()] == ["File", "Scenes", "Edit"]
