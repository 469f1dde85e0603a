"""One recipe builds the initial model and the trainer: the same settings and seed give bitwise identical
first 20 iterations in the GUI's training worker, in headless ``ebm-explorer run`` and in
``ebm-explorer train``."""

from __future__ import annotations

import numpy as np
import pytest

from ebm_explorer.cli.main import main
from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.core.run_settings import RunSpec, TrainSettings
from ebm_explorer.scenes import Scene
from ebm_explorer.scenes.headless import run_scene
from ebm_explorer.workers.training_worker import TrainingWorker

K = 20


def _cli_args(s: TrainSettings, out) -> list[str]:
    return ["train", "--target", "gmm", "--model", s.model, "--components", str(s.components), "--method", s.method,
            "--kernel", s.kernel, "--walkers", str(s.walkers), "--data-size", str(s.data_size), "--iterations", str(K),
            "--lr", str(s.lr), "--step-size", str(s.step_size), "--optimizer", s.optimizer, "--seed", str(s.seed),
            "--grid-resolution", "32", "--out", str(out)]


@pytest.mark.parametrize("method, kernel, optimizer", [("jarzynski", "ula", "sgd"), ("pcd", "mala", "adam")])
def test_gui_worker_headless_run_and_cli_train_agree_bitwise(qtbot, tmp_path, method, kernel, optimizer) -> None:
    s = TrainSettings(method=method, kernel=kernel, optimizer=optimizer, walkers=64, data_size=200, iterations=K,
                      seed=3, lr=0.02)

    # the GUI's worker: the very methods its thread calls (setup once, then advance per batch)
    worker = TrainingWorker(0, s, make_landscape("gmm"))
    worker.setup()
    walkers, means = [], []
    for _ in range(K):
        worker.advance(1)
        walkers.append(worker.trainer.walkers.detach().cpu().numpy().copy())
        means.append(worker.trainer.model.means.detach().cpu().numpy().copy())

    # headless run of a scene holding the same settings, every iteration recorded
    scene = Scene(landscape={"kind": "preset", "name": "gmm"}, runs=(RunSpec("train", "", s),))
    headless = run_scene(scene, record_every=1).runs[0].trajectory
    assert list(headless.steps) == list(range(K + 1))
    np.testing.assert_array_equal(headless.positions[1:], np.stack(walkers))

    # the command line
    out = tmp_path / "train.npz"
    assert main(_cli_args(s, out)) == 0
    z = np.load(out)
    np.testing.assert_array_equal(z["history_param_means"], np.stack(means))
    np.testing.assert_array_equal(z["walkers"], walkers[-1])
    assert z["data"].shape == (s.data_size, 2)
    np.testing.assert_array_equal(z["data"], worker.trainer.data.cpu().numpy())
