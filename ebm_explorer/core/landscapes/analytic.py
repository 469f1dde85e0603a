"""Closed-form 2D energies (the toy targets of ALGORITHMS.md 6.1) as torch functions.

Each energy is a plain function ``f(x, y, **params) -> U`` of the two coordinate columns, written
with differentiable torch ops and Python-float parameters, so it runs on any device and dtype and
its gradient comes from autograd.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ebm_explorer.core.landscapes._util import SpecLandscape
from ebm_explorer.core.types import Box

EnergyFunction = Callable[..., torch.Tensor]

_LOG_2PI = math.log(2.0 * math.pi)


class AnalyticLandscape(SpecLandscape):
    """A landscape defined by a closed-form energy function of ``(x, y)`` and float parameters."""

    def __init__(
        self, name: str, fn: EnergyFunction, params: dict[str, Any], box: Box, description: str = ""
    ) -> None:
        super().__init__(box)
        self.name = name
        self.description = description
        self.params = dict(params)
        self._fn = fn

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self._fn(x[:, 0], x[:, 1], **self.params)


class ExactZLandscape(AnalyticLandscape):
    """An analytic landscape whose normaliser ``Z = int exp(-U)`` over the plane is known in closed form."""

    def __init__(
        self,
        name: str,
        fn: EnergyFunction,
        params: dict[str, Any],
        box: Box,
        log_z: float,
        description: str = "",
    ) -> None:
        super().__init__(name, fn, params, box, description)
        self._log_z = float(log_z)

    def log_z_exact(self) -> float:
        """``log Z`` over the whole plane (the box is chosen to hold all but < 1e-4 of the mass)."""
        return self._log_z


def _radius(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # the tiny offset keeps the gradient finite (zero) at the origin
    return torch.sqrt(x * x + y * y + 1e-30)


def _gauss2_nll(d1: torch.Tensor, d2: torch.Tensor, c11: float, c12: float, c22: float) -> torch.Tensor:
    """``-log N(d; 0, C)`` for a 2x2 covariance given by its entries."""
    det = c11 * c22 - c12 * c12
    q = (c22 * d1 * d1 - 2.0 * c12 * d1 * d2 + c11 * d2 * d2) / det
    return 0.5 * q + _LOG_2PI + 0.5 * math.log(det)


def double_well(x: torch.Tensor, y: torch.Tensor, *, a: float, tilt: float = 0.0) -> torch.Tensor:
    """``a (x^2 - 1)^2 + tilt x + y^2 / 2``: wells at x ~ +-1, barrier ~ a."""
    return a * (x * x - 1.0) ** 2 + tilt * x + 0.5 * y * y


def four_well(x: torch.Tensor, y: torch.Tensor, *, a: float, tilt: list[float]) -> torch.Tensor:
    """``a [(x^2 - 1)^2 + (y^2 - 1)^2] + tilt . (x, y)``: wells at (+-1, +-1)."""
    return a * ((x * x - 1.0) ** 2 + (y * y - 1.0) ** 2) + tilt[0] * x + tilt[1] * y


_MB_A = (-200.0, -100.0, -170.0, 15.0)
_MB_a = (-1.0, -1.0, -6.5, 0.7)
_MB_b = (0.0, 0.0, 11.0, 0.6)
_MB_c = (-10.0, -10.0, -6.5, 0.7)
_MB_X0 = (1.0, 0.0, -0.5, -1.0)
_MB_Y0 = (0.0, 0.5, 1.5, 1.0)


def mueller_brown(x: torch.Tensor, y: torch.Tensor, *, scale: float) -> torch.Tensor:
    """Mueller-Brown (1979) with the standard coefficients, multiplied by ``scale``."""
    total = torch.zeros_like(x)
    for A, a, b, c, x0, y0 in zip(_MB_A, _MB_a, _MB_b, _MB_c, _MB_X0, _MB_Y0):
        dx, dy = x - x0, y - y0
        total = total + A * torch.exp(a * dx * dx + b * dx * dy + c * dy * dy)
    return scale * total


def banana(x: torch.Tensor, y: torch.Tensor, *, a: float, b: float) -> torch.Tensor:
    """chi-feng's banana: ``(x/a, a y + a b (x^2 + a^2)) ~ N((0, 4), [[1, .5], [.5, 1]])``; Jacobian 1, Z = 1."""
    y1 = x / a
    y2 = a * y + a * b * (x * x + a * a)
    return _gauss2_nll(y1, y2 - 4.0, 1.0, 0.5, 1.0)


def rosenbrock(x: torch.Tensor, y: torch.Tensor, *, a1: float, a2: float) -> torch.Tensor:
    """Goodman & Weare's Rosenbrock density ``(a1 (y - x^2)^2 + (1 - x)^2) / a2``; Z = pi a2 / sqrt(a1)."""
    return (a1 * (y - x * x) ** 2 + (1.0 - x) ** 2) / a2


