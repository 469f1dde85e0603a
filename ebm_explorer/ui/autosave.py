"""Nothing lost: the running scene and its latest state are saved every ``interval_s`` seconds, and the
next start after a crash offers to put them back.

Each session saves into its own slot (``session-<start>-<pid>/`` of :func:`autosave_dir`:
``$EBM_EXPLORER_AUTOSAVE_DIR`` or the app-data folder) holding ``scene.toml`` and ``state.npz`` (walkers,
log weights, trained parameters and optimiser state, step counts), both written atomically. It saves on
its interval whether or not a restore question is pending. A clean exit deletes only its own slot, so at
start-up the slots left are sessions that were killed: a non-modal banner lists the last few (time, scene
title, step) with Restore / Discard; restoring one never discards another (its slot is deleted only once
this session has saved the restored work in its own slot). Anything unreadable in the folder is moved to
``damaged/`` with "the previous session could not be restored (reason); it was kept as <folder>", and the
app starts on its default scene (:mod:`ebm_explorer.scenes.recovery`). The workers copy their state in
their own thread between batches (``request_capture``), so saving never blocks the UI or races with a step.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.safe_io import printable
from ebm_explorer.scenes.io import save_scene
from ebm_explorer.scenes.recovery import (
    SCENE_FILE,
    STATE_FILE,
    Recoverable,
    new_slot_name,
    remove_slot,
    scan_slots,
)
from ebm_explorer.scenes.model import Scene
from ebm_explorer.scenes.state import SavedRun, save_run_states
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.ports import Shell

__all__ = ["AutosaveController", "autosave_dir", "ENV_DIR", "ENV_INTERVAL", "DEFAULT_INTERVAL_S"]

ENV_DIR = "EBM_EXPLORER_AUTOSAVE_DIR"
ENV_INTERVAL = "EBM_EXPLORER_AUTOSAVE_INTERVAL"
DEFAULT_INTERVAL_S = 60.0
#: sessions listed in the restore banner (newest first; older ones stay on disk)
MAX_OFFERED = 5


def autosave_dir() -> Path:
    """Where autosaves live: ``$EBM_EXPLORER_AUTOSAVE_DIR`` (tests), else the per-user app-data folder."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".ebm-explorer") / "autosave"


def _interval_from_env() -> float:
    """The interval from the environment, in [1 s, 1 day]; anything else (text, nan, inf) -> the default."""
    try:
        value = float(os.environ.get(ENV_INTERVAL, DEFAULT_INTERVAL_S))
    except ValueError:
        return DEFAULT_INTERVAL_S
    return min(max(1.0, value), 86400.0) if value == value and value != float("inf") else DEFAULT_INTERVAL_S


