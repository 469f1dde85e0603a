"""The settings of one run, defined once: :class:`SampleSettings` (a sampler run), :class:`TrainSettings`
(a training run), :class:`TemperedSettings` (parallel tempering or annealed SMC) and
:class:`GenerateSettings` (generation from noise along a noising path), frozen, with the one set of
defaults the whole app uses.

Scene files, the settings panels, the worker threads, the headless runner and the CLI all pass these
values unchanged (no second settings class with other names or defaults). :func:`settings_from_mapping`
builds one from a plain mapping (a scene's TOML table, QSettings) with messages that name the key;
``validated()`` checks a value built in code. Adding a setting is adding a field here (with its default,
and its choices in :data:`CHOICES` or its range in :data:`POSITIVE` / :data:`NONNEGATIVE`).

No Qt here: core, scenes, export, workers, ui and cli all import this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from typing import Any, Callable, Mapping

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.limits import RANGES, check_device_name, check_seed, check_setting

__all__ = [
    "METHODS",
    "KERNELS",
    "OPTIMIZERS",
    "RUN_KINDS",
    "SampleSettings",
    "TrainSettings",
    "TemperedSettings",
    "TEMPERED_ALGORITHMS",
    "GenerateSettings",
    "GENERATE_PATHS",
    "SCORE_SOURCES",
    "RunSettings",
    "RunSpec",
    "choices",
    "field_choices",
    "settings_class",
    "settings_from_mapping",
    "settings_to_mapping",
]

#: training methods (sm / dsm: score matching, core.training.score_matching), walker kernels, optimisers
METHODS = ("cd", "pcd", "jarzynski", "sm", "dsm")
KERNELS = ("ula", "mala", "hmc")
OPTIMIZERS = ("sgd", "adam")
RUN_KINDS = ("sample", "train", "tempered", "generate")
#: tempered runs: parallel tempering (replica exchange) or annealed importance sampling / SMC
TEMPERED_ALGORITHMS = ("pt", "smc")
#: generation: noising paths offered (core.diffusion.paths), score sources
GENERATE_PATHS = ("vp", "interpolant")
SCORE_SOURCES = ("exact", "learned")


class _Kernel:
    """What both run kinds hand to a sampler's ``step``: their step size and leapfrog steps."""

    step_size: float
    leapfrog_steps: int

    def kernel_params(self, trace_walkers: int = 0) -> Any:
        """The step's parameters (``SamplerParams``); HMC records ``trace_walkers`` leapfrog paths."""
        from ebm_explorer.core.samplers.base import SamplerParams

        return SamplerParams(step_size=float(self.step_size), leapfrog_steps=int(self.leapfrog_steps),
                             trace_walkers=int(trace_walkers))


@dataclass(frozen=True)
class SampleSettings(_Kernel):
    """One sampler run: algorithm, its parameters, walkers and their start, seed, device, blow-up rule.

    Changing ``walkers``, ``init``, ``init_point``, ``seed``, ``device`` or ``dtype`` restarts a live run;
    the others take effect at the next batch of steps.
    """

    sampler: str = "mala"
    step_size: float = 0.1  # MH: proposal std; ULA/MALA: h; HMC: leapfrog eps
    leapfrog_steps: int = 10  # HMC only
    walkers: int = 1000
    init: str = "gaussian"  # gaussian | uniform | point
    init_point: tuple[float, float] = (0.0, 0.0)  # used when init = "point"
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"  # float32 | float64
    steps_per_frame: int = 1
    blowup_rule: str = "freeze"  # walkers that blow up (NaN/inf, diverged): freeze | reset (core.blowup)

    @property
    def kind(self) -> str:
        return "sample"

    def restart_key(self) -> tuple[Any, ...]:
        """The fields whose change restarts the walkers."""
        return (self.walkers, self.init, self.init_point, self.seed, self.device, self.dtype)

    def validated(self) -> "SampleSettings":
        """Self, after checking every field; a :class:`UserInputError` names the bad one."""
        _check_fields(self)
        from ebm_explorer.core.samplers.registry import validate_params

        validate_params(self.sampler, self.kernel_params())
        return self


