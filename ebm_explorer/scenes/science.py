"""The exact curves the lecture scenes draw, taken from a scene's landscape (no Qt).

Scene 2 draws ULA's biased stationary covariance as an ellipse beside the true one; scene 3 plots
KL and Fisher divergences against the weight of one mixture mode. The numerics live in
:mod:`ebm_explorer.core.closed_forms`; this module only reads the scene's landscape.
"""

from __future__ import annotations

import numpy as np

from ebm_explorer.core.closed_forms import covariance_ellipse, mode_weight_divergences, ula_stationary_cov
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import GaussianMixture, Landscape, Tempered

__all__ = ["gaussian_of", "mixture_of", "ula_ellipses", "mode_weight_curve", "with_mode_weight"]


def mixture_of(landscape: Landscape) -> tuple[GaussianMixture, float] | None:
    """The Gaussian mixture under ``landscape`` and its inverse temperature, or None if it is not one."""
    beta = 1.0
    while isinstance(landscape, Tempered):
        beta *= landscape.beta
        landscape = landscape.base
    return (landscape, beta) if isinstance(landscape, GaussianMixture) else None


def gaussian_of(landscape: Landscape) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mean (2,), cov (2, 2))`` when ``landscape`` is a single Gaussian (tempering divides cov by beta)."""
    found = mixture_of(landscape)
    if found is None or len(found[0].weights) != 1:
        return None
    g, beta = found
    return g.means[0].copy(), g.covs[0] / beta


def ula_ellipses(landscape: Landscape, step_sizes: dict[str, float], n_std: float = 2.0) -> dict[str, np.ndarray]:
    """Closed ``n_std``-sigma ellipses: the true covariance, then ULA's stationary one for each step size.

    Keys are ``"exact N(mu, Sigma)"`` and ``"ULA h=<h> (exact)"``; a step size with no stationary
    law (ULA diverges) is left out. :class:`UserInputError` when the landscape is not one Gaussian.
    """
    found = gaussian_of(landscape)
    if found is None:
        raise UserInputError("the ULA-bias ellipse needs a single-Gaussian landscape (preset 'gaussian')")
    mean, cov = found
    out = {"exact N(mu, Sigma)": covariance_ellipse(mean, cov, n_std)}
    for h in step_sizes.values():
        try:
            out[f"ULA h={h:g} (exact)"] = covariance_ellipse(mean, ula_stationary_cov(cov, h), n_std)
        except UserInputError:
            continue
    return out


def _unit_temperature_mixture(landscape: Landscape, what: str) -> GaussianMixture:
    """The Gaussian mixture under ``landscape`` at beta = 1, or a message naming ``what`` needs it."""
    found = mixture_of(landscape)
    if found is None:
        raise UserInputError(f"the {what} needs a Gaussian-mixture landscape")
    if found[1] != 1.0:
        raise UserInputError(f"the {what} needs beta = 1")
    return found[0]


def with_mode_weight(landscape: Landscape, mode: int, weight: float) -> GaussianMixture:
    """The landscape's mixture with the mass of component ``mode`` set to ``weight`` (the others keep
    their proportions): the model q_w of scene 3, whose KL and Fisher divergences the panel plots."""
    g = _unit_temperature_mixture(landscape, "mode-weight slider")
    if len(g.weights) < 2 or not 0.0 < weight < 1.0 or not 0 <= mode < len(g.weights):
        raise UserInputError(f"mode weight must lie strictly between 0 and 1 for one of the {len(g.weights)} modes")
    w = np.asarray(g.weights, dtype=np.float64)
    w = w / w.sum()
    others = np.delete(np.arange(len(w)), mode)
    new = np.empty_like(w)
    new[mode] = weight
    new[others] = (1.0 - weight) * w[others] / w[others].sum()
    return GaussianMixture(new, g.means.copy(), covs=np.asarray(g.covs).copy(), box=g.box)


def mode_weight_curve(landscape: Landscape, mode: int, values: np.ndarray, resolution: int = 256) -> dict[str, np.ndarray]:
    """``{"weight", "kl", "fisher"}``: divergences from the landscape's mixture to the same mixture with
    the mass of component ``mode`` set to each value (the KL / Fisher figure of scene 3)."""
    g = _unit_temperature_mixture(landscape, "mode-weight sweep")
    w = np.asarray(values, dtype=np.float64)
    kl, fisher = mode_weight_divergences(g.weights, g.means, g.covs, mode, w, g.box, resolution)
    return {"weight": w, "kl": kl, "fisher": fisher}
