"""Metropolis-adjusted Langevin algorithm (MALA).

Reference: Roberts & Tweedie (1996); docs/algorithms.md §2.3 (chi-feng/mcmc-demo ``MALA.js``).
Propose ``y = x - h grad U(x) + sqrt(2h) xi`` (the ULA move) and accept with

``log r = -U(y) + U(x) - |x - y + h grad U(y)|^2 / 4h + |y - x + h grad U(x)|^2 / 4h``,

which removes ULA's step-size bias: the chain leaves ``exp(-U)/Z`` exactly invariant.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.samplers.base import Sampler, SamplerParams, SamplerState, StepInfo, init_state
from ebm_explorer.core.samplers.langevin import langevin_log_kernel, langevin_move
from ebm_explorer.core.samplers.proposal import accept_reject
from ebm_explorer.core.types import EnergyFn

__all__ = ["log_accept_ratio", "step", "SAMPLER"]


def log_accept_ratio(current: SamplerState, proposal: SamplerState, step_size: float) -> torch.Tensor:
    """MALA's log MH ratio ``(N,)``: target ratio plus the backward/forward Langevin kernel ratio."""
    x, y, h = current.position, proposal.position, step_size
    log_target = current.energy - proposal.energy  # log p(y) - log p(x) = U(x) - U(y)
    backward = langevin_log_kernel(x, y, proposal.grad, h)  # log q(y -> x)
    forward = langevin_log_kernel(y, x, current.grad, h)  # log q(x -> y)
    return log_target + backward - forward


def step(
    generator: torch.Generator, state: SamplerState, energy_fn: EnergyFn, params: SamplerParams
) -> tuple[SamplerState, StepInfo]:
    """One MALA step for every walker (one gradient evaluation)."""
    h = params.step_size
    y = langevin_move(generator, state.position, state.grad, h)  # (N, 2)
    energy_y, grad_y = energy_fn.energy_and_grad(y)
    proposal = SamplerState(y, energy_y, grad_y)
    new_state, accepted, log_ratio = accept_reject(generator, log_accept_ratio(state, proposal, h), state, proposal)
    return new_state, StepInfo(accepted=accepted, proposal=y, log_accept_ratio=log_ratio)


SAMPLER = Sampler(
    name="mala",
    description="Metropolis-adjusted Langevin (ULA proposal + MH correction, unbiased)",
    init=init_state,
    step=step,
)