@dataclass(frozen=True)
class TrainSettings(_Kernel):
    """One training run: model, method, walker kernel, optimiser, data, seed and device.

    ``lr`` is the learning rate of every parameter group except the mixture means, which use
    ``lr * means_lr_scale`` (GMM.py: 0.2). ``resample_threshold`` is on ESS/N (resample below it;
    GMM.py's ``CV^2 > c`` is ``ESS/N < 1 / (1 + c)``). ``cd_reset``: CD restarts walkers at data every
    this many iterations (GMM.py: 4). ``data_file`` empty: ``data_size`` exact samples of the
    landscape; else the points of that CSV/NPZ file. ``iterations`` 0: until paused (GUI); a headless
    run then takes the scene's ``steps``.
    """

    model: str = "gmm"  # gmm | mlp
    components: int = 2  # gmm model only
    mixture_init: str = "kmeans++"  # gmm: kmeans++ (means from the data) | centre (the paper's start)
    hidden: tuple[int, ...] = (64, 64)  # mlp model only: hidden layer sizes
    method: str = "jarzynski"  # cd | pcd | jarzynski | sm | dsm
    kernel: str = "ula"  # ula | mala | hmc
    cd_steps: int = 1
    cd_reset: int = 1
    step_size: float = 0.1  # ULA/MALA h; HMC leapfrog eps
    leapfrog_steps: int = 5  # HMC only
    optimizer: str = "sgd"  # sgd | adam
    lr: float = 0.0125
    means_lr_scale: float = 0.2
    walkers: int = 1000
    data_size: int = 2000
    data_file: str = ""
    resample_threshold: float = 0.5
    resample_scheme: str = "systematic"  # systematic | multinomial
    noise_std: float = 0.1  # dsm: noise level sigma
    cross_fit: bool = True  # jarzynski: a held-out population of as many walkers estimates log Z without feedback bias
    iterations: int = 2000
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float64"
    steps_per_frame: int = 1

    @property
    def kind(self) -> str:
        return "train"

    def validated(self) -> "TrainSettings":
        """Self, after checking every field; a :class:`UserInputError` names the bad one."""
        _check_fields(self)
        return self


