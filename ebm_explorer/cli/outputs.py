"""Where a command may write: never over a file it read, never into a folder of someone else's files.

Checked before anything runs, so a bad ``--out`` costs nothing: the target must not be a directory,
a FIFO or a device; its folder must exist or be creatable (no regular file on the way) and be
writable; and it must not be (same resolved path, or same device and inode) any file the command
read (:func:`ebm_explorer.core.safe_io.files_read`). ``run --out DIR`` also refuses a folder holding
files it did not write itself (listed in ``DIR/.ebm-explorer-run``) unless ``--force``, and never
writes over the scene it runs, even with ``--force``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ebm_explorer.core.atomic import TEMP_MARKER, atomic_open
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.safe_io import files_read, printable

__all__ = ["check_output_file", "check_output_dir", "record_run_outputs", "MANIFEST"]

#: the list of files ``run`` wrote into its output folder (one name a line)
MANIFEST = ".ebm-explorer-run"


def _first_existing(folder: Path) -> Path:
    a = folder
    while not os.path.lexists(a) and a != a.parent:
        a = a.parent
    return a


def _check_folder(folder: Path, flag: str) -> None:
    """``folder`` exists or can be created, and is writable."""
    a = _first_existing(folder)
    if os.path.lexists(a) and not a.is_dir():
        raise UserInputError(f"{flag}: {printable(a)} is a file, not a folder: cannot write under it")
    if not os.access(a, os.W_OK | os.X_OK):
        raise UserInputError(f"{flag}: folder {printable(a)} is not writable (read-only?): choose another place")


def _input_clash(target: Path) -> Path | None:
    """The input file ``target`` would replace, if any (same inode, or same path after resolving links)."""
    inputs = files_read()
    try:
        st = os.stat(target)
    except OSError:
        st = None
    if st is not None and (st.st_dev, st.st_ino) in inputs:
        return inputs[(st.st_dev, st.st_ino)]
    resolved = target.resolve()
    return next((p for p in inputs.values() if p == resolved), None)


def check_output_file(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """Refuse (one line) an output path that cannot or must not be written; returns it."""
    p = Path(path)
    if str(path) == "":
        raise UserInputError(f"{flag}: give a file name")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise UserInputError(f"{flag}: {printable(p)}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise UserInputError(f"{flag}: {printable(p)}: {exc.strerror or exc}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UserInputError(f"{flag}: {printable(p)} is a directory: give a file name inside it")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UserInputError(f"{flag}: {printable(p)} is not a regular file (a FIFO or a device?)")
    _check_folder(p.parent if str(p.parent) else Path("."), flag)
    clash = _input_clash(p)
    if clash is not None:
        raise UserInputError(f"{flag}: {printable(p)} is an input of this command ({printable(clash)}): "
                             f"writing it would destroy it; choose another file")
    return p


def _manifest(folder: Path) -> set[str]:
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return {line.strip() for line in text.splitlines()[:10_000] if line.strip()}


def check_output_dir(path: str | os.PathLike[str], will_write: list[str], force: bool = False,
                     flag: str = "--out") -> Path:
    """Refuse an output folder that is a file, not writable, holds inputs of this command among the
    files to write, or (without ``force``) holds files that an earlier ``run`` did not write."""
    d = Path(path)
    if str(path) == "":
        raise UserInputError(f"{flag}: give a folder name")
    if os.path.lexists(d) and not d.is_dir():
        raise UserInputError(f"{flag}: {printable(d)} exists and is not a folder")
    _check_folder(d, flag)
    for name in will_write:
        clash = _input_clash(d / name)
        if clash is not None:
            raise UserInputError(f"{flag}: {printable(d / name)} would replace an input of this command "
                                 f"({printable(clash)}): choose another folder")
    if d.is_dir() and not force:
        ours = _manifest(d) | {MANIFEST}
        try:
            foreign = sorted(e.name for e in os.scandir(d) if e.name not in ours and TEMP_MARKER not in e.name)
        except OSError as exc:
            raise UserInputError(f"{flag}: cannot list {printable(d)}: {exc.strerror or exc}") from None
        if foreign:
            shown = ", ".join(printable(n, 40) for n in foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise UserInputError(f"{flag}: {printable(d)} already holds files this command did not write "
                                 f"({shown}): choose an empty or new folder, or add --force")
    return d


def record_run_outputs(folder: str | os.PathLike[str], written: list[Path]) -> None:
    """Add ``written`` to the folder's manifest, so a later ``run`` into it may replace them."""
    d = Path(folder)
    names = sorted(_manifest(d) | {Path(p).name for p in written})
    with atomic_open(d / MANIFEST, "w", encoding="utf-8") as fh:
        fh.write("\n".join(names) + "\n")
