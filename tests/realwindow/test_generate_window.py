"""Scenes 7 and 8 in the real window with real keys: scene 7 trains (score matching beside Jarzynski), scene 8
generates in the Generate mode; its time slider is dragged with the mouse and moved with the keys, the
labels follow, and the mass table shows the exact masses beside the walkers' with and without weights.
Screenshots of both scenes windowed and in presenter mode (F11)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.realwindow

SCENE8_RUNS = ["Reverse SDE, 10 steps (+ Jarzynski weights)", "Reverse SDE, 500 steps"]


def _t(s: dict) -> float:
    return float(re.match(r"t = ([0-9.]+)", s["generate"]["time_label"]).group(1))


def _presenter_shot(app, name: str) -> None:
    app.resize(1600, 950)  # as the framing test: a 1600x1000 window and its frame do not fit the screen
    app.wait(lambda s: s["window"][2:] == [1600, 950], 30, "the window at 1600x950")
    size = app.settle()["window"][2:]
    app.key("F11")
    app.wait(lambda s: s["presenter"] and s["fullscreen"], 30, "presenter mode")
    app.settle()
    app.shot(name)
    app.key("F11")
    app.wait(lambda s: not s["presenter"] and not s["fullscreen"]
             and all(abs(a - b) <= 4 for a, b in zip(s["window"][2:], size)), 30, "the window's size back")


def test_scenes_7_and_8_with_the_time_slider(launch):
    app = launch("--paused")
    app.settle()
    app.key("7")
    app.wait(lambda s: (s["scene"] or "").startswith("7.") and s["mode"] == "train" and s["views"]
             and all(v["drawn"] for v in s["views"]), 90, "scene 7 drawn")
    app.wait(lambda s: len(s["step"]) == 2 and min(s["step"]) >= 150, 300, "scene 7 past 150 iterations")
    app.settle()
    app.shot("scene7-window")
    _presenter_shot(app, "scene7-presenter")

    app.key("8")
    s = app.wait(lambda s: (s["scene"] or "").startswith("8.") and s["mode"] == "generate"
                 and s["generate"]["visible"], 60, "scene 8 in the Generate mode")
    assert s["generate"]["labels"] == SCENE8_RUNS and s["run_labels"] == SCENE8_RUNS
    s = app.wait(lambda s: s["generate"]["phases"] == ["finished", "finished"]
                 and s["generate"]["frames"] == [11, 101], 300, "both runs generated")
    g = s["generate"]
    # the slider followed the runs to the data end; the table: exact row, then each run with numbers
    assert _t(s) == 0.0 and "step 10 of 10" in g["time_label"]
    exact, few, many = g["table"]
    assert exact[0] == "exact ρ_t (t = 0.000)" and re.fullmatch(r"0\.2\d\d / 0\.7\d\d", exact[1])
    assert few[0].startswith("run 1") and re.match(r"0\.2\d\d / 0\.7\d\d", few[1])
    assert "±" in few[2] and re.match(r"0\.\d{3} \(0\.\d{3}\)", few[3]) and few[5] != "–"
    assert many[0].startswith("run 2") and many[2] == "–"
    assert g["walkers_drawn"] > 0 and g["arrows_drawn"] > 0 and g["curves"] >= 5
    app.shot("scene8-window")

    # drag the slider's handle (at the right end: t = 0) to the middle with the mouse: t about 0.5
    x, y, w, h = g["slider_rect"]
    app.server.xdo("mousemove", "--sync", str(x + w - 6), str(y + h // 2), "mousedown", "1")
    app.server.xdo("mousemove", "--sync", str(x + w // 2), str(y + h // 2))
    app.server.xdo("mouseup", "1")
    s = app.wait(lambda s: 0.3 < s["generate"]["t"] < 0.7 and not s["generate"]["follow"], 30, "the slider dragged")
    t_dragged = s["generate"]["t"]
    s = app.wait(lambda s: abs(_t(s) - round(t_dragged, 1)) < 1e-9, 30, "the picture at the dragged time")
    assert f"step {round(10 * (1 - t_dragged))} of 10" in s["generate"]["time_label"]
    assert s["generate"]["table"][0][0] == f"exact ρ_t (t = {round(t_dragged, 1):.3f})"
    # keys on the focused slider: Home is t = 1 (the prior), End t = 0, Left one step back towards noise
    app.key("Home")
    s = app.wait(lambda s: s["generate"]["t"] == 1.0 and "step 0 of 10" in s["generate"]["time_label"], 30, "Home")
    app.key("End")
    app.wait(lambda s: s["generate"]["t"] == 0.0 and "step 10 of 10" in s["generate"]["time_label"], 30, "End")
    for _ in range(5):
        app.key("Left")
    app.wait(lambda s: abs(s["generate"]["t"] - 0.05) < 1e-9, 30, "five Left presses: t = 0.05")
    app.key("End")
    app.wait(lambda s: s["generate"]["t"] == 0.0, 30, "End again")
    _presenter_shot(app, "scene8-presenter")
    # back to scene 7: the training mode, its views and live panels return
    app.key("7")
    app.wait(lambda s: (s["scene"] or "").startswith("7.") and s["mode"] == "train" and s["views"]
             and not s["generate"]["visible"], 60, "scene 7 again")
