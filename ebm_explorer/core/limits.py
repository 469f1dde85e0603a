"""The documented range of every numeric setting, checked before anything is allocated.

One table (:data:`RANGES`) serves the command line, the scene files and the GUI fields, so a value
accepted in one place is accepted everywhere (the README's "Limits and errors" table lists it).
Memory is a separate, machine-dependent check (:mod:`ebm_explorer.core.resources`).
"""

from __future__ import annotations

import math
import re
from numbers import Integral, Real
from typing import Any

from ebm_explorer.core.errors import UserInputError

__all__ = ["RANGES", "MAX_SEED", "MAX_COORDINATE", "MIN_STD", "MAX_STD", "check_int", "check_float", "check_seed",
           "check_device_name", "check_hidden", "check_setting"]

#: seeds are integers in [0, 2**63 - 1]: what a scene file (TOML, 64-bit signed) can hold and the GUI edits
MAX_SEED = 2**63 - 1
#: data points, means and boxes beyond this magnitude are refused (the grid reference needs a finite box)
MAX_COORDINATE = 1e6
#: standard deviations (and square roots of covariance eigenvalues) of a mixture component
MIN_STD, MAX_STD = 1e-4, 1e4

#: name -> (low, high) inclusive; integers unless the bounds are floats
RANGES: dict[str, tuple[float, float]] = {
    "walkers": (1, 100_000_000),
    "steps": (1, 100_000_000),
    "iterations": (1, 100_000_000),
    "train_iterations": (1, 100_000_000),
    "langevin_steps": (1, 100_000),
    "data_size": (10, 10_000_000),
    "components": (1, 1_000),
    "hidden": (1, 4_096),
    "hidden_layers": (1, 16),
    "leapfrog_steps": (1, 1_000),
    "cd_steps": (1, 1_000),
    "cd_reset": (1, 100_000_000),
    "resolution": (8, 4_096),
    "grid_resolution": (8, 2_048),
    "record_every": (1, 100_000_000),
    "max_walkers": (1, 1_000_000),
    "steps_per_frame": (1, 100_000),
    "steps_per_value": (1, 100_000_000),
    "sweep_values": (1, 10_000),
    "screenshot_width": (64, 8_192),
    "screenshot_height": (64, 8_192),
    "screenshot_seconds": (0.0, 3_600.0),
    "step_size": (1e-12, 1e6),
    "lr": (1e-12, 1e6),
    "beta": (1e-6, 1e6),
    "dpi": (10.0, 1_200.0),
    "replicas": (1, 64),
    "swap_every": (1, 100_000_000),
    "levels": (1, 100_000),
    "moves": (1, 1_000),
    "levels_per_s": (0.0, 1_000.0),
    "islands": (1, 1_024),
    "threads": (1, 1_024),
}
#: settings with these names are integers in the table above even when the scene calls them otherwise
_ALIASES = {"leapfrog": "leapfrog_steps", "n_walkers": "walkers"}


def _rng(name: str) -> tuple[float, float]:
    return RANGES[_ALIASES.get(name, name)]


def check_int(name: str, value: Any, where: str = "") -> int:
    """``value`` as an int inside ``RANGES[name]``; a bool, a float or anything out of range is refused."""
    lo, hi = _rng(name)
    if isinstance(value, bool) or not isinstance(value, Integral):
        if isinstance(value, float) and value.is_integer() and lo <= value <= hi:
            return int(value)
        raise UserInputError(f"{where}{name} must be an integer in [{lo:,}, {hi:,}], got {value!r:.40}")
    v = int(value)
    if not lo <= v <= hi:
        raise UserInputError(f"{where}{name} must be in [{lo:,}, {hi:,}], got {v:,}" if abs(v) < 10**30 else
                             f"{where}{name} must be in [{lo:,}, {hi:,}], got a {len(str(abs(v)))}-digit number")
    return v


def check_float(name: str, value: Any, where: str = "") -> float:
    """``value`` as a finite float inside ``RANGES[name]``."""
    lo, hi = _rng(name)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise UserInputError(f"{where}{name} must be a number in [{lo:g}, {hi:g}], got {value!r:.40}")
    try:
        v = float(value)
    except OverflowError:
        v = math.inf
    if not (math.isfinite(v) and lo <= v <= hi):
        raise UserInputError(f"{where}{name} must be a finite number in [{lo:g}, {hi:g}], got {v!r:.40}")
    return v


def check_seed(value: Any, where: str = "") -> int:
    """A seed: any integer in [0, 2**63 - 1]; the message says how to get one."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise UserInputError(f"{where}seed must be an integer in [0, 2**63 - 1], got {value!r:.40}")
    v = int(value)
    if not 0 <= v <= MAX_SEED:
        shown = f"{v}" if abs(v) < 10**30 else f"a {len(str(abs(v)))}-digit number"
        raise UserInputError(f"{where}seed must be in [0, 2**63 - 1] (= {MAX_SEED}), got {shown}")
    return v


_DEVICE = re.compile(r"^(cpu|cuda(:\d{1,3})?)$")


def check_device_name(name: Any) -> str:
    """``cpu``, ``cuda`` or ``cuda:N`` and nothing else (checked before torch parses it)."""
    if not isinstance(name, str) or not _DEVICE.match(name):
        raise UserInputError(f"unsupported device {str(name)[:40]!r}: use cpu, cuda or cuda:N")
    return name


def check_hidden(sizes: Any, where: str = "") -> tuple[int, ...]:
    """MLP hidden layer sizes: 1 to 16 layers of 1 to 4096 units."""
    if not isinstance(sizes, (list, tuple)):
        raise UserInputError(f"{where}hidden must be a list of integers, got {sizes!r:.40}")
    check_int("hidden_layers", len(sizes), where)
    return tuple(check_int("hidden", h, where) for h in sizes)


def check_setting(name: str, value: Any, where: str = "") -> Any:
    """Range check of a named setting if the table knows it (ints stay ints, floats stay floats)."""
    key = _ALIASES.get(name, name)
    if name == "seed":
        return check_seed(value, where)
    if name == "device":
        return check_device_name(value)
    if key not in RANGES:
        return value
    lo, hi = RANGES[key]
    if isinstance(lo, float) or isinstance(hi, float):
        return check_float(key, value, where)
    return check_int(key, value, where)
