"""Crash recovery on disk (no Qt): one autosave slot per session, and a scan that never fails.

Every running session saves into its own folder ``session-<start time>-<pid>`` of the autosave folder
(``scene.toml`` + ``state.npz``), so two sessions never write over each other and a session whose
restore question is still open keeps saving its own work. At start-up :func:`scan_slots` lists the
slots of sessions that are no longer running (their pid is gone), newest first; a slot that cannot be
read, for any reason, is moved into ``damaged/`` and reported as "the previous session could not be
restored (reason); it was kept as <folder>". Reads are bounded (:mod:`ebm_explorer.core.safe_io`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ebm_explorer.core.atomic import clean_stale_temps
from ebm_explorer.core.safe_io import printable
from ebm_explorer.scenes.io import load_scene
from ebm_explorer.scenes.model import Scene
from ebm_explorer.scenes.state import SavedRun, load_run_states

__all__ = ["SCENE_FILE", "STATE_FILE", "DAMAGED_DIR", "Recoverable", "ScanResult", "new_slot_name", "scan_slots",
           "remove_slot", "MAX_SLOTS_READ"]

SCENE_FILE = "scene.toml"
STATE_FILE = "state.npz"
DAMAGED_DIR = "damaged"
#: at most this many slots are read at start-up (newest first); older ones stay on disk untouched
MAX_SLOTS_READ = 8
_SLOT = re.compile(r"^session-(\d{8}-\d{6})-(\d+)(?:-(\d+))?$")


def new_slot_name(pid: int | None = None, now: float | None = None, directory: Path | None = None) -> str:
    """``session-YYYYmmdd-HHMMSS-<pid>[-n]``: the folder of this session's autosave (``-n`` when a
    folder of that name already exists in ``directory``)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    name = f"session-{stamp}-{os.getpid() if pid is None else pid}"
    k = 1
    while directory is not None and os.path.lexists(directory / (name if k == 1 else f"{name}-{k}")):
        k += 1
    return name if k == 1 else f"{name}-{k}"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@dataclass
class Recoverable:
    """A session that ended without closing and can be put back."""

    folder: Path
    scene: Scene
    runs: list[SavedRun]
    saved_at: float  # seconds since the epoch (newest file of the slot)

    @property
    def label(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        steps = ", ".join(f"{r.kind} step {r.step:,}" for r in self.runs) or "settings only"
        return f"{when} — “{printable(self.scene.title, 60)}” ({steps})"


@dataclass
class ScanResult:
    recoverable: list[Recoverable] = field(default_factory=list)  # newest first
    problems: list[str] = field(default_factory=list)  # one line per slot moved aside (or not readable)


def _move_aside(directory: Path, slot: Path) -> Path:
    """Move a damaged slot into ``damaged/`` (kept for the user); returns where it is now."""
    dest_dir = directory / DAMAGED_DIR
    try:
        dest_dir.mkdir(exist_ok=True)
        dest = dest_dir / slot.name
        k = 1
        while os.path.lexists(dest):
            dest = dest_dir / f"{slot.name}.{k}"
            k += 1
        os.replace(slot, dest)
        return dest
    except OSError:
        return slot  # cannot move (read-only folder?): left where it is, still reported


def _adopt_legacy(directory: Path) -> None:
    """Files of the one-slot layout (``scene.toml``/``state.npz`` directly in the folder) become a slot."""
    old = [directory / n for n in (SCENE_FILE, STATE_FILE) if os.path.lexists(directory / n)]
    if not old:
        return
    mtime = max((p.lstat().st_mtime for p in old), default=time.time())
    slot = directory / new_slot_name(pid=0, now=mtime, directory=directory)
    with contextlib.suppress(OSError):
        slot.mkdir(exist_ok=True)
        for p in old:
            os.replace(p, slot / p.name)


def _read_slot(slot: Path) -> Recoverable:
    """Load one slot; raises on any problem (the caller moves it aside)."""
    if slot.is_symlink() or not slot.is_dir():
        raise ValueError("not a folder")
    scene_path, state_path = slot / SCENE_FILE, slot / STATE_FILE
    if not os.path.lexists(scene_path):
        raise ValueError(f"no {SCENE_FILE}")
    scene, _warnings = load_scene(scene_path)
    runs = load_run_states(state_path) if os.path.lexists(state_path) else []
    saved_at = max(p.lstat().st_mtime for p in (scene_path, state_path) if os.path.lexists(p))
    return Recoverable(slot, scene, runs, saved_at)


def scan_slots(directory: str | os.PathLike[str], own: str | None = None) -> ScanResult:
    """The recoverable sessions in ``directory`` (not running, not ``own``), newest first; damaged
    ones are moved aside and reported. Never raises."""
    d = Path(directory)
    out = ScanResult()
    try:
        if not d.is_dir():
            return out
        clean_stale_temps(d)
        _adopt_legacy(d)
        slots = []
        for entry in os.scandir(d):
            m = _SLOT.match(entry.name)
            if m is None or entry.name == own:
                continue
            if _alive(int(m.group(2))) and int(m.group(2)) != os.getpid():
                continue  # another window of the app is running and saving there
            slots.append((m.group(1), int(m.group(3) or 1), Path(entry.path)))
        slots.sort(reverse=True)
    except Exception as exc:  # noqa: BLE001 - start-up never fails because of this folder
        out.problems.append(f"the autosave folder {printable(d)} cannot be read ({printable(exc, 120)}): "
                            f"previous sessions are not offered")
        return out
    for _stamp, _n, slot in slots[:MAX_SLOTS_READ]:
        try:
            with contextlib.suppress(OSError):
                if slot.is_dir() and not slot.is_symlink():
                    clean_stale_temps(slot)
                    if not any(slot.iterdir()):
                        slot.rmdir()  # a session that never saved
                        continue
            out.recoverable.append(_read_slot(slot))
        except Exception as exc:  # noqa: BLE001 - any damage: moved aside and reported, never raised
            kept = _move_aside(d, slot)
            reason = printable(str(exc).replace(str(slot), "").strip(": ") or type(exc).__name__, 160)
            out.problems.append(f"the previous session could not be restored ({reason}); it was kept as "
                                f"{printable(kept)}")
    out.recoverable.sort(key=lambda r: r.saved_at, reverse=True)
    return out


def remove_slot(folder: str | os.PathLike[str]) -> None:
    """Delete one slot folder and its files (quietly: it may already be gone)."""
    with contextlib.suppress(OSError):
        shutil.rmtree(folder)