@dataclass(frozen=True)
class TemperedSettings(_Kernel):
    """A run that crosses barriers (``core.tempering``): parallel tempering or annealed SMC.

    Shared: the kernel inside each replica / level (MH, MALA or HMC: ULA would bias the swaps and the
    weights), its step size, walkers, their start (``start``: also SMC's exact start density), seed,
    device. PT: ``replicas`` on a geometric ladder from beta 1 to ``beta_min``, swaps every
    ``swap_every`` steps (``swap_scheme``). SMC: ``levels`` equal levels (0: adaptive, keeping the
    conditional ESS / N at ``target_ess``), ``moves`` kernel steps per level, resampling of an island
    below ``resample_threshold``, ``islands`` for the standard error of log Z. ``levels_per_s`` paces the
    SMC animation in the app (0: as fast as possible; headless runs ignore it).
    """

    algorithm: str = "pt"  # pt | smc
    kernel: str = "mala"  # mh | mala | hmc
    step_size: float = 0.3  # MH: proposal std; MALA: h; HMC: leapfrog eps (PT: at beta = 1, scaled per replica)
    leapfrog_steps: int = 10  # HMC only
    walkers: int = 1000
    start: str = "uniform"  # gaussian | uniform
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    steps_per_frame: int = 1
    replicas: int = 6
    beta_min: float = 0.1
    swap_every: int = 1
    swap_scheme: str = "even-odd"  # even-odd | random
    levels: int = 0  # 0: adaptive
    target_ess: float = 0.95
    moves: int = 5
    resample_threshold: float = 0.5
    resample_scheme: str = "systematic"
    islands: int = 16
    levels_per_s: float = 4.0

    #: choices of this kind only (``kernel`` allows MH but not ULA here)
    FIELD_CHOICES = {"kernel": ("mh", "mala", "hmc"), "algorithm": TEMPERED_ALGORITHMS,
                     "start": ("gaussian", "uniform"), "swap_scheme": ("even-odd", "random")}

    @property
    def kind(self) -> str:
        return "tempered"

    def restart_key(self) -> tuple[Any, ...]:
        """Every field but the pace (``steps_per_frame``, ``levels_per_s``): any other change restarts."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in ("steps_per_frame", "levels_per_s"))

    def validated(self) -> "TemperedSettings":
        """Self, after checking every field and the configuration the core will run."""
        _check_fields(self)
        if self.algorithm == "pt":
            self.pt_config().validated()
        else:
            self.smc_config().validated(int(self.walkers))
        return self

    def betas(self) -> tuple[float, ...]:
        """The PT ladder: geometric from 1 to ``beta_min`` over ``replicas`` betas."""
        from ebm_explorer.core.tempering import geometric_ladder

        return tuple(float(b) for b in geometric_ladder(int(self.replicas), float(self.beta_min)))

    def pt_config(self) -> Any:
        """The core's ``PTConfig`` of these settings."""
        from ebm_explorer.core.tempering import PTConfig

        return PTConfig(self.betas(), kernel=self.kernel, params=self.kernel_params(), swap_every=int(self.swap_every),
                        swap_scheme=self.swap_scheme)

    def smc_config(self) -> Any:
        """The core's ``SMCConfig`` of these settings."""
        from ebm_explorer.core.tempering import SMCConfig

        return SMCConfig(kernel=self.kernel, params=self.kernel_params(), moves=int(self.moves),
                         levels=int(self.levels) or None, target_ess=float(self.target_ess),
                         resample_threshold=float(self.resample_threshold), resampling=self.resample_scheme,
                         start=self.start, islands=int(self.islands))


@dataclass(frozen=True)
class GenerateSettings:
    """One generation run (core.diffusion): walkers from noise at ``t = 1`` back to the data along the
    ``path``, in ``steps`` steps of the ``solver`` (sde, ode, annealed-langevin: then ``steps`` noise
    levels of ``langevin_steps`` ULA steps), driven by the exact score of ``rho_t`` or by a network
    trained in the app by denoising score matching for ``train_iterations``; ``jarzynski`` weights the
    walkers (resampled when ESS/N falls below ``resample_threshold``; 0: never). Every change restarts it.
    """

    path: str = "interpolant"  # vp | interpolant
    solver: str = "sde"  # sde | ode | annealed-langevin
    steps: int = 10
    walkers: int = 5000
    score: str = "exact"  # exact | learned
    train_iterations: int = 1000
    jarzynski: bool = False
    resample_threshold: float = 0.0
    langevin_steps: int = 20
    langevin_eps: float = 0.1
    seed: int = 0
    device: str = "cpu"

    #: choices of this kind only
    FIELD_CHOICES = {"path": GENERATE_PATHS, "solver": ("sde", "ode", "annealed-langevin"), "score": SCORE_SOURCES}

    @property
    def kind(self) -> str:
        return "generate"

    @property
    def label(self) -> str:
        """A short description: "SDE, 10 steps, Jarzynski"."""
        name = {"sde": "SDE", "ode": "ODE", "annealed-langevin": "annealed Langevin"}[self.solver]
        unit = "levels" if self.solver == "annealed-langevin" else "steps"
        extra = (", learned score" if self.score == "learned" else "") + (", Jarzynski" if self.jarzynski else "")
        return f"{name}, {self.steps:,} {unit}{extra}"

    def validated(self) -> "GenerateSettings":
        """Self, after checking every field; a :class:`UserInputError` names the bad one."""
        _check_fields(self)
        if self.jarzynski and self.solver == "ode":
            raise UserInputError("Jarzynski weights need a stochastic solver (sde or annealed-langevin): "
                                 "an ODE step has no transition density")
        return self


