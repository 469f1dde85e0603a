"""Landscapes from TOML: the ``[landscape]`` table and landscape files.

Kinds (keys beyond these are refused by name, so typos do not pass silently):

* ``kind = "preset"``: ``name`` plus any of the preset's parameters and ``box``;
* ``kind = "formula"``: ``expr`` and ``box``;
* ``kind = "gmm"``: ``weights``, ``means``, and ``stds`` (isotropic) or ``covs``; optional ``box``;
* ``kind = "grid"``: ``box`` and ``values`` (nested lists, rows = y); optional ``wall_strength``;
* ``kind = "mlp"``: ``hidden``, ``confinement_std``, ``center``, ``box`` and ``state`` (as saved).

Any kind takes an optional ``beta``: the result is then ``Tempered(landscape, beta)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes._util import as_float
from ebm_explorer.core.landscapes.base import Landscape, Tempered
from ebm_explorer.core.landscapes.formula import FormulaLandscape
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.landscapes.grid import GridLandscape
from ebm_explorer.core.landscapes.mlp import MLPEnergy
from ebm_explorer.core.landscapes.presets import make_landscape
from ebm_explorer.core.safe_io import load_toml

_KEYS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required keys, optional keys), besides "kind" and "beta"
    "formula": ({"expr", "box"}, set()),
    "gmm": ({"weights", "means"}, {"stds", "covs", "box"}),
    "grid": ({"box", "values"}, {"wall_strength"}),
    "mlp": ({"hidden", "confinement_std", "center", "box", "state"}, {"input_scale"}),
}


def _check_keys(table: dict[str, Any], kind: str, required: set[str], optional: set[str]) -> None:
    for key in sorted(required):
        if key not in table:
            raise UserInputError(f"[landscape] kind = {kind!r} needs key {key!r}")
    allowed = required | optional | {"kind", "beta"}
    for key in table:
        if key not in allowed:
            raise UserInputError(
                f"[landscape] unknown key {key!r} for kind = {kind!r}; allowed: {', '.join(sorted(allowed))}"
            )


def landscape_from_spec(table: dict[str, Any]) -> Landscape:
    """Build a landscape from a ``[landscape]`` table (the inverse of ``Landscape.spec()``)."""
    if not isinstance(table, dict):
        raise UserInputError(f"[landscape] must be a table, got {type(table).__name__}")
    kind = table.get("kind")
    if kind is None:
        raise UserInputError("[landscape] needs key 'kind' (preset, formula, gmm, grid or mlp)")
    if kind == "preset":
        name = table.get("name")
        if name is None:
            raise UserInputError("[landscape] kind = 'preset' needs key 'name'")
        if not isinstance(name, str):
            raise UserInputError(f"[landscape] 'name' must be a string, got {name!r}")
        params = {k: v for k, v in table.items() if k not in ("kind", "name", "beta")}
        land: Landscape = make_landscape(name, **params)
    elif kind in _KEYS:
        required, optional = _KEYS[kind]
        _check_keys(table, kind, required, optional)
        if kind == "formula":
            if not isinstance(table["expr"], str):
                raise UserInputError(f"[landscape] 'expr' must be a string, got {table['expr']!r}")
            land = FormulaLandscape(table["expr"], table["box"])
        elif kind == "gmm":
            land = GaussianMixture(
                table["weights"], table["means"], covs=table.get("covs"), stds=table.get("stds"), box=table.get("box")
            )
        elif kind == "grid":
            land = GridLandscape(table["values"], table["box"], table.get("wall_strength"))
        else:
            hidden = table["hidden"]
            if not isinstance(hidden, list) or not all(isinstance(h, int) and not isinstance(h, bool) for h in hidden):
                raise UserInputError(f"[landscape] 'hidden' must be a list of integers, got {hidden!r}")
            if not isinstance(table["state"], dict):
                raise UserInputError("[landscape] 'state' must be a table of parameter arrays")
            mlp = MLPEnergy(hidden, table["confinement_std"], table["center"], table["box"],
                            input_scale=table.get("input_scale"), dtype=torch.float64)  # lists are float64
            mlp.load_state_lists(table["state"])
            land = mlp
    else:
        raise UserInputError(f"[landscape] unknown kind {kind!r}; use preset, formula, gmm, grid or mlp")
    if "beta" in table:
        land = Tempered(land, as_float(table["beta"], "[landscape] beta", positive=True))
    return land


def load_landscape_file(path: str | Path) -> Landscape:
    """Read a TOML file holding a ``[landscape]`` table; every problem is a one-line UserInputError."""
    p = Path(path)
    data = load_toml(p, "landscape file")
    if "landscape" not in data:
        raise UserInputError(f"{p}: no [landscape] table")
    try:
        return landscape_from_spec(data["landscape"])
    except UserInputError as exc:
        exc.args = (f"{p}: {exc}",)  # keep the type (and a FormulaError's position), name the file
        raise
