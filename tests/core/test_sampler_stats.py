"""Statistical correctness of the walkers against closed-form answers (docs/algorithms.md oracles 1, 5, 6).

Every walker runs its own chain from an independent start, so the final positions are i.i.d. draws
of the chain's law at that step: standard errors are those of N independent samples.
Tolerances are 5 standard errors; seeds are fixed and were not searched.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from ebm_explorer.core import mcmc_diagnostics as diagnostics
from ebm_explorer.core.landscapes import GaussianMixture
from ebm_explorer.core.samplers import SAMPLERS, SamplerParams, run_chain

DT = torch.float64
K_SE = 5.0


class Gaussian2D:
    """``U(x) = (x - mu)^T P (x - mu) / 2`` with ``P = Sigma^-1``; analytic gradient."""

    def __init__(self, mu, sigma):
        self.mu = torch.tensor(mu, dtype=DT)
        self.prec = torch.linalg.inv(torch.tensor(sigma, dtype=DT))

    def energy_and_grad(self, x):
        d = x - self.mu.to(x)  # (N, 2)
        pd = d @ self.prec.to(x)
        return 0.5 * (d * pd).sum(-1), pd

    def energy(self, x):
        return self.energy_and_grad(x)[0]


class Mixture2D(GaussianMixture):
    """The core's Gaussian mixture (analytic gradient) plus its closed-form moments and half-plane masses."""

    def __init__(self, weights, means, covs):
        super().__init__(weights, means, covs=covs)
        self.w, self.m, self.c = self.weights / self.weights.sum(), self.means, self.covs

    def mean(self):
        return self.w @ self.m

    def cov(self):
        mu = self.mean()
        second = np.einsum("j,jab->ab", self.w, self.c + np.einsum("ja,jb->jab", self.m, self.m))
        return second - np.outer(mu, mu)

    def mass_below(self, axis: int, t: float) -> float:
        """Exact mass of the half-plane ``x[axis] < t`` (marginals of a Gaussian are Gaussian)."""
        return float((self.w * norm.cdf((t - self.m[:, axis]) / np.sqrt(self.c[:, axis, axis]))).sum())


def gaussian_cov_se(sigma: np.ndarray, n: int) -> np.ndarray:
    """Standard error of each sample-covariance entry for N i.i.d. Gaussian draws."""
    d = np.sqrt(np.diag(sigma))
    return np.sqrt((np.outer(d**2, d**2) + sigma**2) / n)


def exact_samples(mu, sigma, n, gen):
    chol = torch.linalg.cholesky(torch.tensor(sigma, dtype=DT))
    return torch.tensor(mu, dtype=DT) + torch.randn((n, 2), generator=gen, dtype=DT) @ chol.T


MU = [1.0, -2.0]
SIGMA = np.array([[1.0, 0.6], [0.6, 2.0]])
H = 0.4


@pytest.mark.parametrize("compile", [False, True], ids=["eager", "compiled"])
def test_ula_reaches_biased_covariance_and_mala_does_not(compile):
    """Oracle 1: ULA's stationary covariance is (Sigma^-1 - h/2 Sigma^-2)^-1; MALA's is Sigma (both paths)."""
    prec = np.linalg.inv(SIGMA)
    sigma_h = np.linalg.inv(prec - 0.5 * H * prec @ prec)
    # covariance error shrinks by max|1 - h lambda(P)|^2 ~ 0.68 per step: 80 steps leave ~1e-13
    assert max(abs(1 - H * np.linalg.eigvalsh(prec))) ** 2 < 0.7
    n, steps = 200_000, 80
    target = Gaussian2D(MU, SIGMA)
    results = {}
    for name in ("ula", "mala"):
        gen = torch.Generator().manual_seed(11)
        x0 = exact_samples(MU, SIGMA, n, gen)
        res = run_chain(SAMPLERS[name], target, x0, SamplerParams(step_size=H), steps, gen, compile=compile)
        x = res.state.position.numpy()
        results[name] = (x.mean(0), np.cov(x.T))
        assert res.nonfinite_walkers == 0 and res.compile_fallback is None

    mean, cov = results["ula"]
    se = gaussian_cov_se(sigma_h, n)
    np.testing.assert_array_less(np.abs(cov - sigma_h), K_SE * se)
    np.testing.assert_array_less(np.abs(mean - MU), K_SE * np.sqrt(np.diag(sigma_h) / n))

    mean, cov = results["mala"]
    np.testing.assert_array_less(np.abs(cov - SIGMA), K_SE * gaussian_cov_se(SIGMA, n))
    np.testing.assert_array_less(np.abs(mean - MU), K_SE * np.sqrt(np.diag(SIGMA) / n))
    assert np.max(np.abs(cov - sigma_h) / gaussian_cov_se(sigma_h, n)) > 30  # MALA is far from the ULA law


