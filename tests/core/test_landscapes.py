"""Presets, Gaussian mixtures, MLP energy and TOML specs: values, gradients, normalisers, round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tomli_w
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import (
    PRESETS,
    GaussianMixture,
    GridLandscape,
    Landscape,
    MLPEnergy,
    FormulaLandscape,
    Tempered,
    landscape_from_spec,
    list_presets,
    load_landscape_file,
    make_landscape,
)
from ebm_explorer.core.types import Box

NAMES = list(PRESETS)


def points_in(box: Box, n: int, seed: int, dtype=torch.float64, margin: float = 0.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=gen, dtype=torch.float64)
    lo = torch.tensor([box.xmin - margin * box.width, box.ymin - margin * box.height], dtype=torch.float64)
    span = torch.tensor([box.width, box.height], dtype=torch.float64) * (1 + 2 * margin)
    return (lo + u * span).to(dtype)


def central_fd(land: Landscape, x: torch.Tensor, h: float) -> torch.Tensor:
    cols = []
    for k in range(2):
        d = torch.zeros_like(x)
        d[:, k] = h
        with torch.no_grad():
            cols.append((land.energy(x + d) - land.energy(x - d)) / (2 * h))
    return torch.stack(cols, 1)


def midpoint_log_z(land: Landscape, box: Box, nx: int, ny: int) -> float:
    """log of the midpoint-rule sum of exp(-U) over the box (cell centres), in float64."""
    dx, dy = box.width / nx, box.height / ny
    xs = box.xmin + dx * (np.arange(nx) + 0.5)
    ys = box.ymin + dy * (np.arange(ny) + 0.5)
    X, Y = np.meshgrid(xs, ys)
    pts = torch.tensor(np.stack([X.ravel(), Y.ravel()], 1))
    with torch.no_grad():
        e = torch.cat([land.energy(c) for c in pts.split(500_000)])
    return float(torch.logsumexp(-e, 0)) + math.log(dx * dy)


# ---- registry -------------------------------------------------------------------------------------

def test_registry_has_the_issue_presets():
    names = {n for n, _ in list_presets()}
    required = {
        "gmm", "gmm_mode_weights", "eight_gaussians", "double_well", "asymmetric_double_well", "mueller_brown",
        "banana", "rosenbrock", "donut", "ring", "funnel", "squiggle", "four_well",
        "rm_u1", "rm_u2", "rm_u3", "rm_u4", "gaussian", "multimodal",
    }
    assert required <= names
    assert all(desc and "\n" not in desc for _, desc in list_presets())
    for name, entry in PRESETS.items():
        assert entry.name == name and isinstance(entry.default_box, Box)
        land = make_landscape(name)
        assert land.name == name and land.box == entry.default_box


def test_unknown_preset_and_parameter_are_named():
    with pytest.raises(UserInputError, match="nope"):
        make_landscape("nope")
    with pytest.raises(UserInputError, match="'barrier'"):
        make_landscape("double_well", barrier=2.0)
    with pytest.raises(UserInputError, match="a must be > 0"):
        make_landscape("double_well", a=-1.0)
    with pytest.raises(UserInputError, match="must be a number"):
        make_landscape("donut", radius="big")


# ---- values and gradients ------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_preset_energy_finite_and_gradient_matches_finite_differences(name):
    land = make_landscape(name)
    x = points_in(land.box, 48, seed=1, margin=0.05)
    e, g = land.energy_and_grad(x)
    assert e.shape == (48,) and g.shape == (48, 2)
    assert e.dtype == torch.float64 and g.dtype == torch.float64
    assert torch.isfinite(e).all() and torch.isfinite(g).all()
    assert not e.requires_grad and not g.requires_grad
    fd = central_fd(land, x, h=1e-6)
    scale = 1e-6 * (1.0 + e.abs().max().item())  # rounding error of the difference quotient
    np.testing.assert_allclose(g.numpy(), fd.numpy(), rtol=1e-5, atol=scale)
    with torch.no_grad():
        assert torch.equal(land.energy(x), e)


@pytest.mark.parametrize("name", NAMES)
def test_preset_float32_agrees_with_float64(name):
    land = make_landscape(name)
    x64 = points_in(land.box, 32, seed=2)
    x32 = x64.float()
    e32, g32 = land.energy_and_grad(x32)
    e64, g64 = land.energy_and_grad(x64)
    assert e32.dtype == torch.float32 and g32.dtype == torch.float32
    assert torch.isfinite(e32).all() and torch.isfinite(g32).all()
    tol = 1e-4 * (1.0 + e64.abs().max().item())
    assert (e32.double() - e64).abs().max().item() < tol
    gtol = 1e-3 * (1.0 + g64.abs().max().item())
    assert (g32.double() - g64).abs().max().item() < gtol


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", NAMES)
def test_preset_on_cuda_matches_cpu(name):
    land = make_landscape(name)
    x = points_in(land.box, 32, seed=3)
    e_cpu, g_cpu = land.energy_and_grad(x)
    e_gpu, g_gpu = land.energy_and_grad(x.cuda())
    assert e_gpu.device.type == "cuda"
    torch.testing.assert_close(e_gpu.cpu(), e_cpu, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(g_gpu.cpu(), g_cpu, rtol=1e-8, atol=1e-8)


# ---- normalisers and boxes -----------------------------------------------------------------------

EXACT = [n for n in NAMES if hasattr(make_landscape(n), "log_z_exact")]
# finer grids where the density has a thin feature: Rosenbrock's ridge (y-width 0.22 over a 17.5-high box)
RESOLUTION = {"rosenbrock": (600, 1200)}


def test_closed_form_normalisers_are_present():
    assert {"gmm", "gmm_mode_weights", "eight_gaussians", "banana", "rosenbrock", "donut", "ring", "funnel",
            "squiggle", "rm_u2", "gaussian", "multimodal"} <= set(EXACT)


@pytest.mark.parametrize("name", EXACT)
def test_log_z_exact_matches_grid_and_box_holds_the_mass(name):
    land = make_landscape(name)
    nx, ny = RESOLUTION.get(name, (700, 700))
    log_z_box = midpoint_log_z(land, land.box, nx, ny)
    exact = land.log_z_exact()
    assert isinstance(exact, float)
    assert abs(log_z_box - exact) < 1e-3
    edge_mass = 1.0 - math.exp(log_z_box - exact)
    assert -1e-6 < edge_mass < 1e-4


@pytest.mark.parametrize("name", [n for n in NAMES if n not in EXACT])
def test_default_box_holds_the_mass(name):
    land = make_landscape(name)
    b = land.box
    big = Box(b.xmin - b.width, b.xmax + b.width, b.ymin - b.height, b.ymax + b.height)
    # the same cell size inside and out: the inner box is exactly the middle third of the big grid
    inner = midpoint_log_z(land, b, 400, 400)
    outer = midpoint_log_z(land, big, 1200, 1200)
    assert 0.0 <= 1.0 - math.exp(inner - outer) < 1e-4


def test_literature_values():
    # docs/algorithms.md §7: donut Z = 5.259992; U1 over [-4, 4]^2 is 6.537 (1601^2 Riemann sum)
    assert math.exp(make_landscape("donut").log_z_exact()) == pytest.approx(5.259992, abs=1e-6)
    assert math.exp(make_landscape("rosenbrock").log_z_exact()) == pytest.approx(math.pi / math.sqrt(10))
    assert math.exp(make_landscape("rosenbrock", a1=100.0, a2=20.0).log_z_exact()) == pytest.approx(2 * math.pi)
    assert math.exp(midpoint_log_z(make_landscape("rm_u1"), Box(-4, 4, -4, 4), 800, 800)) == pytest.approx(6.537, abs=2e-3)


def test_mueller_brown_minima_scaled():
    land = make_landscape("mueller_brown")
    minima = torch.tensor([[-0.558, 1.442], [0.623, 0.028], [-0.050, 0.467]], dtype=torch.float64)
    e, g = land.energy_and_grad(minima)
    np.testing.assert_allclose(e.numpy(), 0.08 * np.array([-146.70, -108.17, -80.77]), atol=0.016)
    assert g.abs().max() < 0.08  # three-decimal positions of the published minima


# ---- Gaussian mixtures ---------------------------------------------------------------------------

def test_gmm_matches_torch_distributions_and_autograd():
    covs = [[[1.0, 0.3], [0.3, 0.5]], [[0.4, -0.1], [-0.1, 2.0]], [[0.2, 0.0], [0.0, 0.2]]]
    w = [0.5, 1.5, 1.0]
    means = [[-1.0, 0.0], [2.0, 1.0], [0.0, -2.0]]
    g = GaussianMixture(w, means, covs=covs)
    x = points_in(g.box, 100, seed=4)
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.tensor(w, dtype=torch.float64)),
        torch.distributions.MultivariateNormal(torch.tensor(means, dtype=torch.float64),
                                               torch.tensor(covs, dtype=torch.float64)),
    )
    e, grad = g.energy_and_grad(x)
    expected = -mix.log_prob(x) - math.log(sum(w))
    torch.testing.assert_close(e, expected, rtol=1e-12, atol=1e-12)
    _, grad_auto = Landscape.energy_and_grad(g, x)  # the autograd path of the base class
    torch.testing.assert_close(grad, grad_auto, rtol=1e-10, atol=1e-12)
    assert g.log_z_exact() == pytest.approx(math.log(3.0))
    np.testing.assert_allclose(g.mode_masses(), np.array(w) / 3.0)


def test_gmm_far_from_modes_is_stable_in_float32():
    g = make_landscape("gmm_mode_weights")
    x = torch.tensor([[60.0, 40.0], [-70.0, -30.0]], dtype=torch.float32)
    e, grad = g.energy_and_grad(x)
    assert torch.isfinite(e).all() and torch.isfinite(grad).all()
    # far out the nearest mode dominates: grad = x - m_nearest (identity covariance)
    torch.testing.assert_close(grad, torch.tensor([[54.0, 40.0], [-60.0, -30.0]]), rtol=1e-5, atol=1e-3)


def test_gmm_mode_weights_preset_is_the_paper_teacher():
    g = make_landscape("gmm_mode_weights")
    np.testing.assert_allclose(g.mode_masses(), [0.25, 0.75])
    np.testing.assert_allclose(g.means, [[-10.0, 0.0], [6.0, 0.0]])
    np.testing.assert_allclose(g.covs, np.broadcast_to(np.eye(2), (2, 2, 2)))
    assert g.box.xmin <= -15 and g.box.xmax >= 11


def test_gmm_user_stds_replace_default_shape():
    g = make_landscape("multimodal", stds=0.5)
    np.testing.assert_allclose(g.covs[:, 0, 0], 0.25)
    assert "covs" not in g.spec() and g.spec()["stds"] == 0.5


def test_eight_gaussians_geometry():
    g = make_landscape("eight_gaussians")
    np.testing.assert_allclose(np.linalg.norm(g.means, axis=1), 2.829)
    np.testing.assert_allclose(np.sqrt(g.covs[:, 0, 0]), 0.3536)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(weights=[1.0, -1.0], means=[[0, 0], [1, 1]]), "weights must be > 0"),
        (dict(weights=[1.0], means=[[0, 0, 0]]), "means must have shape"),
        (dict(weights=[1.0], means=[[0, 0]], stds=1.0, covs=[[[1, 0], [0, 1]]]), "either covs or stds"),
        (dict(weights=[1.0], means=[[0, 0]], covs=[[[1, 2], [2, 1]]]), "positive definite"),
        (dict(weights=[1.0], means=[[0, 0]], covs=[[[1, 0.5], [0.2, 1]]]), "symmetric"),
        (dict(weights=[], means=[]), "at least one"),
        (dict(weights=[1.0], means=[[0, float("nan")]]), "finite"),
    ],
)
def test_gmm_rejects_bad_input(kwargs, match):
    with pytest.raises(UserInputError, match=match):
        GaussianMixture(**kwargs)


def test_gaussian_preset_is_normalised_gaussian():
    land = make_landscape("gaussian", mean=[1.0, -0.5], cov=[[2.0, 0.6], [0.6, 0.5]])
    x = points_in(land.box, 50, seed=5)
    mvn = torch.distributions.MultivariateNormal(torch.tensor([1.0, -0.5], dtype=torch.float64),
                                                 torch.tensor([[2.0, 0.6], [0.6, 0.5]], dtype=torch.float64))
    e, g = land.energy_and_grad(x)
    torch.testing.assert_close(e, -mvn.log_prob(x))
    prec = torch.linalg.inv(mvn.covariance_matrix)
    torch.testing.assert_close(g, (x - mvn.mean) @ prec)
    assert land.log_z_exact() == 0.0


def test_tempered_scales_energy_and_gradient():
    base = make_landscape("double_well")
    t = Tempered(base, 0.5)
    x = points_in(base.box, 10, seed=6)
    e, g = base.energy_and_grad(x)
    et, gt = t.energy_and_grad(x)
    torch.testing.assert_close(et, 0.5 * e)
    torch.testing.assert_close(gt, 0.5 * g)
    assert t.box == base.box and t.name == base.name


# ---- MLP energy ----------------------------------------------------------------------------------

def test_mlp_at_zero_init_is_exactly_the_confining_gaussian():
    m = MLPEnergy(hidden=(16, 16), confinement_std=1.5, center=(0.5, -1.0))
    x = points_in(m.box, 40, seed=7)
    e, g = m.energy_and_grad(x)
    c = torch.tensor([0.5, -1.0], dtype=torch.float64)
    assert torch.equal(e, 0.5 * (((x - c) / 1.5) ** 2).sum(1))
    torch.testing.assert_close(g, (x - c) / 1.5**2, rtol=1e-15, atol=1e-15)
    assert m.log_z_confinement() == pytest.approx(math.log(2 * math.pi * 1.5**2))
    assert midpoint_log_z(m, m.box, 300, 300) == pytest.approx(m.log_z_confinement(), abs=1e-3)


def test_mlp_training_and_sampling_modes():
    m = MLPEnergy(hidden=(8,), zero_last=False, seed=3)
    x = points_in(m.box, 20, seed=8, dtype=torch.float32)
    # sampler use: gradient in x only, no parameter gradient accumulates
    e, g = m.energy_and_grad(x)
    assert all(p.grad is None for p in m.parameters())
    assert not e.requires_grad and not g.requires_grad
    fd = central_fd(m, x.double(), 1e-6)
    np.testing.assert_allclose(m.energy_and_grad(x.double())[1].numpy(), fd.numpy(), rtol=1e-5, atol=1e-7)
    # training use: the energy is differentiable in the parameters
    m.energy(x).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters())
    assert m.layers[-1].weight.grad.abs().sum() > 0
    # float64 inputs with float32 parameters
    assert m.energy(x.double()).dtype == torch.float64


def test_mlp_is_seeded_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a = MLPEnergy(zero_last=False, seed=1)
    assert torch.equal(state, torch.get_rng_state())
    b = MLPEnergy(zero_last=False, seed=1)
    c = MLPEnergy(zero_last=False, seed=2)
    x = points_in(a.box, 5, seed=9, dtype=torch.float32)
    assert torch.equal(a.energy(x), b.energy(x))
    assert not torch.equal(a.energy(x), c.energy(x))


# ---- specs and files -----------------------------------------------------------------------------

def _toml_round_trip(table: dict) -> dict:
    import tomllib

    return tomllib.loads(tomli_w.dumps({"landscape": table}))["landscape"]


def _assert_same(a: Landscape, b: Landscape) -> None:
    assert a.box == b.box and a.name == b.name
    x = points_in(a.box, 30, seed=10, margin=0.1)
    with torch.no_grad():
        torch.testing.assert_close(a.energy(x), b.energy(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_spec_round_trips_through_toml(name):
    land = make_landscape(name)
    spec = land.spec()
    assert spec["kind"] == "preset" and spec["name"] == name
    back = landscape_from_spec(_toml_round_trip(spec))
    _assert_same(land, back)
    assert back.spec() == spec


def test_other_kinds_round_trip():
    gen = np.random.default_rng(0)
    mlp = MLPEnergy(hidden=(4, 3), zero_last=False, seed=5)
    lands = [
        FormulaLandscape("(x**2-1)**2 + 0.5*y**2 + 0.3*sin(3*x)", (-2, 2, -3, 3)),
        GaussianMixture([1.0, 2.0], [[0, 0], [3, 1]], covs=[[[1, 0.2], [0.2, 1]], [[0.5, 0], [0, 0.5]]]),
        GridLandscape(gen.normal(size=(6, 7)), (-1, 1, 0, 2)),
        Tempered(make_landscape("donut", radius=2.0), 0.7),
        mlp,
    ]
    for land in lands:
        back = landscape_from_spec(_toml_round_trip(land.spec()))
        assert type(back) is type(land)
        _assert_same(land, back)
    assert landscape_from_spec(lands[3].spec()).beta == 0.7


def test_spec_from_issue_examples(tmp_path):
    f = tmp_path / "l.toml"
    f.write_text('[landscape]\nkind = "gmm"\nweights = [1, 3]\nmeans = [[-2, 0], [2, 0]]\nstds = [0.5, 1.0]\n')
    g = load_landscape_file(f)
    assert isinstance(g, GaussianMixture) and g.log_z_exact() == pytest.approx(math.log(4))
    f.write_text('[landscape]\nkind = "formula"\nexpr = "x**2 + y**2"\nbox = [-3, 3, -3, 3]\nbeta = 2\n')
    t = load_landscape_file(f)
    assert isinstance(t, Tempered) and t.beta == 2.0
    f.write_text('[landscape]\nkind = "preset"\nname = "double_well"\na = 4.0\n')
    assert load_landscape_file(f).spec()["a"] == 4.0


@pytest.mark.parametrize(
    "text, match",
    [
        ("[landscape\nkind = 1", "not a valid TOML"),
        ('[other]\nkind = "preset"', r"no \[landscape\]"),
        ('[landscape]\nname = "donut"', "'kind'"),
        ('[landscape]\nkind = "blob"', "unknown kind 'blob'"),
        ('[landscape]\nkind = "preset"', "'name'"),
        ('[landscape]\nkind = "preset"\nname = "dnut"', "unknown landscape 'dnut'"),
        ('[landscape]\nkind = "formula"\nexpr = "x"', "needs key 'box'"),
        ('[landscape]\nkind = "formula"\nexpr = "x"\nbox = [0, 1, 0, 1]\ncolour = 1', "unknown key 'colour'"),
        ('[landscape]\nkind = "formula"\nexpr = 3\nbox = [0, 1, 0, 1]', "'expr' must be a string"),
        ('[landscape]\nkind = "formula"\nexpr = "x"\nbox = [0, 1, 0]', "box needs four numbers"),
        ('[landscape]\nkind = "formula"\nexpr = "foo(x)"\nbox = [0, 1, 0, 1]', "unknown function 'foo'"),
        ('[landscape]\nkind = "gmm"\nweights = "heavy"\nmeans = [[0, 0]]', "weights must be numbers"),
        ('[landscape]\nkind = "grid"\nbox = [0, 1, 0, 1]\nvalues = [[1, 2], [3, 4]]', "at least 3x3"),
        ('[landscape]\nkind = "preset"\nname = "donut"\nbeta = -1', "beta must be > 0"),
        ('[landscape]\nkind = "preset"\nname = "donut"\nbeta = "hot"', "beta must be a number"),
    ],
)
def test_load_landscape_file_errors_name_the_problem(tmp_path, text, match):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(UserInputError, match=match) as info:
        load_landscape_file(f)
    assert str(f) in str(info.value)


def test_missing_landscape_file():
    with pytest.raises(UserInputError, match="not found"):
        load_landscape_file("/nonexistent/land.toml")
