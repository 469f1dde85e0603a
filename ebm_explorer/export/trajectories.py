"""Trajectories and metric time series to NPZ and CSV, streamed, cancellable, atomic (no Qt).

A :class:`TrajectoryData` holds a bounded subset of walkers recorded every few steps (what the GUI
keeps in its history and the headless runner collects). :func:`export_trajectories` writes, for one
run, any of: an NPZ with the trajectory arrays, the metric series and the scene text; a long-format
CSV ``step, walker, x, y, energy, accepted, log_weight`` (one row per recorded step and walker); a
wide CSV of the metric series; and the scene TOML. All files appear together or not at all.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.safe_io import printable, read_text
from ebm_explorer.export.streaming import (
    CancelToken,
    Progress,
    ProgressFn,
    atomic_outputs,
    check_cancel,
    npz_units,
    write_npz_streaming,
)

__all__ = ["TrajectoryData", "TRAJECTORY_COLUMNS", "export_trajectories", "read_trajectory_csv"]

TRAJECTORY_COLUMNS = ("step", "walker", "x", "y", "energy", "accepted", "log_weight")
#: trajectory CSVs bigger than this are refused by the reader (use the NPZ for large recordings)
MAX_TRAJECTORY_CSV_BYTES = 1024 ** 3


@dataclass(frozen=True)
class TrajectoryData:
    """Recorded walkers: ``T`` recorded steps of ``W`` walkers.

    ``steps (T,)`` int step index of each record (0 = start); ``walkers (W,)`` int index of each
    recorded walker in the full population; ``positions (T, W, 2)``; ``energy (T, W)``; ``accepted
    (T, W)`` bool (the move that led to this record; True at step 0 and for ULA); ``log_weight (T, W)``
    (Jarzynski log weights; 0 for plain sampling).
    """

    steps: np.ndarray
    walkers: np.ndarray
    positions: np.ndarray
    energy: np.ndarray
    accepted: np.ndarray
    log_weight: np.ndarray

    def __post_init__(self) -> None:
        t, w = len(self.steps), len(self.walkers)
        shapes = {"positions": (t, w, 2), "energy": (t, w), "accepted": (t, w), "log_weight": (t, w)}
        for name, shape in shapes.items():
            if np.shape(getattr(self, name)) != shape:
                raise UserInputError(f"trajectory {name} must have shape {shape}, got {np.shape(getattr(self, name))}")

    @property
    def n_records(self) -> int:
        return int(len(self.steps))

    @property
    def n_walkers(self) -> int:
        return int(len(self.walkers))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"steps": np.asarray(self.steps, dtype=np.int64), "walkers": np.asarray(self.walkers, dtype=np.int64),
                "positions": np.asarray(self.positions), "energy": np.asarray(self.energy),
                "accepted": np.asarray(self.accepted, dtype=bool), "log_weight": np.asarray(self.log_weight)}


def _float_format(dtype: np.dtype) -> str:
    """Shortest printf format that round-trips ``dtype`` exactly."""
    return "%.9g" if np.dtype(dtype).itemsize <= 4 else "%.17g"


def _write_trajectory_csv(fh, data: TrajectoryData, progress: Progress) -> None:
    ff = _float_format(np.asarray(data.positions).dtype)
    fe = _float_format(np.asarray(data.energy).dtype)
    fw = _float_format(np.asarray(data.log_weight).dtype)
    fmt = ",".join(["%d", "%d", ff, ff, fe, "%d", fw])
    fh.write(",".join(TRAJECTORY_COLUMNS) + "\n")
    walkers = np.asarray(data.walkers, dtype=np.int64)
    for t in range(data.n_records):
        block = np.empty((data.n_walkers, 7), dtype=object)
        block[:, 0] = int(data.steps[t])
        block[:, 1] = walkers
        block[:, 2] = data.positions[t, :, 0]
        block[:, 3] = data.positions[t, :, 1]
        block[:, 4] = data.energy[t]
        block[:, 5] = np.asarray(data.accepted[t], dtype=np.int64)
        block[:, 6] = data.log_weight[t]
        np.savetxt(fh, block, fmt=fmt, delimiter=",")
        progress.step()


def _write_metrics_csv(fh, metrics: Mapping[str, np.ndarray], progress: Progress) -> None:
    names = list(metrics)
    cols = [np.asarray(metrics[n]) for n in names]
    n = len(cols[0]) if cols else 0
    fh.write(",".join(names) + "\n")
    for i in range(n):
        fh.write(",".join(repr(float(c[i])) if c.dtype.kind == "f" else str(c[i].item()) for c in cols) + "\n")
    progress.step()


def _check_metrics(metrics: Mapping[str, np.ndarray]) -> None:
    lengths = {name: np.shape(v) for name, v in metrics.items()}
    if any(len(s) != 1 for s in lengths.values()) or len({s[0] for s in lengths.values()}) > 1:
        raise UserInputError(f"metric series must be 1-D arrays of one length, got shapes {lengths}")
    for name in metrics:
        if "," in name or "\n" in name:
            raise UserInputError(f"metric name {name!r} cannot contain commas or newlines")


def export_trajectories(
    data: TrajectoryData | None,
    *,
    npz_path: str | os.PathLike[str] | None = None,
    csv_path: str | os.PathLike[str] | None = None,
    metrics: Mapping[str, np.ndarray] | None = None,
    metrics_csv_path: str | os.PathLike[str] | None = None,
    scene_toml: str | None = None,
    scene_path: str | os.PathLike[str] | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken = None,
) -> list[Path]:
    """Write the requested files for one run, all atomically together; returns the paths written.

    ``npz_path``: trajectory arrays (``steps, walkers, positions, energy, accepted, log_weight``),
    the metric series as ``metric_<name>`` and the scene text as ``scene_toml`` (0-d string).
    ``csv_path``: the long-format trajectory CSV. ``metrics_csv_path``: the metric series, one column
    each (they must share one length; put their step index in a column such as ``step``).
    ``scene_path``: ``scene_toml`` as a file. ``progress(done, total)`` is called after every frame;
    ``cancel`` (an Event or a callable) aborts with :class:`ExportCancelled` and leaves nothing behind.
    """
    metrics = dict(metrics or {})
    _check_metrics(metrics)
    if (npz_path or csv_path) and data is None:
        raise UserInputError("no trajectory recorded: nothing to write to NPZ/CSV")
    if (scene_path is not None) and scene_toml is None:
        raise UserInputError("no scene text given for the scene file")
    if metrics_csv_path is not None and not metrics:
        raise UserInputError("no metric series to write")
    targets = [p for p in (npz_path, csv_path, metrics_csv_path, scene_path) if p is not None]
    if not targets:
        raise UserInputError("nothing to export: give at least one output path")

    npz_arrays: dict[str, np.ndarray] = {}
    if npz_path is not None and data is not None:
        npz_arrays.update(data.arrays())
        npz_arrays.update({f"metric_{k}": np.asarray(v) for k, v in metrics.items()})
        if scene_toml is not None:
            npz_arrays["scene_toml"] = np.asarray(scene_toml)
    total = (npz_units(npz_arrays) + (data.n_records if csv_path is not None and data is not None else 0)
             + (metrics_csv_path is not None) + (scene_path is not None))
    prog = Progress(total, progress, cancel)
    check_cancel(cancel)
    try:
        with atomic_outputs(targets) as temps:
            tmp = dict(zip(map(str, targets), temps))
            if npz_path is not None:
                write_npz_streaming(tmp[str(npz_path)], npz_arrays, prog)
            if csv_path is not None and data is not None:
                with open(tmp[str(csv_path)], "w", encoding="utf-8", newline="") as fh:
                    _write_trajectory_csv(fh, data, prog)
            if metrics_csv_path is not None:
                with open(tmp[str(metrics_csv_path)], "w", encoding="utf-8", newline="") as fh:
                    _write_metrics_csv(fh, metrics, prog)
            if scene_path is not None:
                Path(tmp[str(scene_path)]).write_text(scene_toml or "", encoding="utf-8")
                prog.step()
    except OSError as exc:
        raise UserInputError(f"cannot write export: {exc.strerror or exc} ({exc.filename or targets[0]})") from None
    return [Path(p) for p in targets]


def read_trajectory_csv(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The columns of a trajectory CSV written by :func:`export_trajectories` (for checks and scripts)."""
    p = Path(path)
    fh = io.StringIO(read_text(p, "trajectory CSV", MAX_TRAJECTORY_CSV_BYTES))
    header = fh.readline().strip().split(",")
    if tuple(header) != TRAJECTORY_COLUMNS:
        raise UserInputError(f"{printable(p)}: not a trajectory CSV (header {printable(repr(header), 80)})")
    try:
        table = np.loadtxt(fh, delimiter=",", ndmin=2)
    except (ValueError, OverflowError, MemoryError) as exc:
        raise UserInputError(f"{printable(p)}: cannot read trajectory CSV: {printable(exc, 120)}") from None
    if table.size == 0:
        table = np.zeros((0, len(TRAJECTORY_COLUMNS)))
    return {name: table[:, i] for i, name in enumerate(TRAJECTORY_COLUMNS)}
