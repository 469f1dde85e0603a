"""``ebm-explorer train`` writes the documented npz; bad input exits 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ebm_explorer.cli.main import main


@pytest.mark.parametrize("method", ["jarzynski", "pcd"])
def test_train_writes_all_keys(tmp_path, capsys, method: str) -> None:
    out = tmp_path / "run.npz"
    rc = main(["train", "--target", "gmm", "--model", "gmm", "--components", "2", "--method", method,
               "--walkers", "200", "--data-size", "300", "--iterations", "6", "--lr", "0.01",
               "--step-size", "0.05", "--grid-resolution", "32", "--out", str(out)])
    assert rc == 0
    assert "wrote" in capsys.readouterr().out
    z = np.load(out)
    k, m = 6, z["mode_weights_true"].shape[0]
    for key in ("history_kl", "history_cross_entropy", "history_log_z_exact", "history_log_z_est", "history_ess",
                "history_fisher", "history_resampled", "history_energy_gap", "history_cross_entropy_est"):
        assert z[key].shape == (k,), key
    assert z["history_mode_weights"].shape == (k, m) and m >= 1
    assert z["history_param_means"].shape == (k, 2, 2)
    assert z["walkers"].shape == (200, 2) and z["log_weights"].shape == (200,)
    assert z["param_means"].shape == (2, 2) and z["param_z"].shape == (2,)
    assert np.isnan(z["history_log_z_est"]).all() == (method == "pcd")
    for key in ("history_log_z_se", "history_log_z_est_xfit", "history_log_z_se_xfit",
                "history_cross_entropy_est_xfit", "history_ess_xfit"):
        assert z[key].shape == (k,), key
        assert np.isfinite(z[key]).all() == (method == "jarzynski") and np.isnan(z[key]).all() == (method == "pcd")
    meta = json.loads(str(z["meta"]))
    assert meta["config"]["method"] == method and "version" in meta


def test_no_cross_fit_leaves_training_unchanged(tmp_path) -> None:
    """The held-out walkers have their own random stream: with or without them the training walkers,
    weights and parameters are the same numbers; without them the cross-fitted arrays are NaN."""
    args = ["train", "--target", "gmm", "--model", "gmm", "--method", "jarzynski", "--kernel", "mala",
            "--walkers", "150", "--data-size", "300", "--iterations", "8", "--grid-resolution", "24"]
    assert main([*args, "--out", str(tmp_path / "a.npz")]) == 0
    assert main([*args, "--no-cross-fit", "--out", str(tmp_path / "b.npz")]) == 0
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    for key in ("walkers", "log_weights", "param_means", "param_z", "history_log_z_est", "history_log_z_se"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert np.isfinite(a["history_log_z_est_xfit"]).all() and np.isnan(b["history_log_z_est_xfit"]).all()


def test_train_on_data_file_and_mlp(tmp_path) -> None:
    pts = np.random.default_rng(0).normal(size=(100, 2))
    np.savez(tmp_path / "pts.npz", data=pts)
    out = tmp_path / "mlp.npz"
    rc = main(["train", "--data", str(tmp_path / "pts.npz"), "--model", "mlp", "--hidden", "8",
               "--method", "jarzynski", "--walkers", "100", "--iterations", "3", "--grid-resolution", "24",
               "--out", str(out)])
    assert rc == 0
    z = np.load(out)
    assert np.isnan(z["history_kl"]).all() and np.isfinite(z["history_cross_entropy"]).all()
    assert z["history_mode_weights"].shape == (3, 0)


@pytest.mark.parametrize("method, model", [("sm", "gmm"), ("dsm", "mlp")])
def test_train_score_matching(tmp_path, capsys, method: str, model: str) -> None:
    out = tmp_path / "sm.npz"
    rc = main(["train", "--target", "gmm", "--model", model, "--hidden", "8", "--method", method,
               "--noise-std", "0.3", "--data-size", "200", "--iterations", "4", "--lr", "0.01",
               "--grid-resolution", "24", "--out", str(out)])
    assert rc == 0
    assert f"{method} loss" in capsys.readouterr().out
    z = np.load(out)
    assert np.isfinite(z["history_loss"]).all() and np.isfinite(z["history_fisher"]).all()
    assert z["history_mode_weights"].shape[0] == 4 and np.isnan(z["history_log_z_est"]).all()
    assert json.loads(str(z["meta"]))["config"]["noise_std"] == 0.3


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_gpu_exits_2(tmp_path, capsys) -> None:
    rc = main(["train", "--target", "gmm", "--model", "gmm", "--method", "cd", "--device", "cuda",
               "--out", str(tmp_path / "r.npz")])
    assert rc == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [
    ["--data", "missing.csv"],
    ["--target", "no_such_landscape"],
    ["--target", "gmm", "--walkers", "0"],
    ["--target", "gmm", "--resample-threshold", "2"],
    ["--target", "gmm", "--out-suffix"],
    ["--target", "gmm", "--noise-std", "0"],
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args: list[str]) -> None:
    out = str(tmp_path / ("run.txt" if args[-1] == "--out-suffix" else "run.npz"))
    args = [a for a in args if a != "--out-suffix"]
    try:
        rc = main(["train", *args, "--model", "gmm", "--method", "cd", "--iterations", "2", "--out", out])
    except SystemExit as exc:  # argparse rejects malformed numbers before run()
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "error" in err
