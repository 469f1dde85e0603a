"""Scenes in the real window: save / open round trip bit for bit, warnings, the built-in lecture scenes
from the menu and the number keys, the sweeps, and presenter mode (off-screen)."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.landscapes import GaussianMixture, Tempered
from ebm_explorer.scenes import load_builtin_scene, load_scene

WAIT = 240_000  # ms: a wait returns once its condition holds; 4 min covers 2 test workers on 2 busy cores


def _ref_ready(w):
    return w.model.reference is not None and w.model.reference.version == w.model.version


def _at_step(w, k):
    return all(s is not None and s.step == k for s in w.model.latest) and len(w.model.latest) > 0


def test_save_and_open_reruns_the_same_walkers_bit_for_bit(qtbot, make_window, tmp_path):
    a = make_window(walkers=300)
    a.tabs.setCurrentIndex(0)
    a.editor.add_component()  # an edited mixture (3 components), not a preset
    a.sampler_panel.seed.setValue(11)
    a.sampler_panel.step_size.setValue(0.07)
    qtbot.waitUntil(lambda: isinstance(a.model.landscape, GaussianMixture) and _ref_ready(a), timeout=WAIT)
    path = tmp_path / "edited.toml"
    assert a.scenes.save_path(path) == path
    scene, warnings = load_scene(path)
    assert warnings == [] and len(scene.landscape["weights"]) == 3
    assert scene.runs[0].settings.seed == 11 and scene.runs[0].settings.walkers == 300
    assert str(path.resolve()) in a.scenes.recent_paths()

    b = make_window(walkers=50)  # different panel settings: the scene must override them
    assert b.scenes.open_path(path, start=False)
    qtbot.waitUntil(lambda: _ref_ready(b) and b.model.latest and b.model.latest[0] is not None, timeout=WAIT)
    assert b.model.landscape.spec() == a.model.landscape.spec()
    a.reset()
    qtbot.waitUntil(lambda: _at_step(a, 0), timeout=WAIT)
    k = 7
    for _ in range(k):
        a.step()
        b.step()
    qtbot.waitUntil(lambda: _at_step(a, k) and _at_step(b, k), timeout=WAIT)
    pa, pb = a.model.latest[0].walkers, b.model.latest[0].walkers
    assert pa.points.shape == pb.points.shape == (300, 2)
    np.testing.assert_array_equal(pa.points, pb.points)
    np.testing.assert_array_equal(pa.point_energy, pb.point_energy)
    buf = b.model.workers[0].recent.copy()  # the export buffer holds the same walkers
    np.testing.assert_array_equal(buf.positions[-1], pa.points[: buf.n_walkers])
    assert list(buf.steps) == list(range(k + 1))


def test_unknown_and_missing_keys_open_with_a_non_blocking_message(qtbot, make_window, tmp_path):
    path = tmp_path / "odd.toml"
    path.write_text('format_version = 1\ncolour = "red"\n[landscape]\nkind = "preset"\nname = "double_well"\n'
                    '[[runs]]\nsampler = "mh"\nwobble = 3\n', encoding="utf-8")
    w = make_window()
    assert w.scenes.open_path(path, start=False)
    assert len(w.scenes.last_warnings) == 2
    box = w.scenes._warning_box
    assert box is not None and box.isVisible() and box.windowModality() == QtCore.Qt.WindowModality.NonModal
    assert "colour" in box.text() and "wobble" in box.text()
    qtbot.waitUntil(lambda: _ref_ready(w) and w.model.latest and w.model.latest[0] is not None, timeout=WAIT)
    assert w.model.specs[0].settings.sampler == "mh"
    assert w.model.specs[0].settings.walkers == 1000  # missing key: the scene default
    bad = tmp_path / "bad.toml"
    bad.write_text("format_version = 1\n[landscape\n", encoding="utf-8")
    assert not w.scenes.open_path(bad)
    assert w.error_banner.isVisible() and "bad.toml" in w.error_banner.text()


def _animates(qtbot, w, n_runs, min_step=2):
    qtbot.waitUntil(lambda: len(w.model.latest) == n_runs
                    and all(s is not None and s.step >= min_step for s in w.model.latest), timeout=WAIT)


def test_builtin_scenes_from_menu_and_number_keys_animate(qtbot, make_window, wait_paused):
    w = make_window()
    w.windowHandle().requestActivate()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)  # shortcuts reach the active window only
    # scene 2 by its number key, the others from the Scenes menu
    qtbot.keyClick(w, QtCore.Qt.Key.Key_2)
    qtbot.waitUntil(lambda: w.scenes.scene is not None, timeout=5000)
    scene2 = load_builtin_scene(2)
    assert w.scenes.scene.title == scene2.title and w.compare
    _animates(qtbot, w, 2)
    # exact + ULA ellipse and a legend on each of the 2 views, computed in the job thread
    qtbot.waitUntil(lambda: len(w.scenes._overlay_items) == 2 * 3, timeout=WAIT)
    exact = next(item for _p, item in w.scenes._overlay_items if hasattr(item, "getData"))
    x, y = exact.getData()
    # exact 2-sigma ellipse of N(0, [[1, .8], [.8, 1]]): its widest x extent is 2 * sqrt(Sigma_xx) = 2
    assert abs(np.max(x) - 2.0) < 1e-3

    w.scenes.scene_actions[4].trigger()
    assert w.scenes.scene.title.startswith("4.") and [s.settings.sampler for s in w.model.specs] == ["mh", "mala", "hmc"]
    _animates(qtbot, w, 3)
    assert {"modes_bar", "modes_time"} <= set(w.live_panels.visible_plots())

    w.scenes.scene_actions[3].trigger()
    assert w.scenes.fisher_panel.isVisibleTo(w) and w.scenes.sweep_dock.isVisibleTo(w)
    _animates(qtbot, w, 1)
    qtbot.waitUntil(lambda: w.scenes.fisher_panel.curve is not None, timeout=WAIT)
    curve = w.scenes.fisher_panel.curve
    mid = int(np.argmin(np.abs(curve["weight"] - 0.5)))
    assert curve["kl"][mid] < 1e-6 and curve["kl"][0] > 1.0  # zero at the truth, large for a lopsided model
    assert np.max(curve["fisher"]) < 1e-2  # the score is blind to the weights
    w.scenes.fisher_panel.slider.setValue(10)
    qtbot.waitUntil(lambda: w.scenes.fisher_panel.point is not None
                    and abs(w.scenes.fisher_panel.point["weight"][0] - 0.1) < 1e-12, timeout=WAIT)
    assert w.scenes.fisher_panel.marker.value() == 0.1

    w.scenes.scene_actions[5].trigger()
    assert w.scenes.beta_panel.isVisibleTo(w)
    _animates(qtbot, w, 1)
    w.pause()
    wait_paused(w)
    before = w.model.latest[0]
    w.scenes.beta_panel.set_beta(4.0)
    assert isinstance(w.model.landscape, Tempered) and w.model.landscape.beta == 4.0
    qtbot.waitUntil(lambda: w.model.latest[0] is not before, timeout=WAIT)
    after = w.model.latest[0]
    assert after.step == before.step  # the same run: not restarted
    np.testing.assert_array_equal(after.walkers.points, before.walkers.points)  # walkers kept where they were
    w.run()
    qtbot.waitUntil(lambda: w.model.latest[0].step > before.step + 2, timeout=WAIT)

    w.scenes.scene_actions[1].trigger()
    assert [s.kind for s in w.model.specs] == ["train"] * 3
    assert [s.settings.method for s in w.model.specs] == ["cd", "pcd", "jarzynski"]
    _animates(qtbot, w, 3, min_step=1)
    m = w.model.latest[0].training
    assert m is not None and m.model_spec["kind"] == "gmm"


def test_presenter_mode_toggles_and_shows_the_title(qtbot, make_window):
    w = make_window()
    w.scenes.open_builtin(2, start=False)
    controls = w.findChild(QtWidgets.QDockWidget, "controls_dock")
    assert controls.isVisible() and not w.presenter.banner.isVisible()
    w.presenter.action.trigger()  # F11
    assert w.presenter.active and w.presenter.banner.isVisible()
    assert w.presenter.title_label.text() == load_builtin_scene(2).title
    assert "ULA" in w.presenter.explanation_label.text()
    assert not controls.isVisible() and not w.menuBar().isVisible()
    pen = w.metrics.curves["kl"][0].opts["pen"]
    assert pen.widthF() >= 3.0  # thick lines
    w.presenter.theme_action.trigger()
    assert w.presenter.theme == "light"
    w.presenter.action.trigger()
    assert not w.presenter.active and controls.isVisible() and not w.presenter.banner.isVisible()
    assert w.metrics.curves["kl"][0].opts["pen"].widthF() < 3.0
