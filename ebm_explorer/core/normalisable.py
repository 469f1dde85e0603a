"""Can ``exp(-U)`` be sampled on its box at all? Asked before a typed landscape replaces the current one,
so that a formula such as ``log(x) + y**2`` (NaN for x < 0) or ``-(x**2 + y**2)`` (mass growing
towards the edges) is refused with a reason instead of freezing or scattering the walkers."""

from __future__ import annotations

from ebm_explorer.core.errors import NumericalError
from ebm_explorer.core.reference import beyond_percent, compute_reference
from ebm_explorer.core.types import Box, EnergyFn

__all__ = ["sampling_problem", "MAX_OUTSIDE_MASS"]

#: refuse when the mass estimated beyond the box exceeds the mass inside it (over half of all the mass)
MAX_OUTSIDE_MASS = 1.0


def sampling_problem(energy_fn: EnergyFn, box: Box, resolution: int = 64) -> str | None:
    """Why ``exp(-U)`` cannot be sampled on ``box`` (a one-line reason), or None when it can.

    A coarse exact reference decides: NaN or ``-inf`` energies anywhere on the grid, ``+inf``
    everywhere, or more mass beyond the box than inside it (not normalisable, or a box far too small).
    """
    try:
        ref = compute_reference(energy_fn, box, resolution=resolution)
    except NumericalError as exc:
        return str(exc)
    if not ref.outside_mass <= MAX_OUTSIDE_MASS:
        return (f"exp(-U) does not fall off inside the box (about {min(beyond_percent(ref.outside_mass), 99.9):.3g}% "
                "of the mass would lie beyond it): not normalisable here; add a confining term such as "
                "0.05*(x**2 + y**2) or widen the box")
    return None
