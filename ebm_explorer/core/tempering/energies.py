"""Energies seen by tempered walkers: box-confined, per-replica tempered, and annealing paths.

Parallel tempering and SMC walkers live in the plotting box: outside it the energy is ``+inf``, so
every proposal that leaves the box is rejected (the MH test of MH, MALA and HMC refuses a proposal
of infinite energy). The target of every replica, and of every SMC level, is then exactly the
density conditioned on the box, which is what the grid reference computes; without the wall, a hot
replica of a landscape that barely decays would wander off to where nothing is known.

Outside the box the gradient stays the landscape's own: HMC's leapfrog may cross the wall and come
back (the move stays volume preserving and reversible, so the MH test is still exact), and only
end points outside are refused.
"""

from __future__ import annotations

import math

import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.types import Box, EnergyFn

__all__ = ["inside_box", "ReplicaEnergy", "StartDistribution", "START_KINDS"]

START_KINDS = ("gaussian", "uniform")


def inside_box(x: torch.Tensor, box: Box) -> torch.Tensor:
    """``(N,)`` bool: the point lies in the closed box."""
    px, py = x[:, 0], x[:, 1]
    return (px >= box.xmin) & (px <= box.xmax) & (py >= box.ymin) & (py <= box.ymax)


def _confine(x: torch.Tensor, energy: torch.Tensor, box: Box) -> torch.Tensor:
    return torch.where(inside_box(x, box), energy, torch.full_like(energy, math.inf))


class ReplicaEnergy:
    """``beta_r U`` for a stack of replicas, each moving in coordinates scaled by ``sqrt(beta_r)``.

    Rows are replica-major (row ``r * N + i`` is walker ``i`` of replica ``r``). A sampler sees the
    position ``z = sqrt(beta_r) x``, for which ``beta_r U`` has the curvature of ``U`` itself: one step
    size then suits every temperature (in ``x`` it is MALA at ``h / beta_r``, MH and HMC at
    ``sigma / sqrt(beta_r)``), so hot replicas take the long steps they need to cross the box. With
    ``scale_steps=False`` the sampler moves ``x`` directly. The energy is ``+inf`` outside ``box``.
    """

    def __init__(self, base: EnergyFn, box: Box, betas: torch.Tensor, n_walkers: int, scale_steps: bool = True) -> None:
        self.base = base
        self.box = box
        self.n_walkers = int(n_walkers)
        self.betas = betas  # (R,)
        rows = betas.repeat_interleave(self.n_walkers)  # (R N,)
        self.row_beta = rows
        self.row_scale = rows.rsqrt() if scale_steps else torch.ones_like(rows)  # x = scale * z

    def to_x(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.row_scale[:, None]

    def to_z(self, x: torch.Tensor) -> torch.Tensor:
        return x / self.row_scale[:, None]

    def energy(self, z: torch.Tensor) -> torch.Tensor:
        x = self.to_x(z)
        return _confine(x, self.row_beta * self.base.energy(x), self.box)

    def energy_and_grad(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.to_x(z)
        u, g = self.base.energy_and_grad(x)
        return self.state_terms(x, u, g)

    def state_terms(self, x: torch.Tensor, u: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The sampler's energy and gradient in ``z`` from ``U(x)`` and ``grad U(x)`` (no evaluation)."""
        return _confine(x, self.row_beta * u, self.box), (self.row_beta * self.row_scale)[:, None] * g

    def base_terms(self, energy: torch.Tensor, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Back from the sampler's energy and gradient to ``U(x)`` and ``grad U(x)``."""
        return energy / self.row_beta, grad / (self.row_beta * self.row_scale)[:, None]


class StartDistribution:
    """A density on the box that SMC can draw from exactly and whose ``log Z`` is known.

    ``uniform``: ``U_0 = 0`` on the box, ``log Z_0 = log(area)``. ``gaussian``: independent axes
    centred in the box with std = box size / 6 (as the samplers' ``gaussian`` init), truncated to the
    box: ``U_0 = sum_axes (x - m)^2 / 2 s^2`` and ``log Z_0 = sum_axes log(sqrt(2 pi) s (Phi(b) - Phi(a)))``
    with ``a, b`` the box edges in standard units. Drawn by inverting the truncated normal CDF.
    """

    def __init__(self, kind: str, box: Box) -> None:
        if kind not in START_KINDS:
            raise UserInputError(f"unknown SMC start {kind!r}: choose one of {', '.join(START_KINDS)}")
        self.kind = kind
        self.box = box
        self.centre = ((box.xmin + box.xmax) / 2.0, (box.ymin + box.ymax) / 2.0)
        self.std = (box.width / 6.0, box.height / 6.0)
        if kind == "uniform":
            self.log_z = math.log(box.width * box.height)
        else:
            self.log_z = sum(
                math.log(math.sqrt(2.0 * math.pi) * s * (_phi((hi - m) / s) - _phi((lo - m) / s)))
                for m, s, lo, hi in self._axes()
            )

    def _axes(self) -> list[tuple[float, float, float, float]]:
        b = self.box
        return [(self.centre[0], self.std[0], b.xmin, b.xmax), (self.centre[1], self.std[1], b.ymin, b.ymax)]

    def sample(self, n: int, generator: torch.Generator, device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
        """``(n, 2)`` exact draws (computed in float64, returned in ``dtype``)."""
        u = torch.rand((n, 2), generator=generator, device=device, dtype=torch.float64)
        cols = []
        for j, (m, s, lo, hi) in enumerate(self._axes()):
            if self.kind == "uniform":
                cols.append(lo + (hi - lo) * u[:, j])
            else:
                a, b = _phi((lo - m) / s), _phi((hi - m) / s)
                x = m + s * torch.special.ndtri(a + (b - a) * u[:, j])
                cols.append(x.clamp(lo, hi))
        return torch.stack(cols, dim=1).to(dtype)

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``U_0`` and its gradient on the box (the wall is added by the caller)."""
        if self.kind == "uniform":
            return x.new_zeros(x.shape[0]), torch.zeros_like(x)
        m = x.new_tensor(self.centre)
        inv_var = x.new_tensor([1.0 / s**2 for s in self.std])
        d = x - m
        g = d * inv_var
        return 0.5 * (d[:, 0] * g[:, 0] + d[:, 1] * g[:, 1]), g


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))

