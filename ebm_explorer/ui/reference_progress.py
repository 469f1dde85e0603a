"""While the exact reference is computed (in the job thread), say so with progress, not a frozen line.

The views show "computing the exact reference: <stage>… <seconds>" and the status bar a progress bar
with the stage's share of the work; both go away when the reference arrives (or fails).
"""

from __future__ import annotations

import time

from PySide6 import QtCore, QtWidgets

from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.ports import Shell, Views
from ebm_explorer.workers.commands import ReferenceKey

__all__ = ["ReferenceProgress"]


class ReferenceProgress(QtCore.QObject):
    """Follows ``model.jobs.progress`` for the reference job: a bar in the status bar, a line in the views."""

    def __init__(self, model: AppModel, shell: Shell, views: Views) -> None:
        super().__init__(shell.frame)
        self.model = model
        self.views = views
        self.stage = "starting"
        self.fraction = 0.0
        self._t0 = time.perf_counter()
        self.bar = QtWidgets.QProgressBar()
        self.bar.setObjectName("reference_progress")
        self.bar.setRange(0, 100)
        self.bar.setMaximumWidth(160)
        self.bar.setFormat("reference %p%")
        self.bar.setToolTip("The exact reference (log Z, density, modes) is computed on a grid in the background")
        shell.frame.statusBar().addWidget(self.bar)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(150)
        self.timer.timeout.connect(self._show)
        model.jobs.progress.connect(self._on_progress)
        model.landscape_changed.connect(lambda *_: self._start())
        model.reference_ready.connect(lambda *_: self._stop())
        model.reference_failed.connect(lambda *_: self._stop())
        if model.reference is None:
            self._start()
        else:
            self._stop()

    @property
    def computing(self) -> bool:
        return self.timer.isActive()

    def _start(self) -> None:
        self.stage, self.fraction = "waiting for the job thread", 0.0
        self._t0 = time.perf_counter()
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.timer.start()
        self._show()

    def _stop(self) -> None:
        self.timer.stop()
        self.bar.setVisible(False)

    def _on_progress(self, key: object, stage: str, fraction: float) -> None:
        if isinstance(key, ReferenceKey) and self.computing:
            self.stage, self.fraction = stage, float(fraction)
            self._show()

    def text(self) -> str:
        return f"computing the exact reference: {self.stage}… {time.perf_counter() - self._t0:.1f} s"

    def _show(self) -> None:
        if self.model.reference is not None:  # arrived between two ticks
            self._stop()
            return
        self.bar.setValue(int(100 * self.fraction))
        for view in self.views.all():
            view.show_message(self.text())
