"""QApplication bootstrap shared by ``ebm-explorer gui``, ``screenshot`` and the benchmark."""

from __future__ import annotations

import os
import signal
import sys

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets


__all__ = ["make_app", "configure_pyqtgraph"]


def configure_pyqtgraph() -> None:
    """Row-major images (``[iy, ix]`` like the core), no antialiasing for fast live plots."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="#15171c", foreground="#d0d0d0")


def make_app(offscreen: bool = False) -> QtWidgets.QApplication:
    """The (single) QApplication; ``offscreen`` renders without a display (screenshots, CI)."""
    if offscreen and not QtWidgets.QApplication.instance():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("EBM Explorer")
    app.setOrganizationName("ebm-explorer")
    app.setStyle("Fusion")
    configure_pyqtgraph()
    # Ctrl-C in the terminal closes the window (and so joins the threads) instead of being ignored
    signal.signal(signal.SIGINT, lambda *_: app.closeAllWindows())
    timer = QtCore.QTimer(app)
    timer.timeout.connect(lambda: None)  # lets Python see the signal while Qt's loop runs
    timer.start(200)
    app._sigint_timer = timer  # keep it alive
    return app
