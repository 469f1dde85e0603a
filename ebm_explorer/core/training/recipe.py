"""The one recipe that turns a :class:`TrainSettings` value into data, an initial model and a trainer.

The GUI's training worker, headless ``ebm-explorer run``, ``ebm-explorer train`` all call
:func:`build_trainer`, so the same settings and seed start from the same model and data and give the
same iterations bit for bit wherever they run.

Randomness: the trainer's walkers and kernel draw from ``make_generator(seed, device)``, the data from
``make_generator(seed + 1, "cpu")``, an MLP's initial weights from ``make_generator(seed + 2, "cpu")``.
"""

from __future__ import annotations

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes.base import Landscape
from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.training.data import load_points, sample_landscape
from ebm_explorer.core.training.diagnostics import GridDiagnostics
from ebm_explorer.core.training.fused_mixture import FusedMixtureTrainer, fused_support
from ebm_explorer.core.training.kmeans import kmeans_pp_means
from ebm_explorer.core.training.models import MixtureEnergy, MLPModel, TrainableEnergy
from ebm_explorer.core.training.trainer import Trainer
from ebm_explorer.core.types import Box

__all__ = ["DTYPES", "training_data", "initial_model", "build_trainer", "data_box"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def data_box(points: np.ndarray) -> Box:
    """A box around data points (15% margin, at least 0.5): the domain when there is no landscape."""
    lo, hi = points.min(0), points.max(0)
    pad = np.maximum(0.15 * (hi - lo), 0.5)
    return Box(float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def training_data(settings: TrainSettings, target: Landscape | None) -> torch.Tensor:
    """``(n, 2)`` float64 data: every point of ``settings.data_file``, else ``data_size`` exact samples
    of ``target``."""
    if settings.data_file:
        return torch.as_tensor(load_points(settings.data_file), dtype=torch.float64)
    if target is None:
        raise UserInputError("training needs a landscape to sample data from, or a data file")
    return sample_landscape(target, settings.data_size, make_generator(settings.seed + 1, "cpu"), dtype=torch.float64)


def initial_model(settings: TrainSettings, box: Box, device: torch.device, data: torch.Tensor) -> TrainableEnergy:
    """The starting model.

    Mixture, ``mixture_init = "kmeans++"``: ``components`` means from k-means++ on ``data`` (CPU generator
    seeded with ``seed``), equal masses, a common width of a sixth of the box (it covers the box), widths
    learnt. ``"centre"`` (the paper's start, GMM.py): unit widths, means on a short segment at the box
    centre (+-0.1 along x), first ``z`` frozen, widths fixed. MLP: ``hidden`` layers on ``box``, initial
    weights from seed + 2. Both families have exact samples and log Z (Jarzynski starts there).
    """
    dtype = DTYPES[settings.dtype]
    if settings.model == "gmm":
        m = settings.components
        if settings.mixture_init == "kmeans++":
            means = kmeans_pp_means(data, m, torch.Generator().manual_seed(int(settings.seed)))
            return MixtureEnergy(means, widths=min(box.width, box.height) / 6, box=box, dtype=dtype, device=device)
        cx, cy = (box.xmin + box.xmax) / 2, (box.ymin + box.ymax) / 2
        xs = np.linspace(-0.1, 0.1, m) if m > 1 else np.zeros(1)
        means = np.stack([cx + xs, np.full(m, cy)], axis=1)
        return MixtureEnergy(means, learn_widths=False, freeze_first_z=True, box=box, dtype=dtype, device=device)
    if settings.model == "mlp":
        return MLPModel(box, hidden=tuple(settings.hidden), generator=make_generator(settings.seed + 2, "cpu"),
                        dtype=dtype, device=device)
    raise UserInputError(f"model must be gmm or mlp, got {settings.model!r}")


def build_trainer(settings: TrainSettings, target: Landscape | None, resolution: int = 128,
                  diagnostics_every: int = 1, data: torch.Tensor | None = None, box: Box | None = None,
                  device: torch.device | None = None,
                  group_lr: tuple[tuple[str, float], ...] = (), fused: bool = True) -> Trainer:
    """A :class:`Trainer` for ``settings`` learning ``target`` (or the data file's points).

    ``data``: points chosen by the caller (default :func:`training_data`); ``box``: the domain (default the
    target's, else around the data); ``device``: where to run (default ``settings.device``, which must be
    available); ``resolution`` / ``diagnostics_every``: the exact grid diagnostics; ``group_lr``:
    per-group learning rates over the settings' ones; ``fused``: the fused mixture step
    (:mod:`~ebm_explorer.core.training.fused_mixture`) where it supports the settings, else the general one.
    """
    settings = settings.validated()
    device = resolve_device(settings.device) if device is None else device
    if data is None:
        data = training_data(settings, target)
    if box is None:
        box = target.box if target is not None else data_box(data.cpu().numpy())
    gen = make_generator(settings.seed, device)
    model = initial_model(settings, box, device, data)
    diagnostics = GridDiagnostics(box, target, resolution=resolution, device=device)
    cls = FusedMixtureTrainer if fused and fused_support(model, settings) is None else Trainer
    return cls(model, data, settings, diagnostics, generator=gen, group_lr=group_lr,
               diagnostics_every=diagnostics_every)
