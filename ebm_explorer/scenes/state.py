"""The latest state of the runs (walkers, log weights, trained parameters, optimiser, step), as one NPZ.

Written by the GUI's autosave next to the scene (atomic: a kill mid-write leaves the previous file) and
read back to restore a run after a crash. Every array is plain numpy (``allow_pickle=False``); the
optimiser state, a nested dict, is stored as the bytes of ``torch.save`` and read with
``torch.load(weights_only=True)``. A corrupt, truncated or other-version file is a
:class:`UserInputError` naming the file.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ebm_explorer.core.atomic import save_npz_atomic
from ebm_explorer.core.errors import UserInputError

__all__ = ["STATE_FORMAT_VERSION", "SavedRun", "save_run_states", "load_run_states", "optimizer_to_bytes",
           "optimizer_from_bytes"]

STATE_FORMAT_VERSION = 1


@dataclass
class SavedRun:
    """One run's state: ``kind`` sample|train, ``step`` (iterations for training), walkers ``(N, 2)``."""

    kind: str
    step: int
    positions: np.ndarray
    log_weights: np.ndarray | None = None  # (N,) training (Jarzynski)
    params: dict[str, np.ndarray] = field(default_factory=dict)  # model.state_dict() as numpy
    optimizer: bytes = b""  # torch.save(optimizer.state_dict())
    scalars: dict[str, float] = field(default_factory=dict)  # e.g. log_z_ref, resample_count


def optimizer_to_bytes(state_dict: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    torch.save(state_dict, buf)
    return buf.getvalue()


def optimizer_from_bytes(data: bytes) -> dict[str, Any]:
    return torch.load(io.BytesIO(data), weights_only=True)


def save_run_states(path: str | os.PathLike[str], runs: list[SavedRun]) -> Path:
    """Write ``runs`` to ``path`` (``.npz``) atomically."""
    arrays: dict[str, Any] = {"format_version": np.array(STATE_FORMAT_VERSION), "n_runs": np.array(len(runs))}
    for i, r in enumerate(runs):
        p = f"run{i}_"
        arrays[p + "kind"] = np.array(r.kind)
        arrays[p + "step"] = np.array(int(r.step))
        arrays[p + "positions"] = np.asarray(r.positions, dtype=np.float64)
        if r.log_weights is not None:
            arrays[p + "log_weights"] = np.asarray(r.log_weights, dtype=np.float64)
        for name, value in r.params.items():
            arrays[f"{p}param:{name}"] = np.asarray(value)
        if r.optimizer:
            arrays[p + "optimizer"] = np.frombuffer(r.optimizer, dtype=np.uint8)
        for name, value in r.scalars.items():
            arrays[f"{p}scalar:{name}"] = np.array(float(value))
    save_npz_atomic(path, **arrays)
    return Path(path)


def load_run_states(path: str | os.PathLike[str]) -> list[SavedRun]:
    """Read a file written by :func:`save_run_states`; clear errors for anything else."""
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise UserInputError(f"{p}: no such state file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise UserInputError(f"{p}: not a readable state file (corrupt or truncated?): {exc}") from None
    if "format_version" not in data:
        raise UserInputError(f"{p}: no format_version: not an EBM Explorer state file")
    version = int(data["format_version"])
    if version != STATE_FORMAT_VERSION:
        raise UserInputError(f"{p}: state format_version {version} is not supported (this version reads "
                             f"{STATE_FORMAT_VERSION})")
    try:
        runs = []
        for i in range(int(data["n_runs"])):
            pre = f"run{i}_"
            pos = data[pre + "positions"]
            if pos.ndim != 2 or pos.shape[1] != 2:
                raise UserInputError(f"{p}: run {i} positions have shape {pos.shape}, expected (N, 2)")
            runs.append(SavedRun(
                kind=str(data[pre + "kind"]),
                step=int(data[pre + "step"]),
                positions=pos,
                log_weights=data.get(pre + "log_weights"),
                params={k[len(pre) + 6:]: v for k, v in data.items() if k.startswith(pre + "param:")},
                optimizer=data[pre + "optimizer"].tobytes() if pre + "optimizer" in data else b"",
                scalars={k[len(pre) + 7:]: float(v) for k, v in data.items() if k.startswith(pre + "scalar:")},
            ))
    except KeyError as exc:
        raise UserInputError(f"{p}: state file is missing {exc.args[0]!r} (truncated?)") from None
    return runs
