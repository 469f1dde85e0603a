"""AIS / SMC against exact answers: log Z and mode masses from the grid reference, the start densities'
own log Z, and the reported standard error against the spread of independent runs.

Tolerances: mode masses within 5 standard errors (the ESS formula and the island formula), log Z within
3 reported standard errors; seeds are fixed and were not searched.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import FormulaLandscape, make_landscape
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.samplers import SamplerParams
from ebm_explorer.core.tempering import (
    AnnealedSMC,
    SMCConfig,
    StartDistribution,
    exact_path_log_z,
    path_grid_energy,
    run_smc,
    smc_mode_masses,
)
from ebm_explorer.core.types import Box

K_SE = 5.0
K_LOGZ = 3.0


class _StartEnergy:
    """The start density's energy as an EnergyFn, for the grid reference."""

    def __init__(self, start):
        self.start = start

    def energy_and_grad(self, x):
        return self.start.energy_and_grad(x)

    def energy(self, x):
        return self.start.energy_and_grad(x)[0]


@pytest.mark.parametrize("kind", ["gaussian", "uniform"])
def test_start_density_log_z_and_draws_are_exact(kind):
    box = Box(-3.0, 5.0, -1.0, 1.0)
    start = StartDistribution(kind, box)
    ref = compute_reference(_StartEnergy(start), box, resolution=256)
    assert start.log_z == pytest.approx(ref.log_z, abs=1e-4)
    x = start.sample(20_000, make_generator(0), "cpu", torch.float64).numpy()
    assert x[:, 0].min() >= box.xmin and x[:, 0].max() <= box.xmax
    se = np.sqrt(np.diag(ref.cov) / x.shape[0])
    assert np.all(np.abs(x.mean(axis=0) - ref.mean) < K_SE * se)


def _check_log_z(res, ref):
    assert abs(res.log_z_estimate - ref.log_z) < K_LOGZ * res.log_z_stderr, (res.log_z_estimate, res.log_z_stderr, ref.log_z)
    assert 0 < res.log_z_stderr < 0.2


def test_three_wells_exact_masses_and_log_z(wells):
    """MALA alone cannot cross these barriers (test_parallel_tempering); the weighted SMC walkers can."""
    land, ref = wells
    cfg = SMCConfig(kernel="mala", params=SamplerParams(step_size=0.3), moves=5, start="gaussian")
    res = run_smc(land, land.box, 4000, cfg, make_generator(0))
    _check_log_z(res, ref)
    mm = smc_mode_masses(res, ref.basin_of(res.positions), ref.n_modes)
    exact = ref.mode_weights
    se_ess = np.sqrt(exact * (1 - exact) / mm.ess)
    assert np.all(np.abs(mm.masses - exact) < K_SE * se_ess)
    assert np.all(np.abs(mm.masses - exact) < K_SE * mm.se_islands)
    assert res.betas[0] == 0 and res.betas[-1] == 1 and np.all(np.diff(res.betas) > 0)
    assert len(res.ess_history) == len(res.betas) - 1 == len(res.log_z_history)
    # the adaptive schedule keeps the conditional ESS at the target, so the plain ESS never collapses
    assert res.ess_history.min() > 0.2 and res.resampled.sum() > 0
    assert res.log_z_history[-1] == pytest.approx(res.log_z_estimate)
    # the running estimate follows the exact log Z_t of every intermediate level
    exact_t = exact_path_log_z(ref.energy, ref.xs, ref.ys, StartDistribution("gaussian", land.box), res.betas)
    assert exact_t[0] == pytest.approx(res.log_z_start, abs=1e-4) and exact_t[-1] == pytest.approx(ref.log_z)
    assert np.all(np.abs(res.log_z_history - exact_t[1:]) < K_LOGZ * res.log_z_stderr)


@pytest.mark.parametrize(
    "land, cfg",
    [
        (FormulaLandscape("8*(x**2-1)**2 + 0.5*y**2 + x", Box(-2.5, 2.5, -4.0, 4.0)),
         SMCConfig(kernel="hmc", params=SamplerParams(step_size=0.15, leapfrog_steps=3), moves=3, start="uniform")),
        (make_landscape("eight_gaussians"),
         SMCConfig(kernel="mh", params=SamplerParams(step_size=0.3), moves=5, levels=40, resampling="multinomial")),
        (make_landscape("double_well"),
         SMCConfig(kernel="mala", params=SamplerParams(step_size=0.05), moves=2, levels=60, resample_threshold=0.0)),
    ],
    ids=["formula-hmc-uniform", "eight-gaussians-mh-fixed-multinomial", "double-well-plain-ais"],
)
def test_log_z_on_formulas_and_mixtures(land, cfg):
    """Plain AIS (never resampling) included: its islands are then just groups of independent walkers."""
    ref = compute_reference(land, land.box)
    res = run_smc(land, land.box, 2000, cfg, make_generator(1))
    _check_log_z(res, ref)
    mm = smc_mode_masses(res, ref.basin_of(res.positions), ref.n_modes)
    assert np.all(np.abs(mm.masses - ref.mode_weights) < K_SE * np.maximum(mm.se_islands, 1e-3))


