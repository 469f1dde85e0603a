"""The one place that turns the app's run choices into run specifications.

The app model holds the choices (mode, compare mode, the sampler and training settings that the panels
edit, the compare rows, and a scene's own runs while nothing has been changed since it was opened);
:func:`plan_runs` maps them to the :class:`RunSpec` list the workers serve. No Qt, no widgets: the
labels the panels show for algorithms live here too, so the model can name runs without the panels.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from ebm_explorer.core.run_settings import GenerateSettings, RunSpec, SampleSettings, TemperedSettings, TrainSettings

__all__ = ["SAMPLER_NAMES", "METHOD_NAMES", "DEFAULT_COMPARE_ROWS", "COMPARE_ROW_DEFAULTS", "CompareRow",
           "compare_runs", "generate_runs", "plan_runs", "single_run"]

SAMPLER_NAMES = {"mh": "Random-walk MH", "ula": "ULA (unadjusted Langevin)", "mala": "MALA", "hmc": "HMC"}
METHOD_NAMES = {"cd": "CD-k", "pcd": "PCD", "jarzynski": "Jarzynski", "sm": "Score matching",
                "dsm": "Denoising score matching"}

#: one compare row: a sampler (``mala``), a training method (``jarzynski``) or a tempered algorithm (``pt``,
#: from a scene) and its step size
CompareRow = tuple[str, float]
#: the compare tab's four rows; the first two are compared until the user asks for more
COMPARE_ROW_DEFAULTS: tuple[CompareRow, ...] = (("ula", 0.2), ("mala", 0.2), ("hmc", 0.2), ("mh", 0.5))
DEFAULT_COMPARE_ROWS = COMPARE_ROW_DEFAULTS[:2]


def single_run(mode: str, sample: SampleSettings, train: TrainSettings,
               tempered: TemperedSettings | None = None) -> RunSpec:
    """The one run of the sample, train or tempered mode, labelled by its algorithm and step size (kernel)."""
    if mode == "train":
        return RunSpec("train", f"{train.method} ({train.model})", train)
    if mode == "tempered":
        p = tempered or TemperedSettings()
        return RunSpec("tempered", f"{p.algorithm.upper()} ({p.kernel.upper()})", p)
    return RunSpec("sample", f"{sample.sampler.upper()} h={sample.step_size:g}", sample)


def compare_runs(rows: Sequence[CompareRow], sample: SampleSettings, train: TrainSettings,
                 tempered: TemperedSettings | None = None) -> list[RunSpec]:
    """One run per compare row: the shared settings with that row's algorithm (or method) and step size."""
    out = []
    for kind, h in rows:
        if kind in SAMPLER_NAMES:
            out.append(RunSpec("sample", f"{kind.upper()} h={h:g}", replace(sample, sampler=kind, step_size=h)))
        elif kind not in METHOD_NAMES:  # pt / smc (a tempered scene's rows)
            p = replace(tempered or TemperedSettings(), algorithm=kind, step_size=h)
            out.append(RunSpec("tempered", f"{kind.upper()} h={h:g}", p))
        else:
            out.append(RunSpec("train", f"{METHOD_NAMES[kind]} h={h:g}", replace(train, method=kind, step_size=h)))
    return out


def generate_runs(settings: GenerateSettings, all_solvers: bool = False) -> list[RunSpec]:
    """The generation runs: one, or the three samplers side by side (the ODE without weights)."""
    if not all_solvers:
        return [RunSpec("generate", settings.label, settings)]
    runs = [replace(settings, solver=solver, jarzynski=settings.jarzynski and solver != "ode")
            for solver in ("sde", "ode", "annealed-langevin")]
    return [RunSpec("generate", r.label, r) for r in runs]


def plan_runs(mode: str, compare: bool, sample: SampleSettings, train: TrainSettings,
              rows: Sequence[CompareRow], scene_runs: Sequence[RunSpec] | None = None,
              tempered: TemperedSettings | None = None,
              generate: tuple[GenerateSettings, bool] | None = None) -> list[RunSpec]:
    """The runs the app shows: a scene's own runs (until a choice changes), else the compare rows in
    compare mode, else the generation runs, else the single run of the mode."""
    if scene_runs is not None:
        return list(scene_runs)
    if compare:
        return compare_runs(rows, sample, train, tempered)
    if mode == "generate":
        return generate_runs(*(generate or (GenerateSettings(), False)))
    return [single_run(mode, sample, train, tempered)]
