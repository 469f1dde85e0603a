"""2D energy landscapes: presets, Gaussian mixtures, typed formulas, grids and neural energies.

Every landscape evaluates ``U`` and ``grad U`` on batched ``(N, 2)`` tensors on any device and
dtype, has a plotting ``box`` and a ``name``, and saves itself as a TOML-ready ``spec()`` table
that :func:`landscape_from_spec` turns back into the same landscape.
"""

from ebm_explorer.core.landscapes.base import Landscape, Tempered
from ebm_explorer.core.landscapes.formula import FormulaError, FormulaLandscape, validate_formula
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.landscapes.grid import GridLandscape
from ebm_explorer.core.landscapes.mlp import MLPEnergy
from ebm_explorer.core.landscapes.presets import PRESETS, PresetEntry, list_presets, make_landscape
from ebm_explorer.core.landscapes.spec import landscape_from_spec, load_landscape_file

__all__ = [
    "PRESETS",
    "FormulaError",
    "FormulaLandscape",
    "GaussianMixture",
    "GridLandscape",
    "Landscape",
    "MLPEnergy",
    "PresetEntry",
    "Tempered",
    "landscape_from_spec",
    "list_presets",
    "load_landscape_file",
    "make_landscape",
    "validate_formula",
]
