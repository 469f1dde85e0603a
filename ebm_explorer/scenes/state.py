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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ebm_explorer.core.atomic import save_npz_atomic
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.safe_io import load_npz, printable

__all__ = ["STATE_FORMAT_VERSION", "SavedRun", "save_run_states", "load_run_states", "optimizer_to_bytes",
           "optimizer_from_bytes", "saved_run", "run_state"]

STATE_FORMAT_VERSION = 1
#: autosave state files bigger than this (uncompressed arrays) are not read: 1e7 walkers are ~400 MB
MAX_STATE_BYTES = 1024 ** 3


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


def saved_run(kind: str, state: dict[str, Any]) -> SavedRun:
    """A run's ``state_dict()`` (a training run's :meth:`Trainer.state_dict`, or a sampling run's
    ``{"step", "walkers"}``) in the file's layout."""
    if kind == "sample":
        return SavedRun("sample", int(state["step"]), np.asarray(state["walkers"], dtype=np.float64))
    return SavedRun("train", int(state["iteration"]), np.asarray(state["walkers"], dtype=np.float64),
                    log_weights=np.asarray(state["log_weights"], dtype=np.float64),
                    params={k: np.asarray(v).copy() for k, v in state["params"].items()},
                    optimizer=optimizer_to_bytes(state["optimizer"]) if state.get("optimizer") else b"",
                    scalars={"log_z_ref": float(state["log_z_ref"]), "resample_count": float(state["resample_count"])})


def run_state(saved: SavedRun) -> dict[str, Any]:
    """The ``state_dict()`` layout of a saved run, for its run's ``load_state_dict``."""
    if saved.kind == "sample":
        return {"step": int(saved.step), "walkers": saved.positions}
    state: dict[str, Any] = {"iteration": int(saved.step), "walkers": saved.positions, "log_weights": saved.log_weights,
                             "params": dict(saved.params),
                             "optimizer": optimizer_from_bytes(saved.optimizer) if saved.optimizer else None}
    if "log_z_ref" in saved.scalars:
        state["log_z_ref"] = saved.scalars["log_z_ref"]
    if "resample_count" in saved.scalars:
        state["resample_count"] = int(saved.scalars["resample_count"])
    return state


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


def _int_scalar(data: dict[str, np.ndarray], key: str, p: Path) -> int:
    """A 0-d integer array of the file as an int; anything else (a string, an array) is a clear error."""
    v = data[key]
    if v.shape != () or v.dtype.kind not in "iu":
        raise UserInputError(f"{printable(p)}: {key} is not an integer (dtype {v.dtype}, shape {v.shape}): "
                             f"corrupt state file?")
    return int(v)


def load_run_states(path: str | os.PathLike[str], max_bytes: int = MAX_STATE_BYTES) -> list[SavedRun]:
    """Read a file written by :func:`save_run_states`; clear errors for anything else (bounded reads,
    headers checked before loading, every type checked)."""
    p = Path(path)
    data = load_npz(p, "state file", max_bytes)
    if "format_version" not in data:
        raise UserInputError(f"{printable(p)}: no format_version: not an EBM Explorer state file")
    try:
        version = _int_scalar(data, "format_version", p)
        if version != STATE_FORMAT_VERSION:
            raise UserInputError(f"{printable(p)}: state format_version {version} is not supported (this version "
                                 f"reads {STATE_FORMAT_VERSION})")
        n_runs = _int_scalar(data, "n_runs", p)
        if not 0 <= n_runs <= 16:
            raise UserInputError(f"{printable(p)}: n_runs {n_runs} is out of range: corrupt state file?")
        runs = []
        for i in range(n_runs):
            pre = f"run{i}_"
            pos = data[pre + "positions"]
            if pos.ndim != 2 or pos.shape[1] != 2 or pos.dtype.kind != "f":
                raise UserInputError(f"{printable(p)}: run {i} positions have shape {pos.shape}, expected (N, 2)")
            kind = data[pre + "kind"]
            if kind.shape != () or kind.dtype.kind != "U" or str(kind) not in ("sample", "train"):
                raise UserInputError(f"{printable(p)}: run {i} kind is not sample or train: corrupt state file?")
            logw = data.get(pre + "log_weights")
            if logw is not None and (logw.shape != (pos.shape[0],) or logw.dtype.kind != "f"):
                raise UserInputError(f"{printable(p)}: run {i} log_weights do not match its walkers")
            opt = data.get(pre + "optimizer")
            if opt is not None and (opt.ndim != 1 or opt.dtype != np.uint8):
                raise UserInputError(f"{printable(p)}: run {i} optimizer state is damaged")
            scalars = {}
            for k, v in data.items():
                if k.startswith(pre + "scalar:"):
                    if v.shape != () or v.dtype.kind not in "fiu":
                        raise UserInputError(f"{printable(p)}: {printable(k)} is not a number")
                    scalars[k[len(pre) + 7:]] = float(v)
            runs.append(SavedRun(
                kind=str(kind),
                step=_int_scalar(data, pre + "step", p),
                positions=pos,
                log_weights=logw,
                params={k[len(pre) + 6:]: v for k, v in data.items() if k.startswith(pre + "param:")},
                optimizer=opt.tobytes() if opt is not None else b"",
                scalars=scalars,
            ))
    except KeyError as exc:
        raise UserInputError(f"{printable(p)}: state file is missing {printable(exc.args[0])!r} (truncated?)") from None
    return runs