class AutosaveController(QtCore.QObject):
    """Periodic autosave of the app into its own slot, and the restore banner after a crash.

    ``capture_scene()`` gives the scene on screen, ``apply_scene(scene)`` puts a restored one on screen
    (False: refused); the runs' states come from and go to the model's workers."""

    saved = QtCore.Signal(object)  # Path of the state file
    restored = QtCore.Signal()

    def __init__(self, model: AppModel, shell: Shell, capture_scene: Callable[[], Scene],
                 apply_scene: Callable[[Scene], bool], interval_s: float | None = None,
                 directory: str | os.PathLike[str] | None = None, enabled: bool = True) -> None:
        super().__init__(shell.frame)
        self.model = model
        self.shell = shell
        self.capture_scene = capture_scene
        self.apply_scene = apply_scene
        self._closed = False
        self.directory = Path(directory) if directory is not None else autosave_dir()
        self.interval_s = min(max(1.0, float(interval_s)), 86400.0) if interval_s is not None else _interval_from_env()
        self.last_error = ""
        self.last_saved = 0.0
        self.problems: list[str] = []  # damaged autosaves found at start-up (moved aside)
        self.offers: list[Recoverable] = []  # sessions that can be restored, newest first
        self.slot = self.directory / new_slot_name(directory=self.directory)
        self._pending: dict[int, SavedRun | None] = {}
        self._expected: list[int] = []
        self._taken_over: Path | None = None  # slot restored from: deleted once this session has saved

        self.banner = QtWidgets.QFrame()
        self.banner.setObjectName("autosave_banner")
        self.banner.setStyleSheet("#autosave_banner { background: #1d4f7a; border-radius: 4px; } "
                                  "QLabel { color: white; }")
        lay = QtWidgets.QHBoxLayout(self.banner)
        lay.setContentsMargins(6, 3, 6, 3)
        self.banner_label = QtWidgets.QLabel("")
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.choice = QtWidgets.QComboBox()
        self.choice.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.restore_button = QtWidgets.QPushButton("Restore")
        self.discard_button = QtWidgets.QPushButton("Discard")
        self.close_button = QtWidgets.QPushButton("Close")
        lay.addWidget(self.banner_label, 1)
        lay.addWidget(self.choice)
        lay.addWidget(self.restore_button)
        lay.addWidget(self.discard_button)
        lay.addWidget(self.close_button)
        self.restore_button.clicked.connect(lambda: self.restore())
        self.discard_button.clicked.connect(lambda: self.discard())
        self.close_button.clicked.connect(lambda: self.banner.setVisible(False))
        self.banner.setVisible(False)
        shell.add_bar(self.banner)

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(int(self.interval_s * 1000))
        self.timer.timeout.connect(self.save_now)
        self.enabled = enabled
        if enabled:
            self._check_previous()
            self.timer.start()

    # ---- saving --------------------------------------------------------------------------
    def save_now(self) -> None:
        """Write the scene into this session's slot now and ask every run for its state (written when
        all have answered). A pending restore question does not stop it: the slots are separate."""
        m = self.model
        if not self.enabled or self._closed or not m.workers:
            return
        if not any(s in ("running", "paused", "finished") for s in m.states):
            return
        try:
            scene = self.capture_scene()
            self.slot.mkdir(parents=True, exist_ok=True)
            save_scene(scene, self.slot / SCENE_FILE)
        except (UserInputError, OSError) as exc:
            self._failed(exc)
            return
        self._pending = {}
        self._expected = [wk.run_id for wk in m.workers]
        for wk in m.workers:
            if not getattr(wk, "_autosave_connected", False):
                wk.captured.connect(self._on_captured)
                wk._autosave_connected = True
            wk.request_capture()

    def _failed(self, exc: BaseException) -> None:
        self.last_error = f"autosave failed: {printable(exc, 200)}"
        self.shell.status(self.last_error, 10000)

    def _on_captured(self, answer: tuple[int, SavedRun | None]) -> None:
        run_id, saved = answer
        if run_id not in self._expected:
            return
        self._pending[run_id] = saved
        if len(self._pending) < len(self._expected):
            return
        runs = [self._pending[r] for r in self._expected]
        self._expected = []
        if any(r is None for r in runs):
            return  # a run is failed or not set up: keep the previous state file
        path = self.slot / STATE_FILE
        try:
            save_run_states(path, runs)  # type: ignore[arg-type]
        except (OSError, UserInputError) as exc:
            self._failed(exc)
            return
        self.last_saved = time.time()
        if self._taken_over is not None:  # the restored session's work now lives in this slot
            remove_slot(self._taken_over)
            self._taken_over = None
        self.saved.emit(path)

    # ---- restoring -----------------------------------------------------------------------
    def _check_previous(self) -> None:
        """Offer the sessions left by crashes; report damaged ones. Never raises (start-up must not fail)."""
        try:
            result = scan_slots(self.directory, own=self.slot.name)
            self.offers, self.problems = result.recoverable, result.problems
        except Exception as exc:  # noqa: BLE001 - belt and braces: scan_slots already catches everything
            self.offers, self.problems = [], [f"the previous session could not be restored ({printable(exc, 160)})"]
        self._show_banner()

    def _show_banner(self) -> None:
        self.choice.clear()
        for r in self.offers[:MAX_OFFERED]:
            self.choice.addItem(r.label)
        lines = []
        if self.offers:
            n = min(len(self.offers), MAX_OFFERED)
            lines.append("The previous session ended without closing: restore it?" if n == 1 else
                         f"{n} earlier sessions ended without closing: choose one to restore (the others are kept).")
        lines += [p[0].upper() + p[1:] for p in self.problems[:3]]
        self.banner_label.setText("\n".join(lines))
        has = bool(self.offers)
        for wdg in (self.choice, self.restore_button, self.discard_button):
            wdg.setVisible(has)
        self.choice.setVisible(has)
        self.banner.setVisible(bool(lines))
        if self.problems:
            self.shell.status(self.problems[0], 15000)

    @property
    def restore_pending(self) -> bool:
        return bool(self.offers)

    def _selected(self, index: int | None) -> int | None:
        i = self.choice.currentIndex() if index is None else index
        return i if 0 <= i < min(len(self.offers), MAX_OFFERED) else None

    def restore(self, index: int | None = None) -> bool:
        """Put the chosen session (default: the one selected, newest first) on screen and load each run's
        saved state into its worker. Its slot is kept until this session has saved the restored work."""
        i = self._selected(index)
        if i is None:
            return False
        offer = self.offers[i]
        if not self.apply_scene(offer.scene):
            return False  # refused (the error banner says why); the offer stays
        self.offers.pop(i)
        for wk, spec, saved in zip(self.model.workers, self.model.specs, offer.runs):
            if saved is not None and saved.kind == spec.kind:
                wk.restore(saved)
        if self._taken_over is not None:
            remove_slot(self._taken_over)  # an earlier restore replaced by this one: its work was not resumed
        self._taken_over = offer.folder
        self._show_banner()
        self.restored.emit()
        return True

    def discard(self, index: int | None = None) -> None:
        """Delete the chosen session's autosave (the others stay offered)."""
        i = self._selected(index)
        if i is None:
            return
        remove_slot(self.offers.pop(i).folder)
        self._show_banner()

    def remove_files(self) -> None:
        """Delete this session's own slot."""
        remove_slot(self.slot)

    def clean_exit(self) -> None:
        """The window closes normally: stop saving and delete this session's slot (never another's)."""
        self._closed = True
        self.timer.stop()
        if self.enabled:
            self.remove_files()