RunSettings = SampleSettings | TrainSettings | TemperedSettings | GenerateSettings
_CLASSES = {"sample": SampleSettings, "train": TrainSettings, "tempered": TemperedSettings,
            "generate": GenerateSettings}


def settings_class(kind: str) -> type:
    """The settings type of a run kind (``sample``, ``train``, ``tempered``, ``generate``)."""
    return _CLASSES[kind]


@dataclass(frozen=True)
class RunSpec:
    """One run of a scene or of the window: its kind, a label, and its settings (of that kind)."""

    kind: str = "sample"
    label: str = ""
    settings: SampleSettings | TrainSettings | TemperedSettings | GenerateSettings = field(default_factory=SampleSettings)

    def __post_init__(self) -> None:
        if self.kind not in RUN_KINDS:
            raise UserInputError(f"run kind must be one of {', '.join(RUN_KINDS)}, got {self.kind!r}")
        if self.settings.kind != self.kind:
            raise TypeError(f"a {self.kind} run needs {settings_class(self.kind).__name__}")

    @property
    def display_label(self) -> str:
        if self.label:
            return self.label
        s = self.settings
        if isinstance(s, TemperedSettings):
            return f"{s.algorithm.upper()} ({s.kernel})"
        if isinstance(s, GenerateSettings):
            return s.label
        return s.sampler.upper() if isinstance(s, SampleSettings) else f"{s.method} ({s.kernel})"


# --------------------------------------------------------------------------------------------------
# mapping <-> settings, with messages naming the key

def choices() -> dict[str, tuple[str, ...]]:
    """Allowed values of every string setting (samplers and schemes from their registries, so a new
    sampler or resampling scheme registered in the core is a valid choice everywhere)."""
    from ebm_explorer.core.blowup import BLOWUP_RULES
    from ebm_explorer.core.samplers.registry import SAMPLERS
    from ebm_explorer.core.training.resampling import RESAMPLING_SCHEMES

    return {
        "sampler": tuple(SAMPLERS),
        "init": ("gaussian", "uniform", "point"),
        "dtype": ("float32", "float64"),
        "blowup_rule": tuple(BLOWUP_RULES),
        "model": ("gmm", "mlp"),
        "mixture_init": ("kmeans++", "centre"),
        "method": METHODS,
        "kernel": KERNELS,
        "optimizer": OPTIMIZERS,
        "resample_scheme": tuple(RESAMPLING_SCHEMES),
    }


def field_choices(cls: type) -> dict[str, tuple[str, ...]]:
    """:func:`choices` with the string settings that ``cls`` restricts its own way (a tempered run's kernel)."""
    return {**choices(), **getattr(cls, "FIELD_CHOICES", {})}


#: settings that must be > 0 / >= 0 (shared with the scene's own tables, whose names do not clash)
POSITIVE = {"step_size", "walkers", "leapfrog_steps", "steps_per_frame", "components", "cd_steps", "cd_reset",
            "lr", "data_size", "hidden", "noise_std", "replicas", "swap_every", "moves", "islands", "steps",
            "train_iterations", "langevin_steps", "langevin_eps"}
NONNEGATIVE = {"resample_threshold", "seed", "means_lr_scale", "iterations", "levels", "levels_per_s"}
#: settings that are fractions strictly between 0 and 1
OPEN_FRACTIONS = {"beta_min", "target_ess"}


