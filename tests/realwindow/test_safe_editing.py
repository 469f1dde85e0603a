"""Safe editing in the real window, with real key and mouse events: Ctrl+Z after a scene key brings an
edited landscape back, a formula that cannot be sampled never reaches the walkers, banners float over
the plot without moving it and clear when their cause goes, and a stroke on a preset changes it only
where the brush went."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytestmark = pytest.mark.realwindow


def to_screen(s, x: float, y: float) -> tuple[int, int]:
    """World coordinates of the main view -> screen pixels (from the probe's view geometry)."""
    v = s["views"][0]
    gx, gy, _w, _h = s["targets"]["view"]
    left, top, right, bottom = v["plot_pos_in_widget"]
    x0, x1, y0, y1 = v["view"]
    return (round(gx + left + (x - x0) / (x1 - x0) * (right - left)),
            round(gy + top + (y1 - y) / (y1 - y0) * (bottom - top)))


def plot_on_screen(s) -> list[float]:
    return [*s["targets"]["view"], *s["views"][0]["plot_pos_in_widget"], *s["views"][0]["view"]]


def ready(s) -> bool:
    return s["reference_version"] == s["landscape_version"] and s["energy_lattice"] is not None


def test_undo_a_scene_key_and_formulas_that_never_reach_the_walkers(launch):
    app = launch("--paused")
    app.settle()
    app.click_target("tab:Landscape")
    app.click_target("editor_tab:Formula")

    # a formula with a syntax error or one that cannot be sampled: the walkers never see it
    before = app.state()
    app.replace_text("formula", "log(x) + y**2")
    s = app.wait(lambda s: s["formula_status"].startswith("not applied"), 30, "the formula to be refused")
    assert s["landscape_digest"] == before["landscape_digest"] and s["banner"] == ""
    app.replace_text("formula", "x**2 + (y")
    s = app.wait(lambda s: "^" in s["formula_status"], 30, "the syntax error to be pointed at")
    assert s["landscape_digest"] == before["landscape_digest"] and s["banner"] == ""

    # a formula whose mass reaches beyond the box: a banner floats over the plot, the plot stays put
    plot = plot_on_screen(app.settle())
    app.replace_text("formula", "0.1*(x**2 + y**2)")
    s = app.wait(lambda s: "box cuts off mass" in s["banners"].get("landscape", ""), 60, "the mass banner")
    assert len(s["banners"]) == 1 and s["banners"]["landscape"].count("⚠") == 1
    time.sleep(0.5)
    s = app.settle()
    assert plot_on_screen(s) == plot, "the banner moved the plot"
    app.shot("editing-banner-over-plot")
    # the cause goes (a confined formula): the banner goes too
    app.replace_text("formula", "x**2 + 0.5*y**2 + 0.3*sin(3*x)")
    s = app.wait(lambda s: s["landscape_expr"] == "x**2 + 0.5*y**2 + 0.3*sin(3*x)" and ready(s)
                 and s["banner"] == "", 60, "the banner to clear")
    assert s["formula_status"] == "✓ applied"  # the red status of the refused formulas is gone too
    edited = s["landscape_digest"]

    # Run <-> Pause moves no button
    app.click_target("view")
    button = app.state()["run_button"]
    app.key("space")
    s = app.wait(lambda s: s["running"], 30, "the run to start")
    assert s["run_button"] == button
    app.key("space")
    app.wait(lambda s: not s["running"], 30, "the run to pause")

    # key 4 opens scene 4 over the edited landscape; Ctrl+Z brings the edited landscape back exactly
    app.key("4")
    s = app.wait(lambda s: (s["scene"] or "").startswith("4") and ready(s), 90, "scene 4 to open")
    assert s["landscape_digest"] != edited
    app.key("ctrl+z")
    s = app.wait(lambda s: s["scene"] is None and s["landscape_digest"] == edited, 60, "Ctrl+Z to undo scene 4")
    assert s["landscape_expr"] == "x**2 + 0.5*y**2 + 0.3*sin(3*x)" and s["editor_source"] == "formula"
    assert s["formula_text"] == "x**2 + 0.5*y**2 + 0.3*sin(3*x)"
    app.key("ctrl+shift+z")
    app.wait(lambda s: (s["scene"] or "").startswith("4"), 60, "Ctrl+Shift+Z to redo scene 4")


def test_a_stroke_on_a_preset_changes_it_only_where_the_brush_went(launch):
    app = launch("--paused")
    app.settle()
    app.click_target("tab:Landscape")
    app.click_target("editor_tab:Presets")
    app.click_target("gallery:eight_gaussians")
    s = app.wait(lambda s: s["gallery_current"] == "eight_gaussians" and s["views"][0]["box"] == [-5, 5, -5, 5]
                 and ready(s), 60, "eight gaussians")
    before = s["energy_lattice"]
    preset = s["landscape_digest"]
    app.click_target("editor_tab:Draw")
    s = app.settle()
    plot = plot_on_screen(s)
    path = [to_screen(s, x, -3.0) for x in np.linspace(-1.0, 1.0, 15)]
    xdo = app.server.xdo
    xdo("mousemove", "--sync", str(path[0][0]), str(path[0][1]))
    xdo("mousedown", "1")
    for px, py in path[1:]:
        xdo("mousemove", "--sync", str(px), str(py))
        time.sleep(0.05)
    xdo("mouseup", "1")
    s = app.wait(lambda s: s["landscape"] == "GridLandscape" and ready(s) and s["landscape_digest"] != preset,
                 90, "the stroke to make a grid landscape")
    s = app.settle()
    assert plot_on_screen(s) == plot
    assert s["gallery_current"] is None and s["undo"]["undo_text"] == "drawing"
    app.shot("editing-stroke-on-preset")
    e0, e1 = np.array(before["energy"]), np.array(s["energy_lattice"]["energy"])
    xs, ys = np.array(before["x"]), np.array(before["y"])
    dist = np.hypot(np.clip(np.abs(xs[None, :]) - 1.0, 0, None), ys[:, None] + 3.0)  # to the stroke segment
    far = (dist > 1.2) & (e0 - e0.min() < 12)  # away from it, where the density is not negligible
    shift = np.median((e1 - e0)[dist > 1.2])
    assert np.abs(e1 - e0 - shift)[far].max() < 0.3  # the eight wells are still there, unchanged
    assert (e1 - e0 - shift)[dist < 0.3].mean() < -0.3  # a well was dug along the stroke
    app.click_target("view")
    app.key("ctrl+z")
    app.wait(lambda s: s["landscape_digest"] == preset and s["gallery_current"] == "eight_gaussians", 60,
             "Ctrl+Z to undo the stroke")
