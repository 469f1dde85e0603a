"""Cancellable, atomic writing of several files at once (no Qt).

Every export goes through :func:`atomic_outputs`: each target gets a temporary file next to it, and
only when *all* of them are written are they renamed onto their targets. A cancel (the ``cancel``
token fires, :class:`ExportCancelled` is raised) or any error removes every temporary file, so
neither a target nor a temp file is left behind.
"""

from __future__ import annotations

import contextlib
import os
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Union

import numpy as np

from ebm_explorer.core.atomic import atomic_path

__all__ = ["ExportCancelled", "CancelToken", "ProgressFn", "check_cancel", "atomic_outputs", "write_npz_streaming",
           "Progress", "npz_units"]

#: ``progress(done, total)`` in work units (frames written); called from the exporting thread
ProgressFn = Callable[[int, int], None]
#: a :class:`threading.Event` or a callable returning True when the user asked to cancel
CancelToken = Union[threading.Event, Callable[[], bool], None]


class ExportCancelled(Exception):
    """The export was cancelled; nothing was written (all temporary files are gone)."""


def check_cancel(cancel: CancelToken) -> None:
    """Raise :class:`ExportCancelled` if ``cancel`` has fired."""
    if cancel is None:
        return
    fired = cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())
    if fired:
        raise ExportCancelled("export cancelled")


class Progress:
    """Counts work units across the files of one export and reports them to ``callback``."""

    def __init__(self, total: int, callback: ProgressFn | None, cancel: CancelToken) -> None:
        self.total = max(int(total), 1)
        self.done = 0
        self._callback = callback
        self._cancel = cancel

    def step(self, units: int = 1) -> None:
        """Advance by ``units``, report, and stop here if the export was cancelled."""
        self.done = min(self.done + units, self.total)
        if self._callback is not None:
            self._callback(self.done, self.total)
        check_cancel(self._cancel)


@contextlib.contextmanager
def atomic_outputs(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield one temporary path per target; rename them all onto the targets only if the block succeeds."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(atomic_path(p)) for p in paths]


def write_npz_streaming(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray], progress: Progress) -> None:
    """Write ``arrays`` as an ``.npz`` (compressed) into ``path``, frame by frame along axis 0.

    Arrays with at least one dimension are streamed in slices of their first axis, one progress unit
    per slice of the arrays named in ``progress``'s plan (see :func:`npz_units`), so a large export can
    be cancelled between slices. ``np.load`` reads the result like any ``np.savez_compressed`` file.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as zf:
        for name, value in arrays.items():
            arr = np.asarray(value)
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                if arr.ndim < 2 or arr.dtype.hasobject or arr.dtype.kind == "U":
                    np.lib.format.write_array(fh, arr, allow_pickle=False)
                    continue
                arr = np.ascontiguousarray(arr)
                np.lib.format.write_array_header_1_0(fh, np.lib.format.header_data_from_array_1_0(arr))
                for row in arr:
                    fh.write(row.tobytes())
                    progress.step()


def npz_units(arrays: Mapping[str, np.ndarray]) -> int:
    """Progress units :func:`write_npz_streaming` reports for ``arrays`` (one per streamed slice)."""
    return sum(int(np.asarray(a).shape[0]) for a in arrays.values()
               if np.asarray(a).ndim >= 2 and np.asarray(a).dtype.kind not in "OU")
