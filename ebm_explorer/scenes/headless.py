"""Run a scene without a screen and write its trajectories, metrics, figures and animation (no Qt).

:func:`run_scene` runs every run of a scene (sampling through ``run_chain``, training through the
``Trainer``), recording a bounded subset of walkers every ``record_every`` steps together with the
metric time series against the exact grid reference. :func:`export_scene_output` writes what a run
produced; :func:`run_scene_to_dir` does both (the ``ebm-explorer run`` command).

Output files in DIR (``<r>`` = ``run1``, ``run2``, ...): ``scene.toml``; ``<r>_trajectory.npz``
(trajectory arrays + metric series + scene text) and ``<r>_trajectory.csv`` (long format);
``<r>_metrics.csv``; ``landscape.png/.svg`` (density with final walkers of every run, plus the scene's
exact curves); ``metrics.png/.svg``; scene 3's ``fisher_kl.csv/.png/.svg``; with recording,
``animation.gif`` / ``animation.mp4``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator, resolve_device
from ebm_explorer.core.diffusion.frames import walker_numbers
from ebm_explorer.core.diffusion.generate import GenerateConfig, Generation
from ebm_explorer.core.diffusion.learned import train_score_network
from ebm_explorer.core.diffusion.paths import make_schedule, noised_density
from ebm_explorer.core.resources import device_with_fallback
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import Landscape, landscape_from_spec
from ebm_explorer.core.metrics import walker_metrics
from ebm_explorer.core.reference import GridReference, compute_reference
from ebm_explorer.core.samplers import get_sampler, initial_positions, run_chain
from ebm_explorer.core.training.recipe import DTYPES, build_trainer
from ebm_explorer.export.metrics_history import Metrics, MetricsHistory
from ebm_explorer.export.figures import LandscapeAnimator, curves_figure, landscape_figure, metrics_figure, save_figure
from ebm_explorer.export.recorder import Recorder
from ebm_explorer.export.streaming import CancelToken, ProgressFn, check_cancel
from ebm_explorer.export.trajectories import TrajectoryData, export_trajectories
from ebm_explorer.scenes.io import scene_to_toml
from ebm_explorer.core.run_settings import GenerateSettings, RunSpec, SampleSettings, TemperedSettings, TrainSettings
from ebm_explorer.scenes.model import Scene
from ebm_explorer.scenes.science import mode_weight_curve, ula_ellipses

__all__ = ["OUTPUT_FORMATS", "DEFAULT_MAX_WALKERS", "RunOutput", "SceneOutput", "run_scene", "export_scene_output",
           "run_scene_to_dir", "scene_landscape"]

OUTPUT_FORMATS = ("npz", "csv", "png", "svg", "gif", "mp4")
#: walkers recorded per run unless told otherwise (all of them when there are fewer)
DEFAULT_MAX_WALKERS = 1000
#: records per run when no ``record_every`` is given (bounded, so the files stay small)
DEFAULT_RECORDS = 100
#: grid resolution of the exact reference used for the metrics and the figures
REFERENCE_RESOLUTION = 128

#: ``stop()`` -> True ends the runs early, keeping what they recorded (Ctrl-C on the command line)
StopFn = Callable[[], bool] | None


def check_scene_resources(scene: Scene, steps: int | None = None) -> None:
    """Refuse, before anything is allocated, a scene whose runs cannot fit in memory (walkers, data and
    the landscape's real per-walker cost) or whose run length is beyond the documented range."""
    from ebm_explorer.core.limits import check_int
    from ebm_explorer.core.resources import check_walker_memory

    land = scene_landscape(scene)
    for i, r in enumerate(scene.runs):
        s = r.settings
        where = f"runs[{i}]: "
        if isinstance(s, TrainSettings):
            check_int("iterations", (s.iterations or scene.steps) if steps is None else steps, where)
            n, dtype = s.walkers + s.data_size, DTYPES[s.dtype]
        elif isinstance(s, TemperedSettings):
            n, dtype = s.walkers * (s.replicas if s.algorithm == "pt" else 1), DTYPES[s.dtype]
        elif isinstance(s, GenerateSettings):
            n, dtype = s.walkers, torch.float64
        else:
            n, dtype = s.walkers, DTYPES[s.dtype]
        device, _notice = device_with_fallback(s.device)
        try:
            check_walker_memory(n, device, dtype, landscape=land)
        except UserInputError as exc:
            raise UserInputError(f"{where}{exc}") from None


@dataclass
class RunOutput:
    """What one run produced: recorded walkers, metric series (one value per record), final walkers."""

    label: str
    kind: str
    trajectory: TrajectoryData
    metrics: dict[str, np.ndarray]
    final_positions: np.ndarray  # (N, 2) every walker at the end
    references: list[tuple[int, GridReference]]  # (first step, reference) of each beta segment


@dataclass
class SceneOutput:
    scene: Scene
    runs: list[RunOutput]
    reference: GridReference  # of the scene's landscape (at its own beta)
    curves: dict[str, np.ndarray] = field(default_factory=dict)  # closed curves drawn on the landscape
    sweep_curve: dict[str, np.ndarray] | None = None  # scene 3: weight, kl, fisher


def scene_landscape(scene: Scene, beta: float | None = None) -> Landscape:
    """The scene's landscape, at inverse temperature ``beta`` when given (else the table's own)."""
    table = dict(scene.landscape)
    if beta is not None:
        table["beta"] = float(beta)
    return landscape_from_spec(table)


def _record_plan(total_steps: int, record_every: int | None) -> int:
    if record_every is None:
        return max(1, math.ceil(total_steps / DEFAULT_RECORDS))
    if isinstance(record_every, bool) or not isinstance(record_every, int) or record_every < 1:
        raise UserInputError(f"record-every must be an integer >= 1, got {record_every!r}")
    return record_every


class _Collector:
    """Accumulates records (subset of walkers + metrics) of one run."""

    def __init__(self, n_subset: int) -> None:
        self.w = n_subset
        self.steps: list[int] = []
        self.pos: list[np.ndarray] = []
        self.energy: list[np.ndarray] = []
        self.accepted: list[np.ndarray] = []
        self.logw: list[np.ndarray] = []
        self.points: list[Metrics] = []

    def add(self, step: int, pos: torch.Tensor, energy: torch.Tensor, accepted: torch.Tensor | None,
            logw: torch.Tensor | None, row: dict[str, Any]) -> None:
        """Record the first walkers and one :class:`Metrics` point (``row``: its fields but ``step``)."""
        w = self.w
        self.steps.append(step)
        self.pos.append(pos[:w].detach().cpu().numpy().copy())
        self.energy.append(energy[:w].detach().cpu().numpy().copy())
        self.accepted.append(np.ones(w, bool) if accepted is None else accepted[:w].detach().cpu().numpy().astype(bool))
        self.logw.append(np.zeros(w) if logw is None else logw[:w].detach().cpu().numpy().astype(np.float64))
        self.points.append(Metrics(step=step, **row))

    def trajectory(self) -> TrajectoryData:
        return TrajectoryData(np.asarray(self.steps, dtype=np.int64), np.arange(self.w, dtype=np.int64),
                              np.stack(self.pos), np.stack(self.energy), np.stack(self.accepted), np.stack(self.logw))

    def metrics(self) -> dict[str, np.ndarray]:
        """The metric columns, from the same history type as the GUI's (so both export the same columns)."""
        history = MetricsHistory.holding(len(self.points))
        for m in self.points:
            history.append(m)
        return history.columns()


def _sample_row(pos: torch.Tensor, energy: torch.Tensor, ref: GridReference) -> dict[str, Any]:
    p = pos.detach().cpu().numpy().astype(np.float64)
    e = energy.detach().cpu().numpy().astype(np.float64)
    m = walker_metrics(p, e, ref)
    row: dict[str, Any] = {
        "mean_energy": m.mean_energy, "mean_energy_exact": m.mean_energy_exact, "kl": m.kl, "tv": m.tv,
        "tv_expected": m.tv_expected, "kl_expected": m.kl_expected, "outside_fraction": m.outside_fraction,
        "log_z_exact": ref.log_z, "mode_weights": np.asarray(m.mode_weights, dtype=float),
        "mode_weights_true": np.asarray(m.mode_weights_exact, dtype=float)}
    ok = np.isfinite(p).all(axis=1)
    cov = np.cov(p[ok].T) if ok.sum() > 1 else np.full((2, 2), math.nan)
    row.update(cov_xx=cov[0, 0], cov_xy=cov[0, 1], cov_yy=cov[1, 1],
               cov_exact_xx=ref.cov[0, 0], cov_exact_xy=ref.cov[0, 1], cov_exact_yy=ref.cov[1, 1])
    return row


def _run_sample(scene: Scene, run: RunSpec, steps: int | None, record_every: int | None, max_walkers: int,
                refs: dict[float | None, GridReference], cancel: CancelToken, stop: StopFn = None) -> RunOutput:
    s: SampleSettings = run.settings  # type: ignore[assignment]
    device = resolve_device(s.device)
    dtype = DTYPES[s.dtype]
    sampler = get_sampler(s.sampler)
    params = s.kernel_params()
    gen = make_generator(s.seed, device)
    segments: list[tuple[float | None, int]]
    if scene.sweep is not None and scene.sweep.parameter == "beta":
        n = len(scene.sweep.values)
        per = scene.sweep.steps_per_value if steps is None else max(1, steps // n)
        segments = [(float(b), per) for b in scene.sweep.values]
    else:
        segments = [(None, scene.steps if steps is None else steps)]
    total = sum(n for _, n in segments)
    every = _record_plan(total, record_every)
    land0 = scene_landscape(scene, segments[0][0])
    pos = initial_positions(s.init, s.walkers, land0.box, gen, device, dtype, point=s.init_point)
    col = _Collector(min(s.walkers, max_walkers))
    done = 0
    used_refs: list[tuple[int, GridReference]] = []
    for beta, n_steps in segments:
        land = scene_landscape(scene, beta)
        if beta not in refs:
            refs[beta] = compute_reference(land, land.box, REFERENCE_RESOLUTION)
        ref = refs[beta]
        used_refs.append((done, ref))
        extra = {} if beta is None else {"beta": beta}
        if done == 0:
            e0 = land.energy(pos)
            col.add(0, pos, e0, None, None, {**extra, **_sample_row(pos, e0, ref), "acceptance": math.nan})
        window: list[float] = []

        def on_step(k: int, state, info, _done=done, _ref=ref, _extra=extra) -> None:
            window.append(float(info.accepted.float().mean()))
            step = _done + k
            if step % every == 0:
                check_cancel(cancel)
                col.add(step, state.position, state.energy, info.accepted, None,
                        {**_extra, **_sample_row(state.position, state.energy, _ref),
                         "acceptance": float(np.mean(window))})
                window.clear()

        result = run_chain(sampler, land, pos, params, n_steps, gen, on_step=on_step, should_stop=stop)
        pos = result.state.position
        taken = n_steps if result.steps_done is None else result.steps_done
        done += taken
        if taken < n_steps:  # stopped (Ctrl-C): keep the last state as the final record
            if col.steps[-1] != done:
                col.add(done, pos, result.state.energy, None, None,
                        {**extra, **_sample_row(pos, result.state.energy, ref), "acceptance": math.nan})
            break
    return RunOutput(run.display_label, "sample", col.trajectory(), col.metrics(),
                     pos.detach().cpu().numpy(), used_refs)


def _run_train(scene: Scene, run: RunSpec, steps: int | None, record_every: int | None, max_walkers: int,
               refs: dict[float | None, GridReference], cancel: CancelToken, stop: StopFn = None) -> RunOutput:
    t: TrainSettings = run.settings  # type: ignore[assignment]
    target = scene_landscape(scene)
    if None not in refs:
        refs[None] = compute_reference(target, target.box, REFERENCE_RESOLUTION)
    iterations = (t.iterations or scene.steps) if steps is None else steps  # 0: until paused (GUI)
    every = _record_plan(iterations, record_every)
    trainer = build_trainer(t, target, resolution=REFERENCE_RESOLUTION, diagnostics_every=every)
    col = _Collector(min(t.walkers, max_walkers))
    prev = trainer.walkers[: col.w].clone()
    col.add(0, trainer.walkers, trainer.state.energy, None, trainer.log_weights, {})
    for k in range(1, iterations + 1):
        if stop is not None and stop():
            break
        m = trainer.step()
        if k % every == 0:
            check_cancel(cancel)
            now = trainer.walkers[: col.w]
            moved = (now != prev).any(dim=1)
            row = {"kl": m.kl, "fisher": m.fisher, "cross_entropy": m.cross_entropy,
                   "cross_entropy_est": m.cross_entropy_est, "log_z_exact": m.log_z_exact, "log_z_est": m.log_z_est,
                   "ess_fraction": m.ess_fraction, "resample_count": m.resample_count, "acceptance": m.acceptance,
                   "energy_gap": m.energy_gap, "nonfinite_walkers": m.nonfinite_walkers,
                   "model_energy_data": m.data_energy, "model_energy_walkers": m.data_energy - m.energy_gap,
                   "log_z_se": m.log_z_se, "log_z_est_xfit": m.log_z_est_xfit, "log_z_se_xfit": m.log_z_se_xfit,
                   "cross_entropy_est_xfit": m.cross_entropy_est_xfit,
                   "mode_weights": np.asarray(m.mode_weights, dtype=float),
                   "mode_weights_true": np.asarray(m.mode_weights_true, dtype=float)}
            col.add(k, trainer.walkers, trainer.state.energy, moved, trainer.log_weights, row)
        prev = trainer.walkers[: col.w].clone()
    return RunOutput(run.display_label, "train", col.trajectory(), col.metrics(),
                     trainer.walkers.detach().cpu().numpy(), [(0, refs[None])])


def _run_generate(scene: Scene, run: RunSpec, record_every: int | None, max_walkers: int,
                  refs: dict[float | None, GridReference], cancel: CancelToken, stop: StopFn = None) -> RunOutput:
    """A generation run: its own ``steps`` (K is part of the experiment: ``--steps`` does not change it);
    each record's metrics are the walkers against the exact ``rho_t`` (weighted when Jarzynski is on)."""
    g: GenerateSettings = run.settings.validated()  # type: ignore[union-attr]
    target = scene_landscape(scene)
    if None not in refs:
        refs[None] = compute_reference(target, target.box, REFERENCE_RESOLUTION)
    device = resolve_device(g.device)
    density = noised_density(target, make_schedule(g.path))
    score = None
    if g.score == "learned":
        net, _info = train_score_network(density, g.train_iterations, make_generator(g.seed + 1), device=device,
                                         seed=g.seed, should_stop=stop)
        score = net.score_fn()
    config = GenerateConfig(solver=g.solver, steps=g.steps, walkers=g.walkers, jarzynski=g.jarzynski,
                            resample_threshold=g.resample_threshold, langevin_steps=g.langevin_steps,
                            langevin_eps=g.langevin_eps, record_every=g.steps, seed=g.seed)
    gen = Generation(density, config, score, make_generator(g.seed, device), device)
    every = _record_plan(g.steps, record_every)
    col = _Collector(min(g.walkers, max_walkers))

    def record() -> None:
        w = gen.walkers
        check_cancel(cancel)
        nums = walker_numbers(density, w.t, w.x, w.log_w if g.jarzynski else None)
        weighted = g.jarzynski
        col.add(w.step, w.x, target.energy(w.x.to(torch.float64)), None, w.log_w if weighted else None,
                {"kl": nums.kl_weighted if weighted else nums.kl, "kl_expected": nums.kl_floor_weighted if weighted
                 else nums.kl_floor, "ess_fraction": nums.ess,
                 "mode_weights": nums.mode_weights_weighted if weighted else nums.mode_weights,
                 "mode_weights_true": nums.mode_weights_exact})

    with torch.no_grad():
        record()
        while not gen.done:
            if stop is not None and stop():
                gen.stop()
                break
            gen.step()
            if gen.walkers.step % every == 0 or gen.done:
                record()
        if col.steps[-1] != gen.walkers.step:
            record()
    return RunOutput(run.display_label, "generate", col.trajectory(), col.metrics(),
                     gen.walkers.x.detach().cpu().numpy(), [(0, refs[None])])


def run_scene(
    scene: Scene,
    steps: int | None = None,
    record_every: int | None = None,
    max_walkers: int = DEFAULT_MAX_WALKERS,
    cancel: CancelToken = None,
    on_run_done: Callable[[int, RunOutput], None] | None = None,
    stop: StopFn = None,
) -> SceneOutput:
    """Run every run of ``scene`` headless.

    ``steps`` overrides the scene's ``steps`` (sampling; a beta sweep splits it evenly over the beta
    values instead of ``steps_per_value`` each) and every training run's ``iterations``. Every
    ``record_every`` steps (default: about 100 records per run) the first ``max_walkers`` walkers
    and the metrics are recorded. ``stop()`` (polled every step) ends the run early, keeping what was
    recorded, and skips the runs not started (an interrupted ``ebm-explorer run`` writes them).
    """
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise UserInputError(f"steps must be an integer >= 1, got {steps!r}")
    if isinstance(max_walkers, bool) or not isinstance(max_walkers, int) or max_walkers < 1:
        raise UserInputError(f"max walkers must be an integer >= 1, got {max_walkers!r}")
    refs: dict[float | None, GridReference] = {}
    outputs: list[RunOutput] = []
    check_scene_resources(scene, steps)
    for i, run in enumerate(scene.runs):
        check_cancel(cancel)
        if outputs and stop is not None and stop():
            break
        if run.kind == "sample":
            out = _run_sample(scene, run, steps, record_every, max_walkers, refs, cancel, stop)
        elif run.kind == "tempered":
            from ebm_explorer.scenes.tempered_run import run_tempered  # it builds on this module's records

            out = run_tempered(scene, run, steps, record_every, max_walkers, refs, cancel, stop)
        elif run.kind == "generate":
            out = _run_generate(scene, run, record_every, max_walkers, refs, cancel, stop)
        else:
            out = _run_train(scene, run, steps, record_every, max_walkers, refs, cancel, stop)
        outputs.append(out)
        if on_run_done is not None:
            on_run_done(i, out)
    land = scene_landscape(scene)
    if None not in refs:
        refs[None] = compute_reference(land, land.box, REFERENCE_RESOLUTION)
    curves: dict[str, np.ndarray] = {}
    if "ula_ellipse" in scene.view.overlays:
        hs = {r.display_label: r.settings.step_size for r in scene.runs
              if isinstance(r.settings, SampleSettings) and r.settings.sampler == "ula"}
        curves = ula_ellipses(land, hs)
    sweep_curve = None
    if scene.sweep is not None and scene.sweep.parameter == "mode_weight":
        sweep_curve = mode_weight_curve(land, scene.sweep.mode, np.asarray(scene.sweep.values))
    return SceneOutput(scene, outputs, refs[None], curves, sweep_curve)


def _metric_panels(output: SceneOutput) -> list[tuple[str, list[str], str | None]]:
    names = {n for r in output.runs for n, v in r.metrics.items() if np.isfinite(np.asarray(v, dtype=float)).any()}
    panels: list[tuple[str, list[str], str | None]] = []
    n_modes = sum(1 for n in names if n.startswith("mode_weight_") and not n.startswith("mode_weight_exact"))
    if n_modes:
        panels.append(("mode weight 0 (exact dashed)", ["mode_weight_0"], "mode_weight_exact_0"))
    if "mean_energy" in names:
        panels.append(("mean energy (exact dashed)", ["mean_energy"], "mean_energy_exact"))
    if "kl" in names:
        panels.append(("KL to the exact density", ["kl"], None))
    if "acceptance" in names:
        panels.append(("acceptance", ["acceptance"], None))
    if "tv" in names:
        panels.append(("total variation", ["tv"], None))
    if "ess_fraction" in names:
        panels.append(("ESS / N", ["ess_fraction"], None))
    if "beta" in names:
        panels.append(("beta", ["beta"], None))
    return panels


def _frames(output: SceneOutput, size: tuple[float, float], dpi: float):
    """RGB frames of the landscape view, the runs side by side, one per record."""
    animators: dict[int, LandscapeAnimator] = {}
    n_frames = max(r.trajectory.n_records for r in output.runs)
    for i in range(n_frames):
        parts = []
        for r in output.runs:
            t = min(i, r.trajectory.n_records - 1)
            step = int(r.trajectory.steps[t])
            ref = [ref for start, ref in r.references if start <= step][-1]
            if id(ref) not in animators:
                animators[id(ref)] = LandscapeAnimator(ref, show=output.scene.view.show, curves=output.curves,
                                                       size=size, dpi=dpi)
            parts.append(animators[id(ref)].frame(r.trajectory.positions[t], f"{r.label}  step {step}"))
        yield np.concatenate(parts, axis=1)


def export_scene_output(
    output: SceneOutput,
    out_dir: str | os.PathLike[str],
    formats: tuple[str, ...] = ("npz", "csv", "png", "svg"),
    dpi: float = 150,
    fps: float = 10.0,
    progress: ProgressFn | None = None,
    cancel: CancelToken = None,
) -> list[Path]:
    """Write the files of ``output`` into ``out_dir`` (see the module docstring); returns their paths."""
    bad = [f for f in formats if f not in OUTPUT_FORMATS]
    if bad:
        raise UserInputError(f"unknown format {bad[0]!r}: choose from {', '.join(OUTPUT_FORMATS)}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    scene_text = scene_to_toml(output.scene)
    written = export_trajectories(None, scene_toml=scene_text, scene_path=out / "scene.toml", cancel=cancel)
    n_runs = len(output.runs)
    for i, r in enumerate(output.runs, start=1):
        def run_progress(done: int, total: int, _i=i) -> None:
            if progress is not None:
                progress((_i - 1) * total + done, n_runs * total)

        written += export_trajectories(
            r.trajectory,
            npz_path=out / f"run{i}_trajectory.npz" if "npz" in formats else None,
            csv_path=out / f"run{i}_trajectory.csv" if "csv" in formats else None,
            metrics=r.metrics,
            metrics_csv_path=out / f"run{i}_metrics.csv" if "csv" in formats else None,
            scene_toml=scene_text,
            progress=run_progress,
            cancel=cancel,
        ) if ("npz" in formats or "csv" in formats) else []
    if output.sweep_curve is not None and "csv" in formats:
        written += export_trajectories(None, metrics=output.sweep_curve, metrics_csv_path=out / "fisher_kl.csv",
                                       cancel=cancel)
    figure_formats = [f for f in ("png", "svg") if f in formats]
    if figure_formats:
        final = {r.label: r.final_positions for r in output.runs}
        figs = {"landscape": landscape_figure(output.reference, show=output.scene.view.show, title=output.scene.title,
                                              curves=output.curves, groups=final),
                "metrics": metrics_figure({r.label: r.metrics for r in output.runs}, _metric_panels(output),
                                          title=output.scene.title)}
        if output.sweep_curve is not None:
            c = output.sweep_curve
            figs["fisher_kl"] = curves_figure(c["weight"], {"KL": c["kl"], "Fisher": c["fisher"]},
                                              xlabel=f"weight of mode {output.scene.sweep.mode}",  # type: ignore[union-attr]
                                              ylabel="divergence to the truth", title="KL sees the weight, Fisher does not")
        for name, fig in figs.items():
            for fmt in figure_formats:
                check_cancel(cancel)
                written.append(save_figure(fig, out / f"{name}.{fmt}", dpi=dpi))
    if "gif" in formats or "mp4" in formats:
        rec = Recorder(out / "animation.gif" if "gif" in formats else None,
                       out / "animation.mp4" if "mp4" in formats else None, fps=fps, cancel=cancel)
        with rec:
            for frame in _frames(output, (4.0, 3.4), 80):
                rec.add_frame(frame)
        written += [p for p in (rec.gif_path, rec.mp4_path) if p is not None]
    return written


def run_scene_to_dir(
    scene: Scene,
    out_dir: str | os.PathLike[str],
    steps: int | None = None,
    record: bool = False,
    formats: tuple[str, ...] = ("npz", "csv", "png", "svg"),
    record_every: int | None = None,
    max_walkers: int = DEFAULT_MAX_WALKERS,
    dpi: float = 150,
    progress: ProgressFn | None = None,
    cancel: CancelToken = None,
    stop: StopFn = None,
) -> list[Path]:
    """Run ``scene`` headless and write its files into ``out_dir`` (``record`` adds GIF and MP4)."""
    output = run_scene(scene, steps=steps, record_every=record_every, max_walkers=max_walkers, cancel=cancel,
                       stop=stop)
    fmts = tuple(formats) + (tuple(f for f in ("gif", "mp4") if f not in formats) if record else ())
    return export_scene_output(output, out_dir, fmts, dpi=dpi, progress=progress, cancel=cancel)
