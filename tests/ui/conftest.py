"""GUI tests run off-screen unless an X server is there (``xvfb-run``: then the 3-D view is tested too)."""

from __future__ import annotations

import os

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6 import QtCore  # noqa: E402

from ebm_explorer.ui.app import configure_pyqtgraph  # noqa: E402


@pytest.fixture
def settings(tmp_path):
    """A private settings file: tests never read or write the user's QSettings."""
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    """Build real main windows (paused, small runs); every one is shut down (threads joined) at the end."""
    from ebm_explorer.ui.main_window import MainWindow

    configure_pyqtgraph()
    made = []

    def make(autostart: bool = False, walkers: int = 400, restore: bool = True, settings_=None):
        w = MainWindow(settings=settings_ or settings, autostart=False, restore=restore)
        qtbot.addWidget(w)
        w.sampler_panel.walkers.setValue(walkers)
        w.show()
        made.append(w)
        if autostart:
            w.run()
        return w

    yield make
    for w in made:
        w.shutdown()
