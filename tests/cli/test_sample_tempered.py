"""`sample --sampler pt | smc` (issue 15): the documented arrays, the exact answer beside the estimate,
and one-line refusals of options that do not apply."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ebm_explorer.cli.main import main

THREE_WELLS = """[landscape]
kind = "gmm"
weights = [0.2, 0.3, 0.5]
means = [[-4.5, -2.6], [4.5, -2.6], [0.0, 5.2]]
stds = [1.0, 1.0, 1.0]
"""
SMALL = ["--walkers", "200", "--step-size", "0.3", "--resolution", "128"]


@pytest.fixture()
def wells(tmp_path):
    path = tmp_path / "three_wells.toml"
    path.write_text(THREE_WELLS)
    return str(path)


def test_pt_writes_the_sample_keys_for_beta_one_plus_the_ladder(wells, tmp_path, capsys):
    out = tmp_path / "pt.npz"
    assert main(["sample", "--landscape", wells, "--sampler", "pt", "--kernel", "hmc", "--leapfrog", "2",
                 "--replicas", "4", "--beta-min", "0.2", "--swap-every", "2", "--steps", "40",
                 "--record-every", "20", "--init", "gaussian", *SMALL, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "swap with next" in text and "round trips" in text and "exact" in text
    z = np.load(out)
    assert z["positions"].shape == (200, 2) and z["energies"].shape == (200,)
    assert z["acceptance"].shape == (40,) and z["mean_energy"].shape == (40,)
    assert z["trajectory"].shape == (3, 200, 2)
    np.testing.assert_allclose(z["betas"], 0.2 ** (np.arange(4) / 3))
    assert z["swap_acceptance"].shape == (3,) and np.all((z["swap_acceptance"] >= 0) & (z["swap_acceptance"] <= 1))
    assert int(z["round_trips"]) >= 0 and z["replica_positions"].shape == (4, 200, 2)
    assert z["mode_weights"].shape == z["mode_weights_exact"].shape == (3,)
    meta = json.loads(str(z["meta"]))
    assert meta["sampler"] == "pt" and meta["kernel"] == "hmc" and meta["replicas"] == 4


def test_pt_takes_an_edited_ladder(wells, tmp_path):
    out = tmp_path / "pt.npz"
    assert main(["sample", "--landscape", wells, "--sampler", "pt", "--betas", "1", "0.4", "0.1",
                 "--swap-scheme", "random", "--steps", "10", *SMALL, "--out", str(out)]) == 0
    np.testing.assert_allclose(np.load(out)["betas"], [1, 0.4, 0.1])


def test_smc_writes_log_z_with_its_error_beside_the_exact_value(wells, tmp_path, capsys):
    out = tmp_path / "smc.npz"
    assert main(["sample", "--landscape", wells, "--sampler", "smc", "--walkers", "2000", "--step-size", "0.3",
                 "--resolution", "128", "--out", str(out)]) == 0
    assert "log Z" in capsys.readouterr().out
    z = np.load(out)
    assert z["positions"].shape == (2000, 2) and z["log_weights"].shape == (2000,)
    assert z["log_weights"].dtype == np.float64
    k = z["betas"].size - 1
    assert z["betas"][0] == 0 and z["betas"][-1] == 1 and z["ess_history"].shape == (k,)
    assert z["log_z_exact_history"].shape == (k,) and float(z["log_z_exact_history"][-1]) == pytest.approx(float(z["log_z_exact"]))
    # the estimate against the grid value, within 3 reported standard errors
    assert abs(float(z["log_z_estimate"]) - float(z["log_z_exact"])) < 3 * float(z["log_z_stderr"])
    assert abs(float(z["log_z_exact"])) < 1e-3  # this mixture's weights sum to 1
    assert np.all(np.abs(z["mode_weights"] - z["mode_weights_exact"]) < 5 * z["mode_weights_se"])
    assert json.loads(str(z["meta"]))["sampler"] == "smc"


def test_smc_fixed_levels_and_uniform_start(wells, tmp_path):
    out = tmp_path / "smc.npz"
    assert main(["sample", "--landscape", wells, "--sampler", "smc", "--kernel", "mh", "--levels", "12", "--moves", "2",
                 "--start", "uniform", "--resampling", "multinomial", "--islands", "4", *SMALL, "--out", str(out)]) == 0
    z = np.load(out)
    np.testing.assert_allclose(z["betas"], np.linspace(0, 1, 13))
    assert float(z["log_z_start"]) == pytest.approx(np.log(19.0 * 18.5))  # the box of these three wells


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--sampler", "smc", "--record-every", "5"], "record-every"),
        (["--sampler", "pt", "--compile"], "compile"),
        (["--sampler", "pt", "--betas", "0.9", "0.5"], "betas must start at 1"),
        (["--sampler", "pt", "--replicas", "1"], "replicas"),
        (["--sampler", "smc", "--islands", "150"], "walkers per island"),
        (["--sampler", "smc", "--levels", "5", "--target-ess", "0.9"], "not allowed with"),
        (["--sampler", "smc", "--target-ess", "1.5"], "(0, 1)"),
        (["--sampler", "pt", "--kernel", "ula"], "invalid choice"),
        (["--sampler", "pt", "--init", "50,50"], "inside the box"),
    ],
)
def test_bad_options_exit_2_with_one_line(wells, tmp_path, capsys, extra, needle):
    out = tmp_path / "x.npz"
    assert main(["sample", "--landscape", wells, *SMALL, "--steps", "5", *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1
    assert not out.exists()
