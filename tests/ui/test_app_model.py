"""The app state lives in the app model; the window's widgets and views follow its signals."""

from __future__ import annotations

from dataclasses import replace

from ebm_explorer.scenes import load_builtin_scene

WAIT = 60000


def test_mode_compare_and_display_are_the_models_and_the_window_follows(qtbot, make_window) -> None:
    w = make_window()
    m = w.model
    m.set_display(background="energy", contours=False)
    assert w.background.currentData() == "energy" and not w.show_contours.isChecked()
    assert all(v.background == "energy" and not v.show_contours for v in w.all_views())
    w.show_trails.setChecked(False)  # a widget change goes to the model first
    assert m.display.trails is False and all(not v.show_trails for v in w.all_views())

    assert m.set_compare(True) and w.compare and w.compare_action.isChecked() and w.stack.currentIndex() == 1
    assert not m.set_compare(True)  # no change, no signal
    m.set_compare(False)
    assert not w.compare_action.isChecked() and w.stack.currentIndex() == 0
    m.set_mode("train")
    assert w.mode == "train" and w.mode_box.currentData() == "train"


def test_scene_on_screen_and_unsaved_edits(qtbot, make_window, tmp_path) -> None:
    w = make_window()
    scene = load_builtin_scene(3)
    w.scenes.apply(scene, start=False)
    assert w.model.scene is scene and w.scenes.scene is scene and not w.model.unsaved
    assert w.windowTitle() == f"EBM Explorer — {scene.title}"
    w.sampler_panel.step_size.setValue(0.033)  # an edit
    assert w.model.unsaved and w.windowTitle().startswith("* ")
    assert w.scenes.save_path(tmp_path / "s.toml") is not None
    assert not w.model.unsaved and not w.windowTitle().startswith("* ")


def test_panel_edit_reaches_the_model_and_the_legend_without_a_reset(qtbot, make_window) -> None:
    """The panel edits the model (no window in between); the legend named the old step size until Reset."""
    w = make_window()
    w.sampler_panel.algorithm.setCurrentIndex(w.sampler_panel.algorithm.findData("hmc"))
    w.sampler_panel.step_size.setValue(0.037)
    assert w.model.sample.sampler == "hmc" and w.model.sample.step_size == 0.037
    assert w.model.specs[0].label == "HMC h=0.037" and "HMC h=0.037" in w.metrics.legend.text()
    w.model.set_sample_settings(replace(w.model.sample, walkers=123), edited=False)  # e.g. from a scene
    assert w.sampler_panel.walkers.value() == 123  # the panel shows what the model holds
    w.place_start(0.5, -0.25)
    assert w.model.sample.init == "point" and w.model.sample.init_point == (0.5, -0.25)
    assert w.sampler_panel.init.currentData() == "point"
