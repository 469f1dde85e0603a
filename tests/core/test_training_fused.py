"""The fused mixture trainer runs the general trainer's algorithm: the same iterates given the same noise,
the same statistics otherwise, the same history layout, and a hand-over when walkers go non-finite."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ebm_explorer.core.training.trainer as trainer_module
from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.training import GridDiagnostics, MixtureEnergy, Trainer, sample_mixture
from ebm_explorer.core.training.fused_mixture import FusedMixtureTrainer, fused_support
from ebm_explorer.core.training.recipe import build_trainer
from ebm_explorer.core.types import Box

D = torch.float64
BOX = Box(-6, 6, -4, 4)


def _setup(method: str, seed: int = 0, learn_widths: bool = True, cross_fit: bool = False, walkers: int = 300,
           cls: type = Trainer, **kw):
    target = GaussianMixture([0.3, 0.7], [[-2.0, 0.0], [2.0, 0.5]], box=BOX)
    data = sample_mixture(target, 400, make_generator(100 + seed))
    model = MixtureEnergy([[-1.0, 0.2], [1.0, -0.1]], widths=[0.8, 1.1], z=[0.1, -0.2], learn_widths=learn_widths,
                          freeze_first_z=not learn_widths, box=BOX)
    cfg = TrainSettings(method=method, walkers=walkers, step_size=0.05, lr=0.05, means_lr_scale=0.5, cd_reset=3,
                        cd_steps=kw.pop("cd_steps", 1), resample_threshold=0.98, cross_fit=cross_fit, seed=seed)
    return cls(model, data, cfg, GridDiagnostics(BOX, target, 32), generator=make_generator(seed), **kw)


class _SharedNoise:
    """Feeds both trainers the same float32 standard normals (the fused one draws float32 noise)."""

    def __init__(self, seed: int) -> None:
        self.gen = torch.Generator().manual_seed(seed)
        self.queue: list[torch.Tensor] = []

    def draw(self, n: int) -> torch.Tensor:
        xi = torch.randn((n, 2), generator=self.gen, dtype=torch.float32)
        self.queue.append(xi)
        return xi


@pytest.mark.parametrize("method, learn_widths, cross_fit, cd_steps", [
    ("jarzynski", True, False, 1), ("jarzynski", False, True, 1), ("pcd", True, False, 1), ("cd", False, False, 2)])
def test_same_noise_gives_the_general_trainers_iterates(monkeypatch, method: str, learn_widths: bool,
                                                        cross_fit: bool, cd_steps: int) -> None:
    """Both trainers get the same normals; parameters, walkers, weights and estimates then agree to
    round-off over 40 iterations, resamplings included (the threshold ESS/N < 0.98 resamples often)."""
    recorded: list[torch.Tensor] = []
    replay: list[torch.Tensor] = []

    def eager_move(generator, position, grad, step_size):
        xi = replay.pop(0).to(position.dtype)
        return position - step_size * grad + math.sqrt(2.0 * step_size) * xi

    fused = _setup(method, learn_widths=learn_widths, cross_fit=cross_fit, cls=FusedMixtureTrainer, cd_steps=cd_steps)
    noise_gen = torch.Generator().manual_seed(5)

    def fused_noise(self):
        out = self._noise
        for p in self._pops:
            xi = torch.randn((p.n, 2), generator=noise_gen, dtype=torch.float32)
            recorded.append(xi)
            out[:, p.lo:p.hi] = xi.T
        return out

    monkeypatch.setattr(FusedMixtureTrainer, "_draw_noise", fused_noise)
    monkeypatch.setattr(trainer_module, "langevin_move", eager_move)
    import ebm_explorer.core.training.cross_fit as cross_fit_module

    monkeypatch.setattr(cross_fit_module, "langevin_move", eager_move)
    eager = _setup(method, learn_widths=learn_widths, cross_fit=cross_fit, cd_steps=cd_steps)
    for _ in range(40):
        mf = fused.step()
        # the eager trainer moves its training walkers first, then the held-out ones: the recorded order
        replay.extend(recorded)
        recorded.clear()
        me = eager.step()
    for pf, pe in zip(fused.model.parameters(), eager.model.parameters()):
        assert torch.allclose(pf, pe, atol=1e-9, rtol=0), (pf, pe)
    assert torch.allclose(fused.walkers, eager.walkers, atol=1e-9, rtol=0)
    assert torch.allclose(fused.state.energy, eager.state.energy, atol=1e-9, rtol=0)
    if method == "jarzynski":
        assert torch.allclose(fused.log_weights, eager.log_weights, atol=1e-8, rtol=0)
        assert me.resample_count == mf.resample_count >= 2
        assert mf.log_z_est == pytest.approx(me.log_z_est, abs=1e-8)
        if cross_fit:
            assert mf.log_z_est_xfit == pytest.approx(me.log_z_est_xfit, abs=1e-8)
            assert mf.ess_fraction_xfit == pytest.approx(me.ess_fraction_xfit, abs=1e-9)
    assert mf.kl == pytest.approx(me.kl, abs=1e-9) and mf.ess_fraction == pytest.approx(me.ess_fraction, abs=1e-9)
    assert np.allclose(mf.mode_weights, me.mode_weights, atol=1e-9)


@pytest.mark.parametrize("method", ["cd", "pcd", "jarzynski"])
def test_run_histories_have_the_general_layout_with_exact_values_on_schedule(method: str) -> None:
    fused = _setup(method, cls=FusedMixtureTrainer, diagnostics_every=4, cross_fit=method == "jarzynski")
    eager = _setup(method, diagnostics_every=4, cross_fit=method == "jarzynski")
    fa, _ = fused.run(10)
    ea, _ = eager.run(10)
    assert sorted(fa) == sorted(ea)
    for k in ea:
        assert fa[k].shape == ea[k].shape, k
    kl = fa["history_kl"]
    assert np.isfinite(kl[[3, 7, 9]]).all() and np.isnan(kl[[0, 1, 2, 4, 8]]).all()  # every 4th and the last
    assert np.isfinite(fa["history_log_z_exact"]).all()
    masses = fa["history_param_masses"]
    assert np.allclose(masses.sum(1), 1.0) and np.isfinite(fa["history_param_means"]).all()
    # the closed-form masses and log Z of the last row are the model's
    assert np.allclose(masses[-1], fused.model.mode_masses())
    assert fa["history_log_z_exact"][-1] == pytest.approx(fused.model.log_z_exact())
    if method == "jarzynski":
        assert np.isfinite(fa["history_log_z_est"]).all() and np.isfinite(fa["history_log_z_est_xfit"]).all()
        assert np.isfinite(fa["history_log_z_se"][[3, 7, 9]]).all()
    else:
        assert np.isnan(fa["history_log_z_est"]).all()


def test_build_trainer_picks_the_fused_step_where_supported() -> None:
    target = GaussianMixture([0.5, 0.5], [[-2.0, 0.0], [2.0, 0.0]], box=BOX)
    s = TrainSettings(method="jarzynski", walkers=64, data_size=100, iterations=5)
    assert isinstance(build_trainer(s, target, resolution=16), FusedMixtureTrainer)
    assert not isinstance(build_trainer(s, target, resolution=16, fused=False), FusedMixtureTrainer)
    for other in (TrainSettings(method="jarzynski", kernel="mala"), TrainSettings(optimizer="adam"),
                  TrainSettings(method="dsm"), TrainSettings(model="mlp", hidden=(8,))):
        tr = build_trainer(other.__class__(**{**other.__dict__, "walkers": 32, "data_size": 50}), target, resolution=16)
        assert not isinstance(tr, FusedMixtureTrainer)
        assert fused_support(tr.model, other) is not None


def test_nonfinite_walkers_hand_over_to_the_general_step(monkeypatch) -> None:
    tr = _setup("jarzynski", cls=FusedMixtureTrainer)
    tr.step()
    draw = FusedMixtureTrainer._draw_noise

    def blow_up(self):  # five training walkers' moves go NaN
        noise = draw(self)
        noise[:, :5] = math.nan
        return noise

    monkeypatch.setattr(FusedMixtureTrainer, "_draw_noise", blow_up)
    m = tr.step()
    monkeypatch.setattr(FusedMixtureTrainer, "_draw_noise", draw)
    assert not tr._fused and m.nonfinite_walkers == 5
    for _ in range(3):
        m = tr.step()
    assert math.isfinite(m.log_z_est)  # (a resampling may since have replaced the dropped walkers)
    assert all(torch.isfinite(p).all() for p in tr.model.parameters())


def test_state_dict_round_trip_continues_identically() -> None:
    a = _setup("jarzynski", cls=FusedMixtureTrainer)
    for _ in range(5):
        a.step()
    b = _setup("jarzynski", cls=FusedMixtureTrainer)
    b.load_state_dict(a.state_dict())
    b.generator.set_state(a.generator.get_state())
    for _ in range(5):
        ma, mb = a.step(), b.step()
    assert torch.equal(a.walkers, b.walkers) and ma.log_z_est == mb.log_z_est
    assert ma.iteration == mb.iteration == 10
