"""Jarzynski weights against exact oracles (docs/algorithms.md §4.3, §4.7, oracles 2-4 and 10).

Tolerances are a few standard errors computed from the sample size: for self-normalised averages
the effective size is the ESS, and ``log mean e^A`` has variance ``CV^2 / N`` (delta method).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.samplers import SamplerParams, SamplerState, get_sampler
from ebm_explorer.core.samplers.langevin import langevin_move
from ebm_explorer.core.samplers.mala import log_accept_ratio
from ebm_explorer.core.training import jarzynski as jz
from ebm_explorer.core.training.resampling import multinomial_indices, resample_indices, systematic_indices

D = torch.float64


class Gauss:
    """``U = |x - m|^2 / 2 s^2`` (isotropic, Z = 2 pi s^2): an inline energy with a known log Z."""

    def __init__(self, m: float = 0.0, s: float = 1.0) -> None:
        self.m = torch.tensor([m, 0.0], dtype=D)
        self.s = s

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.m) ** 2).sum(-1) / (2 * self.s**2)

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.energy(x), (x - self.m) / self.s**2

    def log_z(self) -> float:
        return math.log(2 * math.pi * self.s**2)


def weighted_moments(x: torch.Tensor, log_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    p = jz.normalized_weights(log_w)[:, None]
    mean = (p * x).sum(0)
    return mean, (p * (x - mean) ** 2).sum(0)


def ula_path(energies: list[Gauss], x: torch.Tensor, h: float, gen: torch.Generator,
             threshold: float = 0.0, scheme: str = "systematic") -> tuple[torch.Tensor, torch.Tensor, float, int]:
    """Algorithm 1 with a prescribed parameter path: returns X, A, the log Z estimate and #resamplings."""
    a = torch.zeros(x.shape[0], dtype=D)
    log_z_ref, count = energies[0].log_z(), 0
    e, g = energies[0].energy_and_grad(x)
    for k in range(len(energies) - 1):
        ess_before = jz.ess_fraction(a)
        y = langevin_move(gen, x, g, h)
        e1, g1 = energies[k + 1].energy_and_grad(y)
        a = a + jz.ula_increment(x, e, g, y, e1, g1, h)
        x, e, g = y, e1, g1
        if ess_before < threshold:
            log_z_ref += float(jz.log_mean_weight(a))
            idx = resample_indices(scheme, a, gen)
            x, e, g, a = x[idx], e[idx], g[idx], torch.zeros_like(a)
            count += 1
    return x, a, log_z_ref + float(jz.log_mean_weight(a)), count


def test_alpha_increment_equals_mala_log_ratio_at_fixed_theta() -> None:
    gen = make_generator(0)
    u = Gauss(0.3, 0.8)
    x = torch.randn((1000, 2), generator=gen, dtype=D) * 2
    e, g = u.energy_and_grad(x)
    y = langevin_move(gen, x, g, 0.3)
    ey, gy = u.energy_and_grad(y)
    inc = jz.ula_increment(x, e, g, y, ey, gy, 0.3)
    ratio = log_accept_ratio(SamplerState(x, e, g), SamplerState(y, ey, gy), 0.3)
    assert torch.allclose(inc, ratio, rtol=0, atol=1e-12 * (1 + ratio.abs().max()))


def test_oracle2_fixed_theta_weights_remove_ula_bias() -> None:
    n, h = 40_000, 0.5
    gen = make_generator(1)
    u = Gauss()
    x0 = torch.randn((n, 2), generator=gen, dtype=D)
    x, a, log_z, _ = ula_path([u] * 21, x0, h, gen)
    ess = jz.ess_fraction(a) * n
    _, var_w = weighted_moments(x, a)
    var_u = x.var(0)
    # Var of a sample variance of a Gaussian: 2 sigma^4 / n (effective n = ESS); 5 standard errors
    assert torch.all((var_w - 1.0).abs() < 5 * math.sqrt(2 / ess)), var_w
    assert torch.all((var_u - 4 / 3).abs() < 5 * math.sqrt(2 / n) * 4 / 3), var_u  # ULA bias is real
    cv2 = n / ess - 1
    assert abs(log_z - u.log_z()) < 5 * math.sqrt(cv2 / n)  # log mean e^A -> 0


def test_oracle3_moving_theta_tracks_log_z() -> None:
    n, steps, h = 40_000, 200, 0.05
    gen = make_generator(2)
    path = [Gauss(2.0 * k / steps, 1.0 - 0.5 * k / steps) for k in range(steps + 1)]
    x0 = torch.randn((n, 2), generator=gen, dtype=D)
    x, a, log_z, _ = ula_path(path, x0, h, gen)
    ess = jz.ess_fraction(a) * n
    exact = path[-1].log_z() - path[0].log_z()  # 2 ln 0.5 in 2-D
    assert abs((log_z - path[0].log_z()) - exact) < 5 * math.sqrt((n / ess - 1) / n)
    mean_w, var_w = weighted_moments(x, a)
    se_mean = math.sqrt(0.25 / ess)
    assert abs(float(mean_w[0]) - 2.0) < 5 * se_mean and abs(float(mean_w[1])) < 5 * se_mean
    assert torch.all((var_w - 0.25).abs() < 5 * math.sqrt(2 / ess) * 0.25), var_w
    assert abs(float(x[:, 0].mean()) - 2.0) > 5 * se_mean  # the unweighted walkers lag behind


