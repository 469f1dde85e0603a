"""A live sampler run: many walkers stepping on a landscape, with metrics against the exact reference.

The worker calls the core sampler's ``step`` in its own thread and sends, at most ~30 times per
second, a :class:`RunSnapshot` holding numpy copies: a fixed subset of walkers (scatter), their
histogram on the box (density image for many walkers), trails of a few walkers, the last proposal
(and HMC leapfrog path) of the selected walker, and a metrics point computed every ~0.2 s.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from ebm_explorer.core.blowup import (
    BLOWUP_RULES,
    blown_up,
    describe_reset,
    keep_where,
    replace_walkers,
    stuck_after_change,
)
from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.resources import check_walker_memory, device_with_fallback, is_out_of_memory, out_of_memory_message
from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.landscapes import Landscape
from ebm_explorer.core.mcmc_diagnostics import ess_bulk
from ebm_explorer.core.metrics import walker_metrics
from ebm_explorer.core.run_settings import SampleSettings
from ebm_explorer.core.samplers import finite_walkers, get_sampler, initial_positions, validate_params
from ebm_explorer.workers.base import LandscapeWorker
from ebm_explorer.workers.display import walker_histogram
from ebm_explorer.workers.messages import Metrics, RunSnapshot, WalkerSnapshot
from ebm_explorer.workers.recent import RecentTrajectory

__all__ = ["SamplingWorker", "MAX_SCATTER_POINTS", "TRAIL_WALKERS", "TRAIL_LENGTH"]

#: walkers sent for the scatter plot (the first ones: initial positions are random, so a fair subset)
MAX_SCATTER_POINTS = 4000
#: walkers whose recent path is drawn as a trail
TRAIL_WALKERS = 4
TRAIL_LENGTH = 80
#: walkers flagged by the blow-up rule that are sent for drawing (all are counted)
MAX_FLAGGED_POINTS = 500
#: chains and window of the live ESS estimate (x coordinate of the first chains)
ESS_CHAINS = 32
ESS_WINDOW = 400
#: metrics are recomputed at most this often (they scan every walker)
METRICS_INTERVAL_S = 0.2


class SamplingWorker(LandscapeWorker):
    """Runs ``config.sampler`` on ``landscape``; send ``SetSettings``, ``SetLandscape`` or ``SetReference``
    (``workers.commands``) to change it live."""

    def __init__(self, run_id: int, config: SampleSettings, landscape: Landscape, landscape_version: int = 0) -> None:
        super().__init__(run_id, landscape, landscape_version)
        self.config = config
        self.steps_per_batch = max(1, int(config.steps_per_frame))
        self._state = None
        self.recent: RecentTrajectory | None = None  # recent steps of a subset of walkers (export)
        self.reset_note = ""  # what the last landscape change restarted, and why
        self.reset_serial = 0  # counts landscape changes: the window shows each note once

    # ---- settings ------------------------------------------------------------------------
    def apply_config(self, value: SampleSettings) -> None:
        old, new = self.config, value
        validate_params(new.sampler, new.kernel_params())
        self.config = new
        self.steps_per_batch = max(1, int(new.steps_per_frame))
        restart = old.restart_key() != new.restart_key()
        if restart and self._state is not None:
            self.setup()
        elif old.sampler != new.sampler and self._state is not None:
            self._reinit_state()

    def landscape_changed(self) -> None:
        if self._state is not None:
            self._reinit_state()
            self._restart_stuck_walkers()

    def _restart_stuck_walkers(self) -> None:
        """The visible rule after a landscape change: walkers frozen on the old landscape, with a
        non-finite energy on the new one or outside a new box restart from fresh start points (the
        sampler's start setting); the snapshot's ``reset_note`` says how many and why."""
        masks = stuck_after_change(self._state, self._frozen, self.landscape.box, self._box)
        self._box = self.landscape.box
        mask = masks["frozen"] | masks["non_finite"] | masks["outside"]
        counts = {r: int(m.sum()) for r, m in masks.items()}
        k = sum(counts.values())
        self._frozen.zero_()
        if k:
            cfg = self.config
            pos = initial_positions(cfg.init, k, self.landscape.box, self.generator, self.device, self.dtype,
                                    point=cfg.init_point)
            self._state = replace_walkers(self._state, mask, self.sampler.init(pos, self.landscape))
        self.reset_serial += 1
        self.reset_note = describe_reset(counts, int(mask.shape[0]))

    def resource_hint(self) -> tuple[int | None, str]:
        return int(self.config.walkers), str(self.config.device)

    # ---- run -----------------------------------------------------------------------------
    def setup(self) -> None:
        cfg = self.config
        self._state = None
        self.sampler = get_sampler(cfg.sampler)
        validate_params(cfg.sampler, cfg.kernel_params())
        if cfg.blowup_rule not in BLOWUP_RULES:
            raise UserInputError(f"blow-up rule must be one of {', '.join(BLOWUP_RULES)}, got {cfg.blowup_rule!r}")
        self.device, self.notice = device_with_fallback(cfg.device)
        self.dtype = getattr(torch, cfg.dtype)
        self.generator = make_generator(cfg.seed, self.device)
        n = int(cfg.walkers)
        check_walker_memory(n, self.device, self.dtype, landscape=self.landscape)
        try:
            pos = initial_positions(cfg.init, n, self.landscape.box, self.generator, self.device, self.dtype,
                                    point=cfg.init_point)
            self._state = self.sampler.init(pos, self.landscape)
        except (RuntimeError, MemoryError) as exc:  # allocation failure on huge walker counts
            if is_out_of_memory(exc):
                raise NumericalError(out_of_memory_message(exc, n, self.device.type)) from None
            raise
        self._frozen = torch.zeros(n, dtype=torch.bool, device=self.device)  # walkers held by the freeze rule
        self._box = self.landscape.box  # the box the walkers were started in (or last restarted for)
        self._events = torch.zeros((), dtype=torch.long, device=self.device)  # blow-ups since the reset
        self.recent = RecentTrajectory(n, self.device, self.dtype)
        self.recent.add(0, self._state.position, self._state.energy)
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

    def state_dict(self) -> dict[str, Any]:
        """What continues this run: the step count and the walkers ``(N, 2)`` (float64 numpy copy)."""
        return {"step": int(self.step_count),
                "walkers": self._state.position.detach().cpu().numpy().astype(np.float64)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`'s layout (same walker count; frozen walkers are released)."""
        pos = torch.as_tensor(np.asarray(state["walkers"]), dtype=self.dtype, device=self.device)
        if pos.shape != self._state.position.shape:
            raise UserInputError(f"saved state has {pos.shape[0]} walkers, this run has {self._state.position.shape[0]}")
        self._state = self.sampler.init(pos, self.landscape)
        self._frozen = torch.zeros_like(self._frozen)
        self._last = None
        self.step_count = int(state["step"])

    def capture_state(self) -> Any:
        from ebm_explorer.scenes.state import saved_run

        return saved_run("sample", self.state_dict())

    def restore_state(self, saved: Any) -> None:
        from ebm_explorer.scenes.state import run_state

        self.load_state_dict(run_state(saved))

    def _reinit_state(self) -> None:
        """Keep the walkers where they are; recompute energy and gradient (landscape or sampler changed)."""
        self.sampler = get_sampler(self.config.sampler)
        self._state = self.sampler.init(self._state.position, self.landscape)
        self._last = None

    def advance(self, n: int) -> None:
        params = self.config.kernel_params(trace_walkers=1 if self.config.sampler == "hmc" else 0)
        sel = 0
        for k in range(n):
            before = self._state.position[sel].clone()
            old = self._state
            self._state, info = self.sampler.step(self.generator, self._state, self.landscape, params)
            self._guard_blowups(old)
            self.recent.add(self.step_count + k + 1, self._state.position, self._state.energy, info.accepted)
            self._acc_sum += info.accepted.to(torch.float64).mean()
            self._acc_steps += 1
            path = info.path[:, sel, :].clone() if info.path is not None and info.path.shape[1] > sel else None
            self._last = (before, info.proposal[sel].clone(), info.accepted[sel].clone(), path)
            self._ess_buf[self._ess_count % ESS_WINDOW] = self._state.position[: self._ess_chains, 0]
            self._ess_count += 1
            self._trail_dev.append(self._state.position[: self._trails.shape[1]].clone())
            if len(self._trail_dev) > TRAIL_LENGTH:
                self._trail_dev.pop(0)

    def _guard_blowups(self, old: Any) -> None:
        """Apply the visible blow-up rule to walkers that became NaN/inf or diverged in the last step."""
        bad = blown_up(self._state, self.landscape.box)
        new_bad = bad & ~self._frozen
        if self.config.blowup_rule == "freeze":  # no host sync: counted on the device
            self._state = keep_where(bad | self._frozen, old, self._state)
            self._frozen = bad | self._frozen
            self._events += new_bad.sum()
            return
        self._frozen.zero_()
        k = int(bad.sum())
        if k:
            self._events += k
            cfg = self.config
            pos = initial_positions(cfg.init, k, self.landscape.box, self.generator, self.device, self.dtype,
                                    point=cfg.init_point)
            self._state = replace_walkers(self._state, bad, self.sampler.init(pos, self.landscape))

    # ---- output --------------------------------------------------------------------------
    def make_snapshot(self) -> RunSnapshot:
        state = self._state
        n = int(state.position.shape[0])
        flagged = self._frozen | blown_up(state, self.landscape.box)
        n_flagged = int(flagged.sum())
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
            flagged=state.position[flagged][:MAX_FLAGGED_POINTS].cpu().numpy().astype(np.float32),
            **proposal,
        )
        metrics = None
        now = time.perf_counter()
        if now - self._metrics_t >= METRICS_INTERVAL_S or not self._running:
            metrics = self._metrics()
            self._metrics_t = now
        return RunSnapshot(self.run_id, self.step_count, n, self.steps_per_s, walkers, metrics,
                           n_flagged=n_flagged, n_blowup_events=int(self._events),
                           blowup_rule=self.config.blowup_rule, notice=self.notice or "",
                           reset_note=self.reset_note, reset_serial=self.reset_serial)

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
        ok = finite_walkers(self._state) & ~self._frozen  # frozen/blown-up walkers stay out of the statistics
        e_ok = self._state.energy[ok].to(torch.float64)
        mean_e = float(e_ok.mean().item()) if e_ok.numel() else math.nan
        if self.reference is None:
            return Metrics(step=self.step_count, acceptance=acc, mean_energy=mean_e, ess=ess)
        ref = self.reference.reference
        if not bool(ok.any()):
            return Metrics(step=self.step_count, acceptance=acc, mean_energy=mean_e, ess=ess)
        wm = walker_metrics(self._state.position[ok].cpu().numpy(), self._state.energy[ok].cpu().numpy(), ref)
        return Metrics(
            step=self.step_count,
            acceptance=acc,
            mean_energy=wm.mean_energy,
            mean_energy_exact=wm.mean_energy_exact,
            ess=ess,
            tv=wm.tv,
            kl=wm.kl,
            tv_expected=wm.tv_expected,
            kl_expected=wm.kl_expected,
            mode_weights=np.asarray(wm.mode_weights, dtype=np.float64).copy(),
            mode_weights_true=np.asarray(ref.mode_weights, dtype=np.float64).copy(),
            log_z_exact=ref.log_z,
        )


