"""Exact reference on a grid: in 2D, ``Z``, moments and mode weights are computable by quadrature.

Everything the app calls "exact" comes from here. The energy is evaluated once at the cell centres
of an ``R x R`` grid over the box (midpoint rule, float64); every quantity below is a sum over those
cells, so it is exact for the density *conditioned on the box*. Instead of silently renormalising a
density the box cuts off, :func:`compute_reference` reports the mass near the edge of the box and
warns when it is noticeable, and it warns when the grid is too coarse for the density.

Modes are the basins of attraction of the steepest-descent flow on the grid (a watershed), with
insignificant basins (low barrier or tiny mass) merged into a neighbour, so that grid noise on flat
regions does not create hundreds of modes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ebm_explorer.core.devices import resolve_device
from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.types import Box, EnergyFn

#: mass in the outermost ring of cells, or estimated beyond the box, above which the box is said to cut
#: mass off
EDGE_MASS_WARN = 1e-3
#: largest mass one grid cell may hold before the grid is called too coarse
CELL_MASS_WARN = 0.05
#: largest change of log Z (and relative change of a mode weight) on a grid half as fine
LOGZ_RESOLUTION_WARN = 1e-2
#: points per chunk when evaluating the energy (bounds memory at high resolution)
_CHUNK_POINTS = 1 << 18


@dataclass
class GridReference:
    """Exact quantities of ``exp(-U) / Z`` restricted to ``box`` on an ``R x R`` midpoint grid.

    Arrays on the grid are ``[iy, ix]``: ``energy[iy, ix] = U(xs[ix], ys[iy])``. ``density`` is
    normalised so that ``density.sum() * dx * dy == 1``. ``basins[iy, ix]`` is the mode label of each
    cell (``-1`` where the energy is ``+inf``: zero density, no basin); modes are ordered by the
    position of their minimum (x, then y). ``edge_mass`` is the mass in the outermost ring of cells;
    ``outside_mass`` estimates the mass *beyond* the box (relative to the mass inside) by extending
    the decay of the density across the last two cells of each edge geometrically (``inf`` where the
    density does not decay towards the edge, the density is extended flat for one more box width:
    a box much too narrow or a density that is not normalisable shows up as ``outside_mass >~ 1``).
    Unlike the ring mass, this estimate does not shrink as the grid is refined.
    ``entropy`` is the differential entropy ``-∫ p log p = E[U] + log Z``.
    """

    box: Box
    resolution: int
    xs: np.ndarray
    ys: np.ndarray
    dx: float
    dy: float
    energy: np.ndarray
    log_z: float
    density: np.ndarray
    marginal_x: np.ndarray
    marginal_y: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    mean_energy: float
    entropy: float
    basins: np.ndarray
    minima: np.ndarray
    minima_energy: np.ndarray
    mode_weights: np.ndarray
    edge_mass: float
    outside_mass: float
    warnings: list[str]
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_modes(self) -> int:
        return int(self.mode_weights.shape[0])

    def cell_index(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Grid cell ``(iy, ix)`` of each point and a mask of the points inside the box (NaN: outside)."""
        pts = _as_points(points)
        b = self.box
        x, y = pts[:, 0], pts[:, 1]
        with np.errstate(invalid="ignore"):
            inside = (x >= b.xmin) & (x <= b.xmax) & (y >= b.ymin) & (y <= b.ymax)
        r = self.resolution
        return _bin_index(y, b.ymin, self.dy, r), _bin_index(x, b.xmin, self.dx, r), inside

    def basin_of(self, points: np.ndarray) -> np.ndarray:
        """Mode label of the grid cell holding each point: ``(N, 2) -> (N,)``; ``-1`` outside the box."""
        iy, ix, inside = self.cell_index(points)
        labels = np.full(inside.shape, -1, dtype=np.int64)
        labels[inside] = self.basins[iy[inside], ix[inside]]
        return labels

    def mode_weights_of(self, points: np.ndarray) -> np.ndarray:
        """Fraction of the points inside the box that lie in each mode: ``(M,)``.

        Points outside the box are not counted (the reference is the density conditioned on the box;
        see :meth:`outside_fraction`). Points in cells of infinite energy belong to no mode, so the
        fractions can sum to less than one. All NaN when no point lies inside the box.
        """
        iy, ix, inside = self.cell_index(points)
        n_inside = int(np.count_nonzero(inside))
        if n_inside == 0:
            return np.full(self.n_modes, np.nan)
        labels = self.basins[iy[inside], ix[inside]]
        return np.bincount(labels[labels >= 0], minlength=self.n_modes) / n_inside

    def outside_fraction(self, points: np.ndarray) -> float:
        """Fraction of the points outside the box (or NaN): these have no exact reference."""
        inside = self.cell_index(points)[2]
        return float(1.0 - inside.mean()) if inside.size else float("nan")

    def log_bin_mass(self, bins: int) -> np.ndarray:
        """Exact log probability of each cell of a ``bins x bins`` histogram grid over the box, ``[by, bx]``.

        Re-integrates the fine grid: each fine cell contributes to every histogram bin it overlaps,
        in proportion to the overlapping area (plain block sums when ``bins`` divides the resolution).
        Computed in log space so that bins far in the tails stay finite instead of underflowing to 0.
        Cached per ``bins``.
        """
        bins = int(bins)
        if bins < 1:
            raise UserInputError(f"number of histogram bins must be positive, got {bins}")
        key = ("log_bin_mass", bins)
        if key not in self._cache:
            wx = _overlap_entries(self.resolution, bins)
            stage = _grouped_logsumexp(-self.energy, *wx, axis=1)
            out = _grouped_logsumexp(stage, *wx, axis=0)
            self._cache[key] = out + np.log(self.dx * self.dy) - self.log_z
        return self._cache[key]

    def summary(self) -> str:
        """A few human-readable lines (CLI, logs)."""
        lines = [
            f"log Z = {self.log_z:.6f}  (grid {self.resolution}x{self.resolution}, "
            f"box {self.box.as_tuple()})",
            f"mean = ({self.mean[0]:.4f}, {self.mean[1]:.4f})  E[U] = {self.mean_energy:.4f}",
            f"{self.n_modes} mode(s), weights " + ", ".join(f"{w:.4f}" for w in self.mode_weights),
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def compute_reference(
    energy_fn: EnergyFn,
    box: Box,
    resolution: int = 256,
    device: str | torch.device = "cpu",
    merge_barrier: float = 0.5,
    min_mass: float = 1e-3,
    progress: Callable[[str, float], None] | None = None,
) -> GridReference:
    """The exact reference of ``exp(-U)`` on ``box`` at ``resolution x resolution`` cell centres.

    ``merge_barrier`` (energy units; beta is already folded into ``U``) and ``min_mass`` decide which
    watershed basins count as modes: a basin whose barrier to a neighbour (saddle minus its minimum)
    is below ``merge_barrier``, or whose mass is below ``min_mass``, is merged into the neighbour
    across its lowest saddle. Raises :class:`NumericalError` if the energy is NaN or ``-inf``
    anywhere (``+inf`` is allowed: zero density), or ``+inf`` everywhere. ``progress(stage, fraction)``,
    if given, is called as each stage starts (the app shows it while the reference is computed).
    """
    report = progress or (lambda stage, fraction: None)
    resolution = int(resolution)
    if resolution < 4:
        raise UserInputError(f"grid resolution must be at least 4, got {resolution}")
    if merge_barrier < 0 or not (0 <= min_mass < 1):
        raise UserInputError("merge_barrier must be >= 0 and min_mass in [0, 1)")
    dx = box.width / resolution
    dy = box.height / resolution
    xs = box.xmin + (np.arange(resolution) + 0.5) * dx
    ys = box.ymin + (np.arange(resolution) + 0.5) * dy
    dev = resolve_device(device)
    report(f"energy at {resolution} x {resolution} grid points", 0.0)
    energy = _evaluate_on_grid(energy_fn, xs, ys, dev)
    _check_finite(energy, xs, ys)

    report("log Z, density and moments", 0.35)
    log_w = -energy
    log_cell = np.log(dx * dy)
    log_z = _logsumexp(log_w) + log_cell
    mass = np.exp(log_w + log_cell - log_z)  # probability of each cell, sums to 1
    mass /= mass.sum()  # remove the last rounding error so moments are exactly normalised
    density = mass / (dx * dy)
    marginal_x = mass.sum(axis=0) / dx
    marginal_y = mass.sum(axis=1) / dy
    px, py = mass.sum(axis=0), mass.sum(axis=1)
    mean = np.array([px @ xs, py @ ys])
    cxx = px @ (xs - mean[0]) ** 2
    cyy = py @ (ys - mean[1]) ** 2
    cxy = (ys - mean[1]) @ mass @ (xs - mean[0])
    cov = np.array([[cxx, cxy], [cxy, cyy]])
    finite = np.isfinite(energy)
    mean_energy = float(np.sum(mass[finite] * energy[finite]))
    entropy = mean_energy + log_z

    report("basins of attraction and mode weights", 0.45)
    basins, minima, minima_energy, mode_weights = _watershed_modes(
        energy, mass, xs, ys, dx, dy, merge_barrier, min_mass
    )

    edge_mass = float(max(0.0, 1.0 - mass[1:-1, 1:-1].sum()))
    outside_mass = _outside_mass(mass)
    warnings = _warnings(mass, edge_mass, outside_mass)
    report("checking the grid against one half as fine", 0.7)
    warnings += _coarse_grid_warnings(
        energy_fn, box, (xs, ys, dx, dy), log_z, basins, minima, mode_weights, dev
    )
    return GridReference(
        box=box,
        resolution=resolution,
        xs=xs,
        ys=ys,
        dx=dx,
        dy=dy,
        energy=energy,
        log_z=float(log_z),
        density=density,
        marginal_x=marginal_x,
        marginal_y=marginal_y,
        mean=mean,
        cov=cov,
        mean_energy=mean_energy,
        entropy=float(entropy),
        basins=basins,
        minima=minima,
        minima_energy=minima_energy,
        mode_weights=mode_weights,
        edge_mass=edge_mass,
        outside_mass=outside_mass,
        warnings=warnings,
    )


def _as_points(points: Any) -> np.ndarray:
    if isinstance(points, torch.Tensor):
        points = points.detach().cpu().numpy()
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise UserInputError(f"points must have shape (N, 2), got {pts.shape}")
    return pts


def _bin_index(v: np.ndarray, vmin: float, width: float, n: int) -> np.ndarray:
    """Index of the bin of ``n`` bins of ``width`` from ``vmin`` holding each value, clipped to the grid."""
    with np.errstate(invalid="ignore"):
        idx = np.floor((v - vmin) / width)
    return np.clip(np.nan_to_num(idx, nan=0.0), 0, n - 1).astype(np.int64)


def _evaluate_on_grid(
    energy_fn: EnergyFn, xs: np.ndarray, ys: np.ndarray, device: torch.device
) -> np.ndarray:
    """U at every cell centre in float64, a band of rows at a time (memory stays bounded)."""
    r = xs.shape[0]
    rows_per_chunk = max(1, _CHUNK_POINTS // r)
    xs_t = torch.as_tensor(xs, dtype=torch.float64, device=device)
    out = np.empty((r, r), dtype=np.float64)
    with torch.no_grad():
        for start in range(0, r, rows_per_chunk):
            stop = min(r, start + rows_per_chunk)
            yy = torch.as_tensor(ys[start:stop], dtype=torch.float64, device=device)
            pts = torch.stack((xs_t.repeat(stop - start), yy.repeat_interleave(r)), dim=1)
            e = energy_fn.energy(pts)
            out[start:stop] = e.detach().to(dtype=torch.float64).cpu().numpy().reshape(stop - start, r)
    return out


def _check_finite(energy: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    bad = np.isnan(energy) | (energy == -np.inf)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        iy, ix = np.argwhere(bad)[0]
        kind = "NaN" if np.isnan(energy[iy, ix]) else "-inf"
        raise NumericalError(
            f"energy is NaN or -inf in {n_bad} of {energy.size} grid cells, "
            f"e.g. U({xs[ix]:.6g}, {ys[iy]:.6g}) = {kind}"
        )
    if not np.isfinite(energy).any():
        raise NumericalError("energy is +inf everywhere in the box: the density is zero")


def _logsumexp(a: np.ndarray) -> float:
    m = np.max(a)
    return float(m + np.log(np.sum(np.exp(a - m))))


def _outside_mass(mass: np.ndarray) -> float:
    """Geometric-tail estimate of the mass beyond the four edges of the box.

    Along each row/column leaving the box, the density of the last cell ``p0`` and the one inside it
    ``p1`` give a decay ratio ``r = p0 / p1`` per cell; the cells beyond would hold
    ``p0 (r + r^2 + ...) = p0 r / (1 - r)``. Exact for exponential tails, a slight overestimate for
    Gaussian ones (log-concave). Where the density decays slower (or not at all: ``r >= 1``) the
    row is extended at most flat for one box width (``p0 * n`` for ``n`` cells per row).
    """
    total = 0.0
    for p0, p1 in (
        (mass[:, 0], mass[:, 1]),
        (mass[:, -1], mass[:, -2]),
        (mass[0, :], mass[1, :]),
        (mass[-1, :], mass[-2, :]),
    ):
        live = p0 > 0
        if not live.any():
            continue
        q0 = p0[live]
        r = np.divide(q0, p1[live], out=np.full(q0.size, np.inf), where=p1[live] > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            cells_beyond = np.where(r < 1, r / (1 - r), np.inf)
        total += float(np.sum(q0 * np.minimum(cells_beyond, p0.size)))
    return total


def beyond_percent(outside_mass: float) -> float:
    """``outside_mass`` (relative to the mass inside the box) as a percentage of all the mass: below 100."""
    if not math.isfinite(outside_mass):
        return 100.0
    return 100.0 * outside_mass / (1.0 + outside_mass)


def _warnings(mass: np.ndarray, edge_mass: float, outside_mass: float) -> list[str]:
    """Say when the box cuts off mass or the grid is too coarse, instead of staying silent."""
    out: list[str] = []
    if max(edge_mass, outside_mass) > EDGE_MASS_WARN:
        inside = 100.0 - beyond_percent(outside_mass)  # the edge share of the mass in the box, as a share of all
        out.append(
            f"box cuts off mass: {edge_mass * inside:.3g}% of the mass lies at the edge of the box "
            f"and about {min(beyond_percent(outside_mass), 99.9):.3g}% beyond it; widen the box"
            + (" (or the density is not normalisable)" if outside_mass > 0.5 else "")
        )
    max_cell = float(mass.max())
    if max_cell > CELL_MASS_WARN:
        out.append(
            f"grid too coarse: one cell holds {100 * max_cell:.3g}% of the mass; "
            "raise the resolution or shrink the box"
        )
    return out


def _coarse_grid_warnings(
    energy_fn: EnergyFn,
    box: Box,
    ref_grid: tuple[np.ndarray, np.ndarray, float, float],
    log_z: float,
    basins: np.ndarray,
    minima: np.ndarray,
    mode_weights: np.ndarray,
    device: torch.device,
) -> list[str]:
    """Compare log Z and the mode weights with a midpoint grid half as fine (25 % more evaluations).

    The coarse cell centres fall on the corners of the fine cells, as far from the fine sample
    points as possible, so a density narrower than the grid cannot hide between both point sets.
    Each coarse point gives its mass in equal parts to the basins of the four fine cells around it.
    """
    xs, ys, dx, dy = ref_grid
    rc = xs.shape[0] // 2
    dxc, dyc = box.width / rc, box.height / rc
    xc = box.xmin + (np.arange(rc) + 0.5) * dxc
    yc = box.ymin + (np.arange(rc) + 0.5) * dyc
    energy_c = _evaluate_on_grid(energy_fn, xc, yc, device)
    _check_finite(energy_c, xc, yc)
    log_z_c = _logsumexp(-energy_c) + np.log(dxc * dyc)
    out = []
    diff = abs(log_z_c - log_z)
    if diff > LOGZ_RESOLUTION_WARN:
        out.append(
            f"grid too coarse: log Z changes by {diff:.3g} between this grid and a grid half as "
            "fine; raise the resolution"
        )
    m = mode_weights.shape[0]
    if m < 2:
        return out
    mass_c = np.exp(-energy_c - _logsumexp(-energy_c)).ravel()
    r = xs.shape[0]
    ix0 = np.clip(np.floor((xc - box.xmin) / dx - 0.5).astype(np.int64), 0, r - 2)
    iy0 = np.clip(np.floor((yc - box.ymin) / dy - 0.5).astype(np.int64), 0, r - 2)
    weights_c = np.zeros(m)
    for oy in (0, 1):
        for ox in (0, 1):
            lab = basins[np.ix_(iy0 + oy, ix0 + ox)].ravel()
            keep = lab >= 0
            weights_c += np.bincount(lab[keep], weights=mass_c[keep], minlength=m)
    weights_c /= weights_c.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(weights_c - mode_weights) / mode_weights
    for k in np.flatnonzero(~(rel <= LOGZ_RESOLUTION_WARN)):
        out.append(
            f"grid too coarse for the mode at ({minima[k, 0]:.4g}, {minima[k, 1]:.4g}): its weight "
            f"changes by {100 * rel[k]:.3g}% on a grid half as fine; raise the resolution"
        )
    return out


# ---------------------------------------------------------------------------------------------
# Watershed basins


_OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def _descent_pointers(energy: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Flat index of the neighbour each cell flows to (itself at a local minimum).

    Steepest descent in the 8-neighbourhood, slopes measured per unit length (so anisotropic cells
    are fair). Among equal-energy neighbours, a cell flows to one with a smaller flat index, which
    drains exact plateaus into one cell without creating cycles.
    """
    r_y, r_x = energy.shape
    padded = np.full((r_y + 2, r_x + 2), np.inf)
    padded[1:-1, 1:-1] = energy
    flat = np.arange(r_y * r_x).reshape(r_y, r_x)
    best_slope = np.zeros((r_y, r_x))
    target = flat.copy()
    finite = np.isfinite(energy)
    for oy, ox in _OFFSETS:
        nb = padded[1 + oy : 1 + oy + r_y, 1 + ox : 1 + ox + r_x]
        with np.errstate(invalid="ignore"):
            slope = (nb - energy) / np.hypot(oy * dy, ox * dx)
        nb_index = flat + oy * r_x + ox
        lower = finite & (slope < best_slope)
        tie = finite & (slope == 0) & (best_slope == 0) & (nb_index < target)
        take = lower | tie
        best_slope = np.where(lower, slope, best_slope)
        target = np.where(take, nb_index, target)
    return target.ravel()


def _pointer_jump(target: np.ndarray) -> np.ndarray:
    """Follow pointers to their fixed points (vectorised; log2(path length) rounds)."""
    while True:
        nxt = target[target]
        if np.array_equal(nxt, target):
            return target
        target = nxt


def _watershed_modes(
    energy: np.ndarray,
    mass: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    dx: float,
    dy: float,
    merge_barrier: float,
    min_mass: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r_y, r_x = energy.shape
    flat_e = energy.ravel()
    finite = np.isfinite(flat_e)
    root = _pointer_jump(_descent_pointers(energy, dx, dy))
    minima_cells = np.flatnonzero(finite & (root == np.arange(root.size)))
    cell_basin = np.full(root.size, -1, dtype=np.int64)
    basin_of_min = np.full(root.size, -1, dtype=np.int64)
    basin_of_min[minima_cells] = np.arange(minima_cells.size)
    cell_basin[finite] = basin_of_min[root[finite]]
    n_basins = minima_cells.size
    basin_mass = np.bincount(cell_basin[finite], weights=mass.ravel()[finite], minlength=n_basins)
    basin_min_e = flat_e[minima_cells]

    edges = _basin_edges(cell_basin.reshape(r_y, r_x), energy, n_basins)
    comp = _merge_basins(n_basins, basin_mass, basin_min_e, edges, merge_barrier, min_mass)

    # components -> modes ordered by the position of their lowest cell (x, then y)
    roots = np.unique(comp)
    comp_mass = np.bincount(comp, weights=basin_mass, minlength=n_basins)[roots]
    order_in_comp = np.lexsort((basin_min_e, comp))  # per component, its lowest basin first
    first = np.ones(n_basins, dtype=bool)
    first[1:] = comp[order_in_comp][1:] != comp[order_in_comp][:-1]
    lowest_basin = order_in_comp[first]  # aligned with roots (both sorted by component id)
    min_cell = minima_cells[lowest_basin]
    mx, my = xs[min_cell % r_x], ys[min_cell // r_x]
    order = np.lexsort((my, mx))
    mode_of_root = np.full(n_basins, -1, dtype=np.int64)
    mode_of_root[roots[order]] = np.arange(roots.size)
    mode_of_basin = mode_of_root[comp]
    labels = np.full(root.size, -1, dtype=np.int64)
    labels[finite] = mode_of_basin[cell_basin[finite]]
    minima = np.stack((mx[order], my[order]), axis=1)
    return labels.reshape(r_y, r_x), minima, flat_e[min_cell][order], comp_mass[order]


def _basin_edges(
    cell_basin: np.ndarray, energy: np.ndarray, n_basins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique adjacent basin pairs ``(a, b, saddle)`` with ``a < b``; saddle = lowest pass energy.

    Two 8-neighbouring cells in different basins form a pass at ``max(U_a, U_b)``; the saddle of a
    basin pair is its lowest pass.
    """
    pairs_a, pairs_b, heights = [], [], []
    r_y, r_x = cell_basin.shape
    for oy, ox in [(0, 1), (1, 0), (1, 1), (1, -1)]:
        ys0, ys1 = slice(0, r_y - oy), slice(oy, r_y)
        xs0 = slice(max(0, -ox), r_x - max(0, ox))
        xs1 = slice(max(0, ox), r_x - max(0, -ox))
        a, b = cell_basin[ys0, xs0], cell_basin[ys1, xs1]
        h = np.maximum(energy[ys0, xs0], energy[ys1, xs1])
        cross = (a != b) & (a >= 0) & (b >= 0)
        pairs_a.append(np.minimum(a, b)[cross])
        pairs_b.append(np.maximum(a, b)[cross])
        heights.append(h[cross])
    a = np.concatenate(pairs_a)
    b = np.concatenate(pairs_b)
    h = np.concatenate(heights)
    key = a * n_basins + b
    order = np.lexsort((h, key))
    key, h = key[order], h[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, h = key[first], h[first]
    return key // n_basins, key % n_basins, h


def _merge_basins(
    n_basins: int,
    basin_mass: np.ndarray,
    basin_min_e: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray, np.ndarray],
    merge_barrier: float,
    min_mass: float,
) -> np.ndarray:
    """Component id (a basin id) of each basin after merging the insignificant ones.

    Boruvka-style rounds, all vectorised: every insignificant component (barrier to its lowest
    saddle below ``merge_barrier``, or mass below ``min_mass``) joins the neighbour across its
    lowest saddle. Significant components stay significant (their mass only grows, their minimum
    only drops, their lowest external saddle only rises), so the rounds end; each round at least
    halves the number of insignificant components.
    """
    comp = np.arange(n_basins)
    a0, b0, s = edges
    while True:
        a, b = comp[a0], comp[b0]
        external = a != b
        if not external.any():
            return comp
        a, b, h = a[external], b[external], s[external]
        a0, b0, s = a0[external], b0[external], s[external]
        mass = np.bincount(comp, weights=basin_mass, minlength=n_basins)
        min_e = np.full(n_basins, np.inf)
        np.minimum.at(min_e, comp, basin_min_e)
        # each component's lowest saddle, ties broken by (smaller, larger) endpoint: a strict total
        # order on edges, so the chosen edges form a forest plus mutual pairs (no longer cycles)
        src = np.concatenate((a, b))
        dst = np.concatenate((b, a))
        hh = np.concatenate((h, h))
        lo, hi = np.minimum(src, dst), np.maximum(src, dst)
        order = np.lexsort((hi, lo, hh, src))
        src, dst, hh = src[order], dst[order], hh[order]
        first = np.ones(src.size, dtype=bool)
        first[1:] = src[1:] != src[:-1]
        c, nb, saddle = src[first], dst[first], hh[first]
        weak = ((saddle - min_e[c]) < merge_barrier) | (mass[c] < min_mass)
        if not weak.any():
            return comp
        target = np.arange(n_basins)
        target[c[weak]] = nb[weak]
        mutual = (target[target] == np.arange(n_basins)) & (target != np.arange(n_basins))
        keep = mutual & (np.arange(n_basins) < target)
        target[keep] = np.arange(n_basins)[keep]
        target = _pointer_jump(target)
        comp = target[comp]


# ---------------------------------------------------------------------------------------------
# Re-binning the fine grid onto a coarser histogram grid


def _overlap_entries(n_cells: int, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-D overlaps of ``n_cells`` fine cells with ``n_bins`` equal bins of the same interval.

    Returns ``(cell, log_fraction, group_starts)``: entries sorted by bin, ``log_fraction`` the log
    of the fraction of the fine cell inside the bin, ``group_starts`` the first entry of each bin.
    Works in units of fine cells, so block sums are exact when ``n_bins`` divides ``n_cells``.
    """
    edges = np.arange(n_bins + 1) * (n_cells / n_bins)
    edges[-1] = n_cells
    lo = np.floor(edges[:-1]).astype(np.int64)
    hi = np.minimum(np.ceil(edges[1:]).astype(np.int64), n_cells)
    counts = hi - lo
    bin_id = np.repeat(np.arange(n_bins), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    cell = lo[bin_id] + offset
    frac = np.minimum(cell + 1, edges[1:][bin_id]) - np.maximum(cell, edges[:-1][bin_id])
    keep = frac > 1e-12
    cell, frac, bin_id = cell[keep], frac[keep], bin_id[keep]
    starts = np.searchsorted(bin_id, np.arange(n_bins))
    return cell, np.log(frac), starts


def _grouped_logsumexp(
    a: np.ndarray, cell: np.ndarray, log_frac: np.ndarray, starts: np.ndarray, axis: int
) -> np.ndarray:
    """``log sum_cells frac * exp(a)`` over the cells of each bin, along ``axis``."""
    vals = np.take(a, cell, axis=axis)
    shape = [1, 1]
    shape[axis] = -1
    vals = vals + log_frac.reshape(shape)
    m = np.maximum.reduceat(vals, starts, axis=axis)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    group = np.repeat(np.arange(starts.size), np.diff(np.append(starts, cell.size)))
    with np.errstate(divide="ignore"):
        s = np.add.reduceat(np.exp(vals - np.take(m_safe, group, axis=axis)), starts, axis=axis)
        return m_safe + np.log(s)
