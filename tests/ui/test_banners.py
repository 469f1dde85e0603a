"""Banners float over the plot (they never move it), one per problem, and a sliver of mass beyond the
box is a corner note, not an alarm."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from ebm_explorer.core.landscapes import FormulaLandscape
from ebm_explorer.core.types import Box

pytestmark = pytest.mark.timeout(240)
WAIT = 240_000


def _ref_ready(w):
    return w.model.reference is not None and w.model.reference.version == w.model.version


def _plot_rect(w):
    """The plot's rectangle in window pixels and its view range."""
    v = w.views[0]
    r = v.mapFromScene(v.plot.getViewBox().sceneBoundingRect()).boundingRect()
    top_left = v.mapTo(w, r.topLeft())
    return (top_left.x(), top_left.y(), r.width(), r.height()), v.plot.getViewBox().viewRange()


def test_a_banner_appearing_never_moves_the_plot(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    qtbot.wait(300)
    before = _plot_rect(w)
    w.show_error("a long problem " * 20)
    qtbot.waitUntil(lambda: w.error_banner.isVisible(), timeout=WAIT)
    qtbot.wait(300)
    assert _plot_rect(w) == before
    overlay = w.banners.geometry()
    assert overlay.height() >= w.error_banner.height() > 0  # the whole text is on screen, over the plot
    w.hide_error()
    qtbot.wait(100)
    assert not w.banners.isVisible() and w.banners.visible_texts() == {}


def test_a_nan_formula_gets_one_banner_and_it_clears_once_fixed(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    box = Box(-3.0, 3.0, -3.0, 3.0)
    w.model.set_landscape(FormulaLandscape("log(x) + y**2", box))
    qtbot.waitUntil(lambda: w.robustness.refused is not None, timeout=WAIT)
    texts = w.banners.visible_texts()
    assert list(texts) == ["landscape"] and texts["landscape"].count("⚠") == 1, texts
    w.model.set_landscape(FormulaLandscape("x**2 + y**2", box))
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    assert w.robustness.refused is None and w.banners.visible_texts() == {}


@pytest.mark.parametrize("half_width, banner", [(3.2, False), (2.0, True)])
def test_mass_beyond_the_box_is_a_note_below_one_percent_and_a_banner_above(qtbot, make_window, half_width, banner):
    """A standard normal on [-3.2, 3.2]^2 loses ~0.35 % of its mass at or beyond the edge (a corner note);
    on [-2, 2]^2 about 11 % (a banner, whose numbers stay below 100 %)."""
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    b = half_width
    w.model.set_landscape(FormulaLandscape("0.5*(x**2 + y**2)", Box(-b, b, -b, b)))
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    qtbot.wait(100)
    texts = w.banners.visible_texts()
    note = w.views[0].message.toPlainText()
    if banner:
        assert list(texts) == ["landscape"] and "box cuts off mass" in texts["landscape"] and note == ""
    else:
        assert texts == {} and "% of the mass is at or beyond the box edge" in note
        assert float(note.split("%")[0]) < 1.0


def test_a_new_landscape_clears_a_stale_error_banner(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.show_error("No trained model yet: run a training first.")
    assert w.error_banner.isVisible()
    w.editor.select_preset("banana")  # the user moves on: the old failure is not news any more
    assert not w.error_banner.isVisible() and w.banners.visible_texts().get("error") is None
