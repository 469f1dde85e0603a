"""``ebm-explorer screenshot`` writes a real picture of the window (in-process, off-screen)."""

from __future__ import annotations

import argparse

from PySide6 import QtGui

from ebm_explorer.cli import screenshot_cmd


def test_screenshot_writes_png(qtbot, tmp_path):
    out = tmp_path / "shot.png"
    args = argparse.Namespace(scene="compare", seconds=1.0, out=str(out), size=(1200, 800))
    assert screenshot_cmd.run(args) == 0
    img = QtGui.QImage(str(out))
    assert not img.isNull() and img.width() >= 1000 and img.height() >= 700
