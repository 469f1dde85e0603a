"""Can ``exp(-U)`` be sampled on its box at all? Asked before a typed landscape replaces the current one,
so that a formula such as ``log(x) + y**2`` (NaN for x < 0) or ``-(x**2 + y**2)`` (mass growing
towards the edges) is refused with a reason instead of freezing or scattering the walkers."""

from __future__ import annotations

from ebm_explorer.core.errors import NumericalError
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.types import Box, EnergyFn
from ebm_explorer.core.verdict import explain_landscape

__all__ = ["sampling_problem"]


def sampling_problem(energy_fn: EnergyFn, box: Box, resolution: int = 64) -> str | None:
    """Why ``exp(-U)`` cannot be sampled on ``box`` (a one-line reason), or None when it can.

    A coarse exact reference decides: NaN or ``-inf`` energies anywhere on the grid, ``+inf``
    everywhere, or the verdict the runs act on (core.verdict: flat, or still falling at the box edge).
    """
    try:
        ref = compute_reference(energy_fn, box, resolution=resolution)
    except NumericalError as exc:
        return str(exc)
    verdict = explain_landscape(ref, energy_fn)
    return verdict.message if verdict.action == "refuse" else None
