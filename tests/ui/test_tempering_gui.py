"""Tempered runs in the window (off-screen): the Tempered mode and its tab, the Crossing barriers dock
drawing exactly what the worker sent, the replica selector, SMC's weighted walkers, and scene 6."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ebm_explorer.workers.tempering_messages import TemperedSnapshot

WAIT = 240_000  # ms: a wait returns once its condition holds


def _ref_ready(w):
    return w.model.reference is not None and w.model.reference.version == w.model.version


def _latest(w, i=0):
    s = w.model.latest[i] if len(w.model.latest) > i else None
    return s if isinstance(s, TemperedSnapshot) else None


def test_tempered_mode_pt_dock_shows_the_workers_swap_rates_and_any_replica(qtbot, make_window):
    w = make_window()
    p = w.tempering_panel
    p.walkers.setValue(300)
    p.replicas.setValue(4)
    w.set_mode("tempered")
    assert w.mode_box.currentData() == "tempered"
    assert w.model.specs[0].kind == "tempered" and w.model.specs[0].settings.replicas == 4
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.model.step(30)
    qtbot.waitUntil(lambda: _latest(w) is not None and _latest(w).step == 30 and _latest(w).pt.mode_weights.size > 0,
                    timeout=WAIT)
    d = w.tempering.display
    assert w.tempering.dock.isVisible() and d.pt_box.isVisible() and not d.smc_box.isVisible()
    snap = _latest(w)
    qtbot.waitUntil(lambda: d.replica.count() == 4 and d.pt_text.text().startswith("step 30:"), timeout=WAIT)
    heights = d.swap_bars.opts["height"]
    np.testing.assert_allclose(heights, np.nan_to_num(snap.pt.swap_acceptance))
    assert np.all(heights > 0)
    np.testing.assert_allclose(d.mode_bars.opts["height"], snap.pt.mode_weights)
    # replica 4 (the hottest): the worker sends it, the view draws it over its tempered density
    d.replica.setCurrentIndex(3)
    qtbot.waitUntil(lambda: _latest(w).pt.replica == 3, timeout=WAIT)
    qtbot.waitUntil(lambda: w.views[0].colorbar.axis.labelText.startswith("exact density at beta"), timeout=WAIT)
    np.testing.assert_array_equal(w.views[0].image.image, _latest(w).background)
    assert "replica 4" in d.pt_text.text()


def test_smc_in_the_window_weights_as_opacity_and_log_z_against_the_exact_value(qtbot, make_window):
    w = make_window()
    p = w.tempering_panel
    p.algorithm.setCurrentIndex(p.algorithm.findData("smc"))
    p.walkers.setValue(400)
    p.islands.setValue(8)
    p.levels_per_s.setValue(1000.0)
    w.set_mode("tempered")
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.run()
    qtbot.waitUntil(lambda: w.model.states[0] == "finished" and _latest(w) is not None and _latest(w).smc.finished,
                    timeout=WAIT)
    d = w.tempering.display
    qtbot.waitUntil(lambda: "t = 1: done" in d.smc_text.text(), timeout=WAIT)
    v = _latest(w).smc
    assert d.smc_box.isVisible() and not d.pt_box.isVisible()
    x, y = d.logz_curve.getData()
    np.testing.assert_allclose(y[1:], v.log_z - v.log_z_exact_t)  # the error per level, as sent
    np.testing.assert_allclose(d.band_hi.getData()[1][1:], v.log_z - v.log_z_exact_t + 2 * v.log_z_se)
    assert f"{v.log_z_se[-1]:.4f}" in d.smc_text.text()
    # the walkers: drawn in opacity levels (their normalised weights), over the level's exact density
    assert len(w.views[0].walkers._groups) >= 1
    assert w.views[0].colorbar.axis.labelText == "exact density (t = 1)"
    # Run replays a finished annealing from level 0
    w.run()
    qtbot.waitUntil(lambda: _latest(w) is not None and _latest(w).smc.level < v.level, timeout=WAIT)


def test_refused_settings_say_why_and_change_nothing(qtbot, make_window):
    w = make_window()
    p = w.tempering_panel
    p.algorithm.setCurrentIndex(p.algorithm.findData("smc"))
    before = p.settings()
    got = []
    p.changed.connect(got.append)
    p.walkers.setValue(20)  # 16 islands need at least 32 walkers
    assert not p.message.isHidden() and "2 walkers per island" in p.message.text() and p.refused
    assert p.settings() == before and not got
    p.islands.setValue(4)
    assert p.message.isHidden() and got[-1].walkers == 20 and got[-1].islands == 4


def test_key_6_opens_crossing_barriers_with_mala_pt_and_smc(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: w.history.current is not None, timeout=WAIT)  # the undo history has its start
    w.scenes.scene_actions[6].trigger()
    assert w.model.scene.title.startswith("6.")
    labels = [s.label for s in w.model.specs]
    assert labels == ["MALA alone", "Parallel tempering", "Annealed SMC"] and w.compare
    d = w.tempering.display
    assert w.tempering.dock.isVisible() and d.pt_box.title() == "Parallel tempering" and d.smc_box.title() == "Annealed SMC"
    assert w.tempering_panel.settings() == w.model.specs[1].settings  # the tab shows the scene's first tempered run
    qtbot.waitUntil(lambda: _latest(w, 1) is not None and _latest(w, 2) is not None and _latest(w, 2).smc.level >= 2,
                    timeout=WAIT)
    w.pause()
    qtbot.waitUntil(lambda: "round trips" in d.pt_text.text() and "log Z_t" in d.smc_text.text(), timeout=WAIT)
    assert w.live_panels.visible_plots() == ["modes_bar", "modes_time"]
    assert w.compare_views[1].plot.titleLabel.text == "Parallel tempering"
    # undo goes back to the scene before, redo brings scene 6 back with its tempered runs and tab
    qtbot.waitUntil(w.history.stack.canUndo, timeout=30_000)
    w.history.stack.undo()
    assert w.model.scene is None or not w.model.scene.title.startswith("6.")
    assert all(s.kind != "tempered" for s in w.model.specs) and not w.tempering.dock.isVisibleTo(w)
    w.tempering_panel.set_settings(replace(w.tempering_panel.settings(), walkers=77))
    w.history.stack.redo()
    assert [s.label for s in w.model.specs] == labels
    assert w.tempering_panel.settings() == w.model.specs[1].settings and w.tempering.dock.isVisibleTo(w)
