"""The scene: everything needed to reproduce what is on screen, as frozen dataclasses (no Qt).

The run settings (:class:`SampleSettings`, :class:`TrainSettings`, :class:`RunSpec`) are the core's
(``core.run_settings``), used unchanged here. A scene holds a landscape (the ``[landscape]`` table of :mod:`ebm_explorer.core.landscapes`, kept as
a plain dict so a drawn grid or an edited mixture survives unchanged), 1 to 4 runs side by side
(compare mode), the view options, and an optional sweep (a weight or a temperature moved by a slider).
``from_dict`` / ``to_dict`` map it to and from the TOML layout; ``io.py`` does the files.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.limits import RANGES
from ebm_explorer.core.run_settings import (
    NONNEGATIVE,
    POSITIVE,
    RUN_KINDS,
    RunSpec,
    SampleSettings,
    TrainSettings,
    convert_value,
    field_choices,
    settings_class,
    settings_from_mapping,
    settings_to_mapping,
)

__all__ = [
    "FORMAT_VERSION",
    "PANELS",
    "OVERLAYS",
    "SampleSettings",
    "TrainSettings",
    "RunSpec",
    "ViewSettings",
    "Sweep",
    "Scene",
    "scene_from_dict",
    "scene_to_dict",
]

#: version written into every scene file; files with another version are refused
FORMAT_VERSION = 1
MAX_RUNS = 4

#: live panels a scene may show (the GUI's names)
PANELS = ("mean_energy", "acceptance", "ess", "divergence", "mode_weights", "log_z", "cross_entropy",
          "fisher_kl")
#: extra drawings on the landscape view
OVERLAYS = ("ula_ellipse",)
SWEEP_PARAMETERS = ("mode_weight", "beta")


@dataclass(frozen=True)
class ViewSettings:
    """What the window shows: density or energy, 2D or 3D, which live panels, which overlays."""

    show: str = "density"  # density | energy
    view_3d: bool = False
    contours: bool = True
    panels: tuple[str, ...] = ("mean_energy", "acceptance", "divergence", "mode_weights")
    overlays: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sweep:
    """A parameter moved by a slider: the weight of one mixture mode, or the inverse temperature.

    ``values`` are the slider's marks; ``steps_per_value`` is how long a headless run stays at each.
    """

    parameter: str = "beta"  # mode_weight | beta
    values: tuple[float, ...] = (1.0,)
    mode: int = 0  # mode_weight only: which mixture component
    steps_per_value: int = 200


@dataclass(frozen=True)
class Scene:
    """A reproducible scene: title, explanation, landscape spec, runs, view, optional sweep."""

    landscape: Mapping[str, Any] = field(default_factory=lambda: {"kind": "preset", "name": "gmm"})
    runs: tuple[RunSpec, ...] = (RunSpec(),)
    title: str = "Untitled scene"
    explanation: str = ""
    steps: int = 500  # how many sampler steps a headless run takes (training: the run's iterations)
    view: ViewSettings = field(default_factory=ViewSettings)
    sweep: Sweep | None = None


# --------------------------------------------------------------------------------------------------
# dict <-> dataclass, with warnings for unknown keys and errors for wrong types

_SCENE_CHOICES: dict[str, tuple[str, ...]] = {"show": ("density", "energy"), "parameter": SWEEP_PARAMETERS}
_SCENE_POSITIVE = POSITIVE | {"steps", "steps_per_value"}
_SCENE_NONNEGATIVE = NONNEGATIVE | {"mode"}


def _convert(where: str, name: str, value: Any, default: Any) -> Any:
    """``value`` checked against the type of ``default`` (the run settings' rules plus the scene's own)."""
    return convert_value(where, name, value, default, {**field_choices(Scene), **_SCENE_CHOICES}, _SCENE_POSITIVE,
                         _SCENE_NONNEGATIVE)


def _build(cls: type, table: Any, where: str, warnings: list[str]) -> Any:
    """An instance of dataclass ``cls`` from ``table``: missing keys take defaults, unknown keys warn;
    values are checked by the run settings' rules (``cls``'s own choices) plus the scene's own."""
    allowed = {**field_choices(cls), **_SCENE_CHOICES}

    def convert(where: str, name: str, value: Any, default: Any) -> Any:
        return convert_value(where, name, value, default, allowed, _SCENE_POSITIVE, _SCENE_NONNEGATIVE)

    return settings_from_mapping(cls, table, where, warnings, convert=convert)


