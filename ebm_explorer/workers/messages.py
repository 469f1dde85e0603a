"""Everything that crosses from a worker thread to the UI: frozen dataclasses of numpy copies.

Workers never hand out live tensors or buffers they keep writing to; every array here is a fresh
numpy copy, so the UI may keep a message as long as it likes and tests can compare fields directly.
``NaN`` marks a quantity that does not apply to a run (e.g. a log Z estimate while only sampling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ebm_explorer.export.metrics_history import Metrics  # one metrics point type, shared with headless runs

__all__ = [
    "Metrics",
    "WalkerSnapshot",
    "TrainingExtras",
    "RunSnapshot",
    "ReferenceReady",
    "JobDone",
    "WorkerError",
    "RunState",
]

NAN = float("nan")


@dataclass(frozen=True)
class WalkerSnapshot:
    """What the landscape view draws for one run at one instant."""

    points: np.ndarray  # (k, 2) float32, a fixed subset of the walkers (all when few)
    point_energy: np.ndarray  # (k,) float32, U at those points (3-D view height)
    hist: np.ndarray  # (B, B) float32 [iy, ix], walker density over the box (integrates to the inside fraction)
    hist_x: np.ndarray  # (B,) float32 marginal density of the walkers along x
    hist_y: np.ndarray  # (B,) float32 along y
    trails: np.ndarray  # (T, k_trail, 2) float32, recent positions of the traced walkers
    proposal_from: np.ndarray | None = None  # (2,) selected walker before the last step
    proposal_to: np.ndarray | None = None  # (2,) its last proposal
    proposal_accepted: bool | None = None
    hmc_path: np.ndarray | None = None  # (L + 1, 2) leapfrog path of the selected walker
    flagged: np.ndarray | None = None  # (f, 2) walkers held by the blow-up rule (frozen), drawn apart


@dataclass(frozen=True)
class TrainingExtras:
    """Training-only pieces of a snapshot: data, negative samples and the learned energy."""

    data: np.ndarray  # (k, 2) float32 subset of the data points
    model_energy: np.ndarray  # (R, R) float32 learned energy on the display grid [iy, ix]
    model_density: np.ndarray  # (R, R) float32 learned density exp(-U)/Z on the grid
    iteration: int
    model_spec: dict[str, Any] | None = None  # enough to rebuild the learned landscape (mixture)


@dataclass(frozen=True)
class RunSnapshot:
    """The newest state of a run: walkers, metrics and (training) the learned model."""

    run_id: int
    step: int
    n_walkers: int
    steps_per_s: float
    walkers: WalkerSnapshot
    metrics: Metrics | None  # None when no new metrics point was computed for this snapshot
    training: TrainingExtras | None = None
    n_flagged: int = 0  # walkers currently frozen after blowing up (NaN/inf or diverged)
    n_blowup_events: int = 0  # walkers that blew up since the last reset (frozen or reset)
    blowup_rule: str = ""  # freeze | reset (sampling runs)
    notice: str = ""  # something the user should know about this run (e.g. cuda fell back to cpu)
    reset_note: str = ""  # walkers restarted after the last landscape change, and why ('' when none)
    reset_serial: int = 0  # which landscape change ``reset_note`` belongs to


@dataclass(frozen=True)
class ReferenceReady:
    """The exact grid reference of a landscape plus display-ready pieces (computed off the UI thread)."""

    version: int
    reference: Any  # GridReference (arrays are never modified after construction)
    contours: np.ndarray  # (P, 2) float32 contour polylines separated by NaN rows
    energy_levels: tuple[float, float]  # colour range for the energy image
    density_image: np.ndarray  # (R, R) float32
    energy_image: np.ndarray  # (R, R) float32, clipped to energy_levels


@dataclass(frozen=True)
class JobDone:
    """A one-off background job finished (reference, thumbnails, sweep curves); ``key`` is its typed
    ``workers.commands.JobKey``."""

    key: Any
    result: Any


@dataclass(frozen=True)
class WorkerError:
    """A failure in a worker: shown to the user, the run stops, the app carries on."""

    run_id: int
    message: str
    traceback: str = ""


@dataclass(frozen=True)
class RunState:
    """A run changed state: ``running``, ``paused``, ``failed`` or ``stopped``."""

    run_id: int
    state: str
