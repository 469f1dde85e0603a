"""Python's cycle collector runs in the GUI thread only.

CPython collects cycles in whichever thread happens to allocate past the threshold. When that is a
worker thread and the garbage holds PySide objects (a closed window's menus, a rebuilt panel), their
Qt objects are destroyed off the GUI thread: the worker, inside a QObject destructor that holds a Qt
lock, waits for the GIL, while the GUI thread holds the GIL and waits for that lock. The app froze
that way in the test suite (a training worker importing matplotlib triggered the collection). So
automatic collection is switched off and the GUI thread collects on a timer, generation by
generation, with the thresholds the interpreter would have used.
"""

from __future__ import annotations

import gc

from PySide6 import QtCore

__all__ = ["GuiThreadCollector", "collect_in_gui_thread"]

#: how often the GUI thread looks at the allocation counts (a check below the thresholds costs ~1 us)
INTERVAL_MS = 250


class GuiThreadCollector(QtCore.QObject):
    """Collects generation 0 (and older ones when they are due) from a timer in the GUI thread."""

    def __init__(self, parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(INTERVAL_MS)

    def check(self) -> None:
        """Collect as the interpreter would have (it looks at the same counts), but here."""
        count0, count1, count2 = gc.get_count()
        if count0 <= self.threshold[0]:
            return
        generation = 0
        if count1 > self.threshold[1]:
            generation = 2 if count2 > self.threshold[2] else 1
        gc.collect(generation)


def collect_in_gui_thread(app: QtCore.QCoreApplication) -> GuiThreadCollector:
    """Install the collector on ``app`` once (later calls return the same one); must run in the GUI thread."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
