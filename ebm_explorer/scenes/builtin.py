"""The built-in lecture scenes (``resources/scenes/NN_name.toml``) and the default scene.

Scenes are looked up first as package data (``ebm_explorer/resources/scenes``, present in an
installed wheel) and then in the repository's ``resources/scenes`` next to the package (a source
checkout or an editable install).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.scenes.io import load_scene
from ebm_explorer.scenes.model import Scene

__all__ = ["scenes_dir", "list_builtin_scenes", "builtin_scene_path", "load_builtin_scene", "load_default_scene",
           "resolve_scene"]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_CANDIDATES = (_PACKAGE_DIR / "resources" / "scenes", _PACKAGE_DIR.parent / "resources" / "scenes")
_NUMBERED = re.compile(r"^(\d+)_(.+)\.toml$")


def scenes_dir() -> Path:
    """The folder holding the built-in scene files."""
    for d in _CANDIDATES:
        if (d / "default.toml").is_file():
            return d
    raise UserInputError("built-in scenes not found (looked in " + ", ".join(map(str, _CANDIDATES)) + ")")


def list_builtin_scenes() -> list[tuple[int, str, Path]]:
    """``(number, name, path)`` of every numbered lecture scene, in order (number keys 1..5)."""
    out = []
    for p in scenes_dir().glob("*.toml"):
        m = _NUMBERED.match(p.name)
        if m:
            out.append((int(m.group(1)), m.group(2), p))
    return sorted(out)


def builtin_scene_path(key: int | str) -> Path:
    """The file of a built-in scene by number (``3`` or ``"3"``), name (``"fisher_vs_kl"``,
    ``"03_fisher_vs_kl"``) or ``"default"``."""
    text = str(key).strip().lower().removesuffix(".toml")
    if text == "default":
        return scenes_dir() / "default.toml"
    scenes = list_builtin_scenes()
    for number, name, path in scenes:
        if text.isdigit() and int(text) == number or text in (name, path.stem):
            return path
    choices = ", ".join(f"{n} ({name})" for n, name, _ in scenes)
    raise UserInputError(f"no built-in scene {key!r}: choose default or one of {choices}")


def load_builtin_scene(key: int | str) -> Scene:
    """Load a built-in scene (see :func:`builtin_scene_path`); built-in files carry no warnings."""
    return load_scene(builtin_scene_path(key))[0]


def load_default_scene() -> Scene:
    """The scene the app opens on."""
    return load_builtin_scene("default")


def resolve_scene(arg: str) -> tuple[Scene, list[str]]:
    """A scene from a command-line argument: a path to a TOML file, else a built-in number or name."""
    p = Path(arg)
    if p.is_file() or p.suffix.lower() == ".toml" or (os.path.lexists(p) and not p.is_dir()) or "/" in arg:
        return load_scene(p)  # a FIFO or a device is refused there, without blocking
    return load_scene(builtin_scene_path(arg))
