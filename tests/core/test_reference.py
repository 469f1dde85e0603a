"""The grid reference against closed forms: Gaussians, mixtures, the donut, cut-off and broken energies."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_explorer.core.errors import NumericalError
from ebm_explorer.core.landscapes import GaussianMixture, make_landscape
from ebm_explorer.core.landscapes.base import Landscape, Tempered
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.types import Box


class Gaussian(Landscape):
    """``U = (x - m)^T S^-1 (x - m) / 2``: Z = 2 pi sqrt(det S), E[U] = 1."""

    def __init__(self, mean, cov, box=None) -> None:
        super().__init__(box)
        self.m = torch.tensor(mean, dtype=torch.float64)
        self.p = torch.linalg.inv(torch.tensor(cov, dtype=torch.float64))

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        d = x - self._like(self.m, x)
        return 0.5 * torch.einsum("ni,ij,nj->n", d, self._like(self.p, x), d)


class Mixture(Landscape):
    """``U = -log sum_j w_j N(x; m_j, C_j)``: Z = sum w exactly."""

    def __init__(self, weights, means, covs, box=None) -> None:
        super().__init__(box)
        self.logw = torch.log(torch.tensor(weights, dtype=torch.float64))
        self.m = torch.tensor(means, dtype=torch.float64)
        c = torch.tensor(np.array(covs), dtype=torch.float64)
        self.p = torch.linalg.inv(c)
        self.lognorm = -torch.log(2 * math.pi * torch.sqrt(torch.linalg.det(c)))

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        d = x[:, None, :] - self._like(self.m, x)[None]
        q = torch.einsum("nki,kij,nkj->nk", d, self._like(self.p, x), d)
        return -torch.logsumexp(self._like(self.logw + self.lognorm, x) - 0.5 * q, dim=1)


class Donut(Landscape):
    """docs/algorithms.md §7: log p = -(|x| - R)^2 / s."""

    R, S = 2.6, 0.033

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return (x.norm(dim=1) - self.R) ** 2 / self.S


class Formula(Landscape):
    def __init__(self, fn) -> None:
        super().__init__(None)
        self.fn = fn

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x[:, 0], x[:, 1])


COV = np.array([[1.0, 0.6], [0.6, 2.0]])
MEAN = np.array([0.3, -0.2])


def _box_around(mean, cov, k):
    sx, sy = np.sqrt(np.diag(cov))
    return Box(mean[0] - k * sx, mean[0] + k * sx, mean[1] - k * sy, mean[1] + k * sy)


def test_gaussian_full_covariance_closed_form():
    ref = compute_reference(Gaussian(MEAN, COV), _box_around(MEAN, COV, 8), resolution=256)
    log_z = math.log(2 * math.pi * math.sqrt(np.linalg.det(COV)))
    assert ref.log_z == pytest.approx(log_z, abs=1e-6)
    np.testing.assert_allclose(ref.mean, MEAN, atol=1e-6)
    np.testing.assert_allclose(ref.cov, COV, atol=1e-6)
    assert ref.mean_energy == pytest.approx(1.0, abs=1e-6)  # E[x^T P x / 2] = d / 2
    assert ref.entropy == pytest.approx(1.0 + log_z, abs=1e-6)
    assert ref.density.sum() * ref.dx * ref.dy == pytest.approx(1.0, abs=1e-12)
    assert ref.marginal_x.sum() * ref.dx == pytest.approx(1.0, abs=1e-12)
    # marginal of a Gaussian is Gaussian: compare at the cell centres
    sx = math.sqrt(COV[0, 0])
    exact_mx = np.exp(-0.5 * ((ref.xs - MEAN[0]) / sx) ** 2) / (sx * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(ref.marginal_x, exact_mx, atol=1e-8)
    assert ref.n_modes == 1 and ref.mode_weights[0] == pytest.approx(1.0)
    np.testing.assert_allclose(ref.minima[0], MEAN, atol=max(ref.dx, ref.dy))
    assert ref.warnings == [] and ref.edge_mass < 1e-10 and ref.outside_mass < 1e-10
    assert ref.energy.shape == ref.density.shape == ref.basins.shape == (256, 256)


def test_grid_convention_rows_are_y():
    ref = compute_reference(Formula(lambda x, y: 0.5 * (x - 1.0) ** 2 + 0.5 * y**2), Box(-6, 6, -7, 7), 64)
    iy, ix = 5, 40
    assert ref.energy[iy, ix] == pytest.approx(0.5 * (ref.xs[ix] - 1) ** 2 + 0.5 * ref.ys[iy] ** 2)
    assert ref.xs[0] == pytest.approx(-6 + 0.5 * 12 / 64)  # cell centres (midpoint rule)


def test_mixture_log_z_mode_weights_and_count():
    # three modes, full covariances, unnormalised weights; separations > 10 sigma
    weights = [0.5, 1.2, 0.3]
    means = [[-8.0, 0.0], [4.0, 5.0], [5.0, -7.0]]
    covs = [[[1.0, 0.3], [0.3, 0.8]], [[0.6, -0.2], [-0.2, 1.0]], [[0.9, 0.0], [0.0, 0.5]]]
    ref = compute_reference(Mixture(weights, means, covs), Box(-16, 14, -14, 14), resolution=256)
    assert ref.log_z == pytest.approx(math.log(sum(weights)), abs=1e-6)
    assert ref.n_modes == 3
    # modes are ordered by x of their minimum: here the order of `means`
    np.testing.assert_allclose(ref.minima, means, atol=2 * max(ref.dx, ref.dy))
    np.testing.assert_allclose(ref.mode_weights, np.array(weights) / sum(weights), atol=1e-6)
    assert ref.mode_weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert ref.warnings == []


def test_two_well_separated_modes_weights_to_overlap():
    ref = compute_reference(
        Mixture([0.25, 0.75], [[-5.0, 0.0], [5.0, 0.0]], [np.eye(2), np.eye(2)]), Box(-13, 13, -8, 8), 256
    )
    assert ref.n_modes == 2
    np.testing.assert_allclose(ref.mode_weights, [0.25, 0.75], atol=1e-6)


def test_donut_closed_form_z():
    r, s = Donut.R, Donut.S
    z = math.pi * s * math.exp(-(r**2) / s)
    z += math.pi * r * math.sqrt(math.pi * s) * (1 + math.erf(r / math.sqrt(s)))
    assert z == pytest.approx(5.259992, abs=1e-6)
    ref = compute_reference(Donut(None), Box(-4, 4, -4, 4), resolution=1024)
    assert math.exp(ref.log_z) == pytest.approx(z, rel=1e-4)
    assert ref.n_modes == 1 and ref.warnings == []
    # Needed resolution: across the ring the density is Gaussian with sd sqrt(s/2) = 0.128. The
    # midpoint rule on a smooth, decaying integrand errs by about exp(-2 pi^2 sd^2 / h^2), which is
    # below 1e-4 once h < 0.19, i.e. 43 cells over the box width 8. 64 cells must therefore suffice,
    # and the coarse-grid check must stay quiet there.
    coarse = compute_reference(Donut(None), Box(-4, 4, -4, 4), resolution=64)
    assert math.exp(coarse.log_z) == pytest.approx(z, rel=1e-4)
    assert coarse.warnings == []


def test_narrow_box_warns_wide_box_does_not():
    g = Gaussian([0.0, 0.0], np.eye(2))
    for k in (2.0, 3.0, 3.5, 4.0, 5.0):
        ref = compute_reference(g, Box(-k, k, -k, k), 128)
        beyond = 1 - math.erf(k / math.sqrt(2)) ** 2  # exact mass outside the square
        # the geometric tail overestimates a Gaussian tail by the Mills ratio: 19 % at 2 sd, less
        # further out; outside_mass is relative to the mass inside the box
        assert beyond / (1 - beyond) <= ref.outside_mass <= 1.3 * beyond / (1 - beyond)
        warned = any("box cuts off mass" in w and "widen the box" in w for w in ref.warnings)
        assert warned == (max(ref.outside_mass, ref.edge_mass) > 1e-3)
        if k <= 3.0:
            assert warned
        if k >= 4.0:
            assert not warned
    wide = compute_reference(g, Box(-8, 8, -8, 8), 128)
    assert wide.warnings == [] and wide.edge_mass < 1e-10
    # a density that is not normalisable (flat) is reported, not silently renormalised
    flat = compute_reference(Formula(lambda x, y: 0 * x), Box(-1, 1, -1, 1), 128)
    assert any("box cuts off mass" in w and "not normalisable" in w for w in flat.warnings)
    assert flat.outside_mass > 1


def test_coarse_grid_warns():
    narrow_peak = Gaussian([0.0, 0.0], 1e-4 * np.eye(2))  # sd 0.01 on a box of width 2
    ref = compute_reference(narrow_peak, Box(-1, 1, -1, 1), 16)
    assert any("grid too coarse" in w for w in ref.warnings)
    fine = compute_reference(narrow_peak, Box(-1, 1, -1, 1), 1024)
    assert not any("grid too coarse" in w for w in fine.warnings)


def test_nan_energy_raises_with_count_and_point():
    bad = Formula(lambda x, y: torch.where(x > 1.0, torch.full_like(x, float("nan")), x**2 + y**2))
    with pytest.raises(NumericalError, match=r"in \d+ of 4096 grid cells, e\.g\. U\(1\.\d+, "):
        compute_reference(bad, Box(-2, 2, -2, 2), 64)
    minus_inf = Formula(lambda x, y: torch.where(y < -1.9, torch.full_like(x, -float("inf")), y**2))
    with pytest.raises(NumericalError, match="-inf"):
        compute_reference(minus_inf, Box(-2, 2, -2, 2), 64)
    with pytest.raises(NumericalError, match="everywhere"):
        compute_reference(Formula(lambda x, y: torch.full_like(x, float("inf"))), Box(-1, 1, -1, 1), 16)


def test_plus_inf_energy_is_zero_density():
    # uniform on the unit disc: +inf outside is legitimate (no basin there)
    inf = float("inf")
    disc = Formula(lambda x, y: torch.where(x**2 + y**2 < 1, torch.zeros_like(x), torch.full_like(x, inf)))
    ref = compute_reference(disc, Box(-1.5, 1.5, -1.5, 1.5), 512)
    # the midpoint rule misses at most the cells cut by the circle: |error| <= perimeter * diag / area
    tol = 2 * math.pi * math.hypot(ref.dx, ref.dy) / math.pi
    assert math.exp(ref.log_z) == pytest.approx(math.pi, rel=tol)
    outside = ~np.isfinite(ref.energy)
    assert (ref.basins[outside] == -1).all() and (ref.basins[~outside] >= 0).all()
    assert ref.density[outside].max() == 0.0
    assert np.isfinite(ref.mean_energy) and ref.n_modes == 1


def test_double_well_barrier_decides_modes():
    # U = a (x^2 - 1)^2 + y^2 / 2: barrier a between minima at x = -1, +1 of equal mass
    def well(a):
        return Formula(lambda x, y: a * (x**2 - 1) ** 2 + 0.5 * y**2)

    deep = compute_reference(well(3.0), Box(-2.5, 2.5, -5, 5), 256)
    assert deep.n_modes == 2
    np.testing.assert_allclose(deep.mode_weights, [0.5, 0.5], atol=1e-9)
    np.testing.assert_allclose(deep.minima[:, 0], [-1, 1], atol=deep.dx)
    shallow = compute_reference(well(0.3), Box(-2.5, 2.5, -5, 5), 256)
    assert shallow.n_modes == 1
    # the threshold is a parameter
    assert compute_reference(well(0.3), Box(-2.5, 2.5, -5, 5), 256, merge_barrier=0.1).n_modes == 2
    assert compute_reference(well(3.0), Box(-2.5, 2.5, -5, 5), 256, merge_barrier=5.0).n_modes == 1


def test_tiny_mass_basin_is_merged():
    # a deep but very narrow well holding ~1e-5 of the mass next to a broad Gaussian
    # (barrier about 1.1 > merge_barrier: only its mass makes it insignificant)
    mix = Mixture([1.0, 1e-5], [[0.0, 0.0], [6.0, 0.0]], [np.eye(2), 1e-2 * np.eye(2)])
    assert compute_reference(mix, Box(-8, 8, -8, 8), 512).n_modes == 1
    kept = compute_reference(mix, Box(-8, 8, -8, 8), 512, min_mass=0.0)
    assert kept.n_modes == 2 and kept.mode_weights[1] == pytest.approx(1e-5 / (1 + 1e-5), rel=1e-3)
    assert kept.warnings == []


def test_unresolved_narrow_mode_warns():
    # sd 0.01 with cells of 0.03: log Z is fine (the mode holds 1e-5), but its own weight is not
    mix = Mixture([1.0, 1e-5], [[0.0, 0.0], [6.0, 0.0]], [np.eye(2), 1e-4 * np.eye(2)])
    ref = compute_reference(mix, Box(-8, 8, -8, 8), 512, min_mass=0.0)
    assert ref.n_modes == 2
    assert not any("log Z changes" in w for w in ref.warnings)
    assert any("grid too coarse for the mode at (5.98" in w for w in ref.warnings)


def test_flat_and_noisy_energy_gives_one_mode():
    noisy = Formula(lambda x, y: 1e-9 * torch.sin(97 * x) * torch.cos(89 * y))
    ref = compute_reference(noisy, Box(-1, 1, -1, 1), 256)
    assert ref.n_modes == 1
    flat = compute_reference(Formula(lambda x, y: 0 * x), Box(-1, 1, -1, 1), 256)
    assert flat.n_modes == 1 and (flat.basins == 0).all()


def test_many_modes_ring_is_found():
    ang = np.arange(8) * np.pi / 4
    means = np.stack([2.829 * np.cos(ang), 2.829 * np.sin(ang)], 1)
    ref = compute_reference(Mixture(np.ones(8), means, [0.125 * np.eye(2)] * 8), Box(-5, 5, -5, 5), 256)
    assert ref.n_modes == 8
    assert ref.log_z == pytest.approx(math.log(8), abs=1e-8)
    # axis and diagonal modes differ only by how the square grid cuts basin boundaries
    np.testing.assert_allclose(ref.mode_weights, 1 / 8, atol=1e-5)
    # labels sorted by (x, y) of the minimum
    order = np.lexsort((ref.minima[:, 1], ref.minima[:, 0]))
    assert (order == np.arange(8)).all()


def test_basin_lookup_and_outside_points():
    ref = compute_reference(
        Mixture([0.25, 0.75], [[-5.0, 0.0], [5.0, 0.0]], [np.eye(2), np.eye(2)]), Box(-13, 13, -8, 8), 128
    )
    pts = np.array(
        [[-5.0, 0.0], [5.0, 1.0], [20.0, 0.0], [0.0, -9.0], [np.nan, 0.0], [13.0, 8.0], [-13.0, -8.0]]
    )
    np.testing.assert_array_equal(ref.basin_of(pts), [0, 1, -1, -1, -1, 1, 0])
    np.testing.assert_allclose(ref.mode_weights_of(pts), [2 / 4, 2 / 4])
    assert ref.outside_fraction(pts) == pytest.approx(3 / 7)
    assert ref.basin_of(torch.tensor(pts[:2])).tolist() == [0, 1]
    assert np.isnan(ref.mode_weights_of(np.array([[100.0, 0.0]]))).all()


def test_log_bin_mass_matches_exact_bin_integrals():
    # separable Gaussian: exact bin mass = product of normal CDF differences
    sx, sy = 1.0, 0.7
    ref = compute_reference(Gaussian([0.0, 0.0], np.diag([sx**2, sy**2])), Box(-6, 6, -5, 5), 256)

    def cdf_diffs(lo, hi, n, sd):
        edges = np.linspace(lo, hi, n + 1) / (sd * math.sqrt(2))
        return np.diff([0.5 * (1 + math.erf(e)) for e in edges])

    for bins in (64, 60):  # divides the resolution / does not
        p = np.exp(ref.log_bin_mass(bins))
        exact = np.outer(cdf_diffs(-5, 5, bins, sy), cdf_diffs(-6, 6, bins, sx))
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        # the fine grid treats the density as constant per cell: error ~ |grad p| dx^2 per cut cell
        np.testing.assert_allclose(p, exact, atol=2e-5)
    block = ref.density.reshape(64, 4, 64, 4).sum(axis=(1, 3)) * ref.dx * ref.dy
    np.testing.assert_allclose(np.exp(ref.log_bin_mass(64)), block, rtol=1e-10, atol=1e-300)
    # far tails stay finite in log space instead of underflowing
    far = compute_reference(Gaussian([0.0, 0.0], 0.01 * np.eye(2)), Box(-10, 10, -10, 10), 128)
    assert np.isfinite(far.log_bin_mass(16)).all()


def test_tempered_landscape_folds_beta():
    g = Gaussian([0.0, 0.0], np.eye(2))
    ref = compute_reference(Tempered(g, 4.0), Box(-4, 4, -4, 4), 256)
    assert ref.log_z == pytest.approx(math.log(2 * math.pi / 4), abs=1e-6)
    np.testing.assert_allclose(ref.cov, np.eye(2) / 4, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_evaluation_matches_cpu():
    box = _box_around(MEAN, COV, 8)
    cpu = compute_reference(Gaussian(MEAN, COV), box, 256)
    gpu = compute_reference(Gaussian(MEAN, COV), box, 256, device="cuda")
    np.testing.assert_allclose(gpu.energy, cpu.energy, rtol=1e-12, atol=1e-12)
    assert gpu.log_z == pytest.approx(cpu.log_z, abs=1e-12)


def test_high_resolution_runs_in_chunks():
    ref = compute_reference(Gaussian(MEAN, COV), _box_around(MEAN, COV, 8), resolution=2048)
    assert ref.log_z == pytest.approx(math.log(2 * math.pi * math.sqrt(np.linalg.det(COV))), abs=1e-9)
    assert ref.n_modes == 1


def test_gaussian_mixture_landscape_from_package():
    gm = GaussianMixture(
        [1.0, 3.0], [[-6.0, 0.0], [6.0, 1.0]], covs=[[[1.0, 0.4], [0.4, 1.0]], [[0.7, 0.0], [0.0, 1.5]]],
        box=Box(-14, 14, -10, 10),
    )
    ref = compute_reference(gm, gm.box, 256)
    assert ref.log_z == pytest.approx(gm.log_z_exact(), abs=1e-6)
    np.testing.assert_allclose(ref.mode_weights, gm.weights / gm.weights.sum(), atol=1e-6)


def test_donut_preset_from_package():
    donut = make_landscape("donut")
    ref = compute_reference(donut, Box(-4, 4, -4, 4), 1024)
    assert math.exp(ref.log_z) == pytest.approx(5.259992, rel=1e-4)
    assert compute_reference(donut, donut.box, 256).warnings == []
