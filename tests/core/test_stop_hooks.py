"""The loops' ``should_stop`` hooks (Ctrl-C on the command line, issue 13): a run stopped after k steps is
exactly the first k steps of the full run (same seed, same numbers), and the result says how far it got."""

from __future__ import annotations

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.diffusion.generate import GenerateConfig, generate
from ebm_explorer.core.diffusion.learned import train_score_network
from ebm_explorer.core.diffusion.paths import make_schedule, noised_density
from ebm_explorer.core.landscapes import GaussianMixture
from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.samplers import SamplerParams, initial_positions
from ebm_explorer.core.tempering import PTConfig, SMCConfig, geometric_ladder, run_parallel_tempering, run_smc
from ebm_explorer.core.training.recipe import build_trainer
from ebm_explorer.core.types import Box

TWO = GaussianMixture([0.25, 0.75], [[-3.0, 0.0], [3.0, 0.0]], stds=1.0, box=Box(-7, 7, -5, 5))


def after(k: int):
    """A ``should_stop`` that lets ``k`` steps through, then says stop."""
    calls = iter(range(10**9))
    return lambda: next(calls) >= k


def test_trainer_run_stopped_is_the_start_of_the_full_run():
    settings = TrainSettings(model="gmm", components=2, method="jarzynski", walkers=64, data_size=200, seed=3)

    def trainer():
        return build_trainer(settings, TWO, resolution=32)

    full, _ = trainer().run(6)
    cut, _ = trainer().run(1000, should_stop=after(6))
    assert full.keys() == cut.keys() and cut["history_kl"].shape == (6,)
    for name in full:
        np.testing.assert_array_equal(cut[name], full[name], err_msg=name)


def test_parallel_tempering_stopped_keeps_the_steps_taken():
    cfg = PTConfig(tuple(geometric_ladder(3, 0.3)), kernel="mala", params=SamplerParams(step_size=0.2))

    def once(steps, stop=None):
        gen = make_generator(4)
        x0 = initial_positions("uniform", 16, TWO.box, gen, "cpu", torch.float32)
        return run_parallel_tempering(TWO, TWO.box, x0, cfg, steps, gen, record_every=4, should_stop=stop)

    full, cut = once(10), once(10_000, after(10))
    assert cut.steps_done == 10 and full.steps_done == 10
    np.testing.assert_array_equal(cut.positions, full.positions)
    np.testing.assert_array_equal(cut.acceptance, full.acceptance)
    np.testing.assert_array_equal(cut.trajectory_steps, [0, 4, 8])
    np.testing.assert_array_equal(cut.trajectory, full.trajectory)


def test_smc_stopped_returns_the_level_reached():
    cfg = SMCConfig(kernel="mala", params=SamplerParams(step_size=0.2), moves=2, levels=50, islands=2)
    res = run_smc(TWO, TWO.box, 64, cfg, make_generator(0), should_stop=after(7))
    assert res.betas.shape == (8,) and res.betas[-1] < 1 and res.ess_history.shape == (7,)
    assert np.isfinite(res.log_z_estimate) and res.positions.shape == (64, 2)


def test_generate_stopped_records_the_time_reached():
    dens = noised_density(TWO, make_schedule("vp"))
    for solver in ("sde", "ode", "annealed-langevin"):
        cfg = GenerateConfig(solver=solver, steps=40, walkers=64, langevin_steps=2, seed=1)
        res = generate(dens, cfg, should_stop=after(5))
        assert res.steps_done == 5 and res.times[-1] == res.final_time > dens.t_min, solver
        assert len(res.times) == len(res.kl_history) == len(res.ess_history)
        assert abs(res.mode_weights_exact.sum() - 1) < 1e-6 and np.isfinite(res.positions).all()
        assert generate(dens, cfg).steps_done == 40  # not stopped: every step (annealed Langevin: level)


def test_score_training_stopped_keeps_the_losses_so_far():
    dens = noised_density(TWO, make_schedule("vp"))
    _, info = train_score_network(dens, 1000, make_generator(0), batch=32, hidden=(8,), should_stop=after(3))
    assert len(info["loss"]) == 3
