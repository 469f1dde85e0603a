"""Honest live panels in the real window: the KL noise floor follows N, a change mid-run is marked, the
legend follows the sampler at once, titles and shown panels follow Train mode and the scenes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realwindow


def replace_text(app, target: str, text: str) -> None:
    app.click_target(target)
    app.key("ctrl+a")
    app.type(text)
    app.key("Return")


def test_floor_legend_titles_and_train_mode_follow_the_user(launch):
    app = launch("--paused")
    app.settle()
    app.click_target("tab:Sampler")
    app.click_target("run_button")
    s = app.wait(lambda s: s["running"] and s["kl_floor"] is not None, 90, "the sampler to run with a KL floor")
    floor_2000 = s["kl_floor"]
    assert s["n_walkers"] == [2000]

    # N = 100: the floor drawn is the one for 100 walkers, and the change is marked on the plots
    replace_text(app, "walkers", "100")
    s = app.wait(lambda s: s["n_walkers"] == [100] and s["kl_floor"] > 5 * floor_2000 and "N=100" in s["marks"],
                 90, "the floor for N = 100 and its mark")
    assert "Bulk ESS" in s["plot_titles"]["ess"]
    assert "logz" not in s["shown_plots"] and "cross_entropy" not in s["shown_plots"]

    # another sampler: the legend says so at once (no Reset), and a mark names it
    app.click_target("algorithm")
    app.key("Down")
    app.key("Return")
    s = app.wait(lambda s: "HMC" in s["legend"] and "HMC" in s["marks"], 30, "the legend and mark to say HMC")
    assert "MALA" not in s["legend"]
    fit = s["panels_fit"]  # the two plot columns and the legend fit the live-panels dock
    assert fit["plots"] <= fit["viewport"] and fit["legend_right"] <= fit["panel"], fit
    app.shot("panels-sample-marks")

    # the Training tab's own Train button: Train mode, titles for training, log Z and cross-entropy shown
    app.click_target("tab:Training")
    app.click_target("train_button")
    s = app.wait(lambda s: s["mode"] == "train" and s["running"] and "logz" in s["shown_plots"]
                 and "cross_entropy" in s["shown_plots"], 60, "Train mode with the log Z and CE panels")
    assert "Jarzynski ESS/N" in s["plot_titles"]["ess"] and "Bulk ESS" not in s["plot_titles"]["ess"]
    assert "U_θ" in s["plot_titles"]["energy"]
    app.wait(lambda s: s["step"] and s["step"][0] > 30, 60, "some training iterations")
    app.shot("panels-train")

    # Compare in Train mode compares training methods
    app.click_target("compare_button")
    s = app.wait(lambda s: s["run_kinds"] == ["train"] * 3, 60, "three training runs")
    assert all(m in s["legend"] for m in ("CD", "PCD", "Jarzynski")), s["legend"]
    app.click_target("compare_button")
    app.wait(lambda s: len(s["run_kinds"]) == 1, 60, "one run again")

    # scene keys: legends and titles follow the scene
    app.click_target("view")
    app.key("4")
    s = app.wait(lambda s: (s["scene"] or "").startswith("4") and "HMC" in s["legend"] and "MH" in s["legend"]
                 and "logz" not in s["shown_plots"], 60, "scene 4's samplers in the legend")
    assert "Bulk ESS" in s["plot_titles"].get("ess", "Bulk ESS")
    app.key("1")
    s = app.wait(lambda s: (s["scene"] or "").startswith("1") and "PCD" in s["legend"]
                 and "logz" in s["shown_plots"], 60, "scene 1's training methods in the legend")
    assert "Jarzynski ESS/N" in s["plot_titles"]["ess"]
