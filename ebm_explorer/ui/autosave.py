"""Nothing lost: the running scene and its latest state are saved every ``interval_s`` seconds, and the
next start after a crash offers to put them back.

Files (in :func:`autosave_dir`: ``$EBM_EXPLORER_AUTOSAVE_DIR`` or the app-data folder): ``scene.toml``
(``scenes.save_scene``) and ``state.npz`` (``scenes.state``: walkers, log weights, trained parameters
and optimiser state, step counts), both written atomically. A clean exit deletes them, so their presence
at start-up means the previous session was killed; a non-modal banner then offers Restore / Discard.
The workers copy their state in their own thread between batches (``request_capture``), so saving never
blocks the UI or races with a step.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.scenes.io import load_scene, save_scene
from ebm_explorer.scenes.state import SavedRun, load_run_states, save_run_states

__all__ = ["AutosaveController", "autosave_dir", "ENV_DIR", "ENV_INTERVAL", "DEFAULT_INTERVAL_S"]

ENV_DIR = "EBM_EXPLORER_AUTOSAVE_DIR"
ENV_INTERVAL = "EBM_EXPLORER_AUTOSAVE_INTERVAL"
DEFAULT_INTERVAL_S = 60.0
SCENE_FILE = "scene.toml"
STATE_FILE = "state.npz"


def autosave_dir() -> Path:
    """Where autosaves live: ``$EBM_EXPLORER_AUTOSAVE_DIR`` (tests), else the per-user app-data folder."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".ebm-explorer") / "autosave"


def _interval_from_env() -> float:
    try:
        return max(1.0, float(os.environ.get(ENV_INTERVAL, DEFAULT_INTERVAL_S)))
    except ValueError:
        return DEFAULT_INTERVAL_S


class AutosaveController(QtCore.QObject):
    """Periodic autosave of a :class:`MainWindow` and the restore banner after a crash."""

    saved = QtCore.Signal(object)  # Path of the state file
    restored = QtCore.Signal()

    def __init__(self, window: Any, interval_s: float | None = None, directory: str | os.PathLike[str] | None = None,
                 enabled: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.directory = Path(directory) if directory is not None else autosave_dir()
        self.interval_s = float(interval_s) if interval_s is not None else _interval_from_env()
        self.last_error = ""
        self.last_saved = 0.0
        self._pending: dict[int, SavedRun | None] = {}
        self._expected: list[int] = []
        self._scene_text_ok = False
        self._restore_data: tuple[Any, list[SavedRun]] | None = None

        self.banner = QtWidgets.QFrame()
        self.banner.setObjectName("autosave_banner")
        self.banner.setStyleSheet("#autosave_banner { background: #1d4f7a; border-radius: 4px; } "
                                  "QLabel { color: white; }")
        lay = QtWidgets.QHBoxLayout(self.banner)
        lay.setContentsMargins(6, 3, 6, 3)
        self.banner_label = QtWidgets.QLabel("")
        self.banner_label.setWordWrap(True)
        self.restore_button = QtWidgets.QPushButton("Restore")
        self.discard_button = QtWidgets.QPushButton("Discard")
        lay.addWidget(self.banner_label, 1)
        lay.addWidget(self.restore_button)
        lay.addWidget(self.discard_button)
        self.restore_button.clicked.connect(self.restore)
        self.discard_button.clicked.connect(self.discard)
        self.banner.setVisible(False)
        layout = window.centralWidget().layout()
        layout.insertWidget(0, self.banner)

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(int(self.interval_s * 1000))
        self.timer.timeout.connect(self.save_now)
        self.enabled = enabled
        if enabled:
            self._check_previous()
            self.timer.start()

    # ---- saving --------------------------------------------------------------------------
    def save_now(self) -> None:
        """Write the scene now and ask every run for its state (written when all have answered)."""
        w = self.window
        if not self.enabled or self._restore_data is not None or getattr(w, "_closing", False) or not w.model.workers:
            return
        if not any(s in ("running", "paused", "finished") for s in w.model.states):
            return
        try:
            scene = w.scenes.current_scene()
            save_scene(scene, self.directory / SCENE_FILE)
        except (UserInputError, OSError) as exc:
            self.last_error = f"autosave failed: {exc}"
            w.statusBar().showMessage(self.last_error, 10000)
            return
        self._pending = {}
        self._expected = [wk.run_id for wk in w.model.workers]
        for wk in w.model.workers:
            if not getattr(wk, "_autosave_connected", False):
                wk.captured.connect(self._on_captured)
                wk._autosave_connected = True
            wk.request_capture()

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
        path = self.directory / STATE_FILE
        try:
            save_run_states(path, runs)  # type: ignore[arg-type]
        except (OSError, UserInputError) as exc:
            self.last_error = f"autosave failed: {exc}"
            self.window.statusBar().showMessage(self.last_error, 10000)
            return
        self.last_saved = time.time()
        self.saved.emit(path)

    # ---- restoring -----------------------------------------------------------------------
    def _check_previous(self) -> None:
        scene_path, state_path = self.directory / SCENE_FILE, self.directory / STATE_FILE
        if not scene_path.exists():
            return
        try:
            scene, _warnings = load_scene(scene_path)
            runs = load_run_states(state_path) if state_path.exists() else []
        except UserInputError as exc:
            self.banner_label.setText(f"An autosave from a previous session cannot be read ({exc}).")
            self.restore_button.setVisible(False)
            self.banner.setVisible(True)
            return
        self._restore_data = (scene, runs)
        steps = ", ".join(f"{r.kind} step {r.step:,}" for r in runs) or "settings only"
        self.banner_label.setText(f"The previous session ended without closing: restore its scene "
                                  f"“{scene.title}” and runs ({steps})?")
        self.restore_button.setVisible(True)
        self.banner.setVisible(True)

    @property
    def restore_pending(self) -> bool:
        return self._restore_data is not None

    def restore(self) -> None:
        """Put the autosaved scene on screen and load each run's saved state into its worker."""
        if self._restore_data is None:
            return
        scene, runs = self._restore_data
        self._restore_data = None
        self.banner.setVisible(False)
        w = self.window
        w.scenes.apply(scene, start=False)
        for wk, spec, saved in zip(w.model.workers, w.model.specs, runs):
            if saved is not None and saved.kind == spec.kind:
                wk.restore(saved)
        self.restored.emit()

    def discard(self) -> None:
        """Forget the autosave (files deleted) and start saving this session."""
        self._restore_data = None
        self.banner.setVisible(False)
        self.remove_files()

    def remove_files(self) -> None:
        for name in (SCENE_FILE, STATE_FILE):
            with contextlib.suppress(FileNotFoundError, OSError):
                (self.directory / name).unlink()

    def clean_exit(self) -> None:
        """The window closes normally: stop saving and delete the files (unless a restore is still on offer)."""
        self.timer.stop()
        if self.enabled and self._restore_data is None:
            self.remove_files()
