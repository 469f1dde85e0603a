"""A live sampler run: many walkers stepping on a landscape, with metrics against the exact reference.

The worker calls the core sampler's ``step`` in its own thread and sends, at most ~30 times per
second, a :class:`RunSnapshot` holding numpy copies: a fixed subset of walkers (scatter), their
histogram on the box (density image for many walkers), trails of a few walkers, the last proposal
(and HMC leapfrog path) of the selected walker, and a metrics point computed every ~0.2 s.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.landscapes import Landscape
from ebm_explorer.core.mcmc_diagnostics import ess_bulk
from ebm_explorer.core.metrics import walker_metrics
from ebm_explorer.core.samplers import SamplerParams, finite_walkers, get_sampler, initial_positions, validate_params
from ebm_explorer.workers.base import LoopWorker
from ebm_explorer.workers.display import walker_histogram
from ebm_explorer.workers.messages import Metrics, RunSnapshot, WalkerSnapshot

__all__ = ["SamplingConfig", "SamplingWorker", "MAX_SCATTER_POINTS", "TRAIL_WALKERS", "TRAIL_LENGTH"]

#: walkers sent for the scatter plot (the first ones: initial positions are random, so a fair subset)
MAX_SCATTER_POINTS = 4000
#: walkers whose recent path is drawn as a trail
TRAIL_WALKERS = 4
TRAIL_LENGTH = 80
#: chains and window of the live ESS estimate (x coordinate of the first chains)
ESS_CHAINS = 32
ESS_WINDOW = 400
#: metrics are recomputed at most this often (they scan every walker)
METRICS_INTERVAL_S = 0.2


@dataclass(frozen=True)
class SamplingConfig:
    """Everything that defines a sampler run (changing n_walkers/init/seed/device/dtype means a reset)."""

    sampler: str = "mala"
    step_size: float = 0.05
    leapfrog_steps: int = 10
    n_walkers: int = 2000
    init: str = "gaussian"  # gaussian | uniform | point
    init_point: tuple[float, float] = (0.0, 0.0)
    seed: int = 0
    device: str = "cpu"
    steps_per_frame: int = 1
    dtype: str = "float32"

    def params(self) -> SamplerParams:
        traced = 1 if self.sampler == "hmc" else 0
        return SamplerParams(step_size=float(self.step_size), leapfrog_steps=int(self.leapfrog_steps), trace_walkers=traced)


class SamplingWorker(LoopWorker):
    """Runs ``config.sampler`` on ``landscape``; send ``("config", SamplingConfig)``,
    ``("landscape", (landscape, version))`` or ``("reference", ReferenceReady)`` to change it live."""

    def __init__(self, run_id: int, config: SamplingConfig, landscape: Landscape, landscape_version: int = 0) -> None:
        super().__init__(run_id)
        self.config = config
        self.landscape = landscape
        self.landscape_version = landscape_version
        self.reference: Any = None  # ReferenceReady of the current landscape, when it has arrived
        self.steps_per_batch = max(1, int(config.steps_per_frame))
        self._state = None

    # ---- settings ------------------------------------------------------------------------
    def apply(self, key: str, value: Any) -> None:
        if key == "config":
            old, new = self.config, value
            validate_params(new.sampler, new.params())
            self.config = new
            self.steps_per_batch = max(1, int(new.steps_per_frame))
            restart = (old.n_walkers, old.init, old.init_point, old.seed, old.device, old.dtype) != (
                new.n_walkers, new.init, new.init_point, new.seed, new.device, new.dtype)
            if restart and self._state is not None:
                self.setup()
            elif old.sampler != new.sampler and self._state is not None:
                self._reinit_state()
        elif key == "landscape":
            self.landscape, self.landscape_version = value
            self.reference = None
            if self._state is not None:
                self._reinit_state()
        elif key == "reference":
            if value.version == self.landscape_version:
                self.reference = value
        elif key == "speed":
            self.max_steps_per_s = float(value)
        else:
            raise UserInputError(f"unknown sampler setting {key!r}")

    # ---- run -----------------------------------------------------------------------------
    def setup(self) -> None:
        cfg = self.config
        self._state = None
        self.sampler = get_sampler(cfg.sampler)
        validate_params(cfg.sampler, cfg.params())
        self.device = resolve_device(cfg.device)
        self.dtype = getattr(torch, cfg.dtype)
        self.generator = make_generator(cfg.seed, self.device)
        n = int(cfg.n_walkers)
        try:
            pos = initial_positions(cfg.init, n, self.landscape.box, self.generator, self.device, self.dtype,
                                    point=cfg.init_point)
        except RuntimeError as exc:  # allocation failure on huge walker counts
            raise NumericalError(f"cannot allocate {n} walkers: {exc}") from exc
        self._state = self.sampler.init(pos, self.landscape)
        k_trail = min(TRAIL_WALKERS, n)
        self._trails = np.full((TRAIL_LENGTH, k_trail, 2), np.nan, dtype=np.float32)
        self._trails[-1] = pos[:k_trail].cpu().numpy()
        self._trail_dev: list[torch.Tensor] = []
        self._ess_chains = min(ESS_CHAINS, n)
        self._ess_buf = torch.full((ESS_WINDOW, self._ess_chains), float("nan"), device=self.device, dtype=torch.float64)
        self._ess_count = 0
        self._acc_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        self._acc_steps = 0
        self._last = None  # (from (2,), proposal (2,), accepted (), path (L+1, 2) | None) tensors
        self._metrics_t = 0.0
        self._last_metrics: Metrics | None = None

    def _reinit_state(self) -> None:
        """Keep the walkers where they are; recompute energy and gradient (landscape or sampler changed)."""
        self.sampler = get_sampler(self.config.sampler)
        self._state = self.sampler.init(self._state.position, self.landscape)
        self._last = None

    def advance(self, n: int) -> None:
        params = self.config.params()
        sel = 0
        for _ in range(n):
            before = self._state.position[sel].clone()
            self._state, info = self.sampler.step(self.generator, self._state, self.landscape, params)
            self._acc_sum += info.accepted.to(torch.float64).mean()
            self._acc_steps += 1
            path = info.path[:, sel, :].clone() if info.path is not None and info.path.shape[1] > sel else None
            self._last = (before, info.proposal[sel].clone(), info.accepted[sel].clone(), path)
            self._ess_buf[self._ess_count % ESS_WINDOW] = self._state.position[: self._ess_chains, 0]
            self._ess_count += 1
            self._trail_dev.append(self._state.position[: self._trails.shape[1]].clone())
            if len(self._trail_dev) > TRAIL_LENGTH:
                self._trail_dev.pop(0)

    # ---- output --------------------------------------------------------------------------
    def make_snapshot(self) -> RunSnapshot:
        state = self._state
        ok = finite_walkers(state)
        n = int(ok.numel())
        n_bad = n - int(ok.sum())
        if n_bad:
            raise NumericalError(
                f"{n_bad} of {n} walkers became NaN/inf by step {self.step_count} "
                f"({self.config.sampler.upper()}, step size {self.config.step_size:g}): reduce the step size")
        if self._trail_dev:
            recent = torch.stack(self._trail_dev).cpu().numpy().astype(np.float32)
            self._trail_dev = []
            self._trails = np.concatenate([self._trails, recent])[-TRAIL_LENGTH:]
        box = self.landscape.box
        k = min(MAX_SCATTER_POINTS, n)
        hist = walker_histogram(state.position, box)
        bins = hist.shape[0]
        cell_x, cell_y = box.width / bins, box.height / bins
        proposal = {}
        if self._last is not None:
            before, prop, acc, path = self._last
            proposal = dict(
                proposal_from=before.cpu().numpy().astype(np.float32),
                proposal_to=prop.cpu().numpy().astype(np.float32),
                proposal_accepted=bool(acc.item()),
                hmc_path=None if path is None else path.cpu().numpy().astype(np.float32),
            )
        walkers = WalkerSnapshot(
            points=state.position[:k].cpu().numpy().astype(np.float32),
            point_energy=state.energy[:k].cpu().numpy().astype(np.float32),
            hist=hist,
            hist_x=(hist.sum(axis=0) * cell_y).astype(np.float32),
            hist_y=(hist.sum(axis=1) * cell_x).astype(np.float32),
            trails=self._trails.copy(),
            **proposal,
        )
        metrics = None
        now = time.perf_counter()
        if now - self._metrics_t >= METRICS_INTERVAL_S or not self._running:
            metrics = self._metrics()
            self._metrics_t = now
        return RunSnapshot(self.run_id, self.step_count, n, self.steps_per_s, walkers, metrics)

    def _metrics(self) -> Metrics:
        acc = float(self._acc_sum.item()) / self._acc_steps if self._acc_steps else math.nan
        self._acc_sum.zero_()
        self._acc_steps = 0
        ess = math.nan
        filled = min(self._ess_count, ESS_WINDOW)
        if filled >= 8:
            order = (np.arange(filled) + self._ess_count - filled) % ESS_WINDOW
            draws = self._ess_buf.cpu().numpy()[order].T  # (chains, draws)
            ess = float(ess_bulk(draws))
        mean_e = float(self._state.energy.to(torch.float64).mean().item())
        if self.reference is None:
            return Metrics(step=self.step_count, acceptance=acc, mean_energy=mean_e, ess=ess)
        ref = self.reference.reference
        wm = walker_metrics(self._state.position.cpu().numpy(), self._state.energy.cpu().numpy(), ref)
        return Metrics(
            step=self.step_count,
            acceptance=acc,
            mean_energy=wm.mean_energy,
            mean_energy_exact=wm.mean_energy_exact,
            ess=ess,
            tv=wm.tv,
            kl=wm.kl,
            mode_weights=np.asarray(wm.mode_weights, dtype=np.float64).copy(),
            mode_weights_true=np.asarray(ref.mode_weights, dtype=np.float64).copy(),
            log_z_exact=ref.log_z,
        )


