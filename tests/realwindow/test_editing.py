"""Typing in the real window: numbers as people write them, formulas applied only when they can be
sampled, scene keys that never take a key meant for a table cell."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realwindow


def test_typing_walkers_formulas_and_scene_keys(launch):
    app = launch("--paused")
    app.settle()

    # "1e4" in Walkers is ten thousand walkers (it used to be 14)
    app.click_target("tab:Sampler")
    app.replace_text("walkers", "1e4")
    s = app.wait(lambda s: s["walkers_field"] == 10_000 and s["n_walkers"] == [10_000], 60, "10,000 walkers")
    assert s["walkers_text"] == "10,000"

    # a formula is applied on Enter, and only one that exp(-U) can be built from
    app.click_target("tab:Landscape")
    app.click_target("editor_tab:Formula")
    before = app.state()
    app.replace_text("formula", "log(x) + y**2")
    s = app.wait(lambda s: s["formula_status"].startswith("not applied"), 30, "the formula to be refused")
    assert s["landscape"] == before["landscape"] and s["landscape_expr"] == before["landscape_expr"]
    assert s["banner"] == ""  # nothing reached the walkers: no frozen walkers, no NaN banner
    app.replace_text("formula", "x**2 + 0.5*y**2")
    app.wait(lambda s: s["landscape_expr"] == "x**2 + 0.5*y**2", 30, "the valid formula to apply")

    # key 4 with a mixture-table cell focused goes into the cell: the landscape stays
    app.click_target("editor_tab:Mixture")
    app.click_target("mix_cell")
    app.wait(lambda s: s["focus"]["class"] == "QTableWidget", 20, "the table to have the focus")
    app.key("4")
    s = app.wait(lambda s: s["focus"]["class"] != "QTableWidget", 20, "the cell editor to open")
    assert s["scene"] is None and s["landscape_expr"] == "x**2 + 0.5*y**2"
    app.shot("editing-table-cell")
    app.key("Escape")
    # elsewhere (the landscape has the focus) key 4 opens scene 4
    app.click_target("view")
    app.wait(lambda s: s["focus"]["class"] == "LandscapeView", 20, "the view to have the focus")
    app.key("4")
    app.wait(lambda s: (s["scene"] or "").startswith("4"), 60, "scene 4 to open")
