"""One background thread for short jobs (grid reference, preset thumbnails), newest request wins.

Editing a landscape asks for a new reference many times per second; the job thread keeps only the
latest request per key, so it never falls behind and the UI never waits for it.
"""

from __future__ import annotations

import threading
import traceback
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import torch

from ebm_explorer.core.landscapes import Landscape
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.workers.base import compute_threads, describe_error, join_thread, lower_thread_priority
from ebm_explorer.workers.display import contour_lines, energy_range
from ebm_explorer.workers.commands import JobKey, ReferenceKey
from ebm_explorer.workers.messages import JobDone, ReferenceReady, WorkerError

from PySide6 import QtCore

__all__ = ["JobWorker", "reference_job", "thumbnail_job", "REFERENCE_RESOLUTION"]

#: grid resolution of the reference the app computes when the landscape changes
REFERENCE_RESOLUTION = 256


def reference_job(landscape: Landscape, version: int, resolution: int = REFERENCE_RESOLUTION,
                  progress: Callable[[str, float], None] | None = None) -> ReferenceReady:
    """Exact reference of ``landscape`` plus contours and colour-ready images; ``progress(stage, fraction)``
    is called as each stage starts."""
    ref = compute_reference(landscape, landscape.box, resolution, progress=progress)
    if progress is not None:
        progress("contour lines and images", 0.9)
    lo, hi = energy_range(ref.energy, ref.density)
    energy_img = np.clip(np.nan_to_num(ref.energy, nan=hi, posinf=hi), lo, hi).astype(np.float32)
    return ReferenceReady(
        version=version,
        reference=ref,
        contours=contour_lines(ref.density, ref.box),
        energy_levels=(lo, hi),
        density_image=np.ascontiguousarray(ref.density, dtype=np.float32),
        energy_image=np.ascontiguousarray(energy_img),
    )


def thumbnail_job(landscape: Landscape, size: int = 64) -> np.ndarray:
    """A ``size x size`` float32 image of the density (for the preset gallery), scaled to [0, 1]."""
    b = landscape.box
    xs = torch.linspace(b.xmin, b.xmax, size, dtype=torch.float64)
    ys = torch.linspace(b.ymin, b.ymax, size, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    with torch.no_grad():
        e = landscape.energy(torch.stack((gx.ravel(), gy.ravel()), dim=1)).reshape(size, size).numpy()
    e = np.where(np.isfinite(e), e, np.inf)
    d = np.exp(-(e - np.min(e)))
    return (d / max(float(d.max()), 1e-300)).astype(np.float32)


class JobWorker(QtCore.QThread):
    """Runs submitted callables one at a time; a newer submission with the same key replaces an older one."""

    done = QtCore.Signal(object)  # JobDone
    failed = QtCore.Signal(object, object)  # key, WorkerError
    progress = QtCore.Signal(object, str, float)  # JobKey, stage, fraction done (emitted by jobs that report it)

    #: run before anything else queued: the window waits for it (thumbnails do not)
    PRIORITY_KEY = ReferenceKey()

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()
        self._pending: OrderedDict[JobKey, Callable[[], Any]] = OrderedDict()
        self._stopping = False
        self._busy = False

    def submit(self, key: JobKey, fn: Callable[[], Any]) -> None:
        """Run ``fn`` in the job thread; its result comes back as ``JobDone(key, result)``."""
        with self._cond:
            self._pending.pop(key, None)
            self._pending[key] = fn
            self._cond.notify()

    def idle(self) -> bool:
        """True when nothing is queued or running (tests wait on this)."""
        with self._cond:
            return not self._pending and not self._busy

    def stop(self, timeout_ms: int | None = None) -> bool:
        """Drop queued jobs and join the thread after the running one (by default however long it takes)."""
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify()
        return join_thread(self, timeout_ms)

    def run(self) -> None:
        torch.set_num_threads(compute_threads())  # leave a core to the UI thread (see compute_threads)
        lower_thread_priority()
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                key = self.PRIORITY_KEY if self.PRIORITY_KEY in self._pending else next(iter(self._pending))
                fn = self._pending.pop(key)
                self._busy = True
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - reported to the UI, the thread lives on
                self.failed.emit(key, WorkerError(-1, describe_error(exc), traceback.format_exc()))
            else:
                self.done.emit(JobDone(key, result))
            finally:
                with self._cond:
                    self._busy = False
