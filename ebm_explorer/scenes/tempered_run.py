"""A scene's tempered run without a screen (``ebm-explorer run``): parallel tempering or annealed SMC.

Records like the other runs (``scenes.headless``): PT records its beta = 1 replica every ``record_every``
steps with the sampling metrics against the exact reference; SMC records every level (the weighted
walkers with their log weights, ESS / N, the log Z estimate with its standard error beside the exact
log Z_t, the weighted mode masses). The settings are the scene's :class:`TemperedSettings`, run by the
same core stepping as the app's worker, so a headless run is the window's run.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.reference import GridReference, compute_reference
from ebm_explorer.core.run_settings import RunSpec, TemperedSettings
from ebm_explorer.core.tempering import (
    AnnealedSMC,
    ParallelTempering,
    StartDistribution,
    exact_path_log_z,
    smc_mode_masses,
)
from ebm_explorer.core.training.recipe import DTYPES
from ebm_explorer.export.streaming import CancelToken, check_cancel
from ebm_explorer.scenes.headless import (
    REFERENCE_RESOLUTION,
    RunOutput,
    StopFn,
    _Collector,
    _record_plan,
    _sample_row,
    scene_landscape,
)
from ebm_explorer.scenes.model import Scene

__all__ = ["run_tempered"]


def run_tempered(scene: Scene, run: RunSpec, steps: int | None, record_every: int | None, max_walkers: int,
                 refs: dict[float | None, GridReference], cancel: CancelToken, stop: StopFn = None) -> RunOutput:
    """Run ``run`` (a tempered run of ``scene``): PT for the scene's ``steps`` (or ``steps``), SMC to t = 1."""
    s: TemperedSettings = run.settings.validated()  # type: ignore[union-attr]
    land = scene_landscape(scene)
    if None not in refs:
        refs[None] = compute_reference(land, land.box, REFERENCE_RESOLUTION)
    ref = refs[None]
    device = resolve_device(s.device)
    dtype = DTYPES[s.dtype]
    gen = make_generator(s.seed, device)
    start = StartDistribution(s.start, land.box)
    if s.algorithm == "pt":
        return _run_pt(scene, run, s, land, ref, start, gen, device, dtype, steps, record_every, max_walkers, cancel, stop)
    return _run_smc(run, s, land, ref, start, gen, device, dtype, max_walkers, cancel, stop)


def _run_pt(scene, run, s, land, ref, start, gen, device, dtype, steps, record_every, max_walkers, cancel, stop):
    n, r = int(s.walkers), int(s.replicas)
    total = scene.steps if steps is None else steps
    every = _record_plan(total, record_every)
    pt = ParallelTempering(land, land.box, s.pt_config(), n, device, dtype)
    state = pt.init(start.sample(r * n, gen, device, dtype).view(r, n, 2))
    col = _Collector(min(n, max_walkers))
    pos, energy = pt.positions(state)[0], pt.energies(state)[0]
    col.add(0, pos, energy, None, None, {**_sample_row(pos, energy, ref), "acceptance": math.nan})
    window: list[float] = []
    done = 0
    for k in range(1, total + 1):
        if stop is not None and stop():
            break
        state, info = pt.step(gen, state)
        window.append(float(info.accepted[0].float().mean()))
        done = k
        if k % every == 0 or k == total:
            check_cancel(cancel)
            pos, energy = pt.positions(state)[0], pt.energies(state)[0]
            col.add(k, pos, energy, info.accepted[0], None,
                    {**_sample_row(pos, energy, ref), "acceptance": float(np.mean(window))})
            window.clear()
    if col.steps[-1] != done:  # stopped early: the last state is the final record
        pos, energy = pt.positions(state)[0], pt.energies(state)[0]
        col.add(done, pos, energy, None, None, {**_sample_row(pos, energy, ref), "acceptance": math.nan})
    return RunOutput(run.display_label, "tempered", col.trajectory(), col.metrics(),
                     pt.positions(state)[0].cpu().numpy(), [(0, ref)])


def _run_smc(run, s, land, ref, start, gen, device, dtype, max_walkers, cancel, stop):
    n = int(s.walkers)
    smc = AnnealedSMC(land, land.box, n, s.smc_config(), device, dtype)
    state = smc.init(gen)
    col = _Collector(min(n, max_walkers))
    zeros = torch.zeros(n, dtype=torch.float64)
    col.add(0, state.position, land.energy(state.position), None, zeros,
            {"log_z_est": start.log_z, "log_z_se": 0.0, "log_z_exact": start.log_z})
    levels = []
    while state.t < 1.0 and not (stop is not None and stop()):
        state, level = smc.step(gen, state)
        levels.append(level)
        check_cancel(cancel)
        res = smc.result(state, levels)
        masses = smc_mode_masses(res, ref.basin_of(res.positions), ref.n_modes)
        exact_t = float(exact_path_log_z(ref.energy, ref.xs, ref.ys, start, np.array([state.t]))[0])
        col.add(level.index, state.position, land.energy(state.position), None, level.log_weights,
                {"log_z_est": level.log_z, "log_z_se": res.log_z_stderr, "log_z_exact": exact_t,
                 "ess_fraction": level.ess, "acceptance": level.acceptance,
                 "resample_count": float(sum(lv.resampled for lv in levels)),
                 "mode_weights": masses.masses, "mode_weights_true": np.asarray(ref.mode_weights, dtype=float)})
    return RunOutput(run.display_label, "tempered", col.trajectory(), col.metrics(), state.position.cpu().numpy(),
                     [(0, ref)])
