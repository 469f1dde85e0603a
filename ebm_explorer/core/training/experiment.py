"""The authors' Gaussian-mixture mode-weight experiment (docs/algorithms.md §5, GMM.py) in 2-D.

Teacher: identity-covariance modes at (-10, 0) and (6, 0) with masses 1/4 and 3/4; data n = 10^4 with
exactly 2500 points from the first mode. Student: the same family with means near the origin
(``0.01 N(0, I)``, then ``a_11 = -0.1``, ``a_21 = +0.1``), ``z = 0`` (masses 1/2, 1/2), ``z_1`` frozen.
ULA h = 0.1, 10^4 walkers, 8000 plain-GD iterations, learning rates 0.0025 (means) and 0.0125 (z);
CD resets the walkers to data every 4 iterations with 10x learning rates; Jarzynski starts from exact
samples (N/2 per student mode) and resamples when GMM.py's ``CV^2 > 0.2``, i.e. ``ESS/N < 1/1.2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.training.data import sample_mixture
from ebm_explorer.core.training.diagnostics import GridDiagnostics
from ebm_explorer.core.training.fused_mixture import FusedMixtureTrainer
from ebm_explorer.core.training.jarzynski import cv2_threshold_to_ess
from ebm_explorer.core.training.models import MixtureEnergy
from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.training.trainer import Trainer
from ebm_explorer.core.types import Box

__all__ = ["ModeWeightSettings", "ModeWeightRun", "mode_weight_target", "run_mode_weight_method"]

TRUE_FIRST_MASS = 0.25


@dataclass(frozen=True)
class ModeWeightSettings:
    iterations: int = 8000
    walkers: int = 10_000
    data_size: int = 10_000
    step_size: float = 0.1
    lr_means: float = 0.2 * (1 / 8) * 0.1  # GMM.py: alph * dt = 0.0025
    lr_z: float = (1 / 8) * 0.1  # GMM.py: zdt = 0.0125
    cd_lr_factor: float = 10.0
    cd_reset: int = 4
    cv2_threshold: float = 0.2
    resampling: str = "systematic"
    diagnostics_every: int = 10  # fused runs: exact grid diagnostics this often, and at the last iteration
    grid_resolution: int = 64  # exact for unit Gaussians already (midpoint rule, error ~ e^{-2 pi^2 / dx^2})
    box: tuple[float, float, float, float] = (-15.0, 11.0, -5.0, 5.0)


@dataclass
class ModeWeightRun:
    method: str
    seed: int
    history: dict[str, np.ndarray]  # history_* arrays of the trainer
    first_mass: np.ndarray  # (K,) closed-form student mass of the -10 component
    final_means: np.ndarray  # (2, 2)
    seconds: float


def mode_weight_target(settings: ModeWeightSettings) -> GaussianMixture:
    return GaussianMixture([0.25, 0.75], [[-10.0, 0.0], [6.0, 0.0]], box=Box(*settings.box))


def run_mode_weight_method(
    method: str, seed: int, settings: ModeWeightSettings = ModeWeightSettings(),
    diagnostics: GridDiagnostics | None = None,
    should_stop: Callable[[], bool] | None = None,
    fused: bool = True,
) -> ModeWeightRun:
    """One method, one seed: returns the per-iteration histories and the run time (``should_stop()``,
    asked before every iteration, ends it early: the histories are then shorter).

    ``fused`` (default): the fused mixture step, exact grid diagnostics every ``diagnostics_every``
    iterations of the settings and at the last one; else the general trainer, diagnostics every iteration."""
    target = mode_weight_target(settings)
    gen = make_generator(seed)
    data = sample_mixture(target, settings.data_size, gen, stratified=True)  # exactly 2500 from mode 1
    means = 0.01 * torch.randn((2, 2), generator=gen, dtype=torch.float64)
    means[0, 0], means[1, 0] = -0.1, 0.1
    model = MixtureEnergy(means, learn_widths=False, freeze_first_z=True, box=target.box)
    factor = settings.cd_lr_factor if method == "cd" else 1.0
    cfg = TrainSettings(
        method=method,
        kernel="ula",
        step_size=settings.step_size,
        cd_steps=1,
        cd_reset=settings.cd_reset if method == "cd" else 1,
        walkers=settings.walkers,
        optimizer="sgd",
        lr=settings.lr_means * factor,
        resample_threshold=cv2_threshold_to_ess(settings.cv2_threshold),
        resample_scheme=settings.resampling,
        cross_fit=False,  # the paper's algorithm; held-out walkers would not change it, only cost time
        seed=seed,
    )
    diag = diagnostics or GridDiagnostics(target.box, target, settings.grid_resolution)
    cls = FusedMixtureTrainer if fused else Trainer
    trainer = cls(model, data, cfg, diag, generator=gen, stratified_init=True,
                  group_lr=(("means", settings.lr_means * factor), ("z", settings.lr_z * factor)),
                  diagnostics_every=settings.diagnostics_every if fused else 1)
    arrays, seconds = trainer.run(settings.iterations, should_stop=should_stop)
    return ModeWeightRun(
        method=method,
        seed=seed,
        history=arrays,
        first_mass=arrays.get("history_param_masses", np.zeros((0, 2)))[:, 0],  # absent: stopped before the first
        final_means=model.means.detach().cpu().numpy().copy(),
        seconds=seconds,
    )


def summarize(values: list[float]) -> tuple[float, float]:
    """Mean and half-range (GMM.py's error bar) of a list of per-seed values."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return math.nan, math.nan
    return float(arr.mean()), float((arr.max() - arr.min()) / 2)
