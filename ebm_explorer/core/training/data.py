"""Training data: exact samples from a landscape, or a user's own 2-D points from CSV / NPZ.

Exact sampling: a :class:`GaussianMixture` is sampled component by component (optionally with
deterministic per-component counts, as GMM.py's data set: exactly ``floor(n w_1)`` points from mode 1);
any other landscape by inverse CDF on the exact grid density: draw a cell from the normalised cell
masses, then a uniform point inside the cell. That is exact for the piecewise-constant density of the
grid, so its error is the grid's quadrature error, which the reference already reports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.limits import MAX_COORDINATE, RANGES
from ebm_explorer.core.landscapes.base import Landscape
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.reference import GridReference, compute_reference
from ebm_explorer.core.safe_io import csv_rows, load_npz, printable
from ebm_explorer.core.training.models import stratified_counts

__all__ = ["MIN_DATA_POINTS", "sample_from_reference", "sample_mixture", "sample_landscape", "load_points"]

#: fewer points than this cannot estimate a gradient sensibly; refuse them with a clear message
MIN_DATA_POINTS = 10
_NPZ_KEYS = ("data", "x", "points")


def sample_from_reference(
    ref: GridReference, n: int, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """``(n, 2)`` samples of the grid density of ``ref`` (cell by inverse CDF, uniform jitter in the cell)."""
    mass = torch.as_tensor(ref.density.ravel() * (ref.dx * ref.dy), dtype=torch.float64)  # (R*R,)
    cell = torch.multinomial(mass, n, replacement=True, generator=generator)  # (n,)
    iy, ix = cell // ref.resolution, cell % ref.resolution
    xs = torch.as_tensor(ref.xs, dtype=torch.float64)
    ys = torch.as_tensor(ref.ys, dtype=torch.float64)
    jitter = torch.rand((n, 2), generator=generator, dtype=torch.float64) - 0.5  # uniform in the cell
    pts = torch.stack([xs[ix] + jitter[:, 0] * ref.dx, ys[iy] + jitter[:, 1] * ref.dy], dim=1)
    return pts.to(dtype)


def sample_mixture(
    mix: GaussianMixture, n: int, generator: torch.Generator, stratified: bool = False,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """``(n, 2)`` exact samples of a Gaussian mixture (``stratified``: fixed counts per component)."""
    masses = mix.mode_masses()
    if stratified:
        comp = torch.as_tensor(np.repeat(np.arange(len(masses)), stratified_counts(n, masses)))
    else:
        comp = torch.multinomial(torch.as_tensor(masses), n, replacement=True, generator=generator)
    chol = torch.as_tensor(np.linalg.cholesky(mix.covs), dtype=torch.float64)  # (M, 2, 2)
    mu = torch.as_tensor(mix.means, dtype=torch.float64)
    z = torch.randn((n, 2), generator=generator, dtype=torch.float64)
    pts = mu[comp] + torch.einsum("nab,nb->na", chol[comp], z)
    return pts.to(dtype)


def sample_landscape(
    land: Landscape, n: int, generator: torch.Generator, resolution: int = 512,
    stratified: bool = False, dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Exact samples of ``exp(-U)`` on the landscape's box (mixtures: exact on the whole plane)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < MIN_DATA_POINTS:
        raise UserInputError(f"data size must be an integer >= {MIN_DATA_POINTS}, got {n!r}")
    if isinstance(land, GaussianMixture):
        return sample_mixture(land, n, generator, stratified=stratified, dtype=dtype)
    return sample_from_reference(compute_reference(land, land.box, resolution), n, generator, dtype)


def _check_points(arr: np.ndarray, where: str) -> np.ndarray:
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise UserInputError(f"{where}: expected an (n, 2) array of points, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise UserInputError(f"{where}: row {bad} contains NaN or inf")
    if arr.shape[0] < MIN_DATA_POINTS:
        raise UserInputError(f"{where}: needs at least {MIN_DATA_POINTS} points, got {arr.shape[0]}")
    big = np.abs(arr) > MAX_COORDINATE
    if big.any():
        row = int(np.flatnonzero(big.any(axis=1))[0])
        raise UserInputError(f"{where}: row {row} has a coordinate beyond ±{MAX_COORDINATE:g} "
                             f"({arr[row].tolist()}): rescale the data")
    return arr


def _read_csv(path: Path) -> np.ndarray:
    rows: list[list[float]] = []
    limit = RANGES["data_size"][1]
    for lineno, row in csv_rows(path, "data file", max_field=256):
        cells = [c.strip() for c in row]
        if not cells or all(c == "" for c in cells):
            continue
        if len(cells) != 2:
            raise UserInputError(f"{printable(path)}:{lineno}: expected 2 columns (x, y), got {len(cells)}")
        try:
            rows.append([float(cells[0]), float(cells[1])])
        except ValueError:
            if not rows and lineno == 1:  # a header line
                continue
            raise UserInputError(f"{printable(path)}:{lineno}: not two numbers: {printable(repr(row), 80)}") from None
        if len(rows) > limit:
            raise UserInputError(f"{printable(path)}: more than {limit:,} points (the data size limit)")
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2)


def _read_npz(path: Path) -> np.ndarray:
    arrays = load_npz(path, "data file", max_bytes=RANGES["data_size"][1] * 2 * 8 * 4, kinds="iuf")
    names = list(arrays)
    key = next((k for k in _NPZ_KEYS if k in names), None)
    if key is None:
        if len(names) != 1:
            raise UserInputError(f"{printable(path)}: put the points under key 'data', 'x' or 'points' "
                                 f"(found {printable(names)})")
        key = names[0]
    arr = arrays[key]
    if arr.ndim == 2 and arr.shape[0] > RANGES["data_size"][1]:
        raise UserInputError(f"{printable(path)}: {arr.shape[0]:,} points; the data size limit is "
                             f"{RANGES['data_size'][1]:,}")
    return np.asarray(arr, dtype=np.float64)


def load_points(path: str | Path) -> np.ndarray:
    """A user's 2-D data: CSV (two numeric columns, optional header) or NPZ (key data/x/points or one array)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        arr = _read_csv(p)
    elif suffix == ".npz":
        arr = _read_npz(p)
    else:
        raise UserInputError(f"data file must be .csv or .npz, got {printable(p.name)!r}")
    return _check_points(arr, printable(p))
