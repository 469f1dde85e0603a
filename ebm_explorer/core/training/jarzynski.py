"""Jarzynski log-weights: the ULA alpha recursion, the AIS increment, ESS and the log Z estimate.

Everything is in log space and float64 (docs/algorithms.md §4.4): weights are ``p = softmax(A)``, the mean
weight is ``logsumexp(A) - log N``, the ESS comes from ``logsumexp(2A)``. A walker whose position or
log-weight is not finite gets ``A = -inf``: it drops out of every estimate (zero weight) and the
trainer counts it, instead of letting one NaN poison the gradient.

Identities (docs/algorithms.md §4.3 and §4.7), for any *prescribed* parameter path ``theta_0, ..., theta_k``:
``E[e^A f(X)] / E[e^A] = E_theta_k[f]`` and ``E[e^A] = Z_theta_k / Z_theta_0``. When the walkers
themselves choose the path (training), the estimate of ``log Z`` is biased low; see
:mod:`ebm_explorer.core.training.cross_fit` and docs/jarzynski_bias.md.
"""

from __future__ import annotations

import math

import torch

from ebm_explorer.core.samplers import SamplerState

__all__ = [
    "alpha",
    "ula_increment",
    "ais_increment",
    "log_weight_increment",
    "log_z_standard_error",
    "sanitize_log_weights",
    "normalized_weights",
    "log_mean_weight",
    "log_ess",
    "ess_fraction",
    "weights_and_ess",
    "cv2_threshold_to_ess",
]


def alpha(energy: torch.Tensor, grad: torch.Tensor, x: torch.Tensor, y: torch.Tensor, h: float) -> torch.Tensor:
    """``alpha(x, y; theta) = U(x) + (y - x).grad U(x) / 2 + h |grad U(x)|^2 / 4`` ``(N,)``.

    ``energy`` and ``grad`` are ``U_theta`` and ``grad U_theta`` at ``x`` (GMM.py ``logalpha1``).
    """
    d = y - x
    g0, g1 = grad[:, 0], grad[:, 1]
    # explicit 2-D dot products: torch reduces a trailing axis of size 2 several times slower
    return energy + 0.5 * (d[:, 0] * g0 + d[:, 1] * g1) + 0.25 * h * (g0 * g0 + g1 * g1)


def ula_increment(
    x_old: torch.Tensor,
    energy_old: torch.Tensor,
    grad_old: torch.Tensor,
    x_new: torch.Tensor,
    energy_new: torch.Tensor,
    grad_new: torch.Tensor,
    h: float,
) -> torch.Tensor:
    """``A_{k+1} - A_k = -alpha(X_{k+1}, X_k; theta_{k+1}) + alpha(X_k, X_{k+1}; theta_k)`` in float64 ``(N,)``.

    ``energy_old, grad_old`` are under ``theta_k`` at ``X_k`` (the move's parameters); ``energy_new,
    grad_new`` under ``theta_{k+1}`` at ``X_{k+1}``. With ``theta_{k+1} = theta_k`` this equals the log
    MALA acceptance ratio (docs/algorithms.md §4.3).
    """
    back = alpha(energy_new.double(), grad_new.double(), x_new.double(), x_old.double(), h)
    fwd = alpha(energy_old.double(), grad_old.double(), x_old.double(), x_new.double(), h)
    return fwd - back


def ais_increment(energy_new_params: torch.Tensor, energy_old_params: torch.Tensor) -> torch.Tensor:
    """``-U_{theta_{k+1}}(X_{k+1}) + U_{theta_k}(X_{k+1})`` (float64): the weight of any kernel that
    leaves ``rho_theta_k`` invariant (MALA, HMC with MH), moved with ``theta_k`` (docs/algorithms.md §4.7)."""
    return energy_old_params.double() - energy_new_params.double()


