"""Trainer: Jarzynski recovers mode weights; CD/PCD show the documented biases; models and data are exact."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.training import (
    GridDiagnostics,
    MixtureEnergy,
    MLPModel,
    TrainSettings,
    Trainer,
    TrainHistory,
    load_points,
    sample_from_reference,
    sample_mixture,
)
from ebm_explorer.core.training.experiment import ModeWeightSettings, run_mode_weight_method
from ebm_explorer.core.training.fused_mixture import FusedMixtureTrainer
from ebm_explorer.core.types import Box

D = torch.float64


def test_mixture_closed_forms_match_autograd_and_grid() -> None:
    gen = make_generator(0)
    model = MixtureEnergy([[-1.0, 0.5], [2.0, -1.0], [0.0, 2.0]], widths=[0.7, 1.2, 0.9], z=[0.3, -0.2, 0.5],
                          box=Box(-8, 8, -8, 8))
    x = torch.randn((50, 2), generator=gen, dtype=D) * 2
    w = torch.rand(50, generator=gen, dtype=D)
    e, g = model.energy_and_grad(x)
    xr = x.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(model.energy(xr).sum(), xr)
    assert torch.allclose(g, gx, atol=1e-12)
    analytic = model.weighted_param_grad(x, w)
    auto = torch.autograd.grad((w * model.energy(x)).sum(), model.trainable())
    e2, g2, param_grad_fn = model.energy_grad_and_param_grad_fn(x)  # the trainer's one-pass route
    assert torch.equal(e2, e) and torch.equal(g2, g)
    for a, b, c in zip(analytic, auto, param_grad_fn(w)):
        assert torch.allclose(a, b, atol=1e-12) and torch.equal(a, c)
    diag = GridDiagnostics(model.box, None, 400)
    e_grid = model.energy(diag.points)
    grid_log_z = float(torch.logsumexp(-e_grid.detach(), 0)) + math.log(diag.cell_area)
    assert abs(grid_log_z - model.log_z_exact()) < 1e-6
    n = 40_000
    s = model.sample(n, gen)
    pi = torch.as_tensor(model.mode_masses())
    a, var = model.means.detach(), torch.exp(2 * model.log_widths.detach())
    mean = (pi[:, None] * a).sum(0)  # closed-form mixture mean and E|x|^2
    second = (pi * ((a**2).sum(1) + 2 * var)).sum()
    sd = s.std(0)
    assert torch.all((s.mean(0) - mean).abs() < 5 * sd / math.sqrt(n))
    sq = (s**2).sum(1)
    assert abs(float(sq.mean() - second)) < 5 * float(sq.std()) / math.sqrt(n)


def test_freeze_first_z_and_mlp_initial_model_is_known_gaussian() -> None:
    model = MixtureEnergy([[-1.0, 0.0], [1.0, 0.0]], freeze_first_z=True)
    g = model.weighted_param_grad(torch.zeros((3, 2), dtype=D), torch.ones(3, dtype=D))
    assert g[-1][0] == 0 and g[-1][1] != 0
    box = Box(-4, 4, -4, 4)
    mlp = MLPModel(box, hidden=(16, 16))
    diag = GridDiagnostics(Box(-14, 14, -14, 14), None, 256)  # sigma = 2: a box of +-7 sigma holds all mass
    e = mlp.energy(diag.points).detach()
    grid_log_z = float(torch.logsumexp(-e, 0)) + math.log(diag.cell_area)
    assert abs(grid_log_z - mlp.initial_log_z()) < 1e-6
    x = mlp.initial_samples(20_000, make_generator(0))
    assert abs(float(x.var(0).mean()) - mlp.sigma**2) < 5 * math.sqrt(2 / 40_000) * mlp.sigma**2


def test_data_sampling_is_exact() -> None:
    target = GaussianMixture([1.0, 3.0], [[-8.0, 0.0], [8.0, 0.0]], box=Box(-14, 14, -5, 5))
    gen = make_generator(1)
    x = sample_mixture(target, 1000, gen, stratified=True)
    assert int((x[:, 0] < 0).sum()) == 250
    diag = GridDiagnostics(target.box, target, 128)
    y = sample_from_reference(diag.reference, 40_000, gen)
    frac = float((y[:, 0] < 0).double().mean())
    assert abs(frac - 0.25) < 5 * math.sqrt(0.25 * 0.75 / 40_000)
    assert abs(float(y[:, 1].var()) - 1.0) < 5 * math.sqrt(2 / 40_000) + 0.01  # + grid jitter variance dy^2/12


def _jarzynski_fit(weights: list[float], means: list[list[float]], seed: int, iterations: int, cls: type = Trainer):
    target = GaussianMixture(weights, means, stds=0.8, box=Box(-7, 7, -7, 7))
    gen = make_generator(seed)
    data = sample_mixture(target, 4000, gen, stratified=True)
    init = torch.tensor(means, dtype=D) + 0.5 * torch.randn((len(weights), 2), generator=gen, dtype=D)
    model = MixtureEnergy(init, widths=1.0, box=target.box)
    cfg = TrainSettings(method="jarzynski", walkers=3000, step_size=0.05, optimizer="sgd", lr=0.1,
                        means_lr_scale=1.0, resample_threshold=0.5, seed=seed)
    trainer = cls(model, data, cfg, GridDiagnostics(target.box, target, 96), generator=gen)
    for _ in range(iterations):
        m = trainer.step()
    return model, m, np.asarray(weights) / sum(weights)


@pytest.mark.parametrize(
    "weights, means",
    [([0.3, 0.7], [[-3.0, 0.0], [3.0, 0.0]]), ([0.2, 0.3, 0.5], [[-3.0, -2.0], [3.0, -2.0], [0.0, 3.0]])],
)
@pytest.mark.parametrize("cls", [Trainer, FusedMixtureTrainer], ids=["eager", "fused"])
def test_jarzynski_recovers_mode_weights(weights: list[float], means: list[list[float]], cls: type) -> None:
    """Both paths (the general step and the fused mixture step). Tolerance 0.035: 3 standard errors of a weighted fraction, sqrt(p (1 - p) / ESS) with ESS ~ 0.6 N.
    The log Z estimate drifts slowly below the exact value without resampling (a finite-N effect:
    measured -0.07 at N = 3000 and -0.01 at N = 12000 after 400 Adam iterations), hence 0.1."""
    model, m, true = _jarzynski_fit(weights, means, seed=0, iterations=400, cls=cls)
    tol = 3 * math.sqrt(0.25 / (0.6 * 3000))
    assert np.all(np.abs(model.mode_masses() - true) < tol), (model.mode_masses(), true)
    assert np.all(np.abs(m.mode_weights - m.mode_weights_true) < tol), (m.mode_weights, m.mode_weights_true)
    assert abs(m.log_z_est - m.log_z_exact) < 0.1, (m.log_z_est, m.log_z_exact)
    assert abs(m.cross_entropy_est - m.cross_entropy) < 0.1 + 0.05  # + mean U(data) vs E_target U
    assert m.kl < 0.02 and m.nonfinite_walkers == 0


@pytest.mark.slow
@pytest.mark.parametrize("fused", [False, True], ids=["eager", "fused"])
@pytest.mark.parametrize("method", ["cd", "pcd", "jarzynski"])
def test_cd_and_pcd_biases_on_separated_modes_jarzynski_converges(method: str, fused: bool) -> None:
    """Both paths (general and fused step). docs/algorithms.md §5 (the mode-weight experiment) in 2-D, shortened: 2000 walkers, 2000 iterations of
    the paper's settings, one method per test (each about a third of the time: within the time limit on
    a loaded 2-core machine). Reference (numpy port, d = 50) at iteration 2000: Jarzynski 0.252, PCD
    0.064, CD 0.471."""
    settings = ModeWeightSettings(iterations=2000, walkers=2000, data_size=4000, grid_resolution=48)
    run = run_mode_weight_method(method, 0, settings, fused=fused)
    mass = run.first_mass
    assert np.isfinite(run.history["history_kl"][-1])  # exact diagnostics at the last iteration
    if method == "jarzynski":
        assert abs(mass[-1] - 0.25) < 0.03
    elif method == "pcd":
        assert mass[-1] < 0.15  # drifting towards collapse
        assert mass[-1] < mass[1000] < mass[200]  # monotone drift, no convergence
    else:
        assert mass[-1] > 0.4  # stuck near the initial 1/2


def test_history_arrays_and_callbacks() -> None:
    target = GaussianMixture([1.0, 1.0], [[-2.0, 0.0], [2.0, 0.0]], box=Box(-6, 6, -4, 4))
    gen = make_generator(2)
    data = sample_mixture(target, 500, gen)
    for method in ("cd", "pcd", "jarzynski"):
        model = MixtureEnergy([[-1.0, 0.0], [1.0, 0.0]], box=target.box)
        cfg = TrainSettings(method=method, kernel="mala" if method == "pcd" else "ula", walkers=200, lr=0.01,
                            means_lr_scale=1.0, cd_steps=2)
        tr = Trainer(model, data, cfg, GridDiagnostics(target.box, target, 32), generator=gen, diagnostics_every=2)
        hist = TrainHistory()
        tr.add_callback("on_step_end", hist)
        for _ in range(5):
            tr.step()
        arr = hist.arrays()
        assert arr["history_kl"].shape == (5,) and arr["history_mode_weights"].shape == (5, 2)
        assert np.isnan(arr["history_kl"][0]) and np.isfinite(arr["history_kl"][1])  # every 2nd iteration
        assert np.isnan(arr["history_log_z_est"]).all() == (method != "jarzynski")
        assert arr["history_param_means"].shape == (5, 2, 2)
    with pytest.raises(UserInputError):
        tr.add_callback("on_batch_end", hist)
    with pytest.raises(UserInputError):
        TrainSettings(method="foo").validated()


def test_cached_parameter_gradient_equals_a_fresh_one() -> None:
    """The trainer reuses the forward pass that evaluated the walkers for the next iteration's parameter
    gradient: that must be the gradient of the same walkers under the same parameters, bitwise."""
    target = GaussianMixture([1.0, 3.0], [[-2.0, 0.0], [2.0, 0.0]], box=Box(-6, 6, -4, 4))
    gen = make_generator(4)
    data = sample_mixture(target, 500, gen)
    seen = []
    for mlp in (False, True):
        model = MLPModel(box=target.box) if mlp else MixtureEnergy([[-1.0, 0.0], [1.0, 0.0]], box=target.box)
        tr = Trainer(model, data, TrainSettings(method="jarzynski", walkers=300, lr=0.01, means_lr_scale=1.0), generator=gen)
        for _ in range(4):
            tr.step()
            state, version, fn = tr._param_grad_at
            assert state is tr.state and version == tr._version
            w = torch.softmax(tr.log_weights, 0).to(tr.dtype)
            for a, b in zip(fn(w), model.weighted_param_grad(tr.state.position, w)):
                assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
        seen.append(tr.iteration)
    assert seen == [4, 4]


def test_nonfinite_walkers_are_dropped_and_reported() -> None:
    target = GaussianMixture([1.0], [[0.0, 0.0]], box=Box(-4, 4, -4, 4))
    gen = make_generator(3)
    data = sample_mixture(target, 200, gen)
    model = MixtureEnergy([[0.0, 0.0]], box=target.box)
    tr = Trainer(model, data, TrainSettings(method="jarzynski", walkers=100, lr=0.01, means_lr_scale=1.0), generator=gen)
    pos = tr.state.position.clone()
    pos[:7] = float("nan")
    tr.state = tr._evaluate(pos)
    m = tr.step()
    assert m.nonfinite_walkers == 7 and all(torch.isfinite(p).all() for p in model.trainable())
    assert math.isfinite(m.log_z_est)


def test_divergence_raises_numerical_error() -> None:
    target = GaussianMixture([1.0], [[0.0, 0.0]], box=Box(-4, 4, -4, 4))
    gen = make_generator(4)
    data = sample_mixture(target, 200, gen)
    model = MixtureEnergy([[0.0, 0.0]], box=target.box)
    # a learning rate beyond the settings' range (1e6) only through a per-group override
    tr = Trainer(model, data, TrainSettings(method="pcd", walkers=50), generator=gen, group_lr=(("means", 1e308),))
    with pytest.raises(NumericalError):
        for _ in range(5):
            tr.step()


def test_load_points_formats_and_errors(tmp_path) -> None:
    pts = np.random.default_rng(0).normal(size=(20, 2))
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("x,y\n" + "\n".join(f"{a},{b}" for a, b in pts))
    assert np.allclose(load_points(csv_path), pts)
    np.savez(tmp_path / "d.npz", points=pts)
    assert np.allclose(load_points(tmp_path / "d.npz"), pts)
    np.savez(tmp_path / "one.npz", whatever=pts)
    assert np.allclose(load_points(tmp_path / "one.npz"), pts)
    bad = {"missing.csv": None, "short.csv": "1,2\n3,4\n", "nan.csv": "1,2\n" * 12 + "nan,1\n",
           "cols.csv": "1,2,3\n" * 12, "text.csv": "1,2\n" + "a,b\n" * 12, "d.txt": "1,2\n"}
    for name, text in bad.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        with pytest.raises(UserInputError):
            load_points(tmp_path / name)
    np.savez(tmp_path / "shape.npz", data=np.zeros((20, 3)))
    with pytest.raises(UserInputError, match="shape"):
        load_points(tmp_path / "shape.npz")


def test_state_dict_continues_a_run_bit_for_bit() -> None:
    """A fresh trainer that loads another's ``state_dict()`` (and its generator state) takes the same next
    iterations: walkers, weights, parameters and optimiser state all travel (Adam's moments included)."""
    from dataclasses import replace

    from ebm_explorer.core.run_settings import TrainSettings as Settings
    from ebm_explorer.core.training.recipe import build_trainer

    target = GaussianMixture([1.0, 3.0], [[-2.0, 0.0], [2.0, 0.0]], box=Box(-6, 6, -4, 4))
    s = Settings(method="jarzynski", optimizer="adam", lr=0.02, walkers=80, data_size=300, seed=6,
                 resample_threshold=0.9)
    a = build_trainer(s, target, resolution=24)
    for _ in range(6):
        a.step()
    b = build_trainer(s, target, resolution=24)
    b.load_state_dict(a.state_dict())
    b.generator.set_state(a.generator.get_state())
    assert b.iteration == 6 and b.resample_count == a.resample_count
    for _ in range(4):
        ma, mb = a.step(), b.step()
    assert torch.equal(a.walkers, b.walkers) and torch.equal(a.log_weights, b.log_weights)
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    assert ma.log_z_est == mb.log_z_est and ma.iteration == mb.iteration == 10
    with pytest.raises(UserInputError, match="walkers"):
        build_trainer(replace(s, walkers=81), target, resolution=24).load_state_dict(a.state_dict())