def convert_value(where: str, name: str, value: Any, default: Any,
                  allowed: Mapping[str, tuple[str, ...]] | None = None,
                  positive: set[str] = POSITIVE, nonnegative: set[str] = NONNEGATIVE) -> Any:
    """``value`` checked against the type of ``default`` (and the known choices / ranges)."""
    allowed = choices() if allowed is None else allowed
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise UserInputError(f"{where}{name} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise UserInputError(f"{where}{name} must be an integer, got {value!r}")
        out: Any = int(value)
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
            raise UserInputError(f"{where}{name} must be a finite number, got {value!r}")
        out = float(value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise UserInputError(f"{where}{name} must be a string, got {value!r:.80}")
        if name == "device":
            try:
                return check_device_name(value)
            except UserInputError as exc:
                raise UserInputError(f"{where}device: {exc}") from None
        if name in allowed and value not in allowed[name]:
            raise UserInputError(f"{where}{name} must be one of {', '.join(allowed[name])}, got {value!r}")
        return value
    elif isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise UserInputError(f"{where}{name} must be a list, got {value!r}")
        if name == "init_point" and len(value) != 2:
            raise UserInputError(f"{where}init_point must be two numbers [x, y], got {value!r}")
        if name in ("values", "hidden") and not value:
            raise UserInputError(f"{where}{name} must be a non-empty list")
        limit = {"values": "sweep_values", "hidden": "hidden_layers"}.get(name)
        if limit is not None and len(value) > RANGES[limit][1]:
            raise UserInputError(f"{where}{name} holds {len(value):,} numbers; the limit is {RANGES[limit][1]:,}")
        item = default[0] if default else ""
        return tuple(convert_value(where, name, v, item, allowed, positive, nonnegative) for v in value)
    else:
        raise TypeError(f"no conversion for field {name}")
    if name in positive and out <= 0:
        raise UserInputError(f"{where}{name} must be > 0, got {value!r}")
    if name in nonnegative and out < 0:
        raise UserInputError(f"{where}{name} must be >= 0, got {value!r}")
    if name == "resample_threshold" and out > 1:
        raise UserInputError(f"{where}resample_threshold is on ESS/N and must be in [0, 1], got {value!r}")
    if name in OPEN_FRACTIONS and not 0 < out < 1:
        raise UserInputError(f"{where}{name} must be in (0, 1), got {value!r}")
    if name == "seed":
        return check_seed(out, where)
    if name in ("iterations", "levels") and out == 0:
        return 0  # iterations: until paused; levels: adaptive
    if name in RANGES:
        return check_setting(name, out, where)
    return out


def settings_from_mapping(cls: type, table: Any, where: str = "", warnings: list[str] | None = None,
                          convert: Callable[..., Any] = convert_value) -> Any:
    """An instance of dataclass ``cls`` from ``table``: missing keys take the defaults, unknown keys go
    to ``warnings`` (an error when ``warnings`` is None), wrong types and values raise naming the key."""
    if not isinstance(table, Mapping):
        raise UserInputError(f"{where.rstrip('.') or 'settings'} must be a table, got {table!r}")
    default = cls()
    if convert is convert_value and getattr(cls, "FIELD_CHOICES", None):
        allowed = field_choices(cls)
        convert = lambda w, n, v, d: convert_value(w, n, v, d, allowed)  # noqa: E731
    known = {f.name for f in fields(cls)}
    for key in table:
        if key not in known:
            if warnings is None:
                raise UserInputError(f"unknown setting '{where}{key}'")
            warnings.append(f"unknown key '{where}{key}' ignored")
    kwargs = {name: convert(where, name, table[name], getattr(default, name)) for name in known if name in table}
    return cls(**kwargs)


def settings_to_mapping(value: Any) -> dict[str, Any]:
    """Every field of a settings value by name (tuples stay tuples); :func:`settings_from_mapping` inverts it."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


def _check_fields(value: Any) -> None:
    """Run every field of ``value`` through :func:`convert_value` (types, choices, ranges)."""
    default = type(value)()
    allowed = field_choices(type(value))
    for f in fields(value):
        try:
            convert_value("", f.name, getattr(value, f.name), getattr(default, f.name), allowed)
        except UserInputError as exc:  # in words: "step size must be > 0" (a scene file names its key instead)
            raise UserInputError(str(exc).replace(f.name, f.name.replace("_", " "), 1)) from None
