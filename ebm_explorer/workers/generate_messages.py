"""What a generation run sends to the UI: frozen dataclasses of numpy copies (as ``messages.py``).

A :class:`GenerateSnapshot` carries the frames computed since the previous one (the UI keeps them, so a
time slider can go back over the whole run), the score network's training progress when the score is
learned, and the run's phase. It has the fields the window's status bar and presenter counter read from
every run (``run_id``, ``step``, ``n_walkers``, ``steps_per_s``, ``metrics``, ``training``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GenerationFrame", "ScoreTraining", "GenerateSnapshot", "PHASES"]

#: training the score network | generating | finished
PHASES = ("training", "generating", "finished")


@dataclass(frozen=True)
class GenerationFrame:
    """The run at one time ``t`` (``step`` solver steps from the prior at ``t = 1``; 0: the prior)."""

    step: int
    t: float
    points: np.ndarray  # (k, 2) float32, a fixed subset of the walkers
    weights: np.ndarray  # (k,) float32, N w_i / sum w (1 for equal weights) of those walkers
    density: np.ndarray  # (R, R) float32, exact rho_t at the cell centres of the box [iy, ix]
    arrow_at: np.ndarray  # (A, 2) float32, where the exact score is drawn
    score: np.ndarray  # (A, 2) float32, the exact score of rho_t there
    kl: float  # KL(equal-weight walker histogram || rho_t)
    kl_weighted: float  # after Jarzynski reweighting (NaN without weights)
    kl_floor: float  # noise floor of ``kl``: its expected value for N exact samples of rho_t
    kl_floor_weighted: float  # that of ``kl_weighted``: for as many exact samples as the ESS
    ess: float  # ESS / N
    mode_weights: np.ndarray  # (M,) equal-weight walker mass per mode
    mode_weights_weighted: np.ndarray  # (M,) reweighted (NaN without weights)
    mode_weights_exact: np.ndarray  # (M,) exact mass of rho_t per mode


@dataclass(frozen=True)
class ScoreTraining:
    """Progress of the score network's denoising score matching."""

    iteration: int
    iterations: int
    loss: float  # mean loss of the last iterations
    seconds: float


@dataclass(frozen=True)
class GenerateSnapshot:
    """The newest state of a generation run and the frames it computed since the last snapshot."""

    run_id: int
    step: int  # solver steps done (annealed Langevin: levels)
    total_steps: int
    n_walkers: int
    steps_per_s: float
    phase: str  # PHASES
    box: tuple[float, float, float, float]  # the box of every frame's density image and arrows
    t_min: float  # where generation ends (0, or two grid cells of noise for a grid landscape)
    frames: tuple[GenerationFrame, ...]  # new since the previous snapshot (step 0 again: the run restarted)
    score_training: ScoreTraining | None = None
    mode_weights_se: np.ndarray | None = None  # (M,) at the end: SE of the (weighted) final masses
    resample_count: int = 0
    notice: str = ""
    metrics: None = None  # generation runs have no sampler metrics (the window's other panels skip them)
    training: None = None
