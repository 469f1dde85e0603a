"""The Generate mode off-screen: the mode entry, the Generate tab's settings reaching the worker, scene 8
from its number key, the time slider showing the frame at its time, the table with the exact masses
beside the walkers' with and without weights, the score arrows and the learned score's progress."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.run_settings import GenerateSettings
from ebm_explorer.scenes import load_builtin_scene
from ebm_explorer.ui.generate_view import SLIDER_STEPS

WAIT = 240_000  # ms: a wait returns once its condition holds (2 test workers on 2 busy cores)


def _finished(w) -> bool:
    return bool(w.model.states) and all(s == "finished" for s in w.model.states) and all(
        s is not None and s.phase == "finished" for s in w.model.latest)


def test_generate_mode_runs_the_tab_settings(qtbot, make_window):
    w = make_window()
    w.mode_box.setCurrentIndex(w.mode_box.findData("generate"))
    assert w.mode == "generate" and w.stack.currentWidget() is w.generate.view
    assert not w.findChild(type(w.generate._metrics_dock), "metrics_dock").isVisible()
    p = w.generate.panel
    p.set_settings(GenerateSettings(path="vp", solver="ode", steps=8, walkers=500, seed=3))
    p.steps.setValue(6)  # a change through the field reaches the run
    qtbot.waitUntil(lambda: w.model.specs and w.model.specs[0].settings.steps == 6, timeout=WAIT)
    assert w.model.specs[0].kind == "generate" and w.model.specs[0].settings.solver == "ode"
    w.run()
    qtbot.waitUntil(lambda: _finished(w), timeout=WAIT)
    v = w.generate.view
    qtbot.waitUntil(lambda: v.probe_state()["frames"] == [7], timeout=WAIT)
    v.draw()
    state = v.probe_state()
    assert state["time_label"].startswith("t = 0.000") and "step 6 of 6" in state["time_label"]
    assert state["walkers_drawn"] == 500 and state["arrows_drawn"] > 0
    assert state["table"][0][0].startswith("exact ρ_t") and state["table"][1][0] == "run 1"
    # the slider picks the nearest frame: vp on 6 steps from t = 1 to 0
    v.slider.setValue(int(0.5 * SLIDER_STEPS))
    v.draw()
    f = v.frame_at(0)
    assert abs(f.t - 0.5) <= 1 / 12 + 1e-9 and f.step == 3 and f"step {f.step} of 6" in v.time_label.text()
    # three samplers side by side: three runs, three KL curves
    p.all_solvers.setChecked(True)
    qtbot.waitUntil(lambda: len(w.model.specs) == 3, timeout=WAIT)
    assert [s.settings.solver for s in w.model.specs] == ["sde", "ode", "annealed-langevin"]
    # back to sampling: the sampler's view and the live panels return
    w.mode_box.setCurrentIndex(w.mode_box.findData("sample"))
    assert w.stack.currentIndex() == 0 and w.generate._metrics_dock.isVisible()


@pytest.mark.slow  # scene 8 as it is: 10 and 500 steps of 10 000 walkers (about 50 s on 2 busy cores)
def test_scene_8_from_its_key_shows_wrong_and_corrected_masses(qtbot, make_window):
    w = make_window()
    scene = load_builtin_scene(8)
    assert [r.kind for r in scene.runs] == ["generate", "generate"]
    w.scenes.scene_actions[8].trigger()
    assert w.mode == "generate" and not w.compare and w.stack.currentWidget() is w.generate.view
    assert [s.label for s in w.model.specs] == [r.label for r in scene.runs]
    qtbot.waitUntil(lambda: _finished(w), timeout=WAIT)
    v = w.generate.view
    v.slider.triggerAction(QtWidgets.QAbstractSlider.SliderAction.SliderToMaximum)  # t = 0, as the End key
    v.draw()
    few = v.frame_at(0)
    many = v.frame_at(1)
    assert few.step == 10 and many.step == 500
    exact = few.mode_weights_exact
    n = 10_000
    se = np.sqrt(exact * (1 - exact) / n)
    # ten steps: the light mode is too light (more than 4 binomial SE); its weights fix it
    assert (exact[0] - few.mode_weights[0]) / se[0] > 4, few.mode_weights
    se_w = w.model.latest[0].mode_weights_se
    assert np.all(np.abs(few.mode_weights_weighted - exact) < 4 * se_w), (few.mode_weights_weighted, se_w)
    assert np.all(np.abs(many.mode_weights - exact) < 4 * se), many.mode_weights
    table = v.probe_state()["table"]
    assert "±" in table[1][2] and table[1][1].startswith(f"{few.mode_weights[0]:.3f}")
    # the slider follows no more once moved; Reset makes it follow again
    assert not v.follow
    w.reset()
    qtbot.waitUntil(lambda: v.follow, timeout=WAIT)


def test_learned_score_shows_training_progress(qtbot, make_window):
    w = make_window()
    w.mode_box.setCurrentIndex(w.mode_box.findData("generate"))
    w.generate.panel.set_settings(GenerateSettings(path="vp", solver="sde", steps=5, walkers=300, score="learned",
                                                   train_iterations=100))
    w.generate.panel.score.currentIndexChanged.emit(0)  # the panel's change signal rebuilds the run
    qtbot.waitUntil(lambda: w.model.specs and w.model.specs[0].settings.score == "learned", timeout=WAIT)
    w.run()
    v = w.generate.view
    seen = []

    def training_shown() -> bool:
        v.draw()
        seen.append(v.header.text())
        return "Training the score network" in v.header.text() and v.progress.isVisible()

    qtbot.waitUntil(training_shown, timeout=WAIT)
    qtbot.waitUntil(lambda: _finished(w), timeout=WAIT)
    v.mark_dirty()
    v.draw()
    assert "score learned in 100 iterations" in v.header.text() and not v.progress.isVisible()


def test_time_slider_keys(qtbot, make_window):
    w = make_window()
    v = w.generate.view
    w.mode_box.setCurrentIndex(w.mode_box.findData("generate"))
    v.slider.setFocus()
    start = v.slider.value()
    qtbot.keyClick(v.slider, QtCore.Qt.Key.Key_Right)
    assert v.slider.value() == start + 10 and not v.follow
    assert abs(v.t - (1 - (start + 10) / SLIDER_STEPS)) < 1e-12
