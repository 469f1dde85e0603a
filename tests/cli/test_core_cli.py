"""The stable command-line contract of issue 2: `landscapes`, `sample`, `reference`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from ebm_explorer.cli.main import main

SMALL = ["--walkers", "400", "--steps", "30", "--step-size", "0.2", "--resolution", "64"]


def test_landscapes_lists_at_least_twelve_presets(capsys):
    assert main(["landscapes"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 12
    assert any(line.startswith("donut") for line in lines)


@pytest.mark.parametrize("sampler", ["mh", "ula", "mala", "hmc"])
def test_sample_writes_the_documented_arrays(tmp_path, capsys, sampler):
    out = tmp_path / "s.npz"
    code = main(["sample", "--landscape", "double_well", "--sampler", sampler, *SMALL,
                 "--leapfrog", "3", "--record-every", "10", "--out", str(out)])
    assert code == 0
    assert "exact" in capsys.readouterr().out
    z = np.load(out)
    assert z["positions"].shape == (400, 2) and z["energies"].shape == (400,)
    assert z["acceptance"].shape == (30,) and z["mean_energy"].shape == (30,)
    assert z["trajectory"].shape == (4, 400, 2)
    assert z["mode_weights"].shape == z["mode_weights_exact"].shape == (2,)
    assert np.isclose(z["mode_weights_exact"].sum(), 1.0)
    meta = json.loads(str(z["meta"]))
    assert meta["sampler"] == sampler and meta["walkers"] == 400 and "version" in meta
    if sampler == "ula":
        assert np.all(z["acceptance"] == 1.0)


def test_sample_formula_with_box_and_point_init(tmp_path):
    out = tmp_path / "f.npz"
    assert main(["sample", "--formula", "(x**2-1)**2 + 0.5*y**2 + 0.3*sin(3*x)", "--box", "-2", "2", "-3", "3",
                 "--sampler", "mala", "--init", "0.5,0", *SMALL, "--out", str(out)]) == 0
    assert np.load(out)["positions"].shape == (400, 2)


def test_same_seed_same_output_other_seed_differs(tmp_path):
    paths = [tmp_path / f"{i}.npz" for i in range(3)]
    for path, seed in zip(paths, (7, 7, 8)):
        assert main(["sample", "--landscape", "gaussian", "--sampler", "hmc", *SMALL, "--seed", str(seed),
                     "--out", str(path)]) == 0
    a, b, c = (np.load(p)["positions"] for p in paths)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_reference_writes_exact_quantities(tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert main(["reference", "--landscape", "gaussian", "--resolution", "128", "--out", str(out)]) == 0
    z = np.load(out)
    assert z["density"].shape == (128, 128) and z["basins"].shape == (128, 128)
    box = z["box"]
    cell = (box[1] - box[0]) / 128 * (box[3] - box[2]) / 128
    assert np.isclose(z["density"].sum() * cell, 1.0)
    # normalised Gaussian preset: Z = 1 up to the mass outside the +-5 sigma box (about 1.1e-6)
    assert abs(float(z["log_z"])) < 2e-6
    assert z["mode_weights"].shape == (1,) and z["mean"].shape == (2,) and z["cov"].shape == (2, 2)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["sample", "--landscape", "no_such_preset"], "no_such_preset"),
        (["sample", "--formula", "x + foo(y)"], "foo"),
        (["sample", "--formula", "__import__('os')"], "__import__"),
        (["sample", "--landscape", "/nonexistent/scene.toml"], "nonexistent"),
        (["sample", "--init", "nowhere"], "--init"),
        (["sample", "--out", "result.txt"], ".npz"),
        (["sample", "--sampler", "mh", "--step-size", "-1"], "step-size"),
        (["sample", "--walkers", "0"], "walkers"),
        (["sample", "--box", "1", "0", "0", "1", "--formula", "x**2"], "box"),
        (["reference", "--landscape", "gmm", "--resolution", "3", "--out", "r.npz"], "resolution"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert needle in err
    assert "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when no GPU is present")
def test_cuda_without_gpu_is_refused(capsys):
    assert main(["sample", "--device", "cuda", *SMALL]) == 2
    assert "cuda" in capsys.readouterr().err


def test_module_entry_point_matches_console_script():
    done = subprocess.run([sys.executable, "-m", "ebm_explorer", "sample", "--landscape", "nope"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "nope" in done.stderr



def test_sample_compile_gives_the_eager_answer(tmp_path, capsys):
    """``--compile`` fuses the steps (a formula: the generic autograd path) without changing the walkers."""
    paths = [tmp_path / "eager.npz", tmp_path / "fused.npz"]
    for path, extra in zip(paths, ([], ["--compile"])):
        assert main(["sample", "--formula", "(x**2-1)**2 + 0.5*y**2", "--box", "-2.5", "2.5", "-3", "3",
                     "--sampler", "mala", *SMALL, "--out", str(path), *extra]) == 0
    assert "NOTE" not in capsys.readouterr().out
    eager, fused = (np.load(p) for p in paths)
    np.testing.assert_allclose(fused["positions"], eager["positions"], rtol=1e-4, atol=1e-4)
    meta = json.loads(str(fused["meta"]))
    assert meta["compile"] is True and meta["compile_fallback"] is None
