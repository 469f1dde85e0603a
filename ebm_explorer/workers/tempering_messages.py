"""What a tempered run (parallel tempering or annealed SMC) sends to the UI, and the one command only it
takes: frozen dataclasses of numpy copies, like ``messages.py`` and ``commands.py``.

A :class:`TemperedSnapshot` is a :class:`RunSnapshot` (so the landscape views, the live panels, export and
presenter mode show it like any run) plus what only these runs have: the exact density their walkers
should follow now (a replica's tempered density, an SMC level's intermediate one), the walkers'
normalised weights (SMC: drawn as opacity), and a :class:`PTView` or :class:`SMCView` for the tempering
panels. ``NaN`` marks what is not known yet (no reference, a pair never tried).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ebm_explorer.workers.messages import RunSnapshot

__all__ = ["SelectReplica", "PTView", "SMCView", "TemperedSnapshot"]


@dataclass(frozen=True)
class SelectReplica:
    """Show replica ``index`` (0: beta = 1) of a PT run: its walkers over its own tempered density."""

    index: int


@dataclass(frozen=True)
class PTView:
    """Parallel tempering: the ladder, swap rates per neighbouring pair, round trips, mode weights."""

    betas: np.ndarray  # (R,) 1 = beta_1 > ... > beta_R
    replica: int  # the replica shown in the landscape view
    swap_acceptance: np.ndarray  # (R - 1,) accepted / tried since the start, NaN for a pair never tried
    swap_attempts: np.ndarray  # (R - 1,) tries per pair (over all chains)
    round_trips: int  # cold -> hot -> cold, over all chains
    replica_acceptance: np.ndarray  # (R,) mean kernel acceptance since the previous snapshot
    mode_weights: np.ndarray  # (M,) beta = 1 replica's walkers
    mode_weights_se: np.ndarray  # (M,) binomial standard error sqrt(m (1 - m) / N) of exact samples
    mode_weights_exact: np.ndarray  # (M,)
    replica_mode_weights: np.ndarray  # (M,) the shown replica's walkers
    replica_mode_weights_exact: np.ndarray  # (M,) of its tempered density


@dataclass(frozen=True)
class SMCView:
    """Annealed SMC: where the walkers are on the path and the histories of ESS and log Z per level."""

    t: float  # level reached, 0 .. 1
    level: int
    finished: bool  # t = 1 reached
    ts: np.ndarray  # (K,) level after each step
    ess: np.ndarray  # (K,) ESS / N after each reweighting (before resampling)
    resampled: np.ndarray  # (K,) islands resampled at each level
    log_z: np.ndarray  # (K,) estimate of log Z_t
    log_z_se: np.ndarray  # (K,) its standard error (from the islands' spread)
    log_z_exact_t: np.ndarray  # (K,) exact log Z_t on the grid (NaN before the reference arrives)
    log_z_exact: float  # exact log Z of the landscape (t = 1)
    log_z_start: float  # log Z_0 of the start density (exact)
    mode_weights: np.ndarray  # (M,) weighted walkers
    mode_weights_se: np.ndarray  # (M,) from the islands' spread
    mode_weights_exact: np.ndarray  # (M,) of the landscape (t = 1)
    islands: int


@dataclass(frozen=True)
class TemperedSnapshot(RunSnapshot):
    """A snapshot of a tempered run (see the module docstring)."""

    algorithm: str = "pt"  # pt | smc
    background: np.ndarray | None = None  # (R, R) float32 exact density the walkers should follow now
    background_label: str = ""
    point_alpha: np.ndarray | None = None  # (k,) float32 in (0, 1]: each drawn walker's weight / the largest
    pt: PTView | None = None
    smc: SMCView | None = None
