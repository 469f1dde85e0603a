"""Closed-form 2D energies (docs/algorithms.md §7) as torch functions.

Each energy is a plain function ``f(x, y, **params) -> U`` of the two coordinate columns, written
with differentiable torch ops and Python-float parameters, so it runs on any device and dtype and
autograd can differentiate it (the generic path). Each also has a fast path in :data:`FAST_PATHS`:
``f_grad(x, y, **params) -> (U, dU/dx, dU/dy)`` with the gradient written out by hand, element-wise
on the two columns (no autograd graph, no ``(N, M, 2)`` temporaries). The fast path evaluates ``U``
with the very same operations as ``f``, so both give bitwise-equal energies; its gradient agrees
with autograd of ``f`` to rounding (``tests/core/test_fast_paths.py``).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ebm_explorer.core.landscapes._util import SpecLandscape
from ebm_explorer.core.types import Box

EnergyFunction = Callable[..., torch.Tensor]
#: ``(x, y, **params) -> (U, dU/dx, dU/dy)``, each ``(N,)``
Grad3 = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
EnergyGradFunction = Callable[..., Grad3]

_LOG_2PI = math.log(2.0 * math.pi)


class AnalyticLandscape(SpecLandscape):
    """A landscape defined by a closed-form energy function of ``(x, y)`` and float parameters.

    ``energy_and_grad`` takes the hand-written fast path registered for ``fn`` in :data:`FAST_PATHS`
    when there is one, else the generic autograd path of :class:`Landscape`.
    """

    def __init__(
        self, name: str, fn: EnergyFunction, params: dict[str, Any], box: Box, description: str = ""
    ) -> None:
        super().__init__(box)
        self.name = name
        self.description = description
        self.params = dict(params)
        self._fn = fn
        self._fast = FAST_PATHS.get(fn)

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self._fn(x[:, 0], x[:, 1], **self.params)

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._fast is None:
            return super().energy_and_grad(x)
        with torch.no_grad():
            x = x.detach()
            e, gx, gy = self._fast(x[:, 0], x[:, 1], **self.params)
            return e, torch.stack((gx, gy), dim=-1)


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


# ---- shared pieces (each returns what the energy needs; the *_grad variants add derivatives) -------

def _radius(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # the tiny offset keeps the gradient finite (zero) at the origin
    return torch.sqrt(x * x + y * y + 1e-30)


def _gauss2_nll(d1: torch.Tensor, d2: torch.Tensor, c11: float, c12: float, c22: float) -> torch.Tensor:
    """``-log N(d; 0, C)`` for a 2x2 covariance given by its entries."""
    det = c11 * c22 - c12 * c12
    q = (c22 * d1 * d1 - 2.0 * c12 * d1 * d2 + c11 * d2 * d2) / det
    return 0.5 * q + _LOG_2PI + 0.5 * math.log(det)


def _gauss2_nll_grad(
    d1: torch.Tensor, d2: torch.Tensor, c11: float, c12: float, c22: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`_gauss2_nll` and its partial derivatives in ``d1``, ``d2`` (``C^-1 d``)."""
    det = c11 * c22 - c12 * c12
    return (
        _gauss2_nll(d1, d2, c11, c12, c22),
        (c22 / det) * d1 - (c12 / det) * d2,
        (c11 / det) * d2 - (c12 / det) * d1,
    )


def _lse3(a: torch.Tensor, b: torch.Tensor, floor: float) -> torch.Tensor:
    """``log(e^a + e^b + e^floor)`` element-wise (the max is shifted out; it carries no gradient)."""
    m = torch.clamp(torch.maximum(a, b), min=floor).detach()
    return m + torch.log(torch.exp(a - m) + torch.exp(b - m) + torch.exp(floor - m))


