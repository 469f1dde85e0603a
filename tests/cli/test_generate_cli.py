"""``ebm-explorer generate`` writes the documented npz; bad input exits 2 with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ebm_explorer.cli.main import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("extra", [
    ["--landscape", "gmm", "--path", "interpolant", "--solver", "sde", "--jarzynski"],
    ["--landscape", "gmm", "--path", "ve", "--sigma-min", "0.5", "--solver", "annealed-langevin",
     "--langevin-steps", "5", "--jarzynski"],
    ["--formula", "(x**2-1)**2 + 0.5*y**2", "--box", "-2.5", "2.5", "-3", "3", "--path", "vp", "--solver", "ode",
     "--resolution", "64"],
])
def test_generate_writes_all_keys(tmp_path, capsys, extra: list[str]) -> None:
    out = tmp_path / "g.npz"
    rc = main(["generate", *extra, "--steps", "6", "--walkers", "300", "--seed", "3", "--out", str(out)])
    assert rc == 0
    assert "wrote" in capsys.readouterr().out
    z = np.load(out)
    m = z["mode_weights_exact"].shape[0]
    assert z["positions"].shape == (300, 2) and z["mode_weights"].shape == (m,) and m >= 1
    assert abs(z["mode_weights_exact"].sum() - 1) < 1e-9 and abs(z["mode_weights"].sum() - 1) < 1e-9
    s = z["times"].shape[0]
    assert s == 7 and z["kl_history"].shape == (s,) and z["kl_floor"].shape == (s,)
    assert np.all(np.diff(z["times"]) <= 0) and z["times"][-1] < z["times"][0]  # backwards in time
    assert ("log_weights" in z) == ("--jarzynski" in extra)
    meta = json.loads(str(z["meta"]))
    assert meta["command"] == "generate" and meta["config"]["steps"] == 6 and "version" in meta


@pytest.mark.slow
def test_generate_with_learned_score_as_subprocess(tmp_path) -> None:
    out = tmp_path / "learned.npz"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "ebm_explorer", "generate", "--landscape", "gmm", "--score", "learned",
         "--train-iterations", "20", "--steps", "5", "--walkers", "200", "--jarzynski", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "score network" in proc.stdout
    z = np.load(out)
    assert z["train_loss"].shape == (20,) and np.isfinite(z["log_weights"]).any()
    assert json.loads(str(z["meta"]))["score"] == "learned"


@pytest.mark.parametrize("args", [
    ["--landscape", "no_such_landscape"],
    ["--formula", "x**2 +* y"],
    ["--solver", "ode", "--jarzynski"],
    ["--path", "ve", "--sigma-min", "5", "--sigma-max", "1"],
    ["--path", "vp", "--sigma-max", "3"],
    ["--steps", "0"],
    ["--out-suffix"],
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args: list[str]) -> None:
    out = str(tmp_path / ("g.txt" if args[-1] == "--out-suffix" else "g.npz"))
    args = [a for a in args if a != "--out-suffix"]
    try:
        rc = main(["generate", *args, "--walkers", "10", "--steps", "2", "--out", out] if "--steps" not in args
                  else ["generate", *args, "--walkers", "10", "--out", out])
    except SystemExit as exc:  # argparse rejects malformed numbers before run()
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "error" in err
    assert not os.path.exists(out)
