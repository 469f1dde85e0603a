"""The sampler contract (blackjax style): a pair of pure functions ``init`` / ``step``.

``init(position, energy_fn) -> SamplerState`` caches energy and gradient so each step costs one
gradient evaluation (HMC: L). ``step(generator, state, energy_fn, params) -> (SamplerState, StepInfo)``
never modifies its inputs in place, so the same generator state and input give the same output.
All tensors are vectorised over walkers: positions ``(N, 2)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch

from ebm_explorer.core.types import EnergyFn


class SamplerState(NamedTuple):
    position: torch.Tensor  # (N, 2)
    energy: torch.Tensor  # (N,)
    grad: torch.Tensor  # (N, 2)


class StepInfo(NamedTuple):
    """Per-walker diagnostics of one step (what the GUI and metrics show)."""

    accepted: torch.Tensor  # (N,) bool; all True for ULA
    proposal: torch.Tensor  # (N, 2) the proposed point (ULA: the new point)
    log_accept_ratio: torch.Tensor  # (N,) log MH ratio (0 for ULA); -inf where the proposal was NaN/inf
    energy_error: torch.Tensor | None = None  # (N,) HMC: H(q', p') - H(q, p)
    path: torch.Tensor | None = None  # (L + 1, k, 2) HMC leapfrog path of the first k walkers


@dataclass(frozen=True)
class SamplerParams:
    step_size: float = 0.1  # MH: proposal std; ULA/MALA: h; HMC: eps
    leapfrog_steps: int = 10  # HMC only
    trace_walkers: int = 0  # HMC: record the leapfrog path of this many leading walkers


class Sampler(NamedTuple):
    name: str
    description: str
    init: Callable[[torch.Tensor, EnergyFn], SamplerState]
    step: Callable[[torch.Generator, SamplerState, EnergyFn, SamplerParams], tuple[SamplerState, StepInfo]]


def init_state(position: torch.Tensor, energy_fn: EnergyFn) -> SamplerState:
    """The shared ``init``: evaluate energy and gradient once at the starting points."""
    energy, grad = energy_fn.energy_and_grad(position)
    return SamplerState(position, energy, grad)
