"""Noising paths and generation against the exact noised densities rho_t."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_explorer.core.diffusion.generate import GenerateConfig, annealed_levels, generate
from ebm_explorer.core.diffusion.paths import PATHS, GridNoised, MixtureNoised, make_schedule, noised_density
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import FormulaLandscape
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.types import Box

pytestmark = pytest.mark.usefixtures("one_thread")
#: two modes with masses 1/4 and 3/4, 8 standard deviations apart
TWO = GaussianMixture([0.25, 0.75], [[-4.0, 0.0], [4.0, 0.0]], stds=1.0, box=Box(-9, 9, -5, 5))


def _schedule(name: str):
    return make_schedule(name, sigma_min=0.05, sigma_max=10.0) if name == "ve" else make_schedule(name)


@pytest.mark.parametrize("name", PATHS)
def test_mixture_closed_form_is_the_noised_density(name: str) -> None:
    """Closed form against the definition: rho_t integrates to 1 on a grid, the score is the gradient of
    log rho_t, Tweedie links score and denoiser, and at t = 0 rho is the target."""
    target = GaussianMixture([0.3, 0.7], [[-2.0, 0.5], [2.5, -0.5]],
                             covs=[[[1.0, 0.3], [0.3, 0.8]], [[0.6, 0.0], [0.0, 1.2]]], box=Box(-8, 8, -7, 7))
    sch = _schedule(name)
    dens = MixtureNoised(target, sch)
    x = dens.sample(0.4, 200, torch.Generator().manual_seed(0)).requires_grad_(True)
    for t in (0.0, 0.05, 0.4, 1.0):
        lr, s, d = dens.evaluate(t, x)
        (g,) = torch.autograd.grad(lr.sum(), x)
        assert torch.allclose(s, g, atol=1e-9)
        a, sg = sch.alpha(t), sch.sigma(t)
        if sg > 0:
            assert torch.allclose(s, (a * d - x) / sg**2, atol=1e-8)
        b = dens.box(t)
        lp = dens.log_bin_mass(t, b, 50)
        assert abs(np.exp(lp).sum() - 1) < 1e-12
        if t == 0.0 and name != "ve":
            assert torch.allclose(lr, -target.energy(x) - target.log_z_exact(), atol=1e-10)


@pytest.mark.parametrize("name", PATHS)
def test_grid_convolution_matches_the_closed_form(name: str) -> None:
    """The same mixture through the grid route (as for any landscape): log rho within 0.03, score within
    5 % on average, mode masses at t_min within 2e-4 (grid quadrature and bilinear interpolation)."""
    sch = _schedule(name)
    exact, grid = MixtureNoised(TWO, sch), GridNoised(TWO, sch, resolution=200)
    for t in (grid.t_min, 0.3, 0.8):
        x = exact.sample(t, 1000, torch.Generator().manual_seed(1))
        le, se, _ = exact.evaluate(t, x)
        lg, sg, _ = grid.evaluate(t, x)
        assert float((le - lg).abs().max()) < 0.03
        assert float((se - sg).norm(dim=1).mean() / se.norm(dim=1).mean()) < 0.05
    assert np.abs(grid.mode_weights(grid.t_min) - exact.mode_weights(grid.t_min)).max() < 2e-4


def test_formula_landscape_noised_density_is_normalised_and_ends_at_t_min() -> None:
    land = FormulaLandscape("(x**2-1)**2*3 + 0.5*y**2", Box(-2.5, 2.5, -4, 4))
    dens = noised_density(land, make_schedule("vp"), resolution=128)
    assert isinstance(dens, GridNoised) and 0 < dens.t_min < 0.1
    for t in (dens.t_min, 0.5):
        assert abs(np.exp(dens.log_bin_mass(t, dens.box(t), 40)).sum() - 1) < 1e-9
    w = dens.mode_weights(dens.t_min)
    assert np.allclose(w, dens.reference.mode_weights, atol=0.02)


def _z(r, se: str = "mode_weights_se") -> np.ndarray:
    return np.abs(r.mode_weights - r.mode_weights_exact) / getattr(r, se)


def test_reverse_sde_with_exact_score_reaches_the_mode_masses() -> None:
    dens = noised_density(TWO, make_schedule("vp"))
    r = generate(dens, GenerateConfig(solver="sde", steps=1000, walkers=10_000, seed=1, record_every=250))
    assert np.all(_z(r) < 5), (r.mode_weights, r.mode_weights_exact)
    assert r.kl_history[-1] - r.kl_floor[-1] < 5 * math.sqrt(r.kl_floor[-1] / 10_000)


def test_ten_step_sde_is_off_and_jarzynski_weights_correct_it() -> None:
    """Interpolant, 10 Euler-Maruyama steps: the plain walkers' masses are off by more than 5 standard
    errors (measured 7); the Jarzynski-weighted ones sit within 5 standard errors, ESS-based and from the
    resampling genealogy."""
    dens = noised_density(TWO, make_schedule("interpolant"))
    n = 10_000
    plain = generate(dens, GenerateConfig(solver="sde", steps=10, walkers=n, seed=1))
    assert np.all(_z(plain) > 5), plain.mode_weights
    assert plain.kl_history[-1] - plain.kl_floor[-1] > 5 * math.sqrt(plain.kl_floor[-1] / n)
    for threshold in (0.0, 0.5):  # pure importance sampling, and with ESS-triggered resampling
        cor = generate(dens, GenerateConfig(solver="sde", steps=10, walkers=n, seed=1, jarzynski=True,
                                            resample_threshold=threshold))
        assert np.all(_z(cor, "mode_weights_se_ess") < 5), (threshold, cor.mode_weights, cor.mode_weights_se_ess)
        assert np.all(_z(cor) < 5), (threshold, cor.mode_weights, cor.mode_weights_se)
        assert (cor.resample_count > 0) == (threshold > 0)


def test_annealed_langevin_reproduces_song_and_ermon() -> None:
    """Song and Ermon (2019), section 3.2: 1/5 N((-5,-5), I) + 4/5 N((5,5), I), ten geometric noise levels
    from 20 to 1, T = 100 steps of h = 0.1 sigma^2 per level: the masses come out right; Langevin at the
    last level alone (from the same broad start) splits the walkers about evenly."""
    target = GaussianMixture([0.2, 0.8], [[-5.0, -5.0], [5.0, 5.0]], stds=1.0, box=Box(-10, 10, -10, 10))
    dens = noised_density(target, make_schedule("ve", sigma_min=1.0, sigma_max=20.0))
    sig = [dens.schedule.sigma(t) for t in annealed_levels(dens, 10)]
    assert np.allclose(sig, np.geomspace(20, 1, 10))
    n = 4000
    r = generate(dens, GenerateConfig(solver="annealed-langevin", steps=10, walkers=n, seed=1))
    assert np.all(_z(r) < 5) and abs(r.mode_weights_exact[0] - 0.2) < 1e-3, r.mode_weights
    one = generate(dens, GenerateConfig(solver="annealed-langevin", steps=1, walkers=n, seed=1))
    assert abs(one.mode_weights[0] - 0.2) > 0.2


def test_probability_flow_ode_follows_rho_t_at_the_noise_floor() -> None:
    """Heun with the exact drift: at every recorded time the walkers' histogram is within 5 standard
    deviations of the KL noise floor of exact samples (sd about sqrt(floor / n))."""
    dens = noised_density(TWO, make_schedule("interpolant"))
    n = 10_000
    r = generate(dens, GenerateConfig(solver="ode", steps=100, walkers=n, seed=2, record_every=10))
    assert len(r.times) == 11 and r.times[0] == 1.0 and r.times[-1] == 0.0
    assert np.all(r.kl_history - r.kl_floor < 5 * np.sqrt(r.kl_floor / n)), r.kl_history - r.kl_floor
    assert np.all(_z(r) < 5)


def test_genealogy_standard_error() -> None:
    """Without resampling it is the delta-method sum_i p_i^2 (f_i - mu)^2; two walkers sharing an ancestor
    count as one."""
    from ebm_explorer.core.diffusion.generate import genealogy_standard_errors

    p = np.array([0.1, 0.2, 0.3, 0.4])
    labels = np.array([0, 1, 0, 1])
    mu = 0.4
    se = genealogy_standard_errors(p, labels, np.arange(4), 2)
    f = (labels == 0).astype(float)
    assert se[0] == pytest.approx(math.sqrt(np.sum(p**2 * (f - mu) ** 2))) and se[1] == pytest.approx(se[0])
    shared = genealogy_standard_errors(p, labels, np.array([0, 0, 2, 2]), 2)
    assert shared[0] == pytest.approx(math.sqrt((0.1 * 0.6 - 0.2 * 0.4) ** 2 + (0.3 * 0.6 - 0.4 * 0.4) ** 2))


def test_config_is_validated() -> None:
    with pytest.raises(UserInputError, match="stochastic"):
        GenerateConfig(solver="ode", jarzynski=True).validated()
    with pytest.raises(UserInputError):
        GenerateConfig(solver="euler").validated()
    with pytest.raises(UserInputError):
        make_schedule("ve", sigma_min=2.0, sigma_max=1.0)


def test_jarzynski_weights_correct_a_crude_learned_score() -> None:
    """A score network after 400 DSM iterations is far off at small noise; its reverse SDE puts the small
    mode's mass near 0.17 (measured 19 standard errors off), the weighted walkers recover 1/4 within 5
    ESS-based standard errors: the weights use the exact rho_t, so they correct any score."""
    from ebm_explorer.core.diffusion.learned import train_score_network

    dens = noised_density(TWO, make_schedule("vp"))
    net, info = train_score_network(dens, 400, torch.Generator().manual_seed(0), hidden=(64, 64))
    assert np.mean(info["loss"][-50:]) < np.mean(info["loss"][:50])
    cfg = dict(solver="sde", steps=50, walkers=10_000, seed=1, resample_threshold=0.3)
    plain = generate(dens, GenerateConfig(**cfg), score=net.score_fn())
    assert np.all(_z(plain) > 5), plain.mode_weights
    cor = generate(dens, GenerateConfig(**cfg, jarzynski=True), score=net.score_fn())
    assert np.all(_z(cor) < 5), (cor.mode_weights, cor.mode_weights_se)


def test_generation_on_a_formula_landscape_through_the_grid_route() -> None:
    """A tilted double well (masses 0.72 / 0.28, no closed form): the ODE reaches the exact masses of
    rho_{t_min}; 10 SDE steps miss them (measured 8 standard errors, KL 1.3 against a floor of 0.03)
    and the Jarzynski weights recover them."""
    land = FormulaLandscape("4*(x**2-1)**2 + 0.5*x + 0.5*y**2", Box(-2.5, 2.5, -4, 4))
    dens = noised_density(land, make_schedule("vp"), resolution=160)
    n = 10_000
    ode = generate(dens, GenerateConfig(solver="ode", steps=50, walkers=n, seed=0, record_every=10))
    assert np.all(_z(ode) < 5) and abs(ode.mode_weights_exact[0] - 0.718) < 0.01
    plain = generate(dens, GenerateConfig(solver="sde", steps=10, walkers=n, seed=0))
    assert np.all(_z(plain) > 5)
    cor = generate(dens, GenerateConfig(solver="sde", steps=10, walkers=n, seed=0, jarzynski=True))
    assert np.all(_z(cor) < 5) and np.all(_z(cor, "mode_weights_se_ess") < 5)


def test_jarzynski_weights_on_annealed_langevin() -> None:
    """The same ten Song-Ermon levels with weights (ULA alpha recursion + level changes): masses within 5
    standard errors of the exact ones."""
    target = GaussianMixture([0.2, 0.8], [[-5.0, -5.0], [5.0, 5.0]], stds=1.0, box=Box(-10, 10, -10, 10))
    dens = noised_density(target, make_schedule("ve", sigma_min=1.0, sigma_max=20.0))
    r = generate(dens, GenerateConfig(solver="annealed-langevin", steps=10, walkers=3000, seed=1,
                                      langevin_steps=50, jarzynski=True))
    assert np.all(_z(r) < 5) and r.resample_count > 0, (r.mode_weights, r.mode_weights_se)
