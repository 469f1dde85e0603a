"""``ebm-explorer screenshot`` writes a real picture of the window (in-process, off-screen)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest
from PySide6 import QtGui

from ebm_explorer.cli import screenshot_cmd


def test_screenshot_writes_png(qtbot, tmp_path):
    out = tmp_path / "shot.png"
    args = argparse.Namespace(scene="compare", seconds=1.0, out=str(out), size=(1200, 800))
    assert screenshot_cmd.run(args) == 0
    img = QtGui.QImage(str(out))
    assert not img.isNull() and img.width() >= 1000 and img.height() >= 700


def test_wait_for_first_steps_sees_every_run_stepping(make_window):
    """The picture is taken after the runs have started (not of "paused, step 0" on a slow machine)."""
    w = make_window(walkers=300)
    w.run()
    assert screenshot_cmd.wait_for_first_steps(w, limit_s=240)
    assert w.model.reference is not None
    assert all(s is not None and s.step > 0 for s in w.model.latest)


@pytest.mark.slow  # a fresh process imports torch and Qt: 40 s on 2 busy cores
def test_screenshot_process_exits_cleanly_with_threads_joined(tmp_path):
    """A real process: exit status 0 and no "QThread: Destroyed while thread is still running" abort."""
    out = tmp_path / "shot.png"
    done = subprocess.run([sys.executable, "-m", "ebm_explorer", "screenshot", "--scene", "compare",
                           "--seconds", "0.5", "--size", "900", "600", "--out", str(out)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert "Destroyed while thread" not in done.stderr
    assert done.stdout.strip() == f"wrote {out}" and out.stat().st_size > 10_000
