"""Exact training diagnostics on a fixed grid: cross-entropy, KL, Fisher divergence, mode weights.

The target's :class:`GridReference` is computed once; each evaluation costs one model energy and
gradient evaluation on the ``R x R`` cell centres (default R = 128, cheap). With a landscape target:

* cross-entropy ``H = -sum rho_* log rho_theta dA`` and ``KL = H - entropy(rho_*)`` by midpoint quadrature;
* Fisher divergence ``1/2 sum rho_* |grad U_* - grad U_theta|^2 dA`` (``grad log rho = -grad U``);
* learned mode weights: the model's grid mass in each basin of the *target's* reference, beside the
  target's own basin masses computed the same way.

With a data-file target there is no target density: ``H = mean U_theta(data) + log Z_theta`` (the
empirical cross-entropy), and KL, Fisher and mode weights are undefined (NaN / empty).
``log Z_theta`` is the model's closed form when it has one, else the grid quadrature over the box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ebm_explorer.core.landscapes.base import Landscape
from ebm_explorer.core.reference import GridReference, compute_reference
from ebm_explorer.core.training.models import TrainableEnergy
from ebm_explorer.core.types import Box

__all__ = ["GridValues", "GridDiagnostics", "basin_masses"]


@dataclass(frozen=True)
class GridValues:
    log_z: float  # exact log Z of the model (closed form, or grid quadrature over the box)
    cross_entropy: float  # exact on the grid (landscape target) or empirical (data target)
    kl: float  # KL(target || model); NaN for a data-file target
    fisher: float  # 1/2 E_target |score_target - score_model|^2; NaN for a data-file target
    mode_weights: np.ndarray  # (M,) model mass in each target basin; (0,) for a data-file target


def basin_masses(log_mass: np.ndarray | torch.Tensor, basins: torch.Tensor, n_modes: int) -> torch.Tensor:
    """Mass in each basin of a grid density given by unnormalised log cell masses, normalised over
    the labelled cells: ``(M,)``."""
    lm = torch.as_tensor(log_mass).reshape(-1)
    q = torch.softmax(lm.double(), dim=0)
    lab = basins.reshape(-1)
    keep = lab >= 0
    out = torch.zeros(n_modes, dtype=torch.float64, device=q.device)
    out.index_add_(0, lab[keep], q[keep])
    return out / out.sum().clamp(min=1e-300)


class GridDiagnostics:
    """Exact per-iteration diagnostics of a model against a target landscape (or against data only)."""

    def __init__(
        self,
        box: Box,
        target: Landscape | None = None,
        resolution: int = 128,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> None:
        self.box = box
        self.resolution = int(resolution)
        self.device = torch.device(device)
        self.dtype = dtype
        self.reference: GridReference | None = None
        if target is not None:
            ref = compute_reference(target, box, self.resolution)
            self.reference = ref
            xs, ys = ref.xs, ref.ys
        else:
            dx, dy = box.width / self.resolution, box.height / self.resolution
            xs = box.xmin + (np.arange(self.resolution) + 0.5) * dx
            ys = box.ymin + (np.arange(self.resolution) + 0.5) * dy
        self.cell_area = (xs[1] - xs[0]) * (ys[1] - ys[0])
        gx, gy = np.meshgrid(xs, ys)  # [iy, ix]
        self.points = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=dtype, device=self.device)
        if self.reference is not None:
            ref = self.reference
            mass = ref.density.ravel() * (ref.dx * ref.dy)
            self._mass = torch.as_tensor(mass, dtype=torch.float64, device=self.device)  # (R*R,)
            _, tg = target.energy_and_grad(self.points)  # type: ignore[union-attr]
            self._target_grad = tg.to(torch.float64).T.contiguous()  # (2, R*R)
            self._basins = torch.as_tensor(ref.basins.ravel(), dtype=torch.long, device=self.device)
            self.n_modes = ref.n_modes
            # (M, R*R) basin indicators: per-basin sums become one matrix-vector product
            self._onehot = (self._basins[None] == torch.arange(self.n_modes, device=self.device)[:, None]).double()
            with np.errstate(divide="ignore"):
                log_mass = np.log(mass)
            self.mode_weights_true = basin_masses(log_mass, self._basins.cpu(), self.n_modes).numpy()
            self.entropy = ref.entropy
        else:
            self.n_modes = 0
            self.mode_weights_true = np.zeros(0)

    def model_log_z(self, model: TrainableEnergy, energy_grid: torch.Tensor) -> float:
        closed = model.log_z_exact()
        if closed is not None:
            return closed
        return float(torch.logsumexp(-energy_grid.double(), 0)) + math.log(self.cell_area)

    @torch.no_grad()
    def evaluate(self, model: TrainableEnergy, mean_data_energy: float) -> GridValues:
        """All exact quantities for the model's current parameters."""
        e, g = model.energy_and_grad(self.points)  # (R*R,), (R*R, 2)
        e = e.double()
        log_z = self.model_log_z(model, e)
        if self.reference is None:
            return GridValues(log_z, mean_data_energy + log_z, math.nan, math.nan, np.zeros(0))
        keep = self._mass > 0
        ce = float((self._mass[keep] * e[keep]).sum()) + log_z
        g = g.double()
        d0, d1 = self._target_grad[0] - g[:, 0], self._target_grad[1] - g[:, 1]
        fisher = 0.5 * float((self._mass * (d0 * d0 + d1 * d1)).nan_to_num(0.0).sum())
        q = torch.softmax(-e, dim=0)  # model mass per cell, normalised on the grid
        per_basin = self._onehot @ q
        weights = (per_basin / per_basin.sum().clamp(min=1e-300)).cpu().numpy()
        return GridValues(log_z, ce, ce - self.entropy, fisher, weights)
