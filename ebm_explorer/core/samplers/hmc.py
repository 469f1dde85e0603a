"""Hamiltonian Monte Carlo with identity mass, L leapfrog steps of size eps and an MH test.

Reference: Duane et al. (1987); Neal (2011), "MCMC using Hamiltonian dynamics"; docs/algorithms.md
§2.4, oracle 5 (chi-feng/mcmc-demo ``HamiltonianMC.js``). Refresh ``p ~ N(0, I)``, integrate
``H = U(q) + |p|^2 / 2`` with leapfrog, accept with probability ``min(1, exp(H(q, p) - H(q', p')))``.
With L = 1 this is MALA with ``h = eps^2 / 2``.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.samplers.base import Sampler, SamplerParams, SamplerState, StepInfo, init_state
from ebm_explorer.core.samplers.integrators import leapfrog
from ebm_explorer.core.samplers.proposal import accept_reject, squared_norm
from ebm_explorer.core.types import EnergyFn

__all__ = ["step", "SAMPLER"]


def step(
    generator: torch.Generator, state: SamplerState, energy_fn: EnergyFn, params: SamplerParams
) -> tuple[SamplerState, StepInfo]:
    """One HMC transition for every walker (``params.leapfrog_steps`` gradient evaluations)."""
    q = state.position  # (N, 2)
    p = torch.randn(q.shape, generator=generator, device=q.device, dtype=q.dtype)  # exact refresh
    end = leapfrog(energy_fn, q, p, state.grad, params.step_size, params.leapfrog_steps, params.trace_walkers)
    h_start = state.energy + 0.5 * squared_norm(p)  # (N,)
    h_end = end.energy + 0.5 * squared_norm(end.momentum)
    energy_error = h_end - h_start
    proposal = SamplerState(end.position, end.energy, end.grad)
    new_state, accepted, log_ratio = accept_reject(generator, -energy_error, state, proposal)
    info = StepInfo(
        accepted=accepted,
        proposal=end.position,
        log_accept_ratio=log_ratio,
        energy_error=energy_error,
        path=end.path,
    )
    return new_state, info


SAMPLER = Sampler(
    name="hmc",
    description="Hamiltonian Monte Carlo (identity mass, L leapfrog steps of size eps, MH test)",
    init=init_state,
    step=step,
)
