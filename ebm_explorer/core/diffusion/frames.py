"""What a picture of a generation run at one time ``t`` shows, computed exactly: the noised density
``rho_t`` on a display grid, the exact score on a coarse grid (arrows), and the walkers against
``rho_t`` (KL of their histogram and their mass in each mode, with and without the Jarzynski weights).

The GUI's generate worker calls :func:`generation_frame` after the steps it shows; the windowed GUI only
draws the numbers (no science there). Everything is float64 torch / numpy on the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ebm_explorer.core.diffusion.generate import weighted_kl
from ebm_explorer.core.diffusion.paths import NoisedDensity
from ebm_explorer.core.training import jarzynski as jz
from ebm_explorer.core.types import Box

__all__ = ["FrameNumbers", "density_on_grid", "score_arrows", "walker_numbers", "relative_weights"]


@dataclass(frozen=True)
class FrameNumbers:
    """The walkers against ``rho_t``: equal weights, and (``weighted``) their Jarzynski weights."""

    kl: float  # KL(equal-weight histogram || rho_t)
    kl_weighted: float  # KL(weighted histogram || rho_t); NaN when unweighted
    kl_floor: float  # expected KL of N exact samples (the noise floor of ``kl``)
    kl_floor_weighted: float  # expected KL of as many exact samples as the ESS (that of ``kl_weighted``)
    ess: float  # ESS / N of the weights (1 when unweighted)
    mode_weights: np.ndarray  # (M,) equal-weight mass in each basin of the target
    mode_weights_weighted: np.ndarray  # (M,) weighted; NaN when unweighted
    mode_weights_exact: np.ndarray  # (M,) exact mass of rho_t in each basin


def density_on_grid(density: NoisedDensity, t: float, box: Box, resolution: int) -> np.ndarray:
    """``rho_t`` at the ``resolution^2`` cell centres of ``box`` (``[iy, ix]``, float32)."""
    xs = box.xmin + (np.arange(resolution) + 0.5) * box.width / resolution
    ys = box.ymin + (np.arange(resolution) + 0.5) * box.height / resolution
    gx, gy = np.meshgrid(xs, ys)
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1))
    lp = density.evaluate(t, pts)[0].numpy().reshape(resolution, resolution)
    return np.exp(lp).astype(np.float32)


def score_arrows(density: NoisedDensity, t: float, box: Box, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(points (n^2, 2), exact score at them (n^2, 2))`` on an ``n x n`` grid of cell centres of ``box``."""
    xs = box.xmin + (np.arange(n) + 0.5) * box.width / n
    ys = box.ymin + (np.arange(n) + 0.5) * box.height / n
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    score = density.evaluate(t, torch.as_tensor(pts))[1].numpy()
    return pts.astype(np.float32), score.astype(np.float32)


def relative_weights(log_w: torch.Tensor) -> np.ndarray:
    """``N w_i / sum_j w_j`` (1 for every walker when the weights are equal), float64 numpy."""
    p = torch.softmax(log_w.double(), 0).cpu().numpy()
    return p * p.shape[0]


def walker_numbers(density: NoisedDensity, t: float, x: torch.Tensor, log_w: torch.Tensor | None,
                   bins: int = 40) -> FrameNumbers:
    """The walkers ``x`` (with log-weights ``log_w``, or None) against the exact ``rho_t``."""
    ref = density.reference
    zeros = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
    kl, floor = weighted_kl(density, t, x, zeros, bins)
    labels = ref.basin_of(x.detach().cpu().double().numpy())
    ok = labels >= 0
    plain = np.bincount(labels[ok], minlength=ref.n_modes).astype(np.float64)
    plain = plain / max(plain.sum(), 1.0)
    exact = density.mode_weights(t)
    nan_m = np.full(ref.n_modes, math.nan)
    if log_w is None:
        return FrameNumbers(kl, math.nan, floor, math.nan, 1.0, plain, nan_m, exact)
    kl_w, floor_w = weighted_kl(density, t, x, log_w, bins)
    p = torch.softmax(log_w.double(), 0).cpu().numpy()
    weighted = np.bincount(labels[ok], weights=p[ok], minlength=ref.n_modes)
    weighted = weighted / max(weighted.sum(), 1e-300)
    return FrameNumbers(kl, kl_w, floor, floor_w, jz.ess_fraction(log_w), plain, weighted, exact)
