"""Log-space Metropolis-Hastings accept/reject, shared by MH, MALA and HMC.

Follows blackjax ``mcmc/proposal.py`` (``static_binomial_sampling``): a NaN log ratio becomes
``-inf`` (``where(isnan(delta), -inf, delta)``) so a broken proposal is always rejected. Here a
proposal whose position or energy is not finite is rejected too: an energy of ``-inf`` would
otherwise give ``delta = +inf`` and be accepted.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.samplers.base import SamplerState

__all__ = ["finite_rows", "squared_norm", "safe_log_ratio", "accept_reject"]


def finite_rows(position: torch.Tensor, energy: torch.Tensor) -> torch.Tensor:
    """``(N,)`` bool: the walker's energy and both coordinates are finite.

    ``c - c`` is exactly 0 for a finite ``c`` and NaN otherwise, so one ``isfinite`` of
    ``energy + (x - x) + (y - y)`` covers all three; an ``(N, 2)`` ``isfinite(...).all(-1)`` costs ~10x
    more on CPU (a reduction over a length-2 axis).
    """
    x, y = position[:, 0], position[:, 1]
    return torch.isfinite(energy + (x - x) + (y - y))


def squared_norm(v: torch.Tensor) -> torch.Tensor:
    """``|v|^2`` per row of ``(N, 2)``: bitwise equal to ``(v ** 2).sum(-1)`` and ~10x cheaper on CPU."""
    sq = v * v
    return sq[:, 0] + sq[:, 1]


def safe_log_ratio(log_ratio: torch.Tensor, proposal: SamplerState) -> torch.Tensor:
    """``log_ratio`` with ``-inf`` wherever it is NaN or the proposal is not finite: ``(N,)``."""
    ok = finite_rows(proposal.position, proposal.energy) & (log_ratio == log_ratio)  # NaN != NaN
    return torch.where(ok, log_ratio, -torch.inf)


def accept_reject(
    generator: torch.Generator,
    log_ratio: torch.Tensor,
    current: SamplerState,
    proposal: SamplerState,
) -> tuple[SamplerState, torch.Tensor, torch.Tensor]:
    """Accept each walker's proposal with probability ``min(1, exp(log_ratio))``.

    Returns the new state (selected per walker, inputs untouched), ``accepted`` ``(N,)`` bool and the
    sanitised log ratio ``(N,)``.
    """
    log_ratio = safe_log_ratio(log_ratio, proposal)
    pos = current.position
    u = torch.rand(pos.shape[0], generator=generator, device=pos.device, dtype=pos.dtype)  # (N,)
    accepted = torch.log(u) < log_ratio  # log 0 = -inf never beats -inf, so broken proposals stay out
    acc2 = accepted.unsqueeze(-1)  # (N, 1)
    new_state = SamplerState(
        position=torch.where(acc2, proposal.position, current.position),
        energy=torch.where(accepted, proposal.energy, current.energy),
        grad=torch.where(acc2, proposal.grad, current.grad),
    )
    return new_state, accepted, log_ratio
