"""The generation worker in its thread: frames arrive for every time, its numbers are the exact ones
(closed-form rho_t, mode masses), and 10 reverse-SDE steps give wrong masses that its Jarzynski weights
correct, within a few standard errors (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_explorer.core.diffusion.paths import make_schedule, noised_density
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.run_settings import GenerateSettings
from ebm_explorer.core.types import Box
from ebm_explorer.workers.commands import SetSettings
from ebm_explorer.workers.generate_messages import GenerateSnapshot
from ebm_explorer.workers.generate_worker import IMAGE_RESOLUTION, GenerateWorker
from ebm_explorer.workers.messages import RunState, WorkerError

pytestmark = pytest.mark.usefixtures("one_thread")
#: masses 1/4 and 3/4, 8 standard deviations apart (docs/score_and_diffusion.md section 5)
TWO = GaussianMixture([0.25, 0.75], [[-4.0, 0.0], [4.0, 0.0]], stds=1.0, box=Box(-9, 9, -5, 5))


def _run(qtbot, settings: GenerateSettings, timeout: int = 60_000) -> tuple[list[GenerateSnapshot], GenerateWorker]:
    """Run to the end; every snapshot received (frames in order)."""
    w = GenerateWorker(0, settings, TWO, 0)
    got: list[GenerateSnapshot] = []
    errors: list[WorkerError] = []
    states: list[RunState] = []
    w.message.connect(got.append)
    w.failed.connect(errors.append)
    w.state_changed.connect(states.append)
    w.start()
    try:
        w.resume()
        qtbot.waitUntil(lambda: errors or any(s.state == "finished" for s in states), timeout=timeout)
        qtbot.waitUntil(lambda: got and got[-1].phase == "finished", timeout=5000)
    finally:
        assert w.stop()
    assert not errors, errors[0].message
    return got, w


def _frames(got: list[GenerateSnapshot]):
    return [f for s in got for f in s.frames]


def test_frames_cover_the_path_with_the_exact_density(qtbot) -> None:
    got, _ = _run(qtbot, GenerateSettings(path="interpolant", solver="sde", steps=10, walkers=2000, seed=1))
    frames = _frames(got)
    assert [f.step for f in frames] == list(range(11))
    assert np.allclose([f.t for f in frames], np.linspace(1.0, 0.0, 11))
    dens = noised_density(TWO, make_schedule("interpolant"))
    b = TWO.box
    for f in (frames[0], frames[5], frames[-1]):
        assert f.density.shape == (IMAGE_RESOLUTION, IMAGE_RESOLUTION)
        # the image is the closed-form rho_t (a few cells checked), and integrates to about 1 over the box
        cx = b.xmin + (np.array([10, 60, 90]) + 0.5) * b.width / IMAGE_RESOLUTION
        cy = b.ymin + (np.array([50, 60, 70]) + 0.5) * b.height / IMAGE_RESOLUTION
        lp = dens.evaluate(f.t, torch.as_tensor(np.stack([cx, cy], 1)))[0].numpy()
        np.testing.assert_allclose(f.density[[50, 60, 70], [10, 60, 90]], np.exp(lp), rtol=1e-5)
        s = dens.evaluate(f.t, torch.as_tensor(f.arrow_at, dtype=torch.float64))[1].numpy()
        np.testing.assert_allclose(f.score, s, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(f.mode_weights_exact, dens.mode_weights(f.t), atol=1e-9)
        assert f.points.shape == (2000, 2) and np.all(f.weights == 1) and math.isnan(f.kl_weighted)
    # at t = 0 the exact masses are the target's; at t = 1 the modes have merged into N(0, I)
    np.testing.assert_allclose(frames[-1].mode_weights_exact, [0.25, 0.75], atol=2e-3)
    assert got[-1].step == 10 and got[-1].mode_weights_se is not None


def test_ten_steps_are_off_and_jarzynski_weights_correct_them(qtbot) -> None:
    """Interpolant, 10 Euler-Maruyama steps, 10 000 walkers: the equal-weight small-mode mass is more than 4
    binomial standard errors below 1/4 (core measurement: 0.220); the weighted one of the same walkers is
    within 4 of its standard errors (from the weights); the uncorrected numbers are sent beside it."""
    n = 10_000
    got, _ = _run(qtbot, GenerateSettings(path="interpolant", solver="sde", steps=10, walkers=n, seed=1,
                                          jarzynski=True, resample_threshold=0.0))
    last = _frames(got)[-1]
    exact = last.mode_weights_exact
    se_plain = math.sqrt(exact[0] * (1 - exact[0]) / n)
    assert (exact[0] - last.mode_weights[0]) / se_plain > 4, last.mode_weights
    se = got[-1].mode_weights_se
    assert np.all(np.abs(last.mode_weights_weighted - exact) < 4 * se), (last.mode_weights_weighted, se)
    assert 0.05 < last.ess < 1.0 and np.ptp(last.weights) > 0
    # the plain histogram's KL is far above its noise floor (sd about sqrt(2 floor / N)); the weighted one
    # sits at its own, higher floor (fewer effective samples: ESS instead of N)
    assert last.kl - last.kl_floor > 5 * math.sqrt(2 * last.kl_floor / n)
    ess_n = last.ess * n
    assert last.kl_weighted - last.kl_floor_weighted < 5 * math.sqrt(2 * last.kl_floor_weighted / ess_n)


def test_many_steps_reach_the_exact_masses(qtbot) -> None:
    """VP, 240 steps: the equal-weight masses within 4 binomial standard errors of the exact ones; one
    frame every second step (at most 120 frames and the last)."""
    n = 4000
    got, _ = _run(qtbot, GenerateSettings(path="vp", solver="sde", steps=240, walkers=n, seed=2))
    frames = _frames(got)
    assert [f.step for f in frames] == list(range(0, 241, 2))
    last = frames[-1]
    se = np.sqrt(last.mode_weights_exact * (1 - last.mode_weights_exact) / n)
    assert np.all(np.abs(last.mode_weights - last.mode_weights_exact) < 4 * se), last.mode_weights
    assert last.kl - last.kl_floor < 5 * math.sqrt(2 * last.kl_floor / n) + 0.01


def test_learned_score_reports_training_then_generates(qtbot) -> None:
    got, _ = _run(qtbot, GenerateSettings(path="vp", solver="ode", steps=20, walkers=1000, score="learned",
                                          train_iterations=60, seed=0), timeout=120_000)
    final = got[-1].score_training
    assert final is not None and final.iteration == final.iterations == 60 and math.isfinite(final.loss)
    assert got[0].phase == "training" and not got[0].frames  # no walkers before the score is trained
    assert [f.step for f in _frames(got)] == list(range(21))


def test_bad_settings_become_a_message(qtbot) -> None:
    w = GenerateWorker(0, GenerateSettings(solver="ode", jarzynski=True), TWO, 0)
    errors: list[WorkerError] = []
    w.failed.connect(errors.append)
    w.start()
    try:
        qtbot.waitUntil(lambda: bool(errors), timeout=20000)
        assert "stochastic solver" in errors[0].message
        got: list[GenerateSnapshot] = []
        w.message.connect(got.append)
        w.send(SetSettings(GenerateSettings(solver="ode", steps=5, walkers=300)))
        w.reset()
        qtbot.waitUntil(lambda: any(f.step == 0 for s in got for f in s.frames), timeout=20000)
    finally:
        assert w.stop()
