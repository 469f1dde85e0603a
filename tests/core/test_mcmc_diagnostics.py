"""R-hat and ESS against closed forms (iid, AR(1)) and, where installed, against ArviZ itself."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest

from ebm_explorer.core.mcmc_diagnostics import _average_ranks, ess_bulk, ess_tail, split_rhat


def ar1(phi: float, chains: int, draws: int, seed: int) -> np.ndarray:
    """Stationary AR(1) with unit marginal variance; its ESS is N (1 - phi) / (1 + phi)."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((chains, draws)) * np.sqrt(1 - phi**2)
    x = np.empty((chains, draws))
    x[:, 0] = rng.standard_normal(chains)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


def test_iid_draws_have_ess_close_to_their_number():
    x = np.random.default_rng(0).standard_normal((4, 2000))
    assert ess_bulk(x) == pytest.approx(8000, rel=0.1)
    assert ess_tail(x) == pytest.approx(8000, rel=0.15)
    assert ess_bulk(x, relative=True) == pytest.approx(ess_bulk(x) / 8000)


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_ar1_ess_matches_closed_form(phi):
    x = ar1(phi, 4, 10_000, seed=1)
    expected = x.size * (1 - phi) / (1 + phi)
    assert ess_bulk(x) == pytest.approx(expected, rel=0.15)


def test_rhat_mixed_and_unmixed():
    rng = np.random.default_rng(2)
    mixed = rng.standard_normal((4, 2000))
    assert split_rhat(mixed) < 1.01
    shifted = mixed + np.array([0.0, 0.0, 0.0, 1.0])[:, None]
    assert split_rhat(shifted) > 1.1
    # a trend inside each chain is caught by splitting the chains
    trend = rng.standard_normal((4, 2000)) + np.linspace(0, 2, 2000)
    assert split_rhat(trend) > 1.1
    # different scales, same location: caught by the folded part
    scales = rng.standard_normal((4, 2000)) * np.array([1.0, 1.0, 1.0, 4.0])[:, None]
    assert split_rhat(scales) > 1.05


def test_degenerate_inputs_give_nan_not_errors():
    const = np.full((4, 100), 3.0)
    assert np.isnan(split_rhat(const)) and np.isnan(ess_bulk(const)) and np.isnan(ess_tail(const))
    with_nan = np.random.default_rng(3).standard_normal((4, 100))
    with_nan[1, 5] = np.nan
    assert np.isnan(split_rhat(with_nan)) and np.isnan(ess_bulk(with_nan))
    assert np.isnan(ess_bulk(np.ones((2, 3)) * np.arange(3)))  # fewer than 4 draws
    assert np.isnan(split_rhat(np.random.default_rng(4).standard_normal((1, 100))))  # one chain, as ArviZ
    assert np.isfinite(ess_bulk(np.random.default_rng(5).standard_normal(100)))  # 1-D: one chain


def test_average_ranks_break_ties_like_scipy():
    a = np.array([[3.0, 1.0, 3.0], [2.0, 1.0, 3.0]])
    np.testing.assert_array_equal(_average_ranks(a), [[5.0, 1.5, 5.0], [3.0, 1.5, 5.0]])


def test_agrees_with_arviz():
    rng = np.random.default_rng(6)
    for trial in range(15):
        chains, draws = int(rng.integers(1, 6)), int(rng.integers(4, 300))
        x = ar1(float(rng.uniform(-0.8, 0.98)), chains, draws, seed=trial) + rng.normal(0, 0.3, (chains, 1))
        if trial % 4 == 0:
            x = np.round(x)  # ties
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = [float(az.ess(x, method="bulk")), float(az.ess(x, method="tail"))]
            ref.append(float(az.rhat(x, method="rank")) if chains > 1 else np.nan)
        ours = [ess_bulk(x), ess_tail(x), split_rhat(x)]
        np.testing.assert_allclose(ours, ref, rtol=1e-10, equal_nan=True)
