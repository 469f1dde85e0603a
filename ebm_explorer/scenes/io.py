"""Scene files: TOML in, TOML out (atomic), with clear messages for every kind of bad file.

``load_scene`` returns the scene and a list of warnings (unknown keys, ignored but named), so the
GUI can show them and the CLI can print them; anything that would make the scene wrong (corrupt or
truncated TOML, wrong types, a missing or different ``format_version``, a landscape that cannot be
built) is a :class:`UserInputError` whose message starts with the file name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tomli_w

from ebm_explorer.core.atomic import atomic_open
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.safe_io import MAX_TEXT_BYTES, parse_toml, printable, read_text
from ebm_explorer.scenes.model import FORMAT_VERSION, Scene, scene_from_dict, scene_to_dict

__all__ = ["load_scene", "save_scene", "scene_from_toml", "scene_to_toml", "validate_landscape"]

#: scene files bigger than this are refused before parsing (a drawn 512^2 grid is ~3 MB of text)
MAX_SCENE_BYTES = MAX_TEXT_BYTES


def validate_landscape(scene: Scene) -> None:
    """Build the scene's landscape once so a bad ``[landscape]`` table fails at load, not at run."""
    from ebm_explorer.core.landscapes import landscape_from_spec

    landscape_from_spec(dict(scene.landscape))


def scene_from_toml(text: str, source: str = "scene") -> tuple[Scene, list[str]]:
    """Parse scene TOML ``text``; ``source`` names it in messages. Returns ``(scene, warnings)``."""
    source = printable(source)
    data: dict[str, Any] = parse_toml(text, source)
    if "format_version" not in data:
        raise UserInputError(f"{source}: no format_version: not an EBM Explorer scene file "
                             f"(expected format_version = {FORMAT_VERSION})")
    version = data["format_version"]
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise UserInputError(f"{source}: format_version {printable(repr(version), 40)} is not supported "
                             f"(this version reads {FORMAT_VERSION})")
    try:
        scene, warnings = scene_from_dict(data)
        validate_landscape(scene)
    except UserInputError as exc:
        raise UserInputError(f"{source}: {exc}") from None
    return scene, [f"{source}: {w}" for w in warnings]


def load_scene(path: str | os.PathLike[str]) -> tuple[Scene, list[str]]:
    """Read a scene file: ``(scene, warnings)``; :class:`UserInputError` names the file and the problem."""
    p = Path(path)
    return scene_from_toml(read_text(p, "scene file", MAX_SCENE_BYTES), str(p))


def scene_to_toml(scene: Scene) -> str:
    """The TOML text of ``scene`` (``format_version`` first)."""
    return tomli_w.dumps(scene_to_dict(scene))


def save_scene(scene: Scene, path: str | os.PathLike[str]) -> Path:
    """Write ``scene`` to ``path`` atomically (a crash never leaves half a file); returns the path."""
    text = scene_to_toml(scene)
    target = Path(path)
    try:
        with atomic_open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UserInputError(f"{target}: cannot write scene file: {exc.strerror or exc}") from None
    return target
