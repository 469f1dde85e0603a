"""Is a landscape usable on its box? The verdict the app and the command line both act on.

:func:`explain_landscape` reads the exact reference and says what is wrong and what to do: nothing
(a fine landscape), *warn* (mass at the box edge: walkers may leave, metrics count the inside),
*wall* (grid landscapes: a quadratic wall outside the box confines the walkers) or *refuse* (not
normalisable in the box: runs are refused until the landscape is fixed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ebm_explorer.core.landscapes import GridLandscape
from ebm_explorer.core.reference import beyond_percent

__all__ = ["LandscapeVerdict", "explain_landscape", "NON_NORMALISABLE_OUTSIDE", "FLAT_RANGE"]

#: estimated mass beyond the box (relative to inside) above which a landscape counts as not normalisable
NON_NORMALISABLE_OUTSIDE = 0.5
#: an energy range below this over the whole box is a flat landscape
FLAT_RANGE = 1e-9


@dataclass(frozen=True)
class LandscapeVerdict:
    """``action``: ok | warn | wall | refuse; ``message``: the banner text (empty when ok)."""

    action: str
    message: str
    wall: bool  # draw the box edge as a wall


def _grid_of(landscape: Any) -> GridLandscape | None:
    base = getattr(landscape, "base", landscape)
    return base if isinstance(base, GridLandscape) else None


def explain_landscape(reference: Any, landscape: Any) -> LandscapeVerdict:
    """What is wrong with ``landscape`` on its box (from its :class:`GridReference`) and what the app does."""
    grid = _grid_of(landscape)
    energy = np.asarray(reference.energy)
    finite = energy[np.isfinite(energy)]
    flat = finite.size > 0 and float(finite.max() - finite.min()) < FLAT_RANGE
    leaks = float(reference.outside_mass) > NON_NORMALISABLE_OUTSIDE
    inner = energy[1:-1, 1:-1]
    inner_min = float(inner.min()) if inner.size else np.inf
    falls_to_edge = leaks and float(energy.min()) < inner_min  # lowest on the box edge: still falling beyond it
    if grid is not None:
        wall_note = (f"Grid landscapes have a wall outside the box (energy rises as {grid.wall_strength:.3g}·d², "
                     "d = distance to the box), drawn as the orange frame: walkers are confined by it.")
        if flat:
            return LandscapeVerdict("wall", "The drawn grid is flat: the density is uniform over the box. "
                                    + wall_note, True)
        if reference.warnings or leaks:
            return LandscapeVerdict("wall", "Mass at the edge of the drawn grid (" + "; ".join(reference.warnings)
                                    + "). " + wall_note, True)
        return LandscapeVerdict("ok", "", True)
    if flat or falls_to_edge:
        what = "flat" if flat else "lowest at the box edge (unbounded below or still falling beyond the box)"
        return LandscapeVerdict(
            "refuse",
            f"Not normalisable in this box: the energy is {what} (about {min(beyond_percent(reference.outside_mass), 99.9):.3g}%"
            " of the mass would lie beyond the box). Runs are refused: widen the box or add a confining term, "
            "e.g. + 0.05*(x**2 + y**2).", False)
    if reference.warnings:
        return LandscapeVerdict("warn", "; ".join(reference.warnings)
                                + ". No wall: walkers may leave the box; the metrics compare the inside only.", False)
    return LandscapeVerdict("ok", "", False)