def _lse3_grad(
    a: torch.Tensor, b: torch.Tensor, floor: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`_lse3` and its partial derivatives in ``a`` and ``b`` (the softmax weights)."""
    m = torch.clamp(torch.maximum(a, b), min=floor)
    ea, eb = torch.exp(a - m), torch.exp(b - m)
    s = ea + eb + torch.exp(floor - m)
    return m + torch.log(s), ea / s, eb / s


def _wall(x: torch.Tensor, y: torch.Tensor, wall: float, xlim: float, ylim: float) -> torch.Tensor:
    """``wall * (distance outside [-xlim, xlim] x [-ylim, ylim])^2`` per coordinate."""
    ox = torch.relu(x.abs() - xlim)
    oy = torch.relu(y.abs() - ylim)
    return wall * (ox * ox + oy * oy)


def _wall_grad(
    x: torch.Tensor, y: torch.Tensor, wall: float, xlim: float, ylim: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`_wall` and its gradient ``2 wall (ox sign x, oy sign y)``."""
    ox = torch.relu(x.abs() - xlim)
    oy = torch.relu(y.abs() - ylim)
    return wall * (ox * ox + oy * oy), (2.0 * wall) * ox * torch.sign(x), (2.0 * wall) * oy * torch.sign(y)


# ---- the energies and their fast paths ----------------------------------------------------------

def double_well(x: torch.Tensor, y: torch.Tensor, *, a: float, tilt: float = 0.0) -> torch.Tensor:
    """``a (x^2 - 1)^2 + tilt x + y^2 / 2``: wells at x ~ +-1, barrier ~ a."""
    return a * (x * x - 1.0) ** 2 + tilt * x + 0.5 * y * y


def double_well_grad(x: torch.Tensor, y: torch.Tensor, *, a: float, tilt: float = 0.0) -> Grad3:
    u = x * x - 1.0
    return a * u**2 + tilt * x + 0.5 * y * y, (4.0 * a) * x * u + tilt, y  # dU/dy = y (a view; callers stack)


def four_well(x: torch.Tensor, y: torch.Tensor, *, a: float, tilt: list[float]) -> torch.Tensor:
    """``a [(x^2 - 1)^2 + (y^2 - 1)^2] + tilt . (x, y)``: wells at (+-1, +-1)."""
    return a * ((x * x - 1.0) ** 2 + (y * y - 1.0) ** 2) + tilt[0] * x + tilt[1] * y


def four_well_grad(x: torch.Tensor, y: torch.Tensor, *, a: float, tilt: list[float]) -> Grad3:
    u, v = x * x - 1.0, y * y - 1.0
    e = a * (u**2 + v**2) + tilt[0] * x + tilt[1] * y
    return e, (4.0 * a) * x * u + tilt[0], (4.0 * a) * y * v + tilt[1]


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


def mueller_brown_grad(x: torch.Tensor, y: torch.Tensor, *, scale: float) -> Grad3:
    total = torch.zeros_like(x)
    gx = torch.zeros_like(x)
    gy = torch.zeros_like(x)
    for A, a, b, c, x0, y0 in zip(_MB_A, _MB_a, _MB_b, _MB_c, _MB_X0, _MB_Y0):
        dx, dy = x - x0, y - y0
        t = A * torch.exp(a * dx * dx + b * dx * dy + c * dy * dy)
        total = total + t
        gx += t * ((2.0 * a) * dx + b * dy)
        gy += t * (b * dx + (2.0 * c) * dy)
    return scale * total, scale * gx, scale * gy


def banana(x: torch.Tensor, y: torch.Tensor, *, a: float, b: float) -> torch.Tensor:
    """chi-feng's banana: ``(x/a, a y + a b (x^2 + a^2)) ~ N((0, 4), [[1, .5], [.5, 1]])``; Jacobian 1, Z = 1."""
    y1 = x / a
    y2 = a * y + a * b * (x * x + a * a)
    return _gauss2_nll(y1, y2 - 4.0, 1.0, 0.5, 1.0)


def banana_grad(x: torch.Tensor, y: torch.Tensor, *, a: float, b: float) -> Grad3:
    y1 = x / a
    y2 = a * y + a * b * (x * x + a * a)
    e, u1, u2 = _gauss2_nll_grad(y1, y2 - 4.0, 1.0, 0.5, 1.0)
    return e, u1 / a + (2.0 * a * b) * x * u2, a * u2


def rosenbrock(x: torch.Tensor, y: torch.Tensor, *, a1: float, a2: float) -> torch.Tensor:
    """Goodman & Weare's Rosenbrock density ``(a1 (y - x^2)^2 + (1 - x)^2) / a2``; Z = pi a2 / sqrt(a1)."""
    return (a1 * (y - x * x) ** 2 + (1.0 - x) ** 2) / a2


def rosenbrock_grad(x: torch.Tensor, y: torch.Tensor, *, a1: float, a2: float) -> Grad3:
    r, s = y - x * x, 1.0 - x
    e = (a1 * r**2 + s**2) / a2
    gy = (2.0 * a1 / a2) * r
    return e, -2.0 * x * gy - (2.0 / a2) * s, gy


def rosenbrock_log_z(a1: float, a2: float) -> float:
    return math.log(math.pi * a2 / math.sqrt(a1))


def radial_ring(x: torch.Tensor, y: torch.Tensor, *, radius: float, width: float) -> torch.Tensor:
    """``(|x| - radius)^2 / width`` (chi-feng's donut, NeuralRG's ring)."""
    return (_radius(x, y) - radius) ** 2 / width


def radial_ring_grad(x: torch.Tensor, y: torch.Tensor, *, radius: float, width: float) -> Grad3:
    r = _radius(x, y)
    d = r - radius
    f = (2.0 / width) * d / r
    return d**2 / width, f * x, f * y


def radial_ring_log_z(radius: float, width: float) -> float:
    """``Z = pi s exp(-R^2/s) + pi R sqrt(pi s) (1 + erf(R / sqrt(s)))`` (polar integral, docs/algorithms.md §7)."""
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


def funnel_grad(x: torch.Tensor, y: torch.Tensor, *, sigma_v: float) -> Grad3:
    v = y
    ev = torch.exp(-v)
    hx2 = 0.5 * x * x
    e = 0.5 * v * v / sigma_v**2 + 0.5 * (_LOG_2PI + 2.0 * math.log(sigma_v)) + hx2 * ev + 0.5 * (_LOG_2PI + v)
    return e, x * ev, v / sigma_v**2 - hx2 * ev + 0.5


def squiggle(x: torch.Tensor, y: torch.Tensor, *, freq: float) -> torch.Tensor:
    """chi-feng's squiggle, normalised: ``(x, y + sin(freq x)) ~ N(0, [[2, .25], [.25, .5]])``."""
    return _gauss2_nll(x, y + torch.sin(freq * x), 2.0, 0.25, 0.5)


def squiggle_grad(x: torch.Tensor, y: torch.Tensor, *, freq: float) -> Grad3:
    fx = freq * x
    e, u1, u2 = _gauss2_nll_grad(x, y + torch.sin(fx), 2.0, 0.25, 0.5)
    return e, u1 + freq * torch.cos(fx) * u2, u2


_RM_W1 = 2.0 * math.pi / 4.0  # w1(x) = sin(pi x / 2)


def _rm_w1(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(2.0 * math.pi * x / 4.0)


def _rm_w1_grad(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    t = 2.0 * math.pi * x / 4.0
    return torch.sin(t), _RM_W1 * torch.cos(t)


_RM_FLOOR = math.log(1e-9)
#: confinement rectangle of the Rezende-Mohamed U2-U4 walls
RM_XLIM = 4.0
RM_YLIM = 6.0


def rm_u1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Rezende & Mohamed (2015) U1: a ring cut into two arcs."""
    r = _radius(x, y)
    a = -0.5 * ((x - 2.0) / 0.6) ** 2
    b = -0.5 * ((x + 2.0) / 0.6) ** 2
    return 0.5 * ((r - 2.0) / 0.4) ** 2 - _lse3(a, b, _RM_FLOOR)


def rm_u1_grad(x: torch.Tensor, y: torch.Tensor) -> Grad3:
    r = _radius(x, y)
    a = -0.5 * ((x - 2.0) / 0.6) ** 2
    b = -0.5 * ((x + 2.0) / 0.6) ** 2
    lse, pa, pb = _lse3_grad(a, b, _RM_FLOOR)
    f = (r - 2.0) / (0.16 * r)  # d/dr of the ring term, over r
    gx = f * x + (pa * (x - 2.0) + pb * (x + 2.0)) / 0.36
    return 0.5 * ((r - 2.0) / 0.4) ** 2 - lse, gx, f * y


def rm_u2(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> torch.Tensor:
    """Rezende & Mohamed U2 (a sine band), confined by a quadratic wall outside |x| <= 4."""
    return 0.5 * ((y - _rm_w1(x)) / 0.4) ** 2 + _wall(x, y, wall, RM_XLIM, RM_YLIM)


def rm_u2_grad(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> Grad3:
    w1, dw1 = _rm_w1_grad(x)
    ew, wx, wy = _wall_grad(x, y, wall, RM_XLIM, RM_YLIM)
    d = y - w1
    gy = d / 0.16
    return 0.5 * (d / 0.4) ** 2 + ew, wx - gy * dw1, gy + wy


def rm_u2_log_z(wall: float) -> float:
    """Band integral ``0.4 sqrt(2 pi)`` times ``8 + sqrt(pi / wall)`` (the |y| <= 6 wall adds < 1e-50)."""
    return math.log(0.4 * math.sqrt(2.0 * math.pi) * (2.0 * RM_XLIM + math.sqrt(math.pi / wall)))


def _rm_two_bands_grad(
    y: torch.Tensor, w1: torch.Tensor, dw1: torch.Tensor, wb: torch.Tensor, dwb: torch.Tensor, sa: float, sb: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``-lse(a, b, floor)`` for the bands ``a = -((y - w1)/sa)^2 / 2``, ``b = -((y - w1 + wb)/sb)^2 / 2``."""
    da, db = y - w1, y - w1 + wb
    lse, pa, pb = _lse3_grad(-0.5 * (da / sa) ** 2, -0.5 * (db / sb) ** 2, _RM_FLOOR)
    ka, kb = pa * da / (sa * sa), pb * db / (sb * sb)  # -dU/dy contributions of each band
    gy = ka + kb
    return -lse, kb * dwb - gy * dw1, gy


def rm_u3(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> torch.Tensor:
    """Rezende & Mohamed U3 (two bands splitting at x ~ 1), confined by walls outside [-4, 4] x [-6, 6]."""
    w1 = _rm_w1(x)
    w2 = 3.0 * torch.exp(-0.5 * ((x - 1.0) / 0.6) ** 2)
    a = -0.5 * ((y - w1) / 0.35) ** 2
    b = -0.5 * ((y - w1 + w2) / 0.35) ** 2
    return -_lse3(a, b, _RM_FLOOR) + _wall(x, y, wall, RM_XLIM, RM_YLIM)


def rm_u3_grad(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> Grad3:
    w1, dw1 = _rm_w1_grad(x)
    w2 = 3.0 * torch.exp(-0.5 * ((x - 1.0) / 0.6) ** 2)
    dw2 = w2 * (x - 1.0) * (-1.0 / 0.36)
    e, gx, gy = _rm_two_bands_grad(y, w1, dw1, w2, dw2, 0.35, 0.35)
    ew, wx, wy = _wall_grad(x, y, wall, RM_XLIM, RM_YLIM)
    return e + ew, gx + wx, gy + wy


def rm_u4(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> torch.Tensor:
    """Rezende & Mohamed U4 (a band with a sigmoid step), confined by walls outside [-4, 4] x [-6, 6]."""
    w1 = _rm_w1(x)
    w3 = 3.0 * torch.sigmoid((x - 1.0) / 0.3)
    a = -0.5 * ((y - w1) / 0.4) ** 2
    b = -0.5 * ((y - w1 + w3) / 0.35) ** 2
    return -_lse3(a, b, _RM_FLOOR) + _wall(x, y, wall, RM_XLIM, RM_YLIM)


def rm_u4_grad(x: torch.Tensor, y: torch.Tensor, *, wall: float) -> Grad3:
    w1, dw1 = _rm_w1_grad(x)
    s = torch.sigmoid((x - 1.0) / 0.3)
    w3 = 3.0 * s
    dw3 = (3.0 / 0.3) * s * (1.0 - s)
    e, gx, gy = _rm_two_bands_grad(y, w1, dw1, w3, dw3, 0.4, 0.35)
    ew, wx, wy = _wall_grad(x, y, wall, RM_XLIM, RM_YLIM)
    return e + ew, gx + wx, gy + wy


#: energy function -> its hand-written ``(U, dU/dx, dU/dy)`` fast path
FAST_PATHS: dict[EnergyFunction, EnergyGradFunction] = {
    double_well: double_well_grad,
    four_well: four_well_grad,
    mueller_brown: mueller_brown_grad,
    banana: banana_grad,
    rosenbrock: rosenbrock_grad,
    radial_ring: radial_ring_grad,
    funnel: funnel_grad,
    squiggle: squiggle_grad,
    rm_u1: rm_u1_grad,
    rm_u2: rm_u2_grad,
    rm_u3: rm_u3_grad,
    rm_u4: rm_u4_grad,
}
