"""A live tempered run: parallel tempering (one step per step) or annealed SMC (one level per step).

It drives the core's stepping APIs (``ParallelTempering.init/step``, ``AnnealedSMC.init/step/result``)
in its own thread and sends :class:`TemperedSnapshot` messages: the walkers of the replica the user
selected over that replica's exact tempered density, or the SMC walkers (opacity by weight) over the
exact density of the level they reached; swap rates, round trips and mode weights (PT); the ESS, log Z
with its standard error and the exact log Z_t of every level so far (SMC). Everything exact comes from
the grid reference (``core.tempering.grids``, ``exact_path_log_z``); nothing is computed in the UI.

SMC levels are paced at ``levels_per_s`` (and the speed slider) so the annealing can be watched; once
``t = 1`` the run is finished and keeps its result on screen (Run or Reset replays it).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.landscapes import Landscape
from ebm_explorer.core.metrics import walker_metrics
from ebm_explorer.core.resources import check_walker_memory, device_with_fallback
from ebm_explorer.core.run_settings import TemperedSettings
from ebm_explorer.core.tempering import (
    AnnealedSMC,
    ParallelTempering,
    SMCLevel,
    StartDistribution,
    exact_path_log_z,
    smc_mode_masses,
)
from ebm_explorer.core.tempering.grids import basin_masses, path_grid_density, tempered_grid_density
from ebm_explorer.workers.base import LandscapeWorker
from ebm_explorer.workers.commands import SetSpeed
from ebm_explorer.workers.display import walker_histogram
from ebm_explorer.workers.messages import Metrics, WalkerSnapshot
from ebm_explorer.workers.recent import RecentTrajectory
from ebm_explorer.workers.tempering_messages import PTView, SelectReplica, SMCView, TemperedSnapshot

__all__ = ["TemperingWorker", "MAX_SCATTER_POINTS", "MIN_ALPHA"]

#: walkers sent for the scatter plot
MAX_SCATTER_POINTS = 4000
#: the faintest a walker is drawn (weight 0 would be invisible: the user should see it is there)
MIN_ALPHA = 0.06
#: beta = 1 metrics (mode weights, KL) are recomputed at most this often
METRICS_INTERVAL_S = 0.2

_NAN = float("nan")


class TemperingWorker(LandscapeWorker):
    """Runs ``config.algorithm`` (``pt`` or ``smc``) on ``landscape``; :meth:`select_replica` picks the PT
    replica shown, ``SetSettings`` with a :class:`TemperedSettings` changes the run (a restart unless
    only the pace changed)."""

    def __init__(self, run_id: int, config: TemperedSettings, landscape: Landscape, landscape_version: int = 0) -> None:
        self._user_speed = 0.0
        self.config = config
        super().__init__(run_id, landscape, landscape_version)
        self.steps_per_batch = max(1, int(config.steps_per_frame))
        self.replica = 0
        self._ready = False
        self.recent: RecentTrajectory | None = None  # PT: the beta = 1 replica; SMC: weighted walkers (export)

    # ---- pace: SMC levels at most levels_per_s (and the speed slider) ---------------------
    @property
    def max_steps_per_s(self) -> float:  # type: ignore[override]
        pace = float(self.config.levels_per_s) if self.config.algorithm == "smc" else 0.0
        caps = [v for v in (self._user_speed, pace) if v > 0]
        return min(caps) if caps else 0.0

    @max_steps_per_s.setter
    def max_steps_per_s(self, value: float) -> None:
        self._user_speed = float(value)

    # ---- commands --------------------------------------------------------------------------
    def select_replica(self, index: int) -> None:
        """Show replica ``index`` (from the UI thread; applied between batches)."""
        self._commands.put(SelectReplica(int(index)))

    def apply(self, command: Any) -> None:
        if isinstance(command, SelectReplica):
            self.replica = max(0, int(command.index))
            return
        if isinstance(command, SetSpeed):
            self._user_speed = float(command.steps_per_s)
            return
        super().apply(command)

    def apply_config(self, value: TemperedSettings) -> None:
        old, new = self.config, value.validated()
        self.config = new
        self.steps_per_batch = max(1, int(new.steps_per_frame))
        if old.restart_key() != new.restart_key() and self._ready:
            self.setup()

    def landscape_changed(self) -> None:
        if self._ready:
            self.setup()

    def resource_hint(self) -> tuple[int | None, str]:
        r = int(self.config.replicas) if self.config.algorithm == "pt" else 1
        return int(self.config.walkers) * r, str(self.config.device)

    # ---- run -------------------------------------------------------------------------------
    def setup(self) -> None:
        self._ready = False
        cfg = self.config.validated()
        self.device, self.notice = device_with_fallback(cfg.device)
        self.dtype = getattr(torch, cfg.dtype)
        self.generator = make_generator(cfg.seed, self.device)
        n = int(cfg.walkers)
        box = self.landscape.box
        self.start = StartDistribution(cfg.start, box)
        self._images: dict[Any, np.ndarray] = {}  # (reference version, replica or level) -> exact density
        self._last_metrics: Metrics | None = None
        self._metrics_t = 0.0
        if cfg.algorithm == "pt":
            r = int(cfg.replicas)
            check_walker_memory(n * r, self.device, self.dtype, landscape=self.landscape)
            self.pt = ParallelTempering(self.landscape, box, cfg.pt_config(), n, self.device, self.dtype)
            self.state: Any = self.pt.init(self.start.sample(r * n, self.generator, self.device, self.dtype).view(r, n, 2))
            self._swap_tries = torch.zeros(r - 1, dtype=torch.float64, device=self.device)
            self._swap_accepts = torch.zeros(r - 1, dtype=torch.float64, device=self.device)
            self._trips = torch.zeros((), dtype=torch.long, device=self.device)
            self._acc_sum = torch.zeros(r, dtype=torch.float64, device=self.device)
            self._acc_steps = 0
            self._replica_acc = np.full(r, _NAN)
            self.recent = RecentTrajectory(n, self.device, self.dtype)
            self.recent.add(0, self.pt.positions(self.state)[0], self.pt.energies(self.state)[0])
        else:
            check_walker_memory(n, self.device, self.dtype, landscape=self.landscape)
            self.smc = AnnealedSMC(self.landscape, box, n, cfg.smc_config(), self.device, self.dtype)
            self.state = self.smc.init(self.generator)
            self.levels: list[SMCLevel] = []
            self._log_z_se: list[float] = []
            self._exact_t: dict[int, np.ndarray] = {}  # reference version -> exact log Z_t of the levels so far
            self._result: Any = None
            self._level_sent = -1
            self.recent = RecentTrajectory(n, self.device, self.dtype)
            self.recent.add(0, self.state.position, self.landscape.energy(self.state.position), None,
                            self.state.banked + self.state.log_a)
        self._ready = True

    def advance(self, n: int) -> None:
        if self.config.algorithm == "pt":
            self._advance_pt(n)
        else:
            self._advance_smc(n)

    def _advance_pt(self, n: int) -> None:
        for _ in range(n):
            self.state, info = self.pt.step(self.generator, self.state)
            self._acc_sum += info.accepted.to(torch.float64).mean(dim=1)
            self._acc_steps += 1
            if info.swap_attempted is not None:
                self._swap_tries += info.swap_attempted.sum(dim=1).to(torch.float64)
                self._swap_accepts += info.swap_accepted.sum(dim=1).to(torch.float64)
            self._trips += info.round_trips
            self.recent.add(self.state.steps, self.pt.positions(self.state)[0], self.pt.energies(self.state)[0],
                            info.accepted[0])

    def _advance_smc(self, n: int) -> None:
        for _ in range(n):
            if self.state.t >= 1.0:
                break
            self.state, level = self.smc.step(self.generator, self.state)
            self.levels.append(level)
            self._result = self.smc.result(self.state, self.levels)
            self._log_z_se.append(float(self._result.log_z_stderr))
            self.recent.add(level.index, level.positions, self.landscape.energy(level.positions), None,
                            level.log_weights)
        if self.state.t >= 1.0 and self._running:
            self._emit()  # the final level is always sent: a finished run sends nothing more
            self.finish()

    # ---- output ----------------------------------------------------------------------------
    def make_snapshot(self) -> TemperedSnapshot:
        if self.config.algorithm == "pt":
            return self._pt_snapshot()
        return self._smc_snapshot()

    def _walkers(self, pos: torch.Tensor, energy: torch.Tensor, weights: torch.Tensor | None = None) -> WalkerSnapshot:
        box = self.landscape.box
        k = min(MAX_SCATTER_POINTS, int(pos.shape[0]))
        hist = walker_histogram(pos, box, weights=weights)
        bins = hist.shape[0]
        return WalkerSnapshot(
            points=pos[:k].cpu().numpy().astype(np.float32),
            point_energy=energy[:k].cpu().numpy().astype(np.float32),
            hist=hist,
            hist_x=(hist.sum(axis=0) * box.height / bins).astype(np.float32),
            hist_y=(hist.sum(axis=1) * box.width / bins).astype(np.float32),
            trails=np.zeros((0, 0, 2), dtype=np.float32),
        )

    def _image(self, key: Any, make: Any) -> np.ndarray:
        """The exact density image ``key`` (cached: it changes only with the reference, the replica or the level)."""
        full = (self.reference.version, key)
        if full not in self._images:
            if len(self._images) > 64:
                self._images.clear()
            self._images[full] = np.ascontiguousarray(make(), dtype=np.float32)
        return self._images[full]

    def _pt_snapshot(self) -> TemperedSnapshot:
        pt, state = self.pt, self.state
        r, n = pt.n_replicas, pt.n_walkers
        sel = min(self.replica, r - 1)
        pos, energy = pt.positions(state), pt.energies(state)
        betas = np.asarray(pt.config.betas, dtype=np.float64)
        walkers = self._walkers(pos[sel], energy[sel])
        if self._acc_steps:
            self._replica_acc = (self._acc_sum / self._acc_steps).cpu().numpy()
            self._acc_sum.zero_()
            self._acc_steps = 0
        tries = self._swap_tries.cpu().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            swap = np.where(tries > 0, self._swap_accepts.cpu().numpy() / np.maximum(tries, 1), np.nan)
        nan_m = np.zeros(0)
        view_kw: dict[str, Any] = dict(mode_weights=nan_m, mode_weights_se=nan_m, mode_weights_exact=nan_m,
                                       replica_mode_weights=nan_m, replica_mode_weights_exact=nan_m)
        background, label, metrics = None, "", None
        if self.reference is not None:
            ref = self.reference.reference
            background = self._image(("replica", sel, float(betas[sel])),
                                     lambda: tempered_grid_density(ref, float(betas[sel])))
            label = f"exact density at beta = {betas[sel]:.3g}" if sel else "exact density (beta = 1)"
            cold = walker_metrics(pos[0].cpu().numpy(), energy[0].cpu().numpy(), ref)
            shown = cold if sel == 0 else walker_metrics(pos[sel].cpu().numpy(), energy[sel].cpu().numpy(), ref)
            view_kw = dict(
                mode_weights=np.asarray(cold.mode_weights, dtype=np.float64),
                mode_weights_se=np.sqrt(np.clip(ref.mode_weights * (1 - ref.mode_weights), 0, None) / n),
                mode_weights_exact=np.asarray(ref.mode_weights, dtype=np.float64).copy(),
                replica_mode_weights=np.asarray(shown.mode_weights, dtype=np.float64),
                replica_mode_weights_exact=basin_masses(ref, tempered_grid_density(ref, float(betas[sel])))
                if sel else np.asarray(ref.mode_weights, dtype=np.float64).copy())
            now = time.perf_counter()
            if now - self._metrics_t >= METRICS_INTERVAL_S or not self._running:
                self._metrics_t = now
                metrics = Metrics(step=self.step_count, acceptance=float(self._replica_acc[0]),
                                  mean_energy=cold.mean_energy, mean_energy_exact=cold.mean_energy_exact,
                                  tv=cold.tv, kl=cold.kl, tv_expected=cold.tv_expected, kl_expected=cold.kl_expected,
                                  mode_weights=view_kw["mode_weights"].copy(),
                                  mode_weights_true=view_kw["mode_weights_exact"].copy(), log_z_exact=ref.log_z)
        view = PTView(betas=betas, replica=sel, swap_acceptance=swap, swap_attempts=tries,
                      round_trips=int(self._trips), replica_acceptance=np.asarray(self._replica_acc, dtype=np.float64),
                      **view_kw)
        return TemperedSnapshot(self.run_id, self.step_count, n, self.steps_per_s, walkers, metrics,
                                notice=self.notice or "", algorithm="pt", background=background,
                                background_label=label, pt=view)

    def _smc_snapshot(self) -> TemperedSnapshot:
        smc, state = self.smc, self.state
        n = smc.n
        log_w = state.banked + state.log_a
        finite = torch.isfinite(log_w)
        w = torch.where(finite, torch.exp(log_w - log_w[finite].max()), torch.zeros_like(log_w)) if bool(finite.any()) \
            else torch.ones_like(log_w)
        energy = self.landscape.energy(state.position)
        walkers = self._walkers(state.position, energy, weights=w)
        k = walkers.points.shape[0]
        alpha = np.clip((w[:k] / w.max()).cpu().numpy(), MIN_ALPHA, 1.0).astype(np.float32)
        levels = self.levels
        ts = np.asarray([lv.t for lv in levels], dtype=np.float64)
        log_z_hist = np.asarray([lv.log_z for lv in levels], dtype=np.float64)
        ess = np.asarray([lv.ess for lv in levels], dtype=np.float64)
        resampled = np.asarray([lv.resampled for lv in levels], dtype=np.int64)
        exact_t = np.full(len(levels), _NAN)
        background, label, exact = None, "", _NAN
        masses = se = truth = np.zeros(0)
        p = (w / w.sum()).to(torch.float64)
        mean_e = float((p * torch.where(torch.isfinite(energy), energy.double(), torch.zeros_like(p))).sum())
        if self.reference is not None:
            ref = self.reference.reference
            exact = float(ref.log_z)
            truth = np.asarray(ref.mode_weights, dtype=np.float64).copy()
            done = self._exact_t.get(self.reference.version, np.zeros(0))
            if done.size < len(levels):
                more = exact_path_log_z(ref.energy, ref.xs, ref.ys, self.start, ts[done.size:])
                done = np.concatenate([done, more])
                self._exact_t = {self.reference.version: done}
            exact_t = done[: len(levels)].copy()
            background = self._image(("level", state.level), lambda: path_grid_density(ref, self.start, state.t))
            label = f"exact density of level t = {state.t:.3f}" if state.t < 1 else "exact density (t = 1)"
            if self._result is not None:
                mm = smc_mode_masses(self._result, ref.basin_of(self._result.positions), ref.n_modes)
                masses, se = mm.masses, mm.se_islands
            else:
                labels = ref.basin_of(state.position.cpu().numpy())
                masses = np.bincount(labels[labels >= 0], minlength=ref.n_modes)[: ref.n_modes] / n
                se = np.full(ref.n_modes, _NAN)
        se_hist = np.asarray(self._log_z_se, dtype=np.float64)
        view = SMCView(t=float(state.t), level=int(state.level), finished=state.t >= 1.0, ts=ts, ess=ess,
                       resampled=resampled, log_z=log_z_hist, log_z_se=se_hist, log_z_exact_t=exact_t,
                       log_z_exact=exact, log_z_start=float(self.start.log_z), mode_weights=np.asarray(masses, float),
                       mode_weights_se=np.asarray(se, float), mode_weights_exact=truth, islands=smc.config.islands)
        metrics = None
        if state.level != self._level_sent or not self._running:
            self._level_sent = state.level
            last = levels[-1] if levels else None
            metrics = Metrics(step=int(state.level), acceptance=last.acceptance if last else _NAN, mean_energy=mean_e,
                              ess_fraction=last.ess if last else _NAN,
                              log_z_est=float(log_z_hist[-1]) if len(levels) else float(self.start.log_z),
                              log_z_se=float(se_hist[-1]) if len(levels) else 0.0,
                              log_z_exact=float(exact_t[-1]) if len(levels) else float(self.start.log_z),
                              resample_count=float(resampled.sum()),
                              mode_weights=np.asarray(masses, float).copy(), mode_weights_true=truth.copy())
        return TemperedSnapshot(self.run_id, int(state.level), n, self.steps_per_s, walkers, metrics,
                                notice=self.notice or "", algorithm="smc", background=background,
                                background_label=label, point_alpha=alpha, smc=view)
