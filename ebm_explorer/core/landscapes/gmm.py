"""Gaussian mixtures with arbitrary weights, means and full covariances (analytic gradient)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.limits import MAX_COORDINATE, MAX_STD, MIN_STD, RANGES
from ebm_explorer.core.landscapes._util import SpecLandscape, as_array, as_box, box_list, lse_and_softmax
from ebm_explorer.core.types import Box

#: half-width of the automatic box in standard deviations (edge mass < 1e-6 per component)
AUTO_BOX_SIGMAS = 5.0


def mixture_box(means: np.ndarray, covs: np.ndarray, sigmas: float = AUTO_BOX_SIGMAS) -> Box:
    """The union of ``mean +- sigmas * std`` over components, rounded outwards to 0.5."""
    sd = np.sqrt(np.stack([covs[:, 0, 0], covs[:, 1, 1]], axis=1))
    lo = np.floor(2.0 * (means - sigmas * sd).min(axis=0)) / 2.0
    hi = np.ceil(2.0 * (means + sigmas * sd).max(axis=0)) / 2.0
    return Box(float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


class GaussianMixture(SpecLandscape):
    """``U(x) = -log sum_j w_j N(x; m_j, C_j)``: so ``Z = sum_j w_j`` and mode masses ``w_j / Z``.

    Weights are *not* renormalised, which keeps ``Z`` a readable number for the tests and the GUI.
    Give either ``covs`` (M, 2, 2) or ``stds`` (a scalar or (M,): isotropic); neither means identity.
    The gradient is analytic: ``grad U = sum_j r_j C_j^{-1} (x - m_j)`` with responsibilities ``r``.
    """

    name = "gmm"
    description = "Gaussian mixture with arbitrary weights, means and covariances"

    def __init__(
        self,
        weights: Sequence[float],
        means: Sequence[Sequence[float]],
        covs: Sequence[Any] | None = None,
        stds: float | Sequence[float] | None = None,
        box: Box | Sequence[float] | None = None,
    ) -> None:
        if hasattr(weights, "__len__") and len(weights) > RANGES["components"][1]:
            raise UserInputError(f"a mixture may have at most {RANGES['components'][1]:,} components, "
                                 f"got {len(weights):,}")
        w = as_array(weights, "weights", (None,))
        m = len(w)
        if m == 0:
            raise UserInputError("weights must hold at least one component")
        if np.any(w <= 0):
            raise UserInputError(f"weights must be > 0, got {w.tolist()}")
        mu = as_array(means, "means", (m, 2))
        if np.any(np.abs(mu) > MAX_COORDINATE):
            raise UserInputError(f"means must lie within ±{MAX_COORDINATE:g}")
        if covs is not None and stds is not None:
            raise UserInputError("give either covs or stds for a Gaussian mixture, not both")
        if covs is not None:
            c = as_array(covs, "covs", (m, 2, 2))
            if not np.allclose(c, np.transpose(c, (0, 2, 1)), rtol=1e-12, atol=1e-12):
                raise UserInputError("covs must be symmetric 2x2 matrices")
            c = 0.5 * (c + np.transpose(c, (0, 2, 1)))
            eig = np.linalg.eigvalsh(c)
            if np.any(eig[:, 0] <= 0):
                raise UserInputError("covs must be positive definite")
            if np.any(eig[:, 0] < MIN_STD**2) or np.any(eig[:, 1] > MAX_STD**2):
                raise UserInputError(f"covs must have standard deviations in [{MIN_STD:g}, {MAX_STD:g}] along "
                                     f"every axis (a degenerate or near-singular component cannot be sampled)")
        else:
            s = np.ones(m) if stds is None else np.asarray(stds, dtype=np.float64)
            if s.ndim == 0:
                s = np.full(m, float(s))
            s = as_array(s, "stds", (m,))
            if np.any(s <= 0):
                raise UserInputError(f"stds must be > 0, got {s.tolist()[:8]}")
            if np.any(s < MIN_STD) or np.any(s > MAX_STD):
                raise UserInputError(f"stds must be in [{MIN_STD:g}, {MAX_STD:g}], got {s.tolist()[:8]}")
            c = (s**2)[:, None, None] * np.eye(2)[None]
        super().__init__(as_box(box) if box is not None else mixture_box(mu, c))
        self.weights = w
        self.means = mu
        self.covs = c
        prec = np.linalg.inv(c)
        logdet = np.log(np.linalg.det(c))
        # log w_j + log N normaliser, per component
        self._logc = np.log(w) - math.log(2.0 * math.pi) - 0.5 * logdet
        self._prec = prec
        self._cache: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, ...]] = {}

    def _params(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(m0, m1, p00, p01, p11, logc)``, each ``(M, 1)``, on ``x``'s device and dtype (cached)."""
        key = (x.device, x.dtype)
        if key not in self._cache:
            prec = self._prec
            cols = (self.means[:, 0], self.means[:, 1], prec[:, 0, 0], prec[:, 0, 1], prec[:, 1, 1], self._logc)
            self._cache[key] = tuple(torch.as_tensor(a, dtype=x.dtype, device=x.device)[:, None] for a in cols)
        return self._cache[key]

    def _logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-component log terms and the two components of ``C^-1 (x - m)``, each ``(M, N)``.

        Component-major and written element-wise over the 2 coordinates: reductions over the M
        components then run over contiguous rows, 3x faster on CPU than reducing a trailing axis of
        size M (and 2-3x faster again than an einsum over (N, M, 2)).
        """
        m0, m1, p00, p01, p11, logc = self._params(x)
        xt = x.T.contiguous()  # (2, N)
        d0 = xt[0] - m0  # (M, N)
        d1 = xt[1] - m1
        g0 = p00 * d0 + p01 * d1  # (C^-1 d)_0
        g1 = p01 * d0 + p11 * d1
        return logc - 0.5 * (d0 * g0 + d1 * g1), g0, g1

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return -torch.logsumexp(self._logits(x)[0], dim=0)

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            logits, g0, g1 = self._logits(x.detach())
            lse, r = lse_and_softmax(logits)  # responsibilities r: (M, N)
            g = torch.stack(((r * g0).sum(0), (r * g1).sum(0)), dim=-1)
        return -lse, g

    def log_z_exact(self) -> float:
        """``log sum_j w_j`` (each component is a normalised Gaussian)."""
        return float(np.log(self.weights.sum()))

    def mode_masses(self) -> np.ndarray:
        """Component masses ``w_j / sum(w)`` (equal to basin masses only for separated modes)."""
        return self.weights / self.weights.sum()

    def _own_spec(self) -> dict[str, Any]:
        return {
            "kind": "gmm",
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covs": self.covs.tolist(),
            "box": box_list(self.box),
        }
