"""The first frame: a small window with a progress bar while PyTorch loads and the main window is built.

Importing torch takes seconds (15 s measured on 2 busy cores) and the window needs it: without this
the screen stays black that long. :func:`start` needs only QtWidgets (about a second to import), shows
the splash, then imports the heavy modules in a background thread while the event loop keeps the
splash alive (an elapsed-time counter). The main window closes it with :func:`finish` once shown.
Nothing here imports torch, numpy or pyqtgraph.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["Splash", "start", "active", "step", "finish"]

_active: Splash | None = None


class Splash(QtWidgets.QWidget):
    """A frameless box: the app's name, what is being done, a progress bar and the seconds so far."""

    def __init__(self) -> None:
        super().__init__(None, QtCore.Qt.WindowType.SplashScreen | QtCore.Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("startup_splash")
        self.setStyleSheet("QWidget#startup_splash { background: #15171c; border: 1px solid #3a3f4b; }"
                           "QLabel { color: #d0d0d0; } QLabel#title { color: white; font-size: 20px; }")
        title = QtWidgets.QLabel("EBM Explorer")
        title.setObjectName("title")
        subtitle = QtWidgets.QLabel("energy-based models in 2-D, checked against the exact answer")
        self.label = QtWidgets.QLabel("starting…")
        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.clock = QtWidgets.QLabel("")
        self.clock.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        for w in (title, subtitle, self.label, self.bar, self.clock):
            layout.addWidget(w)
        self.setFixedSize(460, 170)
        self._t0 = time.perf_counter()
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(100)

    def _tick(self) -> None:
        self.clock.setText(f"{time.perf_counter() - self._t0:.1f} s")

    def step(self, text: str, percent: int) -> None:
        """Say what is being done now and move the bar (painted at once, even before a blocking call)."""
        self.label.setText(text)
        self.bar.setValue(max(self.bar.value(), int(percent)))
        self._tick()
        self.repaint()
        QtWidgets.QApplication.processEvents()

    def import_in_background(self, modules: Sequence[str], text: str, percent_from: int, percent_to: int) -> None:
        """Import ``modules`` in a thread while this splash stays live; errors are raised here, in order."""
        done = threading.Event()
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for name in modules:
                    importlib.import_module(name)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the main thread below
                errors.append(exc)
            finally:
                done.set()

        self.step(text, percent_from)
        thread = threading.Thread(target=work, name="startup-imports", daemon=True)
        thread.start()
        t0 = time.perf_counter()
        while not done.wait(0.05):
            # the bar creeps towards percent_to (imports give no progress of their own)
            elapsed = time.perf_counter() - t0
            creep = (percent_to - percent_from) * (1 - 1 / (1 + elapsed / 4))
            self.bar.setValue(max(self.bar.value(), int(percent_from + creep)))
            QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 40)
        thread.join()
        if errors:
            raise errors[0]
        self.bar.setValue(max(self.bar.value(), percent_to))


def start() -> Splash:
    """Create the application (QtWidgets only) and show the splash centred on the screen."""
    global _active
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("EBM Explorer")
    splash = Splash()
    splash.show()
    screen = QtGui.QGuiApplication.primaryScreen()
    if screen is not None:  # centred (after show: some window managers place a new window themselves)
        splash.move(screen.availableGeometry().center() - splash.rect().center())
    splash.step("starting…", 2)
    _active = splash
    return splash


def active() -> Splash | None:
    return _active


def step(text: str, percent: int) -> None:
    """Report progress on the splash, if one is showing (no-op otherwise)."""
    if _active is not None:
        _active.step(text, percent)


def finish(window: QtWidgets.QWidget | None = None) -> None:
    """Close the splash (once ``window`` is on screen)."""
    global _active
    if _active is None:
        return
    splash, _active = _active, None
    splash.step("ready", 100)
    splash._timer.stop()
    splash.close()
    splash.deleteLater()
