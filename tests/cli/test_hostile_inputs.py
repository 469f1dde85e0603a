"""Issue 13: the fast subset of bench/hostile_inputs.py, in-process: no traceback, no hang (the test's
timeout), the expected exit status and no input changed. The full script runs every case in a fresh
process (README, "Limits and errors")."""

from __future__ import annotations

import os
import runpy
import signal
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from ebm_explorer.cli.main import main
from running_command import start_when_ready

REPO = Path(__file__).resolve().parents[2]
BENCH = runpy.run_path(str(REPO / "bench" / "hostile_inputs.py"))
FAST = [c for c in BENCH["all_cases"]() if c.fast]


def test_the_script_has_enough_cases_in_every_category():
    cases = BENCH["all_cases"]()
    cats = {c.category for c in cases}
    assert len(cases) >= 150 and cats == {"files", "paths", "values", "sizes"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", FAST, ids=[c.name for c in FAST])
def test_hostile_input_gets_a_message_not_a_crash(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EBM_EXPLORER_AUTOSAVE_DIR", str(tmp_path / ".autosave"))
    case.setup(tmp_path)
    before = BENCH["_snapshot"](tmp_path)
    t0 = time.perf_counter()
    try:
        rc = main(list(case.argv))
    except SystemExit as exc:
        rc = int(exc.code or 0)
    except BaseException:  # noqa: BLE001 - any escape is the failure this test is about
        rc, tb = None, traceback.format_exc()
    else:
        tb = ""
    err = capsys.readouterr().err + tb
    outcome = BENCH["judge"](case, rc if rc is not None else -1, err, before, BENCH["_snapshot"](tmp_path),
                             time.perf_counter() - t0)
    assert outcome.verdict == "ok" and rc in case.expect, (outcome, err[-2000:])
    if rc == 2:
        lines = [line for line in err.strip().splitlines() if line]
        assert lines and lines[-1].startswith("ebm-explorer") and "\x1b" not in err


@pytest.mark.timeout(240)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sample_stops_on_a_signal_within_a_second_and_saves(tmp_path, sig):
    proc = start_when_ready(["sample", "--steps", "5000000", "--walkers", "50", "--resolution", "16",
                             "--out", "o.npz"], tmp_path)
    t0 = time.time()
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    stopped = time.time() - t0
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"interrupted by" in err
    assert stopped < 30.0  # catches a run that ignores the signal; steps_done below proves it stopped early
    with np.load(tmp_path / "o.npz") as f:
        import json

        meta = json.loads(str(f["meta"]))
        assert meta["interrupted"] in ("SIGINT", "SIGTERM") and 0 < meta["steps_done"] < 5_000_000
        assert f["acceptance"].shape == (meta["steps_done"],)


@pytest.mark.timeout(240)
def test_run_stops_on_sigterm_and_writes_what_it_recorded(tmp_path):
    scene = tmp_path / "long.toml"
    scene.write_text("format_version = 1\nsteps = 100000000\n[[runs]]\nwalkers = 50\n")
    proc = start_when_ready(["run", str(scene), "--out", "out", "--format", "npz"], tmp_path)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130 and b"Traceback" not in err, err.decode()
    assert (tmp_path / "out" / "run1_trajectory.npz").exists() and (tmp_path / "out" / "scene.toml").exists()
    assert not [p for p in (tmp_path / "out").iterdir() if "ebmtmp" in p.name]


@pytest.mark.timeout(240)
def test_run_may_rerun_into_its_own_folder_but_not_over_foreign_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["run", "2", "--out", "out", "--steps", "4", "--format", "npz"]
    assert main(args) == 0
    assert main(args) == 0  # its own files (listed in .ebm-explorer-run) may be replaced
    (tmp_path / "out" / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(args) == 2 and "did not write (notes.txt)" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0 and (tmp_path / "out" / "notes.txt").read_text() == "mine"
    scene = tmp_path / "out" / "scene.toml"  # the scene it would run lives where it would write scene.toml
    before = scene.read_bytes()
    assert main(["run", str(scene), "--out", "out", "--steps", "4", "--format", "npz", "--force"]) == 2
    assert "would replace an input" in capsys.readouterr().err and scene.read_bytes() == before


def test_disk_full_and_read_only_folder_get_one_line(tmp_path, monkeypatch, capsys):
    import errno

    monkeypatch.chdir(tmp_path)
    args = ["reference", "--resolution", "16", "--out", "r.npz"]
    assert main(args) == 0
    before = (tmp_path / "r.npz").read_bytes()

    def full(path, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(np, "savez_compressed", full)
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "No space left on device (nothing was changed)" in err and "Traceback" not in err
    assert (tmp_path / "r.npz").read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["r.npz"]
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p).resolve() == ro else real_access(p, mode))
    assert main(["reference", "--resolution", "16", "--out", "ro/r.npz"]) == 2
    assert "is not writable (read-only?)" in capsys.readouterr().err


def test_run_refuses_a_scene_that_cannot_be_normalised(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text("format_version = 1\nsteps = 3\n[landscape]\nkind = 'formula'\n"
                                     "expr = '-(x**2+y**2)'\nbox = [-3, 3, -3, 3]\n")
    assert main(["run", "s.toml", "--out", "out"]) == 2
    assert "Not normalisable" in capsys.readouterr().err and not (tmp_path / "out").exists()
