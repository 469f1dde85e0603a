"""A live generation run: walkers from noise back to the landscape along a noising path, against the exact
``rho_t`` at every time shown.

One worker step is one iteration of the score network's training (learned score, first) or one solver
step of :class:`~ebm_explorer.core.diffusion.generate.Generation`. After the steps it shows (every step
for short runs, about :data:`MAX_FRAMES` in all for long ones) it computes a frame: the exact ``rho_t``
on the box, the exact score on a coarse grid, a fixed subset of the walkers with their Jarzynski
weights, and the KL and mode masses of the walkers against ``rho_t`` with and without the weights
(``core.diffusion.frames``). Frames go out in :class:`GenerateSnapshot` messages; the UI keeps them.
At the end the run is ``finished``; Run starts it again from the prior (same seed, same walkers).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.diffusion.frames import density_on_grid, relative_weights, score_arrows, walker_numbers
from ebm_explorer.core.diffusion.generate import GenerateConfig, Generation
from ebm_explorer.core.diffusion.learned import ScoreTrainer
from ebm_explorer.core.diffusion.paths import make_schedule, noised_density
from ebm_explorer.core.landscapes import Landscape
from ebm_explorer.core.resources import check_walker_memory, device_with_fallback
from ebm_explorer.core.run_settings import GenerateSettings
from ebm_explorer.workers.base import LandscapeWorker
from ebm_explorer.workers.generate_messages import GenerateSnapshot, GenerationFrame, ScoreTraining

__all__ = ["GenerateWorker", "MAX_FRAMES", "MAX_POINTS", "IMAGE_RESOLUTION", "ARROWS"]

#: frames per run at most (a run of more steps shows every k-th step, and the last)
MAX_FRAMES = 120
#: walkers drawn (the first ones: they start as independent draws from the prior, a fair subset)
MAX_POINTS = 2500
#: resolution of the rho_t image and arrows per axis of the score field
IMAGE_RESOLUTION = 120
ARROWS = 15


class GenerateWorker(LandscapeWorker):
    """Generates on ``landscape`` with ``settings``; ``SetSettings`` / ``SetLandscape`` restart it."""

    def __init__(self, run_id: int, settings: GenerateSettings, landscape: Landscape, landscape_version: int = 0) -> None:
        super().__init__(run_id, landscape, landscape_version)
        self.settings = settings
        self.generation: Generation | None = None
        self.trainer: ScoreTrainer | None = None
        self._frames: list[GenerationFrame] = []

    # ---- settings ------------------------------------------------------------------------
    def apply_config(self, value: GenerateSettings) -> None:
        self.settings = value
        if self._ok:
            self.setup()
            self._emit()

    def landscape_changed(self) -> None:
        if self._ok:
            self.setup()
            self._emit()

    def resource_hint(self) -> tuple[int | None, str]:
        return int(self.settings.walkers), str(self.settings.device)

    # ---- run -----------------------------------------------------------------------------
    def setup(self) -> None:
        s = self.settings.validated()
        self.generation, self.trainer, self._frames = None, None, []
        self.device, self.notice = device_with_fallback(s.device)
        check_walker_memory(int(s.walkers), self.device, torch.float64, landscape=self.landscape)
        ref = self.reference.reference if self.reference is not None else None
        self.density = noised_density(self.landscape, make_schedule(s.path), reference=ref)
        self.box = self.density.reference.box
        self._final_se: np.ndarray | None = None
        self.config = GenerateConfig(solver=s.solver, steps=int(s.steps), walkers=int(s.walkers),
                                     jarzynski=bool(s.jarzynski), resample_threshold=float(s.resample_threshold),
                                     langevin_steps=int(s.langevin_steps), langevin_eps=float(s.langevin_eps),
                                     record_every=int(s.steps), seed=int(s.seed)).validated()
        self.every = max(1, math.ceil(s.steps / MAX_FRAMES))
        self.phase = "generating"
        if s.score == "learned":
            self.trainer = ScoreTrainer(self.density, int(s.train_iterations), make_generator(s.seed + 1),
                                        device=self.device, seed=int(s.seed))
            self.phase = "training"
        else:
            self._start_generation(None)

    def _start_generation(self, score) -> None:  # noqa: ANN001 - a ScoreFn or None (exact)
        self.generation = Generation(self.density, self.config, score, make_generator(self.settings.seed, self.device),
                              self.device)
        self.phase = "generating"
        self._add_frame()

    def advance(self, n: int) -> None:
        for _ in range(n):
            if self.trainer is not None and self.generation is None:
                self.trainer.step()
                if self.trainer.done:
                    self._start_generation(self.trainer.model.score_fn())
                continue
            run = self.generation
            if run is None or run.done:
                break
            with torch.no_grad():
                run.step()
            k = run.walkers.step
            if k % self.every == 0 or run.done:
                self._add_frame()
            if run.done:
                self.phase = "finished"
                self._emit()  # the last frames now, not at the next (never coming) emit
                self.finish()
                return

    def _add_frame(self) -> None:
        w = self.generation.walkers
        t = float(w.t)
        x = w.x
        log_w = w.log_w if self.config.jarzynski else None
        nums = walker_numbers(self.density, t, x, log_w)
        arrow_at, score = score_arrows(self.density, t, self.box, ARROWS)
        k = min(MAX_POINTS, x.shape[0])
        weights = relative_weights(w.log_w)[:k] if log_w is not None else np.ones(k)
        self._frames.append(GenerationFrame(
            step=int(w.step), t=t,
            points=x[:k].detach().cpu().numpy().astype(np.float32),
            weights=weights.astype(np.float32),
            density=density_on_grid(self.density, t, self.box, IMAGE_RESOLUTION),
            arrow_at=arrow_at, score=score,
            kl=nums.kl, kl_weighted=nums.kl_weighted, kl_floor=nums.kl_floor,
            kl_floor_weighted=nums.kl_floor_weighted, ess=nums.ess,
            mode_weights=nums.mode_weights.copy(), mode_weights_weighted=nums.mode_weights_weighted.copy(),
            mode_weights_exact=nums.mode_weights_exact.copy(),
        ))

    # ---- output --------------------------------------------------------------------------
    def make_snapshot(self) -> GenerateSnapshot:
        s = self.settings
        frames, self._frames = tuple(self._frames), []
        training = None
        if self.trainer is not None and self.trainer.losses:
            tr = self.trainer
            training = ScoreTraining(len(tr.losses), tr.iterations, float(np.mean(tr.losses[-20:])), tr.seconds)
        se = None
        resamples = 0
        if self.generation is not None:
            resamples = self.generation.walkers.resample_count
            if self.generation.done and self._final_se is None:
                self._final_se = np.asarray(self.generation.result().mode_weights_se, dtype=np.float64)
            se = self._final_se
        b = self.box
        return GenerateSnapshot(
            run_id=self.run_id, step=0 if self.generation is None else int(self.generation.walkers.step),
            total_steps=int(s.steps), n_walkers=int(s.walkers), steps_per_s=self.steps_per_s, phase=self.phase,
            box=(b.xmin, b.xmax, b.ymin, b.ymax), t_min=float(self.density.t_min), frames=frames,
            score_training=training, mode_weights_se=None if se is None else se.copy(),
            resample_count=int(resamples), notice=self.notice or "",
        )
