"""EBM training: CD-k, PCD and Jarzynski-reweighted training with exact grid diagnostics.

``Trainer(model, data, TrainSettings(...), diagnostics).step() -> TrainMetrics``; see ``trainer.py`` for
the order of operations and docs/algorithms.md §4 for the update rules.
"""

from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.training.data import load_points, sample_from_reference, sample_landscape, sample_mixture
from ebm_explorer.core.training.diagnostics import GridDiagnostics, GridValues
from ebm_explorer.core.training.models import MixtureEnergy, MLPModel, TrainableEnergy
from ebm_explorer.core.training.resampling import RESAMPLING_SCHEMES, resample_indices
from ebm_explorer.core.training.trainer import (
    KERNELS,
    METHODS,
    OPTIMIZERS,
    Trainer,
    TrainHistory,
    TrainMetrics,
)

__all__ = [
    "load_points",
    "sample_from_reference",
    "sample_landscape",
    "sample_mixture",
    "GridDiagnostics",
    "GridValues",
    "MixtureEnergy",
    "MLPModel",
    "TrainableEnergy",
    "RESAMPLING_SCHEMES",
    "resample_indices",
    "KERNELS",
    "METHODS",
    "OPTIMIZERS",
    "Trainer",
    "TrainSettings",
    "TrainHistory",
    "TrainMetrics",
]
