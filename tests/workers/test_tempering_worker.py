"""The tempered-run worker in its thread: its messages are the core's runs, step for step, and its
estimates agree with the exact reference within a few standard errors (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.landscapes import GaussianMixture
from ebm_explorer.core.run_settings import TemperedSettings
from ebm_explorer.core.tempering import StartDistribution, run_parallel_tempering, run_smc
from ebm_explorer.core.tempering.grids import basin_masses, path_grid_density, tempered_grid_density
from ebm_explorer.workers.commands import SetReference, SetSpeed
from ebm_explorer.workers.jobs import reference_job
from ebm_explorer.workers.tempering_messages import TemperedSnapshot
from ebm_explorer.workers.tempering_worker import MIN_ALPHA, TemperingWorker

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def wells():
    """Three wells of masses 0.2 / 0.3 / 0.5, barriers of about 10: plain MALA stays where it starts."""
    land = GaussianMixture([0.2, 0.3, 0.5], [[-4.5, -2.6], [4.5, -2.6], [0.0, 5.2]], stds=1.0)
    return land, reference_job(land, 0, resolution=192)


def _start(worker, ref):
    got: list[TemperedSnapshot] = []
    errors: list = []
    states: list[str] = []
    worker.message.connect(got.append)
    worker.failed.connect(errors.append)
    worker.state_changed.connect(lambda s: states.append(s.state))
    worker.start()
    worker.send(SetReference(ref))
    return got, errors, states


def test_pt_worker_is_the_core_run_and_reaches_the_exact_masses(qtbot, wells):
    land, ref = wells
    cfg = TemperedSettings(algorithm="pt", kernel="mala", step_size=0.3, walkers=800, replicas=5, beta_min=0.1, seed=11)
    w = TemperingWorker(0, cfg, land, 0)
    got, errors, _ = _start(w, ref)
    steps = 400
    try:
        w.single_step(steps)
        qtbot.waitUntil(lambda: bool(got) and got[-1].step == steps and got[-1].pt.mode_weights.size > 0, timeout=60000)
        snap = got[-1]
        assert not errors and snap.algorithm == "pt" and snap.pt.replica == 0
        # the same generator sequence through the core's own loop gives the same walkers and counters
        gen = make_generator(11, torch.device("cpu"))
        x0 = StartDistribution("uniform", land.box).sample(5 * 800, gen, "cpu", torch.float32).view(5, 800, 2)
        res = run_parallel_tempering(land, land.box, x0, cfg.pt_config(), steps, gen)
        np.testing.assert_allclose(snap.walkers.points, res.positions[0], atol=1e-5)
        np.testing.assert_allclose(snap.pt.swap_acceptance, res.swap_acceptance, rtol=1e-9)
        assert snap.pt.round_trips == res.round_trips > 0
        np.testing.assert_allclose(snap.pt.betas, cfg.betas())
        assert np.all((snap.pt.swap_acceptance > 0.3) & (snap.pt.swap_acceptance < 1))
        # beta = 1 mode masses against the exact ones, within 5 binomial standard errors
        truth = ref.reference.mode_weights
        z = np.abs(snap.pt.mode_weights - truth) / snap.pt.mode_weights_se
        assert np.all(z < 5), (snap.pt.mode_weights, truth)
        np.testing.assert_allclose(snap.background, tempered_grid_density(ref.reference, 1.0), rtol=1e-5)
        assert snap.metrics is not None and np.allclose(snap.metrics.mode_weights, snap.pt.mode_weights)
        buf = w.recent.copy()  # File > Export: the beta = 1 replica's recent steps
        assert buf.steps[-1] == steps and np.allclose(buf.positions[-1], res.positions[0][: buf.n_walkers], atol=1e-5)

        # the hottest replica: its walkers over its own tempered density, its own exact masses
        w.select_replica(4)
        qtbot.waitUntil(lambda: got[-1].pt.replica == 4, timeout=20000)
        hot = got[-1]
        np.testing.assert_allclose(hot.walkers.points, res.positions[4], atol=1e-5)
        exact_hot = basin_masses(ref.reference, tempered_grid_density(ref.reference, cfg.betas()[4]))
        np.testing.assert_allclose(hot.pt.replica_mode_weights_exact, exact_hot)
        np.testing.assert_allclose(hot.background, tempered_grid_density(ref.reference, cfg.betas()[4]), rtol=1e-5)
        se = np.sqrt(exact_hot * (1 - exact_hot) / 800)
        assert np.all(np.abs(hot.pt.replica_mode_weights - exact_hot) < 5 * se)
        assert "beta = 0.1" in hot.background_label
    finally:
        assert w.stop()


def test_smc_worker_is_the_core_run_and_its_log_z_is_exact_within_its_error(qtbot, wells):
    land, ref = wells
    cfg = TemperedSettings(algorithm="smc", kernel="mala", step_size=0.3, walkers=2000, start="gaussian",
                           target_ess=0.9, moves=5, seed=5, levels_per_s=0.0)
    w = TemperingWorker(1, cfg, land, 0)
    got, errors, states = _start(w, ref)
    try:
        w.resume()
        qtbot.waitUntil(lambda: "finished" in states and bool(got) and got[-1].smc.finished, timeout=60000)
        snap = got[-1]
        view = snap.smc
        assert not errors and snap.algorithm == "smc" and view.t == 1.0 and snap.step == view.level
        res = run_smc(land, land.box, 2000, cfg.smc_config(), make_generator(5, torch.device("cpu")))
        np.testing.assert_allclose(view.ts, res.betas[1:])
        np.testing.assert_allclose(view.log_z, res.log_z_history)
        np.testing.assert_allclose(view.ess, res.ess_history)
        assert abs(view.log_z_se[-1] - res.log_z_stderr) < 1e-12
        exact = ref.reference.log_z
        assert abs(view.log_z_exact_t[-1] - exact) < 1e-9 and view.log_z_exact == pytest.approx(exact)
        assert abs(view.log_z[-1] - exact) < 3 * view.log_z_se[-1]
        # every level's estimate against the exact log Z_t of that level (the estimate "closes on" the truth)
        assert np.all(np.abs(view.log_z - view.log_z_exact_t) < 4 * np.maximum(view.log_z_se, 1e-3))
        truth = ref.reference.mode_weights
        assert np.all(np.abs(view.mode_weights - truth) < 5 * view.mode_weights_se)
        assert snap.point_alpha is not None and snap.point_alpha.min() >= MIN_ALPHA and snap.point_alpha.max() == 1.0
        np.testing.assert_allclose(snap.background, path_grid_density(ref.reference, StartDistribution("gaussian", land.box), 1.0),
                                   rtol=1e-5)
        b = land.box
        assert abs(snap.walkers.hist.sum() * b.width * b.height / 128**2 - 1.0) < 1e-3  # weighted, integrates to 1
        m = [s.metrics for s in got if s.metrics is not None][-1]
        assert m.log_z_est == view.log_z[-1] and m.log_z_se == view.log_z_se[-1] and m.ess_fraction == view.ess[-1]
        buf = w.recent.copy()  # File > Export: every level with the walkers' log weights
        assert list(buf.steps) == list(range(view.level + 1))
        np.testing.assert_allclose(buf.positions[-1], res.positions[: buf.n_walkers], atol=1e-6)
        np.testing.assert_allclose(buf.log_weight[-1], res.log_weights[: buf.n_walkers])
        levels_before = view.level
        w.single_step()  # t = 1 reached: a further step changes nothing
        qtbot.wait(300)
        assert got[-1].smc.level == levels_before
    finally:
        assert w.stop()


def test_smc_levels_are_paced_and_the_speed_slider_caps_them(wells):
    land, _ = wells
    w = TemperingWorker(2, TemperedSettings(algorithm="smc", levels_per_s=4.0, walkers=64, islands=4), land, 0)
    assert w.max_steps_per_s == 4.0
    w.apply(SetSpeed(2.0))
    assert w.max_steps_per_s == 2.0
    w.apply(SetSpeed(0.0))
    assert w.max_steps_per_s == 4.0
    pt = TemperingWorker(3, TemperedSettings(algorithm="pt"), land, 0)
    assert pt.max_steps_per_s == 0.0
