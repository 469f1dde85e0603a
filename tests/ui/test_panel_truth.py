"""Honest live panels (issue 12, items 9-11): legend, titles and shown plots follow the runs at once,
changes mid-run are marked, each run's exact value is drawn in its colour, Train and Compare in Train mode."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtGui

from ebm_explorer.core.run_settings import SampleSettings
from ebm_explorer.export.metrics_history import Metrics, MetricsHistory
from ebm_explorer.ui.landscape_view import RUN_COLOURS
from ebm_explorer.ui.panel_truth import change_text, panels_for_kinds

WAIT = 240_000


def _wait_points(qtbot, w, n=2):
    qtbot.waitUntil(lambda: w.model.histories and all(h.n >= n for h in w.model.histories), timeout=WAIT)


def test_change_text_names_what_changed():
    a = SampleSettings(sampler="mala", step_size=0.1, walkers=2000)
    assert change_text(a, a) == ""
    assert change_text(a, SampleSettings(sampler="hmc", step_size=0.1, walkers=2000)) == "HMC"
    assert change_text(a, SampleSettings(sampler="mala", step_size=0.05, walkers=100)) == "h=0.05 N=100"


def test_training_only_panels_follow_the_kinds():
    names = ("mean_energy", "divergence", "log_z")
    assert panels_for_kinds(names, ["sample"]) == ("mean_energy", "divergence")
    assert panels_for_kinds(names, ["train"]) == ("mean_energy", "divergence", "log_z", "cross_entropy")


def test_marks_of_a_burst_are_one(qtbot):
    h = MetricsHistory()
    h.mark("new landscape")  # before any point: drawn on the first point
    for step in range(1, 4):
        h.append(Metrics(step=step, acceptance=0.5))
    h.mark("new landscape")  # within a few rows of the last one: the same burst
    assert len(h.marks) == 1
    for step in range(4, 20):
        h.append(Metrics(step=step, acceptance=0.5))
    h.mark("new landscape")
    h.mark("N=100")
    assert h.marks[1:] == [(19.0, "new landscape"), (19.0, "N=100")]


def test_titles_panels_and_legend_follow_mode_and_sampler(qtbot, make_window):
    w = make_window(autostart=False)
    qtbot.waitUntil(lambda: bool(w.model.specs), timeout=WAIT)
    assert "Bulk ESS" in w.metrics.title("ess")
    shown = w.live_panels.visible_plots()
    assert "logz" not in shown and "cross_entropy" not in shown  # no empty training-only placeholders
    w.sampler_panel.algorithm.setCurrentIndex(w.sampler_panel.algorithm.findData("hmc"))
    assert "HMC" in w.metrics.legend.text()  # at once, without Reset
    w.sampler_panel.step_size.setValue(0.05)
    assert "h=0.05" in w.metrics.legend.text()
    w.set_mode("train")
    shown = w.live_panels.visible_plots()
    assert "logz" in shown and "cross_entropy" in shown
    assert "Jarzynski ESS/N" in w.metrics.title("ess") and "Bulk ESS" not in w.metrics.title("ess")
    assert "U_θ" in w.metrics.title("energy")
    w.set_mode("sample")
    assert "logz" not in w.live_panels.visible_plots()


def test_exact_log_z_is_drawn_in_each_runs_colour(qtbot, make_window):
    w = make_window(autostart=False)
    for r in range(4):
        pen = w.metrics.curves["log_z_exact"][r].opts["pen"]
        assert QtGui.QColor(pen.color()).name() == QtGui.QColor(RUN_COLOURS[r]).name()


def test_a_walker_change_mid_run_is_marked_and_the_floor_follows_n(qtbot, make_window):
    w = make_window(autostart=False)
    w.sampler_panel.walkers.setValue(2000)
    w.run()
    _wait_points(qtbot, w, 3)
    qtbot.waitUntil(lambda: np.isfinite(w.model.histories[0].series("kl_expected")[1]).any(), timeout=WAIT)
    floor_before = w.model.histories[0].latest.kl_expected
    w.sampler_panel.walkers.setValue(100)
    h = w.model.histories[0]
    assert h.marks and h.marks[-1][1] == "N=100"
    qtbot.waitUntil(lambda: h.latest.step > h.marks[-1][0] + 5 and np.isfinite(h.latest.kl_expected)
                    and h.latest.kl_expected != floor_before, timeout=WAIT)
    w.pause()
    w.metrics.flush()
    assert ("N=100" in [t for _s, t in w.metrics.marks_drawn("divergence")])
    # the floor drawn now is the one for N = 100 (the exact multinomial mean, computed in core)
    x, y = w.metrics.series("kl_expected")
    assert y[-1] == pytest.approx(h.latest.kl_expected) and y[-1] > 5 * floor_before


def test_compare_in_train_mode_compares_training_methods(qtbot, make_window):
    w = make_window(autostart=False)
    w.set_mode("train")
    w.compare_action.setChecked(True)
    specs = w.model.specs
    assert [s.kind for s in specs] == ["train"] * 3
    assert [s.settings.method for s in specs] == ["cd", "pcd", "jarzynski"]
    w.compare_action.setChecked(False)
    w.set_mode("sample")
    w.compare_action.setChecked(True)
    assert all(s.kind == "sample" for s in w.model.specs)


def test_train_button_trains_and_energy_panel_shows_model_energies(qtbot, make_window):
    w = make_window(autostart=False)
    w.training_panel.train_button.click()
    assert w.mode == "train" and w.model.specs[0].kind == "train"
    _wait_points(qtbot, w, 3)
    w.pause()
    h = w.model.histories[0]
    _s, data_e = h.series("model_energy_data")
    _s, walk_e = h.series("model_energy_walkers")
    assert np.isfinite(data_e).all() and np.isfinite(walk_e).all()
    assert not np.isfinite(h.series("mean_energy")[1]).any()  # the target's energy of walkers: not shown
