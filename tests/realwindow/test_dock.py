"""The control dock in the real window: every tab label whole, no combo cut, no horizontal scroll bar,
at 1600x1000 and at 1280x800; its width survives two F11 presses."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realwindow

TABS = ("Landscape", "Sampler", "Training", "Compare", "Display")


def dock_problems(app) -> list[str]:
    out = []
    for tab in TABS:
        app.click_target(f"tab:{tab}")
        s = app.settle()
        d = s["dock"]
        if d["tabs_elided"]:
            out.append(f"{tab}: a tab label is cut")
        if any(d["hscroll"]):
            out.append(f"{tab}: horizontal scroll bar")
        if d["combos_cut"]:
            out.append(f"{tab}: combo text cut: {d['combos_cut']}")
    return out


def test_dock_fits_its_contents_and_keeps_its_width(launch):
    app = launch("--paused")
    app.resize(1600, 1000)
    app.settle()
    assert dock_problems(app) == []
    width = app.state()["dock"]["width"]
    app.shot("dock-1600")
    size = app.state()["window"][2:]
    app.key("F11")
    app.wait(lambda s: s["presenter"], 30, "presenter mode")
    app.key("F11")
    app.wait(lambda s: not s["presenter"] and not s["fullscreen"]
             and abs(s["window"][2] - size[0]) <= 4, 30, "the window's width back")
    s = app.settle()
    assert abs(s["dock"]["width"] - width) <= 2, (width, s["dock"]["width"])
    app.resize(1280, 800)
    app.wait(lambda s: s["window"][2] <= 1290, 30, "the window at 1280x800")
    assert dock_problems(app) == []
    app.shot("dock-1280")
