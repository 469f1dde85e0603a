"""Fixtures of the real-window suite: one X server per test process, one app per test.

Screenshots go to ``screenshots/realwindow/`` when ``EBM_SAVE_SHOTS`` is set (the README's pictures),
otherwise to a temporary folder.
"""

import os
import tempfile
from pathlib import Path

import pytest

from xsession import ROOT, App, XServer, missing_tools



@pytest.fixture(scope="session")
def xserver():
    missing = missing_tools()
    if missing:
        pytest.skip(f"real-window tests need {', '.join(missing)} (Debian: xvfb openbox xdotool imagemagick)")
    server = XServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def shots_dir():
    if os.environ.get("EBM_SAVE_SHOTS"):
        path = ROOT / "screenshots" / "realwindow"
    else:
        path = Path(tempfile.mkdtemp(prefix="ebm-realwindow-shots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def launch(xserver, shots_dir):
    """``launch(*gui_args)`` starts the real app; it is closed after the test."""
    apps = []

    def start(*args: str) -> App:
        app = App(xserver, shots_dir, *args)
        apps.append(app)
        return app
    yield start
    for app in apps:
        app.close()
    for app in apps:  # an exception in a Python override Qt calls while painting is printed, or crashes
        log = app.log_text()
        assert "Traceback" not in log, f"the app printed a Python traceback:\n{log[-3000:]}"
