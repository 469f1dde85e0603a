"""Leapfrog: reversibility, second-order energy error, and the exact shadow Hamiltonian (docs/algorithms.md oracle 5)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ebm_explorer.core.samplers.integrators import leapfrog

DT = torch.float64


class Quadratic:
    """``U(q) = q^T P q / 2`` for a fixed symmetric positive ``P``."""

    def __init__(self, prec):
        self.prec = torch.tensor(prec, dtype=DT)

    def energy_and_grad(self, x):
        g = x @ self.prec
        return 0.5 * (x * g).sum(-1), g

    def energy(self, x):
        return self.energy_and_grad(x)[0]


class Bumpy:
    """A non-quadratic energy with an autograd gradient: ``|q|^4/4 - |q|^2 + sin(3 q_x) cos(2 q_y)``."""

    def energy(self, x):
        r2 = (x**2).sum(-1)
        return 0.25 * r2**2 - r2 + torch.sin(3 * x[:, 0]) * torch.cos(2 * x[:, 1])

    def energy_and_grad(self, x):
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            e = self.energy(xr)
            (g,) = torch.autograd.grad(e.sum(), xr)
        return e.detach(), g


def hamiltonian(energy, p):
    return energy + 0.5 * (p**2).sum(-1)


def test_leapfrog_is_reversible():
    """L steps forward, flip p, L steps back: the start comes back to rounding error."""
    gen = torch.Generator().manual_seed(0)
    q0 = torch.randn((256, 2), generator=gen, dtype=DT)
    p0 = torch.randn((256, 2), generator=gen, dtype=DT)
    fn = Bumpy()
    _, g0 = fn.energy_and_grad(q0)
    fwd = leapfrog(fn, q0, p0, g0, 0.05, 40)
    back = leapfrog(fn, fwd.position, -fwd.momentum, fwd.grad, 0.05, 40)
    assert (fwd.position - q0).abs().max() > 0.1  # it did move
    assert (back.position - q0).abs().max() < 1e-12
    assert (back.momentum + p0).abs().max() < 1e-12


def test_leapfrog_energy_error_is_second_order():
    """Over a fixed total time T = 1, the mean |Delta H| scales as eps^2 (slope 2 on log-log)."""
    fn = Quadratic([[1.5, 0.4], [0.4, 0.8]])
    gen = torch.Generator().manual_seed(1)
    q0 = torch.randn((2048, 2), generator=gen, dtype=DT)
    p0 = torch.randn((2048, 2), generator=gen, dtype=DT)
    e0, g0 = fn.energy_and_grad(q0)
    eps_list = [1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128]
    errors = []
    for eps in eps_list:
        out = leapfrog(fn, q0, p0, g0, eps, round(1 / eps))
        errors.append((hamiltonian(out.energy, out.momentum) - hamiltonian(e0, p0)).abs().mean().item())
    slope = np.polyfit(np.log(eps_list), np.log(errors), 1)[0]
    assert abs(slope - 2.0) < 0.2, (slope, errors)


def test_leapfrog_conserves_shadow_hamiltonian():
    """For U = |q|^2 / 2 sigma^2, leapfrog conserves |p|^2/2 + |q|^2/(2 sigma^2) (1 - eps^2 / 4 sigma^2) exactly."""
    sigma, eps = 0.5, 0.9
    fn = Quadratic(np.eye(2) / sigma**2)
    gen = torch.Generator().manual_seed(2)
    q0 = sigma * torch.randn((64, 2), generator=gen, dtype=DT)
    p0 = torch.randn((64, 2), generator=gen, dtype=DT)
    _, g0 = fn.energy_and_grad(q0)

    def shadow(q, p):
        return 0.5 * (p**2).sum(-1) + (q**2).sum(-1) / (2 * sigma**2) * (1 - eps**2 / (4 * sigma**2))

    out = leapfrog(fn, q0, p0, g0, eps, 1000)
    h_err = (hamiltonian(out.energy, out.momentum) - hamiltonian(fn.energy(q0), p0)).abs().max()
    assert h_err > 1e-2  # H itself is not conserved at this large eps
    assert (shadow(out.position, out.momentum) - shadow(q0, p0)).abs().max() < 1e-10


def test_leapfrog_path_and_inputs_untouched():
    fn = Bumpy()
    gen = torch.Generator().manual_seed(3)
    q0 = torch.randn((10, 2), generator=gen, dtype=DT)
    p0 = torch.randn((10, 2), generator=gen, dtype=DT)
    _, g0 = fn.energy_and_grad(q0)
    copies = [t.clone() for t in (q0, p0, g0)]
    out = leapfrog(fn, q0, p0, g0, 0.1, 7, trace_walkers=3)
    assert out.path.shape == (8, 3, 2)
    assert torch.equal(out.path[0], q0[:3]) and torch.equal(out.path[-1], out.position[:3])
    assert all(torch.equal(a, b) for a, b in zip(copies, (q0, p0, g0)))
    e, g = fn.energy_and_grad(out.position)
    assert torch.allclose(out.energy, e) and torch.allclose(out.grad, g)
    assert math.isfinite(out.energy.sum().item())
