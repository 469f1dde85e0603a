"""Walker metrics on exact iid samples (must sit at the finite-sample noise floor) and on wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_explorer.core.landscapes import PRESETS, make_landscape
from ebm_explorer.core.landscapes.base import Landscape
from ebm_explorer.core.metrics import expected_kl, expected_kl_bias, expected_tv, walker_metrics
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.types import Box

N = 200_000


class Mixture(Landscape):
    """``U = -log sum_j w_j N(x; m_j, s_j^2 I)`` (isotropic components)."""

    def __init__(self, weights, means, stds) -> None:
        super().__init__(None)
        self.w = np.asarray(weights, dtype=np.float64)
        self.m = np.asarray(means, dtype=np.float64)
        self.s = np.asarray(stds, dtype=np.float64)

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        m = torch.as_tensor(self.m, dtype=x.dtype, device=x.device)
        s = torch.as_tensor(self.s, dtype=x.dtype, device=x.device)
        logw = torch.as_tensor(np.log(self.w), dtype=x.dtype, device=x.device)
        d2 = ((x[:, None, :] - m[None]) ** 2).sum(-1) / s**2
        return -torch.logsumexp(logw - 0.5 * d2 - torch.log(2 * math.pi * s**2), dim=1)

    def sample(self, n: int, gen: torch.Generator) -> np.ndarray:
        p = torch.as_tensor(self.w / self.w.sum())
        k = torch.multinomial(p, n, replacement=True, generator=gen).numpy()
        z = torch.randn(n, 2, generator=gen, dtype=torch.float64).numpy()
        return self.m[k] + self.s[k, None] * z


@pytest.fixture(scope="module")
def mixture():
    mix = Mixture([0.3, 0.7], [[-4.0, 0.0], [4.0, 1.0]], [1.0, 1.3])
    return mix, compute_reference(mix, Box(-10, 11, -8, 9), 256)


def _energies(mix: Mixture, x: np.ndarray) -> np.ndarray:
    return mix.energy(torch.from_numpy(x)).numpy()


def test_exact_samples_sit_at_the_noise_floor(mixture):
    mix, ref = mixture
    x = mix.sample(N, torch.Generator().manual_seed(1))
    m = walker_metrics(x, _energies(mix, x), ref, bins=64)
    assert m.n == N and m.n_inside == N and m.outside_fraction == 0.0
    # TV = 0.5 sum_b |q_b - p_b|: each term has variance <= p_b / n, so sd(TV) <= 0.5 / sqrt(n)
    assert abs(m.tv - m.tv_expected) < 4 * 0.5 / math.sqrt(N)
    # 2 n KL ~ chi^2 with (K - 1) degrees of freedom (K: bins with an expected count >= 1)
    p = np.exp(ref.log_bin_mass(64))
    k = int(np.count_nonzero(N * p >= 1))
    assert abs(m.kl - m.kl_expected) < 6 * math.sqrt(2 * k) / (2 * N)
    assert 0 < m.kl_expected < expected_kl_bias(N, 64)
    # mode weights within a few binomial standard errors
    # basin masses = component weights up to the components' overlap across the saddle (~6e-5 here)
    np.testing.assert_allclose(m.mode_weights_exact, [0.3, 0.7], atol=2e-4)
    assert np.all(np.abs(m.mode_weights - m.mode_weights_exact) < 4 * m.mode_weights_se)
    assert m.mode_weights_se[0] == pytest.approx(math.sqrt(0.3 * 0.7 / N), rel=1e-3)
    assert abs(m.mean_energy - m.mean_energy_exact) < 4 * m.mean_energy_se


def test_wrong_samples_are_far(mixture):
    mix, ref = mixture
    gen = torch.Generator().manual_seed(2)
    # all walkers stuck in the left mode: TV = the missing mass 0.7 up to noise
    stuck = np.array([-4.0, 0.0]) + torch.randn(N, 2, generator=gen, dtype=torch.float64).numpy()
    m = walker_metrics(stuck, _energies(mix, stuck), ref)
    assert m.tv == pytest.approx(0.7, abs=0.01)
    assert m.kl > 1.0  # log(1 / 0.3) = 1.20 at least
    np.testing.assert_allclose(m.mode_weights, [1.0, 0.0], atol=1e-3)
    # uniform in the box: wrong everywhere
    u = torch.rand(N, 2, generator=gen, dtype=torch.float64).numpy() * [21, 17] + [-10, -8]
    mu = walker_metrics(u, _energies(mix, u), ref)
    assert mu.tv > 0.5 and mu.mean_energy > mu.mean_energy_exact + 10 * mu.mean_energy_se


def test_outside_walkers_are_reported_not_counted(mixture):
    mix, ref = mixture
    x = mix.sample(10_000, torch.Generator().manual_seed(3))
    x[:1000] += 100.0  # 10 % far outside
    m = walker_metrics(torch.from_numpy(x), torch.from_numpy(_energies(mix, x)), ref, bins=32)
    assert m.outside_fraction == pytest.approx(0.1)
    assert m.n_inside == 9000 and m.mode_weights.sum() == pytest.approx(1.0)
    assert np.isfinite(m.kl) and m.tv < 0.1


def test_noise_floor_formulas_match_multinomial_monte_carlo():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(40, 0.3))  # many sparse bins: where (K - 1) / 2n is wrong
    n, reps = 1000, 4000
    q = rng.multinomial(n, p, size=reps) / n
    tv = 0.5 * np.abs(q - p).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(q > 0, q * np.log(q / p), 0.0).sum(axis=1)
    assert expected_tv(p, n) == pytest.approx(tv.mean(), abs=4 * tv.std() / math.sqrt(reps))
    assert expected_kl(p, n) == pytest.approx(kl.mean(), abs=4 * kl.std() / math.sqrt(reps))
    # well-filled bins: the textbook (K - 1) / (2 n)
    assert expected_kl(np.full(16, 1 / 16), 10**6) == pytest.approx(15 / (2 * 10**6), rel=1e-3)


def test_million_walkers_is_vectorised(mixture):
    mix, ref = mixture
    x = mix.sample(10**6, torch.Generator().manual_seed(4))
    m = walker_metrics(x, np.zeros(10**6), ref, bins=64)
    assert m.n == 10**6 and abs(m.tv - m.tv_expected) < 4 * 0.5 / 1000


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_kl_noise_floor_is_finite_and_matches_monte_carlo_on_every_preset(name):
    """Exact draws from the reference's own bins: their mean histogram KL is the floor ``walker_metrics``
    reports, within 4 standard errors (mueller_brown, banana, rosenbrock and funnel have subnormal bin
    probabilities in the far tails, which once made the floor NaN)."""
    land = make_landscape(name)
    ref = compute_reference(land, land.box, 128)
    bins, n, reps = 64, 2000, 300
    p = np.exp(ref.log_bin_mass(bins)).ravel()
    rng = np.random.default_rng(1)
    b = ref.box
    kls, floor = [], math.nan
    for _ in range(reps):
        cell = rng.choice(p.size, size=n, p=p / p.sum())
        by, bx = np.divmod(cell, bins)
        pts = np.stack([b.xmin + (bx + 0.5) * b.width / bins, b.ymin + (by + 0.5) * b.height / bins], axis=1)
        m = walker_metrics(pts, np.zeros(n), ref, bins=bins)
        kls.append(m.kl)
        floor = m.kl_expected
    kls = np.asarray(kls)
    assert math.isfinite(floor) and floor > 0
    assert floor == pytest.approx(kls.mean(), abs=4 * kls.std(ddof=1) / math.sqrt(reps))
