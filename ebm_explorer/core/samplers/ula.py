"""Unadjusted Langevin algorithm (ULA).

Reference: Roberts & Tweedie (1996), "Exponential convergence of Langevin distributions and their
discrete approximations"; docs/algorithms.md §2.2 and oracle 1. ``x' = x - h grad U(x) + sqrt(2h) xi``
with no correction, so the chain is biased: on ``N(mu, Sigma)`` it converges to
``N(mu, (Sigma^-1 - h/2 Sigma^-2)^-1)``. Every move is "accepted".
"""

from __future__ import annotations

import torch

from ebm_explorer.core.samplers.base import Sampler, SamplerParams, SamplerState, StepInfo, init_state
from ebm_explorer.core.samplers.langevin import langevin_move
from ebm_explorer.core.types import EnergyFn

__all__ = ["step", "SAMPLER"]


def step(
    generator: torch.Generator, state: SamplerState, energy_fn: EnergyFn, params: SamplerParams
) -> tuple[SamplerState, StepInfo]:
    """One Euler-Maruyama step for every walker (one gradient evaluation)."""
    y = langevin_move(generator, state.position, state.grad, params.step_size)  # (N, 2)
    energy_y, grad_y = energy_fn.energy_and_grad(y)
    n = y.shape[0]
    info = StepInfo(
        accepted=torch.ones(n, dtype=torch.bool, device=y.device),
        proposal=y,
        log_accept_ratio=torch.zeros(n, dtype=y.dtype, device=y.device),
    )
    return SamplerState(y, energy_y, grad_y), info


SAMPLER = Sampler(
    name="ula",
    description="Unadjusted Langevin (Euler-Maruyama, biased by the step size h)",
    init=init_state,
    step=step,
)
