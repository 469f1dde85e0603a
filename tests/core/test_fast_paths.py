"""The hand-written fast gradients of the built-in landscapes against the generic autograd path.

Three levels: the gradient itself (every preset, float64, to ~1e-10), whole MALA trajectories from
the same seed (identical to ~1e-9), and the distribution of independent runs (walker mean,
covariance and mode weights agree within a few standard errors of the difference).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_explorer.core.landscapes import PRESETS, GaussianMixture, Landscape, Tempered, make_landscape
from ebm_explorer.core.landscapes.analytic import FAST_PATHS, AnalyticLandscape
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.samplers import SAMPLERS, SamplerParams, initial_positions, run_chain

NAMES = list(PRESETS)
DT = torch.float64


class AutogradPath:
    """The same landscape with its energy differentiated by autograd (the generic path)."""

    def __init__(self, land: Landscape) -> None:
        self.land = land
        self.box = land.box

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self.land.energy(x)

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return Landscape.energy_and_grad(self.land, x)


def points(land: Landscape, n: int, seed: int) -> torch.Tensor:
    """Uniform points over the box widened by 10% on each side (walls, tails), plus the origin."""
    b = land.box
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=gen, dtype=DT)
    lo = torch.tensor([b.xmin - 0.1 * b.width, b.ymin - 0.1 * b.height], dtype=DT)
    span = torch.tensor([1.2 * b.width, 1.2 * b.height], dtype=DT)
    return torch.cat([lo + u * span, torch.zeros(1, 2, dtype=DT)])


def test_every_preset_has_a_fast_path():
    for name in NAMES:
        land = make_landscape(name)
        if isinstance(land, AnalyticLandscape):
            assert land._fast is FAST_PATHS[land._fn], name
        else:  # the mixtures carry their own analytic gradient
            assert isinstance(land, GaussianMixture), name
            assert type(land).energy_and_grad is not Landscape.energy_and_grad


@pytest.mark.parametrize("name", NAMES)
def test_fast_gradient_matches_autograd(name):
    land = make_landscape(name)
    x = points(land, 2000, seed=11)
    e, g = land.energy_and_grad(x)
    e_ref, g_ref = Landscape.energy_and_grad(land, x)
    assert e.dtype == DT and g.shape == (x.shape[0], 2) and not g.requires_grad
    torch.testing.assert_close(e, e_ref, rtol=1e-13, atol=1e-13)
    # rounding of the two evaluation orders grows with the size of the gradient's terms
    scale = 1.0 + g_ref.abs().max().item()
    torch.testing.assert_close(g, g_ref, rtol=1e-10, atol=1e-10 * scale)
    with torch.no_grad():
        assert torch.equal(land.energy(x), e)  # the fast path evaluates U with the same operations


def test_fast_path_keeps_input_untouched_and_ignores_its_graph():
    land = make_landscape("rm_u3")
    x = points(land, 64, seed=2).requires_grad_(True)
    before = x.detach().clone()
    e, g = land.energy_and_grad(x)
    assert not e.requires_grad and not g.requires_grad and torch.equal(x.detach(), before)
    _, gt = Tempered(land, 0.5).energy_and_grad(x)
    torch.testing.assert_close(gt, 0.5 * g, rtol=0, atol=0)


@pytest.mark.parametrize("name", [n for n in NAMES if isinstance(make_landscape(n), AnalyticLandscape)])
def test_mala_trajectory_identical_on_both_paths(name):
    """Same seed, same draws: the fast and the autograd path give the same walkers to ~1e-9."""
    land = make_landscape(name)
    h = 1e-3 * min(land.box.width, land.box.height) ** 2  # small enough to accept most moves everywhere
    runs = []
    for fn in (land, AutogradPath(land)):
        gen = torch.Generator().manual_seed(5)
        x0 = initial_positions("uniform", 256, land.box, gen, "cpu", DT)
        runs.append(run_chain(SAMPLERS["mala"], fn, x0, SamplerParams(step_size=h), 15, gen, record_every=5))
    fast, slow = runs
    np.testing.assert_allclose(fast.trajectory, slow.trajectory, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fast.acceptance, slow.acceptance)
    assert 0.0 < fast.acceptance.mean() < 1.0  # both the accept and the reject branch were taken


def _summaries(x: np.ndarray, basins: np.ndarray, n_modes: int) -> np.ndarray:
    """Per-walker statistics whose means are the walker mean, covariance entries and mode weights.

    Each row of the returned ``(N, k)`` array is one walker's contribution, so the estimate is the
    column mean and its standard error is the column std / sqrt(N) (walkers are independent). For the
    covariance the centring uses the sample mean, which changes the variance only at O(1/N).
    """
    d = x - x.mean(axis=0)
    cov_terms = np.stack([d[:, 0] ** 2, d[:, 0] * d[:, 1], d[:, 1] ** 2], axis=1)
    modes = (basins[:, None] == np.arange(n_modes)[None]).astype(np.float64)  # Bernoulli per mode
    return np.concatenate([x, cov_terms, modes], axis=1)


@pytest.mark.parametrize("name, sampler_h", [("four_well", 0.02), ("mueller_brown", 0.002)])
def test_both_paths_agree_in_distribution(name, sampler_h):
    """Independent MALA runs (different seeds) on both paths: mean, covariance and mode weights agree.

    The difference of two independent estimates has standard error sqrt(se_a^2 + se_b^2) with
    se = std(per-walker term) / sqrt(N); 4.5 of those bound all 5 + M comparisons together at a
    false-alarm rate below 1e-4 (normal tails; N = 10000 makes the estimates normal to a good
    approximation). The runs are short and start uniform in the box, so they are not at equilibrium
    (MALA's exactness is tested in test_sampler_stats.py): what is compared is the law of the walkers
    after 50 steps, which both paths must share.
    """
    land = make_landscape(name)
    ref = compute_reference(land, land.box, resolution=128)
    n, steps = 10_000, 50
    stats = []
    for seed, fn in ((21, land), (22, AutogradPath(land))):
        gen = torch.Generator().manual_seed(seed)
        x0 = initial_positions("uniform", n, land.box, gen, "cpu", DT)
        res = run_chain(SAMPLERS["mala"], fn, x0, SamplerParams(step_size=sampler_h), steps, gen)
        x = res.state.position.numpy()
        assert res.nonfinite_walkers == 0 and res.acceptance[-1] > 0.5
        terms = _summaries(x, ref.basin_of(x), ref.n_modes)
        stats.append((terms.mean(axis=0), terms.std(axis=0, ddof=1) / math.sqrt(n)))
    (m_a, se_a), (m_b, se_b) = stats
    z = np.abs(m_a - m_b) / np.sqrt(se_a**2 + se_b**2 + 1e-300)
    assert z.max() < 4.5, (name, z.round(2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", NAMES)
def test_fast_path_on_cuda_matches_autograd(name):
    land = make_landscape(name)
    x = points(land, 512, seed=3).cuda()
    e, g = land.energy_and_grad(x)
    e_ref, g_ref = Landscape.energy_and_grad(land, x)
    assert g.device.type == "cuda"
    torch.testing.assert_close(e, e_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g, g_ref, rtol=1e-9, atol=1e-9 * (1.0 + g_ref.abs().max().item()))