@pytest.mark.parametrize("kernel", ["mala", "hmc"])
def test_ais_form_for_mala_and_hmc_gives_log_z_ratio(kernel: str) -> None:
    n, steps = 20_000, 100
    gen = make_generator(3)
    path = [Gauss(2.0 * k / steps, 1.0 - 0.5 * k / steps) for k in range(steps + 1)]
    sampler = get_sampler(kernel)
    params = SamplerParams(step_size=0.1 if kernel == "mala" else 0.3, leapfrog_steps=3)
    state = sampler.init(torch.randn((n, 2), generator=gen, dtype=D), path[0])
    a = torch.zeros(n, dtype=D)
    for k in range(steps):
        state, _ = sampler.step(gen, state, path[k], params)  # move with theta_k
        a = a + jz.ais_increment(path[k + 1].energy(state.position), state.energy)
        state = sampler.init(state.position, path[k + 1])
    ess = jz.ess_fraction(a) * n
    est = float(jz.log_mean_weight(a))
    assert abs(est - 2 * math.log(0.5)) < 5 * math.sqrt((n / ess - 1) / n)
    mean_w, var_w = weighted_moments(state.position, a)
    assert abs(float(mean_w[0]) - 2.0) < 5 * math.sqrt(0.25 / ess)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-30, max_value=5), min_size=1, max_size=60), st.integers(0, 2**31 - 1))
def test_systematic_counts_within_floor_and_ceil(log_w: list[float], seed: int) -> None:
    a = torch.tensor(log_w, dtype=D)
    n = a.numel()
    idx = systematic_indices(a, make_generator(seed))
    counts = torch.bincount(idx, minlength=n).double()
    expected = n * torch.softmax(a, 0)
    assert torch.all(counts >= torch.floor(expected - 1e-9)) and torch.all(counts <= torch.ceil(expected + 1e-9))
    assert int(counts.sum()) == n


def test_zero_weight_walkers_are_never_selected() -> None:
    a = torch.tensor([0.0, -math.inf, 1.0, -math.inf], dtype=D)
    for fn in (systematic_indices, multinomial_indices):
        idx = fn(a, make_generator(0))
        assert set(idx.tolist()) <= {0, 2}


def test_multinomial_count_mean_is_n_p() -> None:
    gen = make_generator(4)
    a = torch.log(torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=D) * 7)
    n, reps = 4, 20_000
    counts = torch.stack([torch.bincount(multinomial_indices(a, gen), minlength=n) for _ in range(reps)]).double()
    p = torch.softmax(a, 0)
    se = torch.sqrt(n * p * (1 - p) / reps)
    assert torch.all((counts.mean(0) - n * p).abs() < 5 * se)


def test_sanitize_drops_nonfinite_walkers_and_huge_weights_do_not_overflow() -> None:
    a = torch.tensor([1000.0, float("nan"), 999.0, float("inf")], dtype=D)
    ok = torch.tensor([True, True, True, True])
    s = jz.sanitize_log_weights(a, ok)
    assert s[1] == -math.inf and s[3] == -math.inf
    p = jz.normalized_weights(s)
    assert torch.isfinite(p).all() and abs(float(p.sum()) - 1) < 1e-12
    assert math.isfinite(float(jz.log_mean_weight(s)))
    assert jz.cv2_threshold_to_ess(0.2) == pytest.approx(1 / 1.2)


def _log_z_errors(n: int, scheme: str, reps: int, seed: int) -> tuple[np.ndarray, float]:
    """Final log Z error over ``reps`` independent runs of the oracle-3 path, resampling whenever
    ESS/N < 0.95 (many events); also returns the predicted std sqrt(sum_seg CV^2_seg / N)."""
    steps, h = 100, 0.05
    path = [Gauss(2.0 * k / steps, 1.0 - 0.5 * k / steps) for k in range(steps + 1)]
    gen = make_generator(seed)
    exact = path[-1].log_z()
    errs, counts = [], []
    for _ in range(reps):
        x0 = torch.randn((n, 2), generator=gen, dtype=D)
        _, _, log_z, count = ula_path(path, x0, h, gen, threshold=0.95, scheme=scheme)
        errs.append(log_z - exact)
        counts.append(count)
    # each segment ends just below ESS/N = 0.95, i.e. CV^2 ~ 1/0.95 - 1; Var(log mean w) ~ CV^2 / N per segment
    predicted = math.sqrt((np.mean(counts) + 1) * (1 / 0.95 - 1) / n)
    return np.asarray(errs), predicted


@pytest.mark.parametrize("scheme", ["systematic", "multinomial"])
def test_log_z_error_with_resampling_within_random_walk_bound(scheme: str) -> None:
    for n in (250, 1000):
        errs, predicted = _log_z_errors(n, scheme, reps=12, seed=5)
        rms = float(np.sqrt(np.mean(errs**2)))
        # the random walk of per-segment errors: the RMS error stays within a few predicted stds
        assert rms < 3 * predicted, (n, scheme, rms, predicted)
        # log of an unbiased estimate: Jensen bias about -predicted^2 / 2, plus 3 standard errors of the mean
        assert abs(float(errs.mean())) < 3 * predicted / math.sqrt(len(errs)) + predicted**2, (n, errs)


@given(st.lists(st.floats(-30, 30), min_size=1, max_size=60))
@settings(max_examples=60, deadline=None)
def test_weights_and_ess_equals_the_logsumexp_form(log_w: list[float]) -> None:
    a = torch.tensor(log_w, dtype=torch.float64)
    p, ess = jz.weights_and_ess(a)
    assert torch.allclose(p, jz.normalized_weights(a), rtol=0, atol=0)
    assert math.isclose(ess, jz.ess_fraction(a), rel_tol=1e-10)
    assert jz.weights_and_ess(torch.full((5,), -math.inf, dtype=torch.float64))[1] == 0.0
