"""File dialogs open where the user last opened or saved a file (kept in the app's settings), not in
the folder the app was started from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["start_path", "remember", "get_open_file_name", "get_save_file_name", "KEY"]

KEY = "files/last_folder"


def _settings_of(owner: Any) -> Any:
    """The main window's QSettings, from the window itself or any widget inside it."""
    for candidate in (owner, getattr(owner, "window", lambda: None)()):
        s = getattr(candidate, "settings", None)
        if s is not None and hasattr(s, "value"):
            return s
    return None


def start_path(owner: Any, name: str = "") -> str:
    """Where a dialog of ``owner`` should open: the last folder used (joined with ``name``), else ``name``."""
    s = _settings_of(owner)
    folder = s.value(KEY) if s is not None else None
    if isinstance(folder, str) and folder and Path(folder).is_dir():
        return str(Path(folder) / name) if name else folder
    return name


def remember(owner: Any, path: str) -> None:
    """Remember the folder of ``path`` (a file just chosen in a dialog)."""
    s = _settings_of(owner)
    if s is not None and path:
        s.setValue(KEY, str(Path(path).resolve().parent))


def get_open_file_name(owner: Any, title: str, name: str, filters: str) -> tuple[str, str]:
    """``QFileDialog.getOpenFileName`` opening in the last folder used; remembers the folder chosen."""
    from PySide6 import QtWidgets

    path, chosen = QtWidgets.QFileDialog.getOpenFileName(owner, title, start_path(owner, name), filters)
    if path:
        remember(owner, path)
    return path, chosen


def get_save_file_name(owner: Any, title: str, name: str, filters: str) -> tuple[str, str]:
    """``QFileDialog.getSaveFileName`` opening in the last folder used (``name`` may be a full path
    already); remembers the folder chosen."""
    from PySide6 import QtWidgets

    start = name if Path(name).is_absolute() else start_path(owner, name)
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(owner, title, start, filters)
    if path:
        remember(owner, path)
    return path, chosen
