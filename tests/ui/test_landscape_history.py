"""Undo / redo of landscape edits and scene switches, drawing on any landscape, and the smaller editor
promises (gallery highlight, sweep docks closing with their landscape, scene 3's w slider)."""

from __future__ import annotations

import numpy as np
import pytest

from ebm_explorer.core.landscapes import FormulaLandscape, GaussianMixture, GridLandscape
from ebm_explorer.ui.editor_panel import caret_excerpt, grid_from_energy
from ebm_explorer.core.types import Box

pytestmark = pytest.mark.timeout(240)
WAIT = 240_000


def _ref_ready(w):
    return w.model.reference is not None and w.model.reference.version == w.model.version


def _apply_formula(w, text):
    w.editor.formula.setText(text)
    w.editor._apply_formula()


def test_undo_after_a_scene_key_brings_the_edited_landscape_back_exactly(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    _apply_formula(w, "x**2 + 0.5*y**2 + 0.3*sin(3*x)")
    qtbot.wait(50)
    edited = w.model.landscape
    assert isinstance(edited, FormulaLandscape) and w.history.stack.undoText() == "formula"
    assert w.scenes.open_builtin(4, start=False)
    qtbot.wait(50)
    scene_land = w.model.landscape
    assert scene_land is not edited and w.history.stack.undoText().startswith("open scene “4.")
    w.history.undo_action.trigger()  # Ctrl+Z
    assert w.model.landscape is edited and w.model.scene is None
    assert w.editor.source == "formula" and w.editor.formula.text() == "x**2 + 0.5*y**2 + 0.3*sin(3*x)"
    assert w.model.unsaved is False or w.model.scene is None
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.history.redo_action.trigger()  # Ctrl+Shift+Z: scene 4 again, with its runs
    assert w.model.landscape.spec() == scene_land.spec() and w.model.scene.title.startswith("4.")
    assert len(w.model.specs) == 3
    w.history.stack.undo()
    w.history.stack.undo()  # back to the start-up preset
    assert w.editor.source == "preset" and w.history.stack.index() == 0


def test_a_stroke_on_a_preset_changes_it_locally_and_is_one_undo_step(qtbot, make_window):
    w = make_window()
    w.editor.select_preset("eight_gaussians")
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    preset = w.model.landscape
    before = w.model.reference.reference
    w.editor.tabs.setCurrentIndex(2)  # Draw
    brush = w.editor.brush
    count = w.history.stack.count()
    brush.drag(2.0, 2.0, "start")
    for t in np.linspace(0, 1, 12):
        brush.drag(2.0 + 0.5 * t, 2.0, "move")
        qtbot.wait(30)
    brush.drag(2.5, 2.0, "end")
    qtbot.waitUntil(lambda: _ref_ready(w) and isinstance(w.model.landscape, GridLandscape), timeout=WAIT)
    after = w.model.reference.reference
    assert w.history.stack.count() == count + 1 and w.history.stack.undoText() == "drawing"
    e0, e1 = np.asarray(before.energy), np.asarray(after.energy)
    xs, ys = np.asarray(before.xs), np.asarray(before.ys)
    far = (np.hypot(xs[None, :] - 2.25, ys[:, None] - 2.0) > 1.5)
    # away from the stroke the energy is the preset's up to a constant (the grid starts at 0)
    shift = np.median((e1 - e0)[far])
    diff = np.abs(e1 - e0 - shift)[far & (e0 - e0.min() < 12)]  # where the density is not negligible
    assert np.percentile(diff, 95) < 0.05 and diff.max() < 0.5
    near = np.hypot(xs[None, :] - 2.25, ys[:, None] - 2.0) < 0.15
    assert (e1 - e0 - shift)[near].mean() < -0.3  # the brush dug a well along the stroke
    w.history.stack.undo()
    assert w.model.landscape is preset and w.editor.source == "preset"


def test_a_stroke_on_a_formula_changes_the_energy(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    _apply_formula(w, "0.5*(x**2 + y**2)")
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.editor.tool.setCurrentIndex(w.editor.tool.findData("raise"))
    w.editor.brush.click(0.0, 0.0)
    qtbot.waitUntil(lambda: _ref_ready(w) and isinstance(w.model.landscape, GridLandscape), timeout=WAIT)
    r = w.model.reference.reference
    iy, ix, _ = r.cell_index(np.array([[0.0, 0.0], [2.0, 0.0]]))
    e = np.asarray(r.energy)
    # the formula's 0 -> 2 rise is 2; the hill at the origin makes it smaller
    assert e[iy[1], ix[1]] - e[iy[0], ix[0]] < 2.0 - 0.3


def test_mixture_cell_edit_and_gallery_highlight_follow_undo(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    assert w.editor.gallery.currentItem() is not None and w.editor.gallery.selectedItems()
    w.editor.table.item(0, 1).setText("-1.5")  # a cell edit: one command
    qtbot.wait(50)  # (recorded once the event loop runs: after the scene or editor set everything)
    assert isinstance(w.model.landscape, GaussianMixture) and w.model.landscape.means[0, 0] == -1.5
    assert not w.editor.gallery.selectedItems()  # a mixture, not a preset: no preset highlighted
    assert w.history.stack.undoText() == "mixture edit"
    w.history.stack.undo()
    assert w.editor.source == "preset" and w.editor.gallery.selectedItems()
    w.history.stack.redo()
    assert w.editor.table.item(0, 1).text() == "-1.5" and w.model.landscape.means[0, 0] == -1.5


def test_sweep_dock_closes_when_the_landscape_is_edited_and_scene_3_follows_w(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    assert w.scenes.open_builtin(3, start=False)
    qtbot.wait(50)
    assert w.scenes.sweep_dock.isVisible()
    w.scenes.fisher_panel.slider.setValue(20)  # w = 0.2: the landscape is the mixture with that weight
    qtbot.wait(50)
    land = w.model.landscape
    assert isinstance(land, GaussianMixture)
    assert np.allclose(np.asarray(land.weights) / np.sum(land.weights), [0.2, 0.8])
    assert w.history.stack.undoText() == "temperature / weight slider"
    w.scenes.fisher_panel.slider.setValue(30)
    qtbot.wait(50)
    assert w.history.stack.undoText() == "temperature / weight slider" and w.history.stack.count() == 2  # merged
    _apply_formula(w, "x**2 + y**2")
    qtbot.wait(50)
    assert not w.scenes.sweep_dock.isVisible()
    w.history.stack.undo()
    assert w.scenes.sweep_dock.isVisible() and w.model.landscape.weights[0] == pytest.approx(0.3)


def test_run_button_keeps_its_width(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    tb = w.findChild(type(w.addToolBar("x")).__mro__[0], "run_toolbar")
    button = tb.widgetForAction(w.run_action)
    step = tb.widgetForAction(w.step_action)
    w.run_action.setText("Pause")
    qtbot.wait(50)
    x_pause, width_pause = step.x(), button.width()
    w.run_action.setText("Run")
    qtbot.wait(50)
    assert (step.x(), button.width()) == (x_pause, width_pause)


def test_grid_from_energy_and_caret_excerpt():
    box = Box(-1.0, 1.0, -1.0, 1.0)
    r = 64
    c = -1 + (np.arange(r) + 0.5) * 2 / r
    energy = c[None, :] * 2 + c[:, None] ** 2 + 5  # linear in x: bilinear resampling is exact inside
    g = grid_from_energy(energy, box, 33)
    nodes = np.linspace(-1, 1, 33)
    expect = nodes[None, :] * 2 + nodes[:, None] ** 2
    inner = (g - expect)[1:-1, 1:-1]  # up to a constant (the grid starts at 0): bilinear error <= (dy)^2 / 4
    assert g.min() == 0.0 and np.ptp(inner) < 2 * (2 / r) ** 2
    line, caret = caret_excerpt("x" * 80 + "+", 80)
    assert len(line) == 34 and line[caret] == "+" and line.startswith("…")
    assert caret_excerpt("x + ", 3) == ("x + ", 3)


def test_the_mouse_readout_follows_a_new_landscape(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    v = w.views[0]
    v._on_mouse_moved(v.plot.getViewBox().mapViewToScene(__import__("PySide6").QtCore.QPointF(1.0, 0.5)))
    first = w.readout.text()
    assert "U = " in first
    _apply_formula(w, "3*x**2 + y**2")
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    u = float(w.readout.text().split("U = ")[1].split()[0])
    assert w.readout.text() != first and u == pytest.approx(3 * 1.0 + 0.25, abs=0.4)
