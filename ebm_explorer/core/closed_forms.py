"""Closed forms the lecture scenes draw beside the walkers (no Qt): exact answers to compare against.

* ULA on a Gaussian ``N(mu, Sigma)`` with step ``h`` has the stationary law ``N(mu, Sigma_h)`` with
  ``Sigma_h = (Sigma^-1 - h/2 Sigma^-2)^-1`` (docs/algorithms.md oracle 1); :func:`covariance_ellipse` turns
  either covariance into points of a k-sigma ellipse.
* KL and Fisher divergences between two 2D densities, by quadrature on a midpoint grid (float64,
  log space); :func:`mode_weight_divergences` sweeps the weight of one mixture mode (oracle 8: KL sees
  the weight, Fisher is blind to it).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.types import Box, EnergyFn

__all__ = ["ula_stationary_cov", "covariance_ellipse", "grid_divergences", "mode_weight_divergences"]


def ula_stationary_cov(cov: np.ndarray, step_size: float) -> np.ndarray:
    """Covariance of ULA's stationary law on ``N(mu, cov)`` at step ``h``: ``(P - h/2 P^2)^-1``, ``P = cov^-1``.

    It exists only when ``0 < h * lambda_i(P) < 2`` for every eigenvalue; otherwise ULA diverges and
    a :class:`UserInputError` says so with the largest stable step.
    """
    c = np.asarray(cov, dtype=np.float64)
    if c.shape != (2, 2) or not np.all(np.isfinite(c)):
        raise UserInputError(f"covariance must be a finite 2x2 matrix, got {c.tolist()}")
    c = 0.5 * (c + c.T)
    lam = np.linalg.eigvalsh(c)
    if lam[0] <= 0:
        raise UserInputError("covariance must be positive definite")
    h = float(step_size)
    if not (h > 0 and math.isfinite(h)):
        raise UserInputError(f"step size must be a finite number > 0, got {step_size!r}")
    h_max = 2.0 * lam[0]  # largest eigenvalue of P is 1 / lam[0]
    if h >= h_max:
        raise UserInputError(f"ULA has no stationary law at step size {h:g} on this Gaussian "
                             f"(it diverges for h >= {h_max:.4g})")
    p = np.linalg.inv(c)
    out = np.linalg.inv(p - 0.5 * h * p @ p)
    return 0.5 * (out + out.T)


def covariance_ellipse(mean: Sequence[float], cov: np.ndarray, n_std: float = 2.0, n_points: int = 200) -> np.ndarray:
    """Points ``(n_points, 2)`` of the closed ellipse ``{mean + n_std * L u : |u| = 1}`` with ``cov = L L^T``.

    The first and last points coincide, so the array can be drawn as a closed line.
    """
    c = np.asarray(cov, dtype=np.float64)
    lam, vec = np.linalg.eigh(0.5 * (c + c.T))
    if lam[0] <= 0:
        raise UserInputError("covariance must be positive definite to draw its ellipse")
    t = np.linspace(0.0, 2.0 * math.pi, n_points)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)  # (n, 2)
    return np.asarray(mean, dtype=np.float64)[None] + n_std * (circle * np.sqrt(lam)[None]) @ vec.T


def _grid_points(box: Box, resolution: int) -> tuple[torch.Tensor, float]:
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 8:
        raise UserInputError(f"grid resolution must be an integer >= 8, got {resolution!r}")
    dx, dy = box.width / resolution, box.height / resolution
    xs = box.xmin + dx * (torch.arange(resolution, dtype=torch.float64) + 0.5)
    ys = box.ymin + dy * (torch.arange(resolution, dtype=torch.float64) + 0.5)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1), dx * dy


def _log_density_and_score(fn: EnergyFn, pts: torch.Tensor, cell: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``log rho`` normalised on the grid and ``grad U`` at the grid points (float64)."""
    u, g = fn.energy_and_grad(pts)
    u, g = u.to(torch.float64), g.to(torch.float64)
    log_z = torch.logsumexp(-u, dim=0) + math.log(cell)
    return -u - log_z, g


def grid_divergences(target: EnergyFn, model: EnergyFn, box: Box, resolution: int = 512) -> tuple[float, float]:
    """``(KL(target || model), Fisher(target || model))`` by midpoint quadrature over ``box``.

    Both densities are normalised on the box. Fisher is ``1/2 E_target |grad log target - grad log
    model|^2`` (Hyvarinen's score-matching divergence).
    """
    pts, cell = _grid_points(box, resolution)
    log_p, g_p = _log_density_and_score(target, pts, cell)
    log_q, g_q = _log_density_and_score(model, pts, cell)
    p = torch.exp(log_p)
    ok = p > 0
    kl = float((p[ok] * (log_p[ok] - log_q[ok])).sum() * cell)
    fisher = float(0.5 * (p[ok] * ((g_p[ok] - g_q[ok]) ** 2).sum(-1)).sum() * cell)
    return kl, fisher


def mode_weight_divergences(
    weights: Sequence[float],
    means: Sequence[Sequence[float]],
    covs: np.ndarray,
    mode: int,
    values: Sequence[float],
    box: Box,
    resolution: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """KL and Fisher from the mixture ``(weights, means, covs)`` to the same mixture with the mass of
    component ``mode`` set to each of ``values`` (the other weights rescaled to keep their ratios).

    Returns ``(kl, fisher)``, each ``(len(values),)``. Oracle 8: for ``0.5 N(-5, 1) + 0.5 N(5, 1)``
    times ``N(0, 1)``, KL is about ``-log 2 - 1/2 log(p (1 - p))`` while Fisher stays below 1e-3.
    """
    from ebm_explorer.core.landscapes import GaussianMixture

    w = np.asarray(weights, dtype=np.float64)
    if not 0 <= mode < len(w):
        raise UserInputError(f"mode {mode} does not exist: the mixture has {len(w)} components")
    if len(w) < 2:
        raise UserInputError("sweeping a mode weight needs a mixture of at least two components")
    target = GaussianMixture(w / w.sum(), means, covs=covs, box=box)
    pts, cell = _grid_points(box, resolution)
    log_p, g_p = _log_density_and_score(target, pts, cell)
    p = torch.exp(log_p)
    ok = p > 0
    others = np.delete(w, mode)
    kl_out, fisher_out = [], []
    for v in values:
        if not 0.0 < float(v) < 1.0:
            raise UserInputError(f"a mode weight must lie in (0, 1), got {v!r}")
        wz = np.insert(others / others.sum() * (1.0 - float(v)), mode, float(v))
        log_q, g_q = _log_density_and_score(GaussianMixture(wz, means, covs=covs, box=box), pts, cell)
        kl_out.append(float((p[ok] * (log_p[ok] - log_q[ok])).sum() * cell))
        fisher_out.append(float(0.5 * (p[ok] * ((g_p[ok] - g_q[ok]) ** 2).sum(-1)).sum() * cell))
    return np.asarray(kl_out), np.asarray(fisher_out)
