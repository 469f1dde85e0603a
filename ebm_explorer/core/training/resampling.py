"""Resampling of weighted walkers: multinomial and systematic (docs/algorithms.md §4.5).

Both take log-weights and subtract the max before exponentiating (GMM.py passes ``exp(logw)``
raw to ``multinomial``, which overflows for large weights). Systematic resampling (Kitagawa 1996)
uses one uniform for all N draws, so walker i gets either ``floor(N p_i)`` or ``ceil(N p_i)``
copies: much less added noise than multinomial, whose counts are Binomial(N, p_i). Zero-weight
walkers (``A = -inf``) are never selected.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.errors import UserInputError

__all__ = ["RESAMPLING_SCHEMES", "systematic_indices", "multinomial_indices", "resample_indices"]

RESAMPLING_SCHEMES = ("systematic", "multinomial")


def _probs(log_w: torch.Tensor) -> torch.Tensor:
    return torch.softmax(log_w.double(), dim=0)  # max subtracted inside softmax


def systematic_indices(log_w: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``(N,)`` indices: ``u_k = (U + k) / N``, ``idx_k = #{i : C_i <= u_k}`` with ``C`` the cumulative weights."""
    n = log_w.numel()
    cum = torch.cumsum(_probs(log_w), dim=0)
    cum = cum / cum[-1]  # exact 1 at the end despite round-off
    u = (torch.rand((), generator=generator, device=log_w.device, dtype=torch.float64)
         + torch.arange(n, device=log_w.device, dtype=torch.float64)) / n  # (N,)
    idx = torch.searchsorted(cum, u, right=True)
    return idx.clamp_(max=n - 1)  # guard against round-off at the top end


def multinomial_indices(log_w: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``(N,)`` i.i.d. draws from ``softmax(log_w)``."""
    return torch.multinomial(_probs(log_w), log_w.numel(), replacement=True, generator=generator)


def resample_indices(scheme: str, log_w: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices of the walkers to keep under ``scheme`` (``systematic`` or ``multinomial``)."""
    if scheme == "systematic":
        return systematic_indices(log_w, generator)
    if scheme == "multinomial":
        return multinomial_indices(log_w, generator)
    raise UserInputError(f"unknown resampling scheme {scheme!r}: choose one of {', '.join(RESAMPLING_SCHEMES)}")