def test_mh_standard_normal_from_far_start():
    """Oracle 6: random-walk MH started at one far point forgets it and reaches N(0, I)."""
    n = 20_000
    gen = torch.Generator().manual_seed(3)
    x0 = torch.full((n, 2), 4.0, dtype=DT)
    res = run_chain(SAMPLERS["mh"], Gaussian2D([0.0, 0.0], np.eye(2)), x0, SamplerParams(step_size=2.0), 200, gen)
    x = res.state.position.numpy()
    np.testing.assert_array_less(np.abs(x.mean(0)), K_SE * math.sqrt(1 / n))
    np.testing.assert_array_less(np.abs(np.cov(x.T) - np.eye(2)), K_SE * gaussian_cov_se(np.eye(2), n))
    assert 0.2 < res.acceptance[-50:].mean() < 0.6


MIX = Mixture2D(
    weights=[0.2, 0.3, 0.5],
    means=[[-1.5, -0.8], [1.5, -0.8], [0.0, 1.8]],  # an equilateral triangle of side 3
    covs=[[[0.8, 0.2], [0.2, 0.6]], [[0.6, -0.15], [-0.15, 0.9]], [[1.0, 0.0], [0.0, 0.5]]],
)


# sampler -> (params, steps for the moment test, steps for the R-hat test)
MIX_RUNS = {
    "mh": (SamplerParams(step_size=2.2), 300, 4000),
    "mala": (SamplerParams(step_size=1.0), 300, 4000),
    "hmc": (SamplerParams(step_size=0.5, leapfrog_steps=5), 150, 1000),
}


def uniform_start(n: int, gen: torch.Generator) -> torch.Tensor:
    """Overdispersed start: uniform on [-6, 6]^2, far wider than the mixture."""
    return -6.0 + 12.0 * torch.rand((n, 2), generator=gen, dtype=DT)


@pytest.mark.parametrize("name", list(MIX_RUNS))
@pytest.mark.parametrize("compile", [False, True], ids=["eager", "compiled"])
def test_exact_samplers_reach_mixture(name, compile):
    """MH, MALA and HMC reach the exact mixture: mean, covariance and the mass on each side of two lines.

    The three modes are 3 apart with unit-ish stds (barriers of about 1 nat); from the uniform start
    these chains forget the start within ~100 steps. Run on the eager and the fused (compiled) steps.
    """
    params, steps, _ = MIX_RUNS[name]
    n = 20_000
    gen = torch.Generator().manual_seed(5)
    res = run_chain(SAMPLERS[name], MIX, uniform_start(n, gen), params, steps, gen, compile=compile)
    assert res.nonfinite_walkers == 0 and res.compile_fallback is None
    x = res.state.position.numpy()
    mean, cov = MIX.mean(), MIX.cov()
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), K_SE * np.sqrt(np.diag(cov) / n))
    xc = x - x.mean(0)
    prods = np.stack([xc[:, 0] ** 2, xc[:, 0] * xc[:, 1], xc[:, 1] ** 2])  # non-Gaussian: SE from 4th moments
    emp_cov = np.cov(x.T)
    emp = np.array([emp_cov[0, 0], emp_cov[0, 1], emp_cov[1, 1]])
    exact = np.array([cov[0, 0], cov[0, 1], cov[1, 1]])
    np.testing.assert_array_less(np.abs(emp - exact), K_SE * prods.std(axis=1) / math.sqrt(n))
    for axis, t in ((0, 0.0), (1, 0.5)):  # x < 0 splits modes 1|2; y < 0.5 splits modes 1,2|3
        p = MIX.mass_below(axis, t)
        frac = float((x[:, axis] < t).mean())
        assert abs(frac - p) < K_SE * math.sqrt(p * (1 - p) / n), (axis, frac, p)


@pytest.mark.parametrize("name", list(MIX_RUNS))
def test_mixture_chains_converge_rhat(name):
    """Split R-hat (rank-normalised, ArviZ definition) of 256 chains from the same overdispersed start.

    R-hat needs each chain to cross the barriers many times within the window (R-hat - 1 ~ tau / 2n),
    so these chains run longer than the moment test's, over fewer walkers.
    """
    params, _, steps = MIX_RUNS[name]
    gen = torch.Generator().manual_seed(5)
    tracked = []

    def track(k, state, info):
        if k > steps // 2:  # second half only
            tracked.append(state.position[:, 0].clone())

    run_chain(SAMPLERS[name], MIX, uniform_start(256, gen), params, steps, gen, on_step=track)
    draws = torch.stack(tracked, dim=1).numpy()  # (chains, draws)
    assert diagnostics.split_rhat(draws) < 1.01