def rosenbrock_log_z(a1: float, a2: float) -> float:
    return math.log(math.pi * a2 / math.sqrt(a1))


def radial_ring(x: torch.Tensor, y: torch.Tensor, *, radius: float, width: float) -> torch.Tensor:
    """``(|x| - radius)^2 / width`` (chi-feng's donut, NeuralRG's ring)."""
    return (_radius(x, y) - radius) ** 2 / width


def radial_ring_log_z(radius: float, width: float) -> float:
    """``Z = pi s exp(-R^2/s) + pi R sqrt(pi s) (1 + erf(R / sqrt(s)))`` (polar integral, ALGORITHMS 6.1)."""
    R, s = radius, width
    z = math.pi * s * math.exp(-R * R / s) + math.pi * R * math.sqrt(math.pi * s) * (1.0 + math.erf(R / math.sqrt(s)))
    return math.log(z)


def funnel(x: torch.Tensor, y: torch.Tensor, *, sigma_v: float) -> torch.Tensor:
    """Neal's funnel, normalised: ``v = y ~ N(0, sigma_v^2)``, ``x | v ~ N(0, e^v)``."""
    v = y
    return (
        0.5 * v * v / sigma_v**2
        + 0.5 * (_LOG_2PI + 2.0 * math.log(sigma_v))
        + 0.5 * x * x * torch.exp(-v)
        + 0.5 * (_LOG_2PI + v)
    )


def squiggle(x: torch.Tensor, y: torch.Tensor, *, freq: float) -> torch.Tensor:
    """chi-feng's squiggle, normalised: ``(x, y + sin(freq x)) ~ N(0, [[2, .25], [.25, .5]])``."""
    return _gauss2_nll(x, y + torch.sin(freq * x), 2.0, 0.25, 0.5)


def _rm_w1(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(2.0 * math.pi * x / 4.0)


def _wall(x: torch.Tensor, y: torch.Tensor, wall: float, xlim: float, ylim: float) -> torch.Tensor:
    """``wall * (distance outside [-xlim, xlim] x [-ylim, ylim])^2`` per coordinate."""
    ox = torch.relu(x.abs() - xlim)
    oy = torch.relu(y.abs() - ylim)
    return wall * (ox * ox + oy * oy)


_RM_FLOOR = math.log(1e-9)
#: confinement rectangle of the Rezende-Mohamed U2-U4 walls
RM_XLIM = 4.0
RM_YLIM = 6.0


def rm_u1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Rezende & Mohamed (2015) U1: a ring cut into two arcs."""
    r = _radius(x, y)
    a = -0.5 * ((x - 2.0) / 0.6) ** 2
    b = -0.5 * ((x + 2.0) / 0.6) ** 2
    floor = torch.full_like(x, _RM_FLOOR)
    return 0.5 * ((r - 2.0) / 0.4) ** 2 - torch.logsumexp(torch.stack([a, b, floor]), dim=0)


def rm_u2(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> torch.Tensor:
    """Rezende & Mohamed U2 (a sine band), confined by a quadratic wall outside |x| <= 4."""
    return 0.5 * ((y - _rm_w1(x)) / 0.4) ** 2 + _wall(x, y, wall, RM_XLIM, RM_YLIM)


def rm_u2_log_z(wall: float) -> float:
    """Band integral ``0.4 sqrt(2 pi)`` times ``8 + sqrt(pi / wall)`` (the |y| <= 6 wall adds < 1e-50)."""
    return math.log(0.4 * math.sqrt(2.0 * math.pi) * (2.0 * RM_XLIM + math.sqrt(math.pi / wall)))


def rm_u3(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> torch.Tensor:
    """Rezende & Mohamed U3 (two bands splitting at x ~ 1), confined by walls outside [-4, 4] x [-6, 6]."""
    w1 = _rm_w1(x)
    w2 = 3.0 * torch.exp(-0.5 * ((x - 1.0) / 0.6) ** 2)
    a = -0.5 * ((y - w1) / 0.35) ** 2
    b = -0.5 * ((y - w1 + w2) / 0.35) ** 2
    floor = torch.full_like(x, _RM_FLOOR)
    return -torch.logsumexp(torch.stack([a, b, floor]), dim=0) + _wall(x, y, wall, RM_XLIM, RM_YLIM)


def rm_u4(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> torch.Tensor:
    """Rezende & Mohamed U4 (a band with a sigmoid step), confined by walls outside [-4, 4] x [-6, 6]."""
    w1 = _rm_w1(x)
    w3 = 3.0 * torch.sigmoid((x - 1.0) / 0.3)
    a = -0.5 * ((y - w1) / 0.4) ** 2
    b = -0.5 * ((y - w1 + w3) / 0.35) ** 2
    floor = torch.full_like(x, _RM_FLOOR)
    return -torch.logsumexp(torch.stack([a, b, floor]), dim=0) + _wall(x, y, wall, RM_XLIM, RM_YLIM)
