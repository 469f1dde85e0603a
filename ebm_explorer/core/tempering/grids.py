"""Exact tempered and intermediate densities on the reference grid: what PT's replicas and SMC's levels
should look like, drawn behind their walkers and compared with them.

``GridReference`` holds ``U`` on a midpoint grid; a replica at inverse temperature ``beta`` targets
``exp(-beta U) / Z_beta`` and an SMC level ``t`` targets ``exp(-U_t) / Z_t`` (``path_grid_energy``). The
basins of attraction do not depend on ``beta`` or ``t`` (the same minima, the same watershed), so the
exact mode masses of any of these densities are sums of the density over the reference's basins.
"""

from __future__ import annotations

import numpy as np

from ebm_explorer.core.reference import GridReference
from ebm_explorer.core.tempering.energies import StartDistribution
from ebm_explorer.core.tempering.smc import path_grid_energy

__all__ = ["grid_density", "tempered_grid_density", "path_grid_density", "basin_masses"]


def grid_density(energy: np.ndarray, ref: GridReference) -> np.ndarray:
    """``exp(-energy) / Z`` on ``ref``'s grid ``[iy, ix]`` (integrates to 1 by the midpoint rule; +inf cells are 0)."""
    e = np.where(np.isnan(energy), np.inf, np.asarray(energy, dtype=np.float64))
    finite = np.isfinite(e)
    if not finite.any():
        return np.zeros_like(e)
    a = np.where(finite, -(e - e[finite].min()), -np.inf)
    p = np.exp(a)
    cell = (ref.xs[1] - ref.xs[0]) * (ref.ys[1] - ref.ys[0])
    return p / (p.sum() * cell)


def tempered_grid_density(ref: GridReference, beta: float) -> np.ndarray:
    """The exact density of a replica at inverse temperature ``beta``."""
    return grid_density(float(beta) * np.asarray(ref.energy, dtype=np.float64), ref)


def path_grid_density(ref: GridReference, start: StartDistribution, t: float) -> np.ndarray:
    """The exact density of the SMC level ``t`` on the path from ``start`` to the landscape."""
    return grid_density(path_grid_energy(ref.energy, ref.xs, ref.ys, start, float(t)), ref)


def basin_masses(ref: GridReference, density: np.ndarray) -> np.ndarray:
    """``(M,)`` exact mass of each of ``ref``'s basins under ``density`` (a grid density of :func:`grid_density`)."""
    cell = (ref.xs[1] - ref.xs[0]) * (ref.ys[1] - ref.ys[0])
    labels = ref.basins.ravel()
    keep = labels >= 0
    return np.bincount(labels[keep], weights=density.ravel()[keep] * cell, minlength=ref.n_modes)[: ref.n_modes]
