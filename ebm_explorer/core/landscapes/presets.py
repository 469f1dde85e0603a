"""The preset registry: named landscapes with default parameters and plotting boxes.

Every default box holds all but < 1e-4 of the mass at beta = 1 (checked by the tests), so the
exact grid reference over the box is trustworthy. Presets remember how they were made: their
``spec()`` is ``{"kind": "preset", "name": ..., <all parameters>, "box": [...]}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import analytic as A
from ebm_explorer.core.landscapes._util import SpecLandscape, as_array, as_box, as_float, box_list, tomlify
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.types import Box


@dataclass(frozen=True)
class PresetEntry:
    """A named landscape: ``factory(box=None | Box, **params)`` builds it."""

    name: str
    description: str
    factory: Callable[..., SpecLandscape]
    default_params: dict[str, Any] = field(default_factory=dict)

    @property
    def default_box(self) -> Box:
        return self.factory(box=None, **self.default_params).box


# ---- parameter checks --------------------------------------------------------------------------

def _pos(name: str) -> Callable[[Any], float]:
    return lambda v: as_float(v, name, positive=True)


def _num(name: str) -> Callable[[Any], float]:
    return lambda v: as_float(v, name)


def _vec2(name: str) -> Callable[[Any], list[float]]:
    return lambda v: as_array(v, name, (2,)).tolist()


# ---- analytic presets ----------------------------------------------------------------------------

def _analytic(
    name: str,
    fn: A.EnergyFunction,
    checks: dict[str, Callable[[Any], Any]],
    box: Box | Callable[[dict[str, Any]], Box],
    description: str,
    log_z: Callable[..., float] | None = None,
) -> Callable[..., SpecLandscape]:
    def factory(box_arg: Any = None, **params: Any) -> SpecLandscape:
        values = {k: checks[k](v) for k, v in params.items()}
        if box_arg is not None:
            b = as_box(box_arg)
        else:
            b = box(values) if callable(box) else box
        if log_z is None:
            return A.AnalyticLandscape(name, fn, values, b, description)
        return A.ExactZLandscape(name, fn, values, b, log_z(**values), description)

    return lambda box=None, **params: factory(box, **params)


def _funnel_box(p: dict[str, Any]) -> Box:
    # v: +-4.5 sigma; x: 4 standard deviations at v = 2.6 sigma_v (mass beyond ~1e-5 for sigma_v = 1)
    s = p["sigma_v"]
    hx = math.ceil(4.0 * math.exp(1.3 * s))
    hv = math.ceil(2.0 * 4.5 * s) / 2.0
    return Box(-hx, hx, -hv, hv)


def _ring_box(p: dict[str, Any]) -> Box:
    h = math.ceil(2.0 * (p["radius"] + 5.5 * math.sqrt(p["width"] / 2.0))) / 2.0
    return Box(-h, h, -h, h)


# ---- mixture presets -----------------------------------------------------------------------------

def _gmm_factory(name: str, description: str) -> Callable[..., SpecLandscape]:
    def factory(box: Any = None, weights: Any = None, means: Any = None, covs: Any = None, stds: Any = None) -> SpecLandscape:
        g = GaussianMixture(weights, means, covs=covs, stds=stds, box=box)
        g.name, g.description = name, description
        return g

    return factory


def _eight_gaussians(box: Any = None, radius: Any = 2.829, std: Any = 0.3536) -> SpecLandscape:
    r = as_float(radius, "radius", positive=True)
    s = as_float(std, "std", positive=True)
    phi = np.arange(8) * np.pi / 4.0
    means = r * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    g = GaussianMixture(np.full(8, 1.0 / 8.0), means, stds=s, box=box)
    g.name, g.description = "eight_gaussians", PRESETS["eight_gaussians"].description
    return g


def _gaussian(box: Any = None, mean: Any = None, cov: Any = None) -> SpecLandscape:
    mu = as_array(mean, "mean", (2,))
    c = as_array(cov, "cov", (2, 2))
    g = GaussianMixture([1.0], mu[None], covs=c[None], box=box)
    g.name, g.description = "gaussian", PRESETS["gaussian"].description
    return g


_GMM_DEMO = dict(weights=[0.25, 0.75], means=[[-2.5, 0.0], [2.5, 0.0]], covs=None, stds=None)
_GMM_TEACHER = dict(weights=[0.25, 0.75], means=[[-10.0, 0.0], [6.0, 0.0]], covs=None, stds=None)
_MULTIMODAL = dict(
    weights=[1.0, 1.0, 1.0],
    means=[[-1.5, -1.5], [1.5, 1.5], [-2.0, 2.0]],
    covs=[[[0.8, 0.0], [0.0, 0.8]], [[0.8, 0.0], [0.0, 0.8]], [[0.5, 0.0], [0.0, 0.5]]],
    stds=None,
)

_D = {
    "gmm": "Gaussian mixture (weights, means, covs or stds); default masses 1/4, 3/4 at x = -2.5, 2.5",
    "gmm_mode_weights": "The Jarzynski paper's 2-mode teacher in 2D: masses 1/4 at (-10,0), 3/4 at (6,0)",
    "eight_gaussians": "8 Gaussians on a ring (FFJORD scale: radius 2.829, std 0.3536)",
    "double_well": "Symmetric double well a(x^2-1)^2 + y^2/2, barrier a = 3",
    "asymmetric_double_well": "Tilted double well a(x^2-1)^2 + tilt*x + y^2/2 (left well deeper)",
    "mueller_brown": "Mueller-Brown potential, standard coefficients scaled by 0.08 (3 minima, barriers ~5.6 and 0.7)",
    "banana": "chi-feng's banana (Rosenbrock-type warped Gaussian), normalised: Z = 1",
    "rosenbrock": "Rosenbrock density (a1(y-x^2)^2 + (1-x)^2)/a2, a1 = 10, a2 = 1 (Goodman-Weare: 100, 20); Z = pi a2/sqrt(a1)",
    "donut": "chi-feng's donut (|x|-2.6)^2/0.033; closed-form Z",
    "ring": "NeuralRG ring (|x|-2)^2/0.32; closed-form Z",
    "funnel": "Neal's funnel, normalised; v = y ~ N(0, sigma_v^2) with sigma_v = 1 (Neal: 3), x|v ~ N(0, e^v)",
    "squiggle": "chi-feng's squiggle: (x, y + sin 5x) ~ N(0, [[2,.25],[.25,.5]]), normalised",
    "four_well": "Four wells a[(x^2-1)^2 + (y^2-1)^2] at (+-1, +-1), optional tilt",
    "rm_u1": "Rezende-Mohamed U1: a ring split into two arcs",
    "rm_u2": "Rezende-Mohamed U2: sine band; confined by a wall 20*(|x|-4)^2 outside |x| <= 4",
    "rm_u3": "Rezende-Mohamed U3: two splitting bands; wall 20*d^2 outside [-4,4]x[-6,6]",
    "rm_u4": "Rezende-Mohamed U4: band with a sigmoid step; wall 20*d^2 outside [-4,4]x[-6,6]",
    "gaussian": "Plain Gaussian N(mean, cov), normalised (the ULA-bias demo)",
    "multimodal": "chi-feng's multimodal: sum of 3 Gaussians (Z = 3)",
}

PRESETS: dict[str, PresetEntry] = {}


def _add(name: str, factory: Callable[..., SpecLandscape], defaults: dict[str, Any]) -> None:
    PRESETS[name] = PresetEntry(name, _D[name], factory, defaults)


_add("gmm", _gmm_factory("gmm", _D["gmm"]), _GMM_DEMO)
_add("gmm_mode_weights", _gmm_factory("gmm_mode_weights", _D["gmm_mode_weights"]), _GMM_TEACHER)
_add("eight_gaussians", _eight_gaussians, {"radius": 2.829, "std": 0.3536})
_add(
    "double_well",
    _analytic("double_well", A.double_well, {"a": _pos("a")}, Box(-2.5, 2.5, -5.0, 5.0), _D["double_well"]),
    {"a": 3.0},
)
_add(
    "asymmetric_double_well",
    _analytic(
        "asymmetric_double_well", A.double_well, {"a": _pos("a"), "tilt": _num("tilt")},
        Box(-2.5, 2.5, -5.0, 5.0), _D["asymmetric_double_well"],
    ),
    {"a": 3.0, "tilt": 0.5},
)
_add(
    "mueller_brown",
    _analytic("mueller_brown", A.mueller_brown, {"scale": _pos("scale")}, Box(-2.5, 1.5, -1.0, 3.0), _D["mueller_brown"]),
    {"scale": 0.08},
)
_add(
    "banana",
    _analytic("banana", A.banana, {"a": _pos("a"), "b": _num("b")}, Box(-8.5, 8.5, -14.0, 4.0), _D["banana"],
              log_z=lambda **p: 0.0),
    {"a": 2.0, "b": 0.2},
)
_add(
    "rosenbrock",
    _analytic("rosenbrock", A.rosenbrock, {"a1": _pos("a1"), "a2": _pos("a2")}, Box(-2.0, 4.0, -1.5, 16.0),
              _D["rosenbrock"], log_z=A.rosenbrock_log_z),
    {"a1": 10.0, "a2": 1.0},
)
_add(
    "donut",
    _analytic("donut", A.radial_ring, {"radius": _pos("radius"), "width": _pos("width")}, _ring_box, _D["donut"],
              log_z=A.radial_ring_log_z),
    {"radius": 2.6, "width": 0.033},
)
_add(
    "ring",
    _analytic("ring", A.radial_ring, {"radius": _pos("radius"), "width": _pos("width")}, _ring_box, _D["ring"],
              log_z=A.radial_ring_log_z),
    {"radius": 2.0, "width": 0.32},
)
_add(
    "funnel",
    _analytic("funnel", A.funnel, {"sigma_v": _pos("sigma_v")}, _funnel_box, _D["funnel"], log_z=lambda **p: 0.0),
    {"sigma_v": 1.0},
)
_add(
    "squiggle",
    _analytic("squiggle", A.squiggle, {"freq": _num("freq")}, Box(-6.5, 6.5, -4.5, 4.5), _D["squiggle"],
              log_z=lambda **p: 0.0),
    {"freq": 5.0},
)
_add(
    "four_well",
    _analytic("four_well", A.four_well, {"a": _pos("a"), "tilt": _vec2("tilt")}, Box(-2.5, 2.5, -2.5, 2.5), _D["four_well"]),
    {"a": 2.5, "tilt": [0.0, 0.0]},
)
_add("rm_u1", _analytic("rm_u1", A.rm_u1, {}, Box(-4.0, 4.0, -4.0, 4.0), _D["rm_u1"]), {})
_add(
    "rm_u2",
    _analytic("rm_u2", A.rm_u2, {"wall": _pos("wall")}, Box(-5.0, 5.0, -3.5, 3.5), _D["rm_u2"], log_z=A.rm_u2_log_z),
    {"wall": 20.0},
)
_add("rm_u3", _analytic("rm_u3", A.rm_u3, {"wall": _pos("wall")}, Box(-5.0, 5.0, -4.0, 4.0), _D["rm_u3"]), {"wall": 20.0})
_add("rm_u4", _analytic("rm_u4", A.rm_u4, {"wall": _pos("wall")}, Box(-5.0, 5.0, -6.5, 3.5), _D["rm_u4"]), {"wall": 20.0})
_add("gaussian", _gaussian, {"mean": [0.0, 0.0], "cov": [[1.0, 0.5], [0.5, 1.0]]})
_add("multimodal", _gmm_factory("multimodal", _D["multimodal"]), _MULTIMODAL)


def list_presets() -> list[tuple[str, str]]:
    """``(name, one-line description)`` for every preset, in registry order."""
    return [(e.name, e.description) for e in PRESETS.values()]


def make_landscape(name: str, **params: Any) -> SpecLandscape:
    """Build the preset ``name`` with ``params`` overriding its defaults (``box`` is always accepted)."""
    entry = PRESETS.get(name)
    if entry is None:
        raise UserInputError(f"unknown landscape {name!r}; presets: {', '.join(PRESETS)}")
    allowed = set(entry.default_params) | {"box"}
    for key in params:
        if key not in allowed:
            raise UserInputError(
                f"unknown parameter {key!r} for landscape {name!r}; allowed: {', '.join(sorted(allowed))}"
            )
    merged = {**entry.default_params, **params}
    if name in ("gmm", "gmm_mode_weights", "multimodal") and ("covs" in params or "stds" in params):
        # a user-given covs/stds replaces the default shape parameter instead of clashing with it
        other = "stds" if "covs" in params else "covs"
        if other not in params:
            merged[other] = None
    landscape = entry.factory(**merged)
    landscape.name = name
    landscape.description = entry.description
    landscape.preset_spec = {
        "kind": "preset",
        "name": name,
        **tomlify({k: v for k, v in merged.items() if k != "box"}),
        "box": box_list(landscape.box),
    }
    return landscape
