"""Fixtures for driving the real main window off-screen (the platform is set in tests/conftest.py)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from ebm_explorer.ui.app import configure_pyqtgraph


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


@pytest.fixture
def wait_paused(qtbot):
    """Wait until every run is paused *and* its latest snapshot is the one sent on pause (it follows the
    "paused" state): only then is ``latest[i].step`` the run's final step count."""

    def wait(w, timeout: int = 240_000) -> None:
        qtbot.waitUntil(lambda: all(s == "paused" for s in w.model.states), timeout=timeout)
        qtbot.waitUntil(lambda: all(s is not None and s.step == wk.step_count
                                    for s, wk in zip(w.model.latest, w.model.workers)), timeout=timeout)

    return wait
