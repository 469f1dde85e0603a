"""Lecture scene 6 in the real window: key 6 opens "Crossing barriers", the Crossing barriers dock shows
parallel tempering's swap-rate bars and round trips and SMC's log Z against the exact value, and the
scene is framed windowed and in presenter mode (F11), with screenshots of both."""

from __future__ import annotations

import pytest
from test_framing import all_framed, problems

pytestmark = pytest.mark.realwindow


def tempering_shown(s: dict) -> bool:
    t = s["tempering"]
    return (t["visible"] and t["replicas"] == 5 and len(t["swap_bars"]) == 4 and min(t["swap_bars"]) > 0.3
            and "round trips" in t["pt_text"] and "log Z_t" in t["smc_text"] and t["logz_points"] >= 3)


def test_key_6_shows_pt_and_smc_beside_mala(launch):
    app = launch("--paused")
    app.settle()
    app.key("6")
    s = app.wait(lambda s: (s["scene"] or "").startswith("6.") and tempering_shown(s) and all_framed(s), 120,
                 "scene 6 with swap bars and the log Z panel filled")
    t = s["tempering"]
    assert s["scene"] == "6. Crossing barriers: MALA vs parallel tempering vs SMC"
    assert s["run_labels"] == ["MALA alone", "Parallel tempering", "Annealed SMC"]
    assert [v["title"] for v in s["views"]] == s["run_labels"]
    assert t["title"] == "Crossing barriers" and t["pt_title"] == "Parallel tempering" and t["smc_title"] == "Annealed SMC"
    assert all(0.3 < h < 1 for h in t["swap_bars"]), t["swap_bars"]
    # the annealing ends (t = 1) and keeps its result on screen: the picture shows the final log Z
    s = app.wait(lambda s: "t = 1: done" in s["tempering"]["smc_text"], 120, "the SMC run to reach t = 1")
    assert "exact" in s["tempering"]["smc_text"] and "SE" in s["tempering"]["smc_text"]
    app.settle()
    app.shot("scene6-window")
    size = s["window"][2:]
    app.key("F11")
    app.wait(lambda s: s["presenter"] and s["fullscreen"] and s["window"][2:] == [1600, 1000] and all_framed(s)
             and s["tempering"]["visible"], 30, "presenter mode full screen and framed")
    s = app.settle()
    assert all_framed(s), problems(s)
    assert (s["presenter_title"] or "").startswith("6. Crossing barriers")
    app.shot("scene6-presenter")
    app.key("F11")
    app.wait(lambda s: not s["presenter"] and not s["fullscreen"]
             and all(abs(a - b) <= 4 for a, b in zip(s["window"][2:], size)), 30, "the window's size back")
