"""Exact properties of the walkers: contracts, formulas, reproducibility, NaN handling, devices."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.samplers import (
    SAMPLERS,
    SamplerParams,
    get_sampler,
    initial_positions,
    run_chain,
    validate_params,
)
from ebm_explorer.core.types import Box

DT = torch.float64
BOX = Box(-3.0, 3.0, -2.0, 4.0)
PARAMS = {
    "mh": SamplerParams(step_size=0.8),
    "ula": SamplerParams(step_size=0.1),
    "mala": SamplerParams(step_size=0.2),
    "hmc": SamplerParams(step_size=0.2, leapfrog_steps=5, trace_walkers=4),
}
NAMES = list(PARAMS)


class DoubleWell:
    """``(x^2 - 1)^2 + y^2 / 2`` with an autograd gradient, on any device."""

    def energy(self, x):
        return (x[:, 0] ** 2 - 1) ** 2 + 0.5 * x[:, 1] ** 2

    def energy_and_grad(self, x):
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            e = self.energy(xr)
            (g,) = torch.autograd.grad(e.sum(), xr)
        return e.detach(), g


class Flat:
    def energy(self, x):
        return torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)

    def energy_and_grad(self, x):
        return self.energy(x), torch.zeros_like(x)


class NaNBeyond(DoubleWell):
    """The double well, but NaN (and a NaN gradient) wherever ``x > 0.5``: a broken energy region."""

    def energy(self, x):
        e = super().energy(x)
        return torch.where(x[:, 0] > 0.5, torch.nan, e)

    def energy_and_grad(self, x):
        e, g = super().energy_and_grad(x)
        bad = x[:, 0] > 0.5
        return torch.where(bad, torch.nan, e), torch.where(bad[:, None], torch.nan, g)


def run(name, seed, n=64, steps=10, energy=None):
    gen = torch.Generator().manual_seed(seed)
    x0 = initial_positions("gaussian", n, BOX, gen, "cpu", DT)
    return run_chain(SAMPLERS[name], energy or DoubleWell(), x0, PARAMS[name], steps, gen, record_every=5)


def test_registry_and_names():
    assert list(SAMPLERS) == ["mh", "ula", "mala", "hmc"]
    for name, sampler in SAMPLERS.items():
        assert get_sampler(name) is sampler and sampler.name == name and sampler.description
    with pytest.raises(UserInputError, match="mh, ula, mala, hmc"):
        get_sampler("nuts")


@pytest.mark.parametrize(
    ("name", "params", "what"),
    [
        ("mh", SamplerParams(step_size=0.0), "step size"),
        ("ula", SamplerParams(step_size=-0.1), "step size"),
        ("mala", SamplerParams(step_size=float("nan")), "step size"),
        ("mala", SamplerParams(step_size=float("inf")), "step size"),
        ("hmc", SamplerParams(step_size=0.1, leapfrog_steps=0), "leapfrog"),
        ("hmc", SamplerParams(step_size=0.1, leapfrog_steps=1001), "leapfrog"),
        ("hmc", SamplerParams(step_size=0.1, leapfrog_steps=2.5), "leapfrog"),
        ("hmc", SamplerParams(step_size=0.1, trace_walkers=-1), "trace"),
        ("gibbs", SamplerParams(), "unknown sampler"),
    ],
)
def test_validate_params_rejects(name, params, what):
    with pytest.raises(UserInputError, match=what):
        validate_params(name, params)


def test_validate_params_accepts_defaults():
    for name in SAMPLERS:
        assert validate_params(name, SamplerParams()) == SamplerParams()


def test_initial_positions_kinds():
    gen = torch.Generator().manual_seed(0)
    n = 40_000
    g = initial_positions("gaussian", n, BOX, gen, "cpu", DT)
    assert g.shape == (n, 2) and g.dtype == DT
    np.testing.assert_allclose(g.mean(0).numpy(), [0.0, 1.0], atol=5 * 1.0 / math.sqrt(n))
    np.testing.assert_allclose(g.std(0).numpy(), [1.0, 1.0], rtol=0.02)  # box size / 6
    u = initial_positions("uniform", n, BOX, gen, "cpu", torch.float32)
    assert u.dtype == torch.float32
    assert (u[:, 0] >= -3).all() and (u[:, 0] <= 3).all() and (u[:, 1] >= -2).all() and (u[:, 1] <= 4).all()
    np.testing.assert_allclose(u.mean(0).numpy(), [0.0, 1.0], atol=5 * math.sqrt(3.0 / n))
    p = initial_positions("point", 5, BOX, gen, "cpu", DT, point=(1.5, -0.5))
    assert torch.equal(p, torch.tensor([[1.5, -0.5]] * 5, dtype=DT))
    given = np.arange(10.0).reshape(5, 2)
    out = initial_positions("given", 5, BOX, gen, "cpu", DT, given=given)
    assert torch.equal(out, torch.tensor(given))
    out[0, 0] = 99.0
    assert given[0, 0] == 0.0  # no aliasing of the caller's array


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        (dict(kind="sobol"), "unknown init"),
        (dict(kind="gaussian", n=0), "number of walkers"),
        (dict(kind="point", point=(1.0,)), "two finite numbers"),
        (dict(kind="point", point=(1.0, float("nan"))), "two finite numbers"),
        (dict(kind="point", point="ab"), "two numbers"),
        (dict(kind="given"), "array"),
        (dict(kind="given", given=np.zeros((4, 2))), "shape"),
        (dict(kind="given", given=np.full((5, 2), np.inf)), "NaN or inf"),
        (dict(kind="given", given=[["a", "b"]] * 5), "numbers"),
    ],
)
def test_initial_positions_rejects(kwargs, what):
    args = dict(kind="gaussian", n=5, box=BOX, generator=torch.Generator(), device="cpu", dtype=DT)
    args.update(kwargs)
    with pytest.raises(UserInputError, match=what):
        initial_positions(**args)


def test_mh_accepts_everything_on_flat_energy():
    gen = torch.Generator().manual_seed(4)
    state = SAMPLERS["mh"].init(torch.zeros((5000, 2), dtype=DT), Flat())
    for _ in range(5):
        state, info = SAMPLERS["mh"].step(gen, state, Flat(), SamplerParams(step_size=3.0))
        assert info.accepted.all()
        assert torch.equal(state.position, info.proposal)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_output_other_seed_differs(name):
    a, b, c = run(name, 7), run(name, 7), run(name, 8)
    for field in ("position", "energy", "grad"):
        assert torch.equal(getattr(a.state, field), getattr(b.state, field))
    assert np.array_equal(a.trajectory, b.trajectory) and np.array_equal(a.acceptance, b.acceptance)
    assert not torch.equal(a.state.position, c.state.position)


@pytest.mark.parametrize("name", NAMES)
def test_step_contract(name):
    """Shapes and dtypes, cached energy/gradient match the energy, inputs are never modified."""
    sampler, fn, n = SAMPLERS[name], DoubleWell(), 32
    gen = torch.Generator().manual_seed(1)
    state = sampler.init(initial_positions("uniform", n, BOX, gen, "cpu", DT), fn)
    before = [t.clone() for t in state]
    new, info = sampler.step(gen, state, fn, PARAMS[name])
    assert all(torch.equal(a, b) for a, b in zip(before, state))
    assert new.position.shape == (n, 2) and new.energy.shape == (n,) and new.grad.shape == (n, 2)
    e, g = fn.energy_and_grad(new.position)
    assert torch.allclose(new.energy, e) and torch.allclose(new.grad, g)
    assert info.accepted.dtype == torch.bool and info.accepted.shape == (n,)
    assert info.proposal.shape == (n, 2) and info.log_accept_ratio.shape == (n,)
    # accepted walkers moved to the proposal, rejected ones stayed put
    assert torch.equal(new.position[info.accepted], info.proposal[info.accepted])
    assert torch.equal(new.position[~info.accepted], state.position[~info.accepted])
    if name == "ula":
        assert info.accepted.all() and (info.log_accept_ratio == 0).all()
    if name == "hmc":
        assert info.energy_error.shape == (n,)
        assert info.path.shape == (PARAMS[name].leapfrog_steps + 1, 4, 2)
        assert torch.equal(info.path[0], state.position[:4]) and torch.equal(info.path[-1], info.proposal[:4])
        assert torch.allclose(info.log_accept_ratio, -info.energy_error)
    else:
        assert info.energy_error is None and info.path is None


def test_hmc_path_off_by_default():
    gen = torch.Generator().manual_seed(1)
    state = SAMPLERS["hmc"].init(torch.zeros((8, 2), dtype=DT), DoubleWell())
    _, info = SAMPLERS["hmc"].step(gen, state, DoubleWell(), SamplerParams(step_size=0.1, leapfrog_steps=3))
    assert info.path is None


def test_mala_log_ratio_matches_formula():
    """docs/algorithms.md oracle 4 / §2.3: logr = -U(y)+U(x) - |x-y+h gU(y)|^2/4h + |y-x+h gU(x)|^2/4h."""
    fn, h = DoubleWell(), 0.3
    gen = torch.Generator().manual_seed(2)
    state = SAMPLERS["mala"].init(initial_positions("uniform", 500, BOX, gen, "cpu", DT), fn)
    _, info = SAMPLERS["mala"].step(gen, state, fn, SamplerParams(step_size=h))
    x, y = state.position, info.proposal
    uy, gy = fn.energy_and_grad(y)
    ux, gx = state.energy, state.grad
    expected = -uy + ux - ((x - y + h * gy) ** 2).sum(-1) / (4 * h) + ((y - x + h * gx) ** 2).sum(-1) / (4 * h)
    torch.testing.assert_close(info.log_accept_ratio, expected, rtol=1e-12, atol=1e-12)
    assert (~info.accepted).any() and info.accepted.any()


def test_hmc_with_one_leapfrog_step_is_mala():
    """Oracle 5: one leapfrog step of size eps is MALA with h = eps^2 / 2 (same draws, same order)."""
    fn, eps = DoubleWell(), 0.4
    x0 = initial_positions("uniform", 300, BOX, torch.Generator().manual_seed(3), "cpu", DT)
    state = SAMPLERS["hmc"].init(x0, fn)
    s_hmc, i_hmc = SAMPLERS["hmc"].step(
        torch.Generator().manual_seed(9), state, fn, SamplerParams(step_size=eps, leapfrog_steps=1)
    )
    s_mala, i_mala = SAMPLERS["mala"].step(torch.Generator().manual_seed(9), state, fn, SamplerParams(eps**2 / 2))
    torch.testing.assert_close(i_hmc.proposal, i_mala.proposal, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(i_hmc.log_accept_ratio, i_mala.log_accept_ratio, rtol=1e-9, atol=1e-9)
    assert torch.equal(i_hmc.accepted, i_mala.accepted)
    torch.testing.assert_close(s_hmc.position, s_mala.position, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["mh", "mala", "hmc"])
def test_nan_energy_region_is_rejected(name):
    """Proposals into a region where U is NaN are rejected; NaN never reaches the positions."""
    gen = torch.Generator().manual_seed(5)
    x0 = torch.tensor([[-1.0, 0.0]], dtype=DT) + 0.2 * torch.randn((2000, 2), generator=gen, dtype=DT)
    params = SamplerParams(step_size=1.0, leapfrog_steps=3) if name != "mala" else SamplerParams(step_size=0.5)
    fn = NaNBeyond()
    state = SAMPLERS[name].init(x0, fn)
    proposed_bad = 0
    for _ in range(20):
        state, info = SAMPLERS[name].step(gen, state, fn, params)
        into_nan = info.proposal[:, 0] > 0.5
        proposed_bad += int(into_nan.sum())
        assert not info.accepted[into_nan].any()
        assert (info.log_accept_ratio[into_nan] == -math.inf).all()
    assert proposed_bad > 100
    assert torch.isfinite(state.position).all() and torch.isfinite(state.energy).all()
    assert (state.position[:, 0] <= 0.5).all()


class MinusInfBeyond(DoubleWell):
    """``U = -inf`` for ``x > 0.5``: an improper target; such proposals must not be taken."""

    def energy_and_grad(self, x):
        e, g = super().energy_and_grad(x)
        return torch.where(x[:, 0] > 0.5, -torch.inf, e), g


def test_mh_rejects_minus_inf_energy():
    gen = torch.Generator().manual_seed(6)
    fn = MinusInfBeyond()
    state = SAMPLERS["mh"].init(torch.full((1000, 2), -1.0, dtype=DT), fn)
    for _ in range(10):
        state, info = SAMPLERS["mh"].step(gen, state, fn, SamplerParams(step_size=1.0))
    assert torch.isfinite(state.energy).all()


def test_run_chain_records_and_reports_nonfinite():
    """ULA has no rejection: walkers that hit the NaN region become NaN, and run_chain counts them."""
    gen = torch.Generator().manual_seed(6)
    x0 = initial_positions("point", 500, BOX, gen, "cpu", DT, point=(-1.0, 0.0))
    seen = []
    res = run_chain(
        SAMPLERS["ula"], NaNBeyond(), x0, SamplerParams(step_size=0.3), 12, gen, record_every=4,
        on_step=lambda k, s, i: seen.append(k),
    )
    assert seen == list(range(1, 13))
    assert res.acceptance.shape == (12,) and (res.acceptance == 1.0).all()
    assert res.trajectory.shape == (4, 500, 2) and list(res.trajectory_steps) == [0, 4, 8, 12]
    np.testing.assert_array_equal(res.trajectory[0], x0.numpy())
    np.testing.assert_array_equal(res.trajectory[-1], res.state.position.numpy())
    bad = ~(torch.isfinite(res.state.position).all(-1) & torch.isfinite(res.state.energy))
    assert res.nonfinite_walkers == int(bad.sum()) > 0
    assert res.first_nonfinite_step is not None and 1 <= res.first_nonfinite_step <= 12
    assert np.isfinite(res.mean_energy).all()  # averaged over the walkers that are still finite


def test_run_chain_mean_energy_and_acceptance():
    res = run("mala", 3, n=400, steps=6)
    assert res.trajectory is not None and res.trajectory.shape == (2, 400, 2)
    assert res.nonfinite_walkers == 0 and res.first_nonfinite_step is None
    assert res.mean_energy[-1] == pytest.approx(res.state.energy.mean().item(), rel=1e-12)
    assert ((0 < res.acceptance) & (res.acceptance <= 1)).all()
    assert run_chain(SAMPLERS["mh"], DoubleWell(), torch.zeros((3, 2)), PARAMS["mh"], 4, torch.Generator()).trajectory is None


@pytest.mark.parametrize(("steps", "every"), [(-1, None), (3, 0), (2.5, None)])
def test_run_chain_rejects_bad_counts(steps, every):
    with pytest.raises(UserInputError):
        run_chain(SAMPLERS["mh"], DoubleWell(), torch.zeros((3, 2)), PARAMS["mh"], steps, torch.Generator(), every)


def test_float32_runs():
    gen = torch.Generator().manual_seed(0)
    # a small box: ULA on a quartic well diverges from far out (x = 3, h = 0.1 overshoots)
    x0 = initial_positions("gaussian", 100, Box(-1.5, 1.5, -1.5, 1.5), gen, "cpu", torch.float32)
    for name in NAMES:
        res = run_chain(SAMPLERS[name], DoubleWell(), x0, PARAMS[name], 5, gen)
        assert res.state.position.dtype == torch.float32 and res.nonfinite_walkers == 0


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", NAMES)
def test_samplers_on_cuda(name):
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(0)
    x0 = initial_positions("uniform", 4096, BOX, gen, dev, torch.float32)
    res = run_chain(SAMPLERS[name], DoubleWell(), x0, PARAMS[name], 5, gen, record_every=5)
    assert res.state.position.device.type == "cuda" and res.state.position.shape == (4096, 2)
    assert res.trajectory.shape == (2, 4096, 2)
    assert res.nonfinite_walkers == 0 and np.isfinite(res.mean_energy).all()
    again = run_chain(SAMPLERS[name], DoubleWell(), x0, PARAMS[name], 5, torch.Generator(device=dev).manual_seed(0))
    assert again.state.position.shape == (4096, 2)
