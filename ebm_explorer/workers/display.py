"""Display preparation done off the UI thread: walker histograms, contour polylines, colour ranges.

None of this is science (that lives in ``core``); it turns tensors and grids into the small float32
arrays the views draw, so that the UI thread only copies them into long-lived plot items.
"""

from __future__ import annotations

import contourpy
import numpy as np
import torch

from ebm_explorer.core.types import Box

__all__ = ["walker_histogram", "contour_lines", "energy_range", "DISPLAY_BINS", "CONTOUR_LEVELS"]

#: bins per axis of the live walker histogram
DISPLAY_BINS = 128
#: number of density contour lines
CONTOUR_LEVELS = 7


def walker_histogram(positions: torch.Tensor, box: Box, bins: int = DISPLAY_BINS,
                     weights: torch.Tensor | None = None) -> np.ndarray:
    """Density of the walkers over ``box`` on a ``bins x bins`` grid ``[iy, ix]`` (float32, on host).

    One ``bincount`` on the walkers' device, then one small copy: cheap for millions of walkers.
    Normalised by the total walker count (or the total ``weights``: weighted walkers, SMC), so it
    integrates to the fraction inside the box.
    """
    pos = positions.detach()
    n = pos.shape[0]
    fx = (pos[:, 0] - box.xmin) / box.width * bins
    fy = (pos[:, 1] - box.ymin) / box.height * bins
    inside = (fx >= 0) & (fx < bins) & (fy >= 0) & (fy < bins)  # NaN compares False: dropped
    idx = fy[inside].long() * bins + fx[inside].long()
    cell = (box.width / bins) * (box.height / bins)
    if weights is None:
        counts = torch.bincount(idx, minlength=bins * bins).to(torch.float64)
        total = float(max(n, 1))
    else:
        w = weights.detach().to(device=pos.device, dtype=torch.float64)
        counts = torch.bincount(idx, weights=w[inside], minlength=bins * bins)
        total = float(w.sum()) or 1.0
    dens = (counts / (total * cell)).reshape(bins, bins)
    return dens.cpu().numpy().astype(np.float32)


def contour_lines(density: np.ndarray, box: Box, levels: int = CONTOUR_LEVELS) -> np.ndarray:
    """Iso-density polylines ``(P, 2)`` float32, one NaN row between lines (one plot item draws all).

    Levels are spaced in mass: each line encloses a round fraction (10 % ... 90 %) of the
    probability, which reads the same on every landscape (unlike fixed density values).
    """
    r_y, r_x = density.shape
    xs = box.xmin + (np.arange(r_x) + 0.5) * box.width / r_x
    ys = box.ymin + (np.arange(r_y) + 0.5) * box.height / r_y
    flat = np.sort(density.ravel())[::-1]
    mass = np.cumsum(flat)
    total = mass[-1] if mass.size and mass[-1] > 0 else 1.0
    fractions = np.linspace(0.1, 0.9, levels)
    values = flat[np.minimum(np.searchsorted(mass / total, fractions), flat.size - 1)]
    gen = contourpy.contour_generator(xs, ys, density, line_type=contourpy.LineType.Separate)
    pieces: list[np.ndarray] = []
    nan_row = np.full((1, 2), np.nan)
    for v in np.unique(values):
        if not np.isfinite(v) or v <= 0:
            continue
        for line in gen.lines(float(v)):
            pieces.append(np.asarray(line))
            pieces.append(nan_row)
    if not pieces:
        return np.zeros((0, 2), dtype=np.float32)
    return np.concatenate(pieces).astype(np.float32)


def energy_range(energy: np.ndarray, density: np.ndarray) -> tuple[float, float]:
    """Colour range of the energy image: from the minimum to where 99.9 % of the mass lies, plus margin.

    Energies far up the walls (box corners) would otherwise squash all the structure into one colour.
    """
    finite = np.isfinite(energy)
    if not finite.any():
        return 0.0, 1.0
    lo = float(np.min(energy[finite]))
    order = np.argsort(energy[finite])
    mass = np.cumsum(density[finite][order])
    k = min(int(np.searchsorted(mass / mass[-1], 0.999)), order.size - 1)
    hi = float(energy[finite][order][k])
    hi = lo + 1.5 * max(hi - lo, 1e-6)
    return lo, min(hi, float(np.max(energy[finite])))