def log_weight_increment(kernel: str, old: SamplerState, new: SamplerState, energy_old_at_new: torch.Tensor | None,
                         h: float) -> torch.Tensor:
    """The log-weight increment of one move: :func:`ula_increment` for ``kernel == "ula"``, else
    :func:`ais_increment`. ``old`` is under ``theta_k`` at ``X_k``, ``new`` under ``theta_{k+1}`` at
    ``X_{k+1}``; ``energy_old_at_new`` is ``U_theta_k(X_{k+1})`` (MALA/HMC only)."""
    if kernel == "ula":
        return ula_increment(old.position, old.energy, old.grad, new.position, new.energy, new.grad, h)
    assert energy_old_at_new is not None
    return ais_increment(new.energy, energy_old_at_new)


def log_z_standard_error(log_w: torch.Tensor, ancestors: torch.Tensor) -> float:
    """Standard error of the running ``log Z`` estimate from the weights and the resampling history.

    ``ancestors[i]`` is the index of the initial walker that walker ``i`` descends from through every
    resampling. With ``P_k`` the total normalised weight of the descendants of initial walker ``k``,
    ``Var(Z_hat) / Z^2 ~ sum_k (P_k - 1/N)^2`` (the genealogy estimator of Chan & Lai 2013 and Lee &
    Whiteley 2018, large-N form); without resampling this is ``1/ESS - 1/N``, the variance of a mean of
    i.i.d. weights. Duplicated walkers share one ancestor, so resampling's loss of diversity counts.
    ``log1p`` turns the relative variance into the variance of ``log Z_hat`` (delta method for small
    values, the log-normal value for large ones).
    """
    p = normalized_weights(log_w)
    if not bool(torch.isfinite(p).all()):
        return math.nan
    mass = torch.zeros_like(p).index_add_(0, ancestors, p)
    rel = float(((mass - 1.0 / p.numel()) ** 2).sum())
    return math.sqrt(math.log1p(rel))


def sanitize_log_weights(log_w: torch.Tensor, finite_walkers: torch.Tensor) -> torch.Tensor:
    """``log_w`` with ``-inf`` for walkers that are not finite or whose weight is NaN / ``+inf``."""
    ok = finite_walkers & (torch.isfinite(log_w) | (log_w == -math.inf))
    return torch.where(ok, log_w, torch.full_like(log_w, -math.inf))


def normalized_weights(log_w: torch.Tensor) -> torch.Tensor:
    """``p_i = e^{A_i} / sum_j e^{A_j}`` (softmax subtracts the max first) ``(N,)``."""
    return torch.softmax(log_w, dim=0)


def log_mean_weight(log_w: torch.Tensor) -> torch.Tensor:
    """``log (1/N sum_i e^{A_i})``: the estimate of ``log Z_theta_k - log Z_theta_{k_r}``."""
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.numel())


def log_ess(log_w: torch.Tensor) -> torch.Tensor:
    """``log ESS = 2 logsumexp(A) - logsumexp(2A)``; ESS lies in ``[1, N]``."""
    return 2.0 * torch.logsumexp(log_w, dim=0) - torch.logsumexp(2.0 * log_w, dim=0)


def ess_fraction(log_w: torch.Tensor) -> float:
    """``ESS / N`` in ``(0, 1]``; 0 when every walker has been dropped."""
    if not bool(torch.isfinite(log_w).any()):
        return 0.0
    return float(torch.exp(log_ess(log_w)) / log_w.numel())


def weights_and_ess(log_w: torch.Tensor) -> tuple[torch.Tensor, float]:
    """``(p, ESS / N)`` from one softmax: ``ESS = 1 / sum p_i^2`` equals :func:`log_ess`'s
    ``(sum e^A)^2 / sum e^2A`` and costs one pass instead of two ``logsumexp`` (the trainer's hot loop)."""
    p = normalized_weights(log_w)
    s2 = float((p * p).sum())
    return p, (1.0 / (log_w.numel() * s2) if math.isfinite(s2) and s2 > 0 else 0.0)


def cv2_threshold_to_ess(cv2: float) -> float:
    """GMM.py resamples when ``CV^2 = N sum p^2 - 1 > c``; since ``CV^2 = N / ESS - 1`` that is
    ``ESS / N < 1 / (1 + c)``. Returns that ESS/N threshold."""
    return 1.0 / (1.0 + float(cv2))
