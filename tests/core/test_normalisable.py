"""A landscape whose exp(-U) cannot be sampled on its box is named as such, with the reason."""

from __future__ import annotations

from ebm_explorer.core.landscapes import FormulaLandscape
from ebm_explorer.core.normalisable import sampling_problem
from ebm_explorer.core.types import Box

BOX = Box(-3.0, 3.0, -3.0, 3.0)


def _problem(expr: str) -> str | None:
    return sampling_problem(FormulaLandscape(expr, BOX), BOX)


def test_nan_energy_is_refused():
    assert "NaN" in _problem("log(x) + y**2")


def test_growing_density_is_not_normalisable():
    assert "not normalisable" in _problem("-(x**2 + y**2)").lower()


def test_a_confined_landscape_is_fine():
    assert _problem("(x**2 - 1)**2 + 0.5*y**2") is None
    assert _problem("0.5*(x**2 + y**2)") is None  # a standard Gaussian, 3 sigma box: a little mass beyond
