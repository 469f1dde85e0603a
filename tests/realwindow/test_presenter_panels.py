"""Presenter mode and the light theme in the real window: colour-bar text large enough to read from the
back of a room, the y label clear of the 0 tick, scene 5's live panels without a scroll bar, and the
colour bar's text in the light theme's dark foreground."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realwindow


def test_presenter_colour_bar_panels_and_light_theme(launch):
    app = launch("--paused")
    app.settle()
    app.click_target("view")
    app.key("5")
    app.wait(lambda s: (s["scene"] or "").startswith("5"), 60, "scene 5")
    app.key("F11")
    s = app.wait(lambda s: s["presenter"] and s["colorbar"] and s["colorbar"][0]["font_px"] >= 16, 30,
                 "presenter mode with large colour-bar text")
    s = app.settle()
    assert not s["panels_scrollbar"], "scene 5's live panels scroll in presenter mode"
    assert s["colorbar"][0]["y_axis_width"] >= 40  # room for the y label beside the tick labels
    app.key("ctrl+t")
    s = app.wait(lambda s: s["theme"] == "light" and s["colorbar"][0]["text"] == "#1d1d1d", 30,
                 "the colour bar's text in the light theme's foreground")
    app.shot("scene5-presenter-light")
    app.key("ctrl+t")
    app.wait(lambda s: s["theme"] == "dark", 30, "the dark theme back")
    app.shot("scene5-presenter")
    app.key("F11")
    s = app.wait(lambda s: not s["presenter"] and s["colorbar"] and s["colorbar"][0]["font_px"] < 16, 30,
                 "normal sizes back")
