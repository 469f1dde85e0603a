"""What a first-time user meets on the command line: help with defaults, clear one-line messages."""

from __future__ import annotations

import pytest

from ebm_explorer.cli.main import main


def test_no_display_says_how_to_run_headless(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "xvfb-run -a ebm-explorer" in err
    for command in ("sample", "train", "screenshot", "run"):
        assert command in err


@pytest.mark.parametrize("env", [{"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"QT_QPA_PLATFORM": "offscreen"}])
def test_a_display_or_offscreen_platform_is_enough(monkeypatch, env):
    from ebm_explorer.cli.gui_cmd import display_problem

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert display_problem() is None
