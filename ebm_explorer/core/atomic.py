"""Atomic file writes: a crash or a cancel never leaves a half-written file behind.

Write to a temporary file in the target's directory, then ``os.replace`` it over the target
(atomic on POSIX and Windows). On any exception the temporary file is removed. A process killed
mid-write (kill -9) cannot remove its temporary file, so every temporary name carries the writer's
process id (``.NAME.ebmtmp-PID-XXXX.ext``): the next write into that folder, and the app's start-up
for its autosave folder, delete the temporary files of writers that are no longer alive.

The finished file gets the permissions of the user's umask (0644 by default), as ``open`` would
give it, not the 0600 of ``mkstemp``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_path", "atomic_open", "save_npz_atomic", "temp_path_next_to", "finish_temp",
           "clean_stale_temps", "TEMP_MARKER"]

#: every temporary name holds ``.ebmtmp-<pid>-``: how stale ones are recognised
TEMP_MARKER = ".ebmtmp-"
_STALE = re.compile(r"^\..+\.ebmtmp-(\d+)-[^/]*$")


def _umask() -> int:
    """The process umask: from /proc (no side effect) or by setting and restoring it."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process
    return True


def clean_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files in ``folder`` left by writers that died mid-write; returns them."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _STALE.match(entry.name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def temp_path_next_to(target: str | os.PathLike[str], suffix: str | None = None) -> Path:
    """A new, empty temporary file beside ``target`` (named so a dead writer's leftover is recognised)."""
    t = Path(target)
    t.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(t.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{t.name}{TEMP_MARKER}{os.getpid()}-", suffix=suffix or t.suffix or ".tmp",
                               dir=t.parent)
    os.close(fd)
    return Path(tmp)


def finish_temp(tmp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Give ``tmp`` the umask's permissions and move it onto ``target`` atomically."""
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only if the block succeeds."""
    tmp_path = temp_path_next_to(path, suffix)
    try:
        yield tmp_path
        finish_temp(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open`` for writing, atomically: the target appears complete or not at all."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def save_npz_atomic(path: str | os.PathLike[str], **arrays: Any) -> None:
    """``np.savez_compressed`` to ``path`` atomically (the ``.npz`` name is kept exactly)."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