def _run_from_dict(table: Any, index: int, warnings: list[str]) -> RunSpec:
    where = f"runs[{index}]."
    if not isinstance(table, Mapping):
        raise UserInputError(f"runs[{index}] must be a table, got {table!r}")
    kind = table.get("kind", "sample")
    if not isinstance(kind, str) or kind not in RUN_KINDS:
        raise UserInputError(f"{where}kind must be one of {', '.join(RUN_KINDS)}, got {kind!r}")
    label = table.get("label", "")
    if not isinstance(label, str):
        raise UserInputError(f"{where}label must be a string, got {label!r}")
    cls = settings_class(kind)
    settings = _build(cls, {k: v for k, v in table.items() if k not in ("kind", "label")}, where, warnings)
    return RunSpec(kind=kind, label=label, settings=settings)


def scene_from_dict(data: Mapping[str, Any]) -> tuple[Scene, list[str]]:
    """A :class:`Scene` and the warnings (unknown keys) from the parsed TOML ``data``.

    Missing keys take their defaults; wrong types raise :class:`UserInputError` naming the key.
    ``format_version`` is checked by the caller (``io.load_scene``).
    """
    warnings: list[str] = []
    top = {"format_version", "title", "explanation", "steps", "landscape", "runs", "view", "sweep"}
    for key in data:
        if key not in top:
            warnings.append(f"unknown key '{key}' ignored")
    default = Scene()
    title = _convert("", "title", data.get("title", default.title), default.title)
    explanation = _convert("", "explanation", data.get("explanation", default.explanation), default.explanation)
    steps = _convert("", "steps", data.get("steps", default.steps), default.steps)
    landscape = data.get("landscape", default.landscape)
    if not isinstance(landscape, Mapping):
        raise UserInputError(f"[landscape] must be a table, got {landscape!r}")
    if "kind" not in landscape:
        raise UserInputError("[landscape] needs a kind (preset, formula, gmm or grid)")
    raw_runs = data.get("runs", [{}])
    if not isinstance(raw_runs, list) or not 1 <= len(raw_runs) <= MAX_RUNS:
        raise UserInputError(f"a scene needs 1 to {MAX_RUNS} [[runs]] tables, got {raw_runs!r:.80}")
    runs = tuple(_run_from_dict(r, i, warnings) for i, r in enumerate(raw_runs))
    view = _build(ViewSettings, data.get("view", {}), "view.", warnings)
    for name in view.panels:
        if name not in PANELS:
            warnings.append(f"unknown panel '{name}' in view.panels ignored")
    for name in view.overlays:
        if name not in OVERLAYS:
            warnings.append(f"unknown overlay '{name}' in view.overlays ignored")
    view = replace(view, panels=tuple(p for p in view.panels if p in PANELS),
                   overlays=tuple(o for o in view.overlays if o in OVERLAYS))
    sweep = _build(Sweep, data["sweep"], "sweep.", warnings) if "sweep" in data else None
    if sweep is not None:
        total = len(sweep.values) * sweep.steps_per_value
        if total > RANGES["steps"][1]:
            raise UserInputError(f"sweep: {len(sweep.values):,} values x {sweep.steps_per_value:,} steps is "
                                 f"{total:,} steps; the limit is {RANGES['steps'][1]:,}")
        bad = [v for v in sweep.values if not (0.0 < v < 1.0 if sweep.parameter == "mode_weight" else v > 0.0)]
        if bad:
            rng = "in (0, 1)" if sweep.parameter == "mode_weight" else "> 0"
            raise UserInputError(f"sweep.values for {sweep.parameter} must be {rng}, got {bad[0]!r}")
    scene = Scene(landscape=copy.deepcopy(dict(landscape)), runs=runs, title=title, explanation=explanation,
                  steps=steps, view=view, sweep=sweep)
    return scene, warnings


def _plain(value: Any) -> Any:
    """TOML-ready value: tuples become lists, numpy scalars/arrays become Python numbers/lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    return value


def scene_to_dict(scene: Scene) -> dict[str, Any]:
    """The TOML layout of ``scene`` (``format_version`` first); ``scene_from_dict`` inverts it."""
    out: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "title": scene.title,
        "explanation": scene.explanation,
        "steps": scene.steps,
        "landscape": _plain(scene.landscape),
        "view": _plain({f.name: getattr(scene.view, f.name) for f in fields(ViewSettings)}),
    }
    if scene.sweep is not None:
        out["sweep"] = _plain({f.name: getattr(scene.sweep, f.name) for f in fields(Sweep)})
    out["runs"] = [
        {"kind": r.kind, "label": r.label, **_plain(settings_to_mapping(r.settings))}
        for r in scene.runs
    ]
    return out
