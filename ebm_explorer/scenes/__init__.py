"""Scenes: reproducible setups (landscape, runs, view) saved as TOML, the built-in lecture scenes,
and the headless runner. No Qt here; the GUI calls these functions.

``load_scene(path) -> (Scene, warnings)``, ``save_scene(scene, path)``, ``load_builtin_scene(3)``,
``list_builtin_scenes()``, ``run_scene_to_dir(scene, out_dir, steps=..., record=True)``.
"""

from ebm_explorer.scenes.builtin import (
    builtin_scene_path,
    list_builtin_scenes,
    load_builtin_scene,
    load_default_scene,
    resolve_scene,
    scenes_dir,
)
from ebm_explorer.scenes.io import load_scene, save_scene, scene_from_toml, scene_to_toml
from ebm_explorer.scenes.model import (
    FORMAT_VERSION,
    OVERLAYS,
    PANELS,
    RunSpec,
    SampleSettings,
    Scene,
    Sweep,
    TrainSettings,
    ViewSettings,
)

__all__ = [
    "FORMAT_VERSION",
    "OVERLAYS",
    "PANELS",
    "RunSpec",
    "SampleSettings",
    "Scene",
    "Sweep",
    "TrainSettings",
    "ViewSettings",
    "builtin_scene_path",
    "list_builtin_scenes",
    "load_builtin_scene",
    "load_default_scene",
    "resolve_scene",
    "scenes_dir",
    "load_scene",
    "save_scene",
    "scene_from_toml",
    "scene_to_toml",
]
