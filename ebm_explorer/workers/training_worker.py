"""A live EBM training run (CD, PCD or Jarzynski) on a target landscape or on loaded data points.

The worker builds the core :class:`Trainer`, calls ``step()`` in its own thread and sends snapshots:
the negative samples (walkers), a subset of the data, the learned energy and density on a display
grid, and the trainer's exact metrics (KL, Fisher, cross-entropy, learned mode weights, log Z).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ebm_explorer.core.resources import check_walker_memory, device_with_fallback
from ebm_explorer.core.landscapes import Landscape
from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.training import MixtureEnergy, Trainer
from ebm_explorer.core.training.recipe import build_trainer
from ebm_explorer.workers.base import LandscapeWorker
from ebm_explorer.workers.display import walker_histogram
from ebm_explorer.workers.messages import Metrics, RunSnapshot, TrainingExtras, WalkerSnapshot
from ebm_explorer.workers.recent import RecentTrajectory

__all__ = ["TrainingWorker", "MODEL_GRID"]

#: resolution of the learned-energy image sent to the view (and of the exact training diagnostics)
MODEL_GRID = 96
#: data points and negative samples sent for drawing
MAX_DRAWN_POINTS = 3000


class TrainingWorker(LandscapeWorker):
    """Trains on ``landscape`` (or on ``settings.data_file``); one ``step`` = one training iteration."""

    def __init__(self, run_id: int, settings: TrainSettings, landscape: Landscape, landscape_version: int = 0) -> None:
        super().__init__(run_id, landscape, landscape_version)
        self.settings = settings
        self.trainer: Trainer | None = None
        self.recent: RecentTrajectory | None = None  # recent iterations of a subset of walkers (export)

    def apply_config(self, value: TrainSettings) -> None:
        self.settings = value
        if self.trainer is not None:
            self.setup()

    def landscape_changed(self) -> None:
        if self.trainer is not None:
            self.setup()  # a new target: training starts over

    def resource_hint(self) -> tuple[int | None, str]:
        return int(self.settings.walkers), str(self.settings.device)

    def setup(self) -> None:
        self.trainer = None
        s = self.settings
        device, self.notice = device_with_fallback(s.device)
        check_walker_memory(int(s.walkers) + int(s.data_size), device, torch.float64, landscape=self.landscape)
        box = self.landscape.box
        target = None if s.data_file else self.landscape  # a data file: no exact target, the landscape's box
        self.trainer = build_trainer(s, target, resolution=MODEL_GRID, box=box, device=device)
        data, model = self.trainer.data, self.trainer.model
        tr = self.trainer
        self.recent = RecentTrajectory(tr.walkers.shape[0], tr.device, tr.dtype)
        self.recent.add(0, tr.walkers, tr.state.energy, None, tr.log_weights)
        self.data = data[:MAX_DRAWN_POINTS].cpu().numpy().astype(np.float32)
        xs = box.xmin + (np.arange(MODEL_GRID) + 0.5) * box.width / MODEL_GRID
        ys = box.ymin + (np.arange(MODEL_GRID) + 0.5) * box.height / MODEL_GRID
        gx, gy = np.meshgrid(xs, ys)
        dtype = next(model.parameters()).dtype
        self.grid = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=dtype, device=device)
        self.cell = (box.width / MODEL_GRID) * (box.height / MODEL_GRID)
        self.steps_per_batch = 1
        self._sent_iteration = -1

    def advance(self, n: int) -> None:
        """``n`` iterations in one call of the trainer (the fused mixture step computes the metrics of
        the last one only), recording each in the recent trajectory."""
        tr = self.trainer
        limit = int(self.settings.iterations)
        if limit and tr.iteration >= limit:
            self.finish()
            return
        todo = min(n, limit - tr.iteration) if limit else n
        keep = self.recent.w
        before = [tr.walkers[:keep].clone()]

        def record() -> None:
            moved = (tr.walkers[:keep] != before[0]).any(dim=1)
            self.recent.add(tr.iteration, tr.walkers, tr.state.energy, moved, tr.log_weights)
            before[0] = tr.walkers[:keep].clone()

        tr.advance(todo, each=record)

    def state_dict(self) -> dict[str, Any]:
        """The trainer's :meth:`~ebm_explorer.core.training.Trainer.state_dict`."""
        return self.trainer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.trainer.load_state_dict(state)
        self.step_count = self.trainer.iteration
        self._sent_iteration = -1

    def capture_state(self) -> Any:
        from ebm_explorer.scenes.state import saved_run

        return saved_run("train", self.state_dict())

    def restore_state(self, saved: Any) -> None:
        from ebm_explorer.scenes.state import run_state

        self.load_state_dict(run_state(saved))

    def make_snapshot(self) -> RunSnapshot:
        tr = self.trainer
        box = self.landscape.box
        pos = tr.walkers.detach()
        n = int(pos.shape[0])
        k = min(MAX_DRAWN_POINTS, n)
        hist = walker_histogram(pos, box)
        bins = hist.shape[0]
        with torch.no_grad():
            e = tr.model.energy(self.grid).double()  # (R*R,)
            finite = torch.isfinite(e)
            log_z = torch.logsumexp(torch.where(finite, -e, -math.inf), 0) + math.log(self.cell)
            dens = torch.exp(-e - log_z).nan_to_num(0.0)
            point_e = self.landscape.energy(pos[:k]).double()
        model_energy = e.reshape(MODEL_GRID, MODEL_GRID).cpu().numpy().astype(np.float32)
        walkers = WalkerSnapshot(
            points=pos[:k].cpu().numpy().astype(np.float32),
            point_energy=point_e.cpu().numpy().astype(np.float32),
            hist=hist,
            hist_x=(hist.sum(axis=0) * box.height / bins).astype(np.float32),
            hist_y=(hist.sum(axis=1) * box.width / bins).astype(np.float32),
            trails=np.zeros((0, 0, 2), dtype=np.float32),
        )
        extras = TrainingExtras(
            data=self.data,
            model_energy=model_energy,
            model_density=dens.reshape(MODEL_GRID, MODEL_GRID).cpu().numpy().astype(np.float32),
            iteration=tr.iteration,
            model_spec=self._model_spec(model_energy),
        )
        return RunSnapshot(self.run_id, tr.iteration, n, self.steps_per_s, walkers, self._metrics(), extras,
                           notice=self.notice or "")

    def _model_spec(self, model_energy: np.ndarray) -> dict[str, Any]:
        """How to rebuild the learned energy as a landscape (mixture exactly; MLP as a grid)."""
        model = self.trainer.model
        if isinstance(model, MixtureEnergy):
            return {
                "kind": "gmm",
                "weights": model.mode_masses().astype(float),
                "means": model.means.detach().cpu().numpy().astype(float).copy(),
                "stds": np.exp(model.log_widths.detach().cpu().numpy().astype(float)),
            }
        return {"kind": "grid", "values": model_energy.astype(float)}

    def _metrics(self) -> Metrics | None:
        m = self.trainer.last_metrics
        if m is None or m.iteration == self._sent_iteration:
            return None
        self._sent_iteration = m.iteration
        return Metrics(
            step=m.iteration,
            acceptance=m.acceptance,
            model_energy_data=m.data_energy,  # the target's energy of the walkers would mean nothing here
            model_energy_walkers=m.data_energy - m.energy_gap,
            energy_gap=m.energy_gap,
            kl=m.kl,
            fisher=m.fisher,
            mode_weights=np.asarray(m.mode_weights, dtype=float).copy(),
            mode_weights_true=np.asarray(m.mode_weights_true, dtype=float).copy(),
            log_z_est=m.log_z_est,
            log_z_se=m.log_z_se,
            log_z_est_xfit=m.log_z_est_xfit,
            log_z_se_xfit=m.log_z_se_xfit,
            log_z_exact=m.log_z_exact,
            cross_entropy=m.cross_entropy,
            cross_entropy_est=m.cross_entropy_est,
            cross_entropy_est_xfit=m.cross_entropy_est_xfit,
            ess_fraction=m.ess_fraction,
        )
