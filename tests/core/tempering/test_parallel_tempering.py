"""Parallel tempering against exact answers: tempered grid references, a closed-form swap rate, and
an independent replay of the swap bookkeeping.

Each of the N chains is independent and starts independently, so the final configurations of one
replica over the N chains are i.i.d. draws of that replica's law: standard errors are binomial with
ESS = N. Tolerances are 5 standard errors; seeds are fixed and were not searched.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import GaussianMixture, Tempered
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.samplers import SAMPLERS, SamplerParams, initial_positions, run_chain
from ebm_explorer.core.tempering import (
    ParallelTempering,
    PTConfig,
    geometric_ladder,
    run_parallel_tempering,
    validate_ladder,
)
from ebm_explorer.core.types import Box

K_SE = 5.0


def _binomial_z(points: np.ndarray, ref) -> np.ndarray:
    got = ref.mode_weights_of(points)
    se = np.sqrt(ref.mode_weights * (1 - ref.mode_weights) / points.shape[0])
    return (got - ref.mode_weights) / se


def test_geometric_ladder_and_validation(wells):
    b = geometric_ladder(5, 0.1)
    assert b[0] == 1.0 and b[-1] == pytest.approx(0.1)
    np.testing.assert_allclose(b[1:] / b[:-1], 0.1 ** 0.25)
    assert validate_ladder([1, 0.5, 0.2]).tolist() == [1.0, 0.5, 0.2]
    for bad in ([1.0], [0.9, 0.5], [1, 0.5, 0.5], [1, 0.5, 0.0], [1, float("nan")]):
        with pytest.raises(UserInputError):
            validate_ladder(bad)
    for args in ((1, 0.1), (4, 1.0), (4, 0.0)):
        with pytest.raises(UserInputError):
            geometric_ladder(*args)
    land, _ = wells
    with pytest.raises(UserInputError, match="kernel"):
        ParallelTempering(land, land.box, PTConfig((1.0, 0.5), kernel="ula"), 4)
    with pytest.raises(UserInputError, match="swap scheme"):
        ParallelTempering(land, land.box, PTConfig((1.0, 0.5), swap_scheme="sometimes"), 4)
    with pytest.raises(UserInputError, match="inside the box"):
        ParallelTempering(land, land.box, PTConfig((1.0, 0.5)), 2).init(torch.full((2, 2), 100.0))


def test_mala_is_stuck_and_every_replica_matches_its_tempered_reference(wells):
    """The point of PT: plain MALA keeps the mass each well got from the uniform start; PT's beta = 1
    replica has the exact masses, and replica r has the masses and mean energy of exp(-beta_r U)."""
    land, ref = wells
    n, steps, params = 1000, 500, SamplerParams(step_size=0.3)
    gen = make_generator(0)
    x0 = initial_positions("uniform", n, land.box, gen, "cpu", torch.float32)
    stuck = run_chain(SAMPLERS["mala"], land, x0, params, steps, gen).state.position.numpy()
    assert np.mean(ref.basin_of(stuck) != ref.basin_of(x0.numpy())) < 0.01  # hardly a walker crossed
    assert np.abs(_binomial_z(stuck, ref)).max() > K_SE  # so MALA keeps the start's wrong masses

    cfg = PTConfig(tuple(geometric_ladder(5, 0.1)), kernel="mala", params=params)
    res = run_parallel_tempering(land, land.box, x0, cfg, steps, gen)
    assert np.abs(_binomial_z(res.positions[0], ref)).max() < K_SE
    for r, beta in enumerate(res.betas):
        ref_r = compute_reference(Tempered(land, beta), land.box)
        assert np.abs(_binomial_z(res.positions[r], ref_r)).max() < K_SE, beta
        u = res.energies[r]  # untempered U; the reference's E[beta U] / beta
        assert abs(u.mean() - ref_r.mean_energy / beta) < K_SE * u.std() / np.sqrt(n), beta
    assert np.all(res.swap_acceptance > 0.5) and res.round_trips > n  # every chain crossed the ladder


@pytest.mark.parametrize("kernel, step, scheme, scale", [("mh", 0.8, "even-odd", True), ("hmc", 0.4, "random", True),
                                                        ("mala", 0.3, "even-odd", False)])
def test_other_kernels_and_random_pairs_reach_the_exact_masses(wells, kernel, step, scheme, scale):
    """Also without the per-replica step scaling (every replica at the same step size in x)."""
    land, ref = wells
    n = 500
    gen = make_generator(1)
    x0 = initial_positions("uniform", n, land.box, gen, "cpu", torch.float32)
    cfg = PTConfig(tuple(geometric_ladder(4, 0.1)), kernel=kernel, swap_scheme=scheme, swap_every=2,
                   params=SamplerParams(step_size=step, leapfrog_steps=3), scale_steps=scale)
    res = run_parallel_tempering(land, land.box, x0, cfg, 400, gen)
    assert np.abs(_binomial_z(res.positions[0], ref)).max() < K_SE
    hot = compute_reference(Tempered(land, res.betas[-1]), land.box)
    assert np.abs(_binomial_z(res.positions[-1], hot)).max() < K_SE
    # 200 swap rounds: random tries one pair per chain and round; even-odd tries pairs {1, 3} then {2}
    assert res.swap_attempts.sum() == (200 * n if scheme == "random" else 300 * n)


def test_swap_rate_matches_its_closed_form():
    """On U = |x|^2 / 2, beta U is Exp(1)-distributed in 2-D, so U ~ Exp(beta) and the swap between
    beta_1 > beta_2 is accepted with probability P(U_1 >= U_2) + E[e^{(b1-b2)(U1-U2)}; U_1 < U_2]
    = 2 beta_2 / (beta_1 + beta_2). Chains start from exact draws, so they are stationary throughout."""
    land = GaussianMixture([1.0], [[0.0, 0.0]], stds=1.0, box=Box(-13.0, 13.0, -13.0, 13.0))  # 6.5 sd at beta 1/4
    betas = (1.0, 0.5, 0.25)
    n, steps = 1000, 60
    gen = make_generator(2)
    x0 = torch.randn((3, n, 2), generator=gen, dtype=torch.float64) / torch.tensor(betas, dtype=torch.float64).sqrt()[:, None, None]
    per_chain = torch.zeros((2, n), dtype=torch.float64)
    tried = torch.zeros((2, n), dtype=torch.float64)

    def count(k, state, info):
        if info.swap_attempted is not None:
            tried.add_(info.swap_attempted)
            per_chain.add_(info.swap_accepted)

    cfg = PTConfig(betas, kernel="mala", params=SamplerParams(step_size=0.5))
    res = run_parallel_tempering(land, land.box, x0, cfg, steps, gen, on_step=count)
    rate_per_chain = (per_chain / tried).numpy()  # (2, n): independent chains
    expected = np.array([2 * betas[1] / (betas[0] + betas[1]), 2 * betas[2] / (betas[1] + betas[2])])
    se = rate_per_chain.std(axis=1, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(rate_per_chain.mean(axis=1) - expected) < K_SE * se)
    np.testing.assert_allclose(res.swap_acceptance, rate_per_chain.mean(axis=1), rtol=1e-9)


def test_swaps_keep_states_consistent_and_round_trips_match_a_replay(wells):
    """After swaps the stored energies and gradients equal fresh evaluations at the new positions, and
    a plain-Python replay of the accepted swaps (tracking which configuration sits where) counts the
    same round trips."""
    land, _ = wells
    n, r = 50, 4
    gen = make_generator(3)
    cfg = PTConfig(tuple(geometric_ladder(r, 0.1)), kernel="mala", params=SamplerParams(step_size=0.3),
                   swap_scheme="random")
    pt = ParallelTempering(land, land.box, cfg, n, "cpu", torch.float64)
    x0 = initial_positions("uniform", n, land.box, gen, "cpu", torch.float64)
    state = pt.init(x0)
    where = np.tile(np.arange(r)[:, None], (1, n))  # label of the configuration in slot (r, i)
    phase = {}  # (chain, label) -> "cold" | "hot-after-cold" | "hot"
    for i in range(n):
        phase[(i, 0)] = "cold"
        phase[(i, r - 1)] = "hot"
    replay, total = 0, 0
    for _ in range(150):
        state, info = pt.step(gen, state)
        total += int(info.round_trips)
        for lo, i in zip(*np.nonzero(info.swap_accepted.numpy())):
            where[lo, i], where[lo + 1, i] = where[lo + 1, i], where[lo, i]
        for i in range(n):
            cold, hot = (i, where[0, i]), (i, where[-1, i])
            if phase.get(cold) == "hot-after-cold":
                replay += 1
            phase[cold] = "cold"
            phase[hot] = "hot-after-cold" if phase.get(hot) in ("cold", "hot-after-cold") else "hot"
    assert total == replay > 0
    e, g = pt.energy.energy_and_grad(state.walkers.position)
    torch.testing.assert_close(state.walkers.energy, e)
    torch.testing.assert_close(state.walkers.grad, g)


def test_reproducible_from_a_seed(wells):
    land, _ = wells
    cfg = PTConfig(tuple(geometric_ladder(3, 0.2)), kernel="hmc", params=SamplerParams(step_size=0.3, leapfrog_steps=2),
                   swap_scheme="random")

    def once(seed):
        gen = make_generator(seed)
        x0 = initial_positions("uniform", 20, land.box, gen, "cpu", torch.float32)
        return run_parallel_tempering(land, land.box, x0, cfg, 30, gen, record_every=10)

    a, b, c = once(5), once(5), once(6)
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.swap_accepts, b.swap_accepts)
    assert a.trajectory.shape == (4, 20, 2) and np.array_equal(a.trajectory[-1], a.positions[0])
    assert not np.array_equal(a.positions, c.positions)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_runs_on_cuda(wells):
    land, ref = wells
    gen = make_generator(0, "cuda")
    x0 = initial_positions("uniform", 2000, land.box, gen, "cuda", torch.float32)
    cfg = PTConfig(tuple(geometric_ladder(5, 0.1)), params=SamplerParams(step_size=0.3))
    res = run_parallel_tempering(land, land.box, x0, cfg, 600, gen)
    assert np.abs(_binomial_z(res.positions[0], ref)).max() < K_SE
