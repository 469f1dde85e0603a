"""Random-walk Metropolis-Hastings with a Gaussian proposal.

Reference: Metropolis et al. (1953), Hastings (1970); docs/algorithms.md §2.1, oracle 6
(chi-feng/mcmc-demo ``RandomWalkMH.js``). Propose ``y = x + sigma xi`` with ``sigma = step_size``;
the proposal is symmetric, so accept when ``log u < U(x) - U(y)``.

MH itself needs no gradient, but the state keeps ``grad U`` current so that another sampler (or
the GUI) can take over the same walkers; that costs one gradient evaluation per step.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.samplers.base import Sampler, SamplerParams, SamplerState, StepInfo, init_state
from ebm_explorer.core.samplers.proposal import accept_reject
from ebm_explorer.core.types import EnergyFn

__all__ = ["step", "SAMPLER"]


def step(
    generator: torch.Generator, state: SamplerState, energy_fn: EnergyFn, params: SamplerParams
) -> tuple[SamplerState, StepInfo]:
    """One random-walk MH step for every walker."""
    x = state.position  # (N, 2)
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    y = x + params.step_size * noise
    energy_y, grad_y = energy_fn.energy_and_grad(y)
    proposal = SamplerState(y, energy_y, grad_y)
    # log target ratio: log p(y) - log p(x) = -U(y) + U(x)
    new_state, accepted, log_ratio = accept_reject(generator, state.energy - energy_y, state, proposal)
    return new_state, StepInfo(accepted=accepted, proposal=y, log_accept_ratio=log_ratio)


SAMPLER = Sampler(
    name="mh",
    description="Random-walk Metropolis-Hastings (Gaussian proposal, std = step size)",
    init=init_state,
    step=step,
)