def test_reported_standard_error_matches_the_spread_of_independent_runs(wells):
    """20 runs with different seeds: if the reported SEs are right, sum z^2 with z = (estimate - exact) / SE
    is about chi-square with 20 degrees of freedom, and the spread of the estimates matches the mean SE.
    Both fail if the SE is too small (the per-stage formula that ignores shared ancestry) or too large."""
    land, ref = wells
    cfg = SMCConfig(kernel="mala", params=SamplerParams(step_size=0.3), moves=3, target_ess=0.9)
    est, se = [], []
    for seed in range(20):
        res = run_smc(land, land.box, 1600, cfg, make_generator(100 + seed))
        est.append(res.log_z_estimate)
        se.append(res.log_z_stderr)
    est, se = np.array(est), np.array(se)
    z2 = np.sum(((est - ref.log_z) / se) ** 2)
    assert chi2.ppf(0.001, 20) < z2 < chi2.ppf(0.999, 20), z2
    ratio = est.std(ddof=1) / se.mean()
    assert 0.6 < ratio < 1.6, ratio  # the sample sd of 20 runs is within +-25 % at 2 sigma


def test_schedules_validation_and_reproducibility(wells):
    land, _ = wells
    base = dict(kernel="mala", params=SamplerParams(step_size=0.3), moves=1, islands=4)
    fixed = run_smc(land, land.box, 40, SMCConfig(levels=7, **base), make_generator(0))
    np.testing.assert_allclose(fixed.betas, np.linspace(0, 1, 8))
    given = run_smc(land, land.box, 40, SMCConfig(betas=(0.0, 0.1, 0.5, 1.0), **base), make_generator(0))
    np.testing.assert_allclose(given.betas, [0, 0.1, 0.5, 1])
    again = run_smc(land, land.box, 40, SMCConfig(betas=(0.0, 0.1, 0.5, 1.0), **base), make_generator(0))
    np.testing.assert_array_equal(given.positions, again.positions)
    np.testing.assert_array_equal(given.log_weights, again.log_weights)
    assert given.log_weights.dtype == np.float64
    # log Z is the start's plus the log mean total weight
    assert given.log_z_estimate == pytest.approx(
        given.log_z_start + float(torch.logsumexp(torch.as_tensor(given.log_weights), 0)) - math.log(40))
    for bad, match in [
        (dict(kernel="ula"), "kernel"),
        (dict(target_ess=1.0), "target ESS"),
        (dict(islands=30), "2 walkers per island"),
        (dict(betas=(0.0, 0.7, 0.5, 1.0)), "rise strictly"),
        (dict(resampling="stratified"), "resampling"),
        (dict(start="cauchy"), "start"),
        (dict(moves=0), "moves"),
    ]:
        with pytest.raises(UserInputError, match=match):
            run_smc(land, land.box, 40, SMCConfig(**{**base, **bad}), make_generator(0))


def test_level_by_level_stepping_is_the_same_run(wells):
    """What a GUI worker does (one level per call, inputs left untouched) gives run_smc's answer."""
    land, ref = wells
    cfg = SMCConfig(kernel="mala", params=SamplerParams(step_size=0.3), moves=2, islands=4)
    smc = AnnealedSMC(land, land.box, 200, cfg)
    gen = make_generator(9)
    state = smc.init(gen)
    levels = []
    while state.t < 1.0:
        before = state.position.clone(), state.log_a.clone()
        new, level = smc.step(gen, state)
        assert torch.equal(state.position, before[0]) and torch.equal(state.log_a, before[1])
        state = new
        levels.append(level)
    stepped = smc.result(state, levels)
    whole = run_smc(land, land.box, 200, cfg, make_generator(9))
    np.testing.assert_array_equal(stepped.log_weights, whole.log_weights)
    np.testing.assert_array_equal(stepped.betas, whole.betas)
    with pytest.raises(UserInputError, match="already reached"):
        smc.step(gen, state)
    # the intermediate energy on the grid: the start at t = 0, the landscape at t = 1
    np.testing.assert_allclose(path_grid_energy(ref.energy, ref.xs, ref.ys, smc.start, 1.0), ref.energy)
    u0 = path_grid_energy(ref.energy, ref.xs, ref.ys, smc.start, 0.0)
    assert u0.shape == ref.energy.shape and u0.min() >= 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_runs_on_cuda(wells):
    land, ref = wells
    cfg = SMCConfig(kernel="mala", params=SamplerParams(step_size=0.3))
    res = run_smc(land, land.box, 4000, cfg, make_generator(0, "cuda"), device="cuda")
    _check_log_z(res, ref)
