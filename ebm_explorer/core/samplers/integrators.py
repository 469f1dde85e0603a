"""Leapfrog (velocity Verlet) for ``H(q, p) = U(q) + |p|^2 / 2`` with identity mass.

One step is ``p -= eps/2 grad U(q); q += eps p; p -= eps/2 grad U(q)`` (docs/algorithms.md oracle 5,
Neal 2011 "MCMC using Hamiltonian dynamics"). The gradient at the end of one step is reused at the
start of the next, so L steps cost L gradient evaluations. The map is volume preserving and
reversible (flip ``p`` and integrate again to return), which is what makes HMC's MH test exact.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ebm_explorer.core.types import EnergyFn

__all__ = ["LeapfrogResult", "leapfrog"]


class LeapfrogResult(NamedTuple):
    position: torch.Tensor  # (N, 2) q after L steps
    momentum: torch.Tensor  # (N, 2) p after L steps
    energy: torch.Tensor  # (N,) U(q)
    grad: torch.Tensor  # (N, 2) grad U(q)
    path: torch.Tensor | None  # (L + 1, k, 2) positions of the first k walkers, or None


def leapfrog(
    energy_fn: EnergyFn,
    position: torch.Tensor,
    momentum: torch.Tensor,
    grad: torch.Tensor,
    step_size: float,
    n_steps: int,
    trace_walkers: int = 0,
) -> LeapfrogResult:
    """Integrate ``n_steps`` leapfrog steps from ``(position, momentum)`` whose gradient is ``grad``.

    ``trace_walkers > 0`` also records the positions of the first ``trace_walkers`` walkers at every
    step (start included), for drawing HMC trajectories.
    """
    q, p, g = position, momentum, grad
    energy = None
    path = None
    k = min(int(trace_walkers), q.shape[0])
    if k > 0:
        path = torch.empty((n_steps + 1, k, q.shape[1]), device=q.device, dtype=q.dtype)  # (L+1, k, 2)
        path[0] = q[:k]
    half = 0.5 * step_size
    for i in range(n_steps):
        p = p - half * g
        q = q + step_size * p
        energy, g = energy_fn.energy_and_grad(q)
        p = p - half * g
        if path is not None:
            path[i + 1] = q[:k]
    if energy is None:  # n_steps == 0: nothing moved, the caller's energy is still valid
        energy = energy_fn.energy(q)
    return LeapfrogResult(q, p, energy, g, path)
