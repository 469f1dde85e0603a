"""Layer contracts: core <- scenes, export <- workers (QtCore only) <- ui <- cli.

Two checks of the same rules: import-linter's contracts in pyproject.toml (``lint-imports``), and a
walk over every module's syntax tree that also sees imports inside functions and tells ``PySide6.QtCore``
from ``PySide6.QtWidgets`` (import-linter only knows the top-level ``PySide6``).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import ebm_explorer

PACKAGE = Path(ebm_explorer.__file__).parent
ROOT = PACKAGE.parent

QT = ("PySide6", "shiboken6", "pyqtgraph")
#: room -> module prefixes it must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": (*QT, "ebm_explorer.workers", "ebm_explorer.ui", "ebm_explorer.scenes", "ebm_explorer.export",
             "ebm_explorer.cli"),
    "scenes": (*QT, "ebm_explorer.workers", "ebm_explorer.ui", "ebm_explorer.cli"),
    "export": (*QT, "ebm_explorer.workers", "ebm_explorer.ui", "ebm_explorer.cli"),
    "workers": ("pyqtgraph", "shiboken6", "ebm_explorer.ui", "ebm_explorer.cli"),
    "ui": ("ebm_explorer.cli",),
}
#: Qt modules a room may import (workers: the event loop and signals, nothing that draws)
QT_ALLOWED = {"workers": ("PySide6.QtCore",)}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every imported module of ``path`` (line, dotted name), at any depth (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parts = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")[
                    : len(module.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            out.append((node.lineno, base))
            out.extend((node.lineno, f"{base}.{a.name}") for a in node.names if base == "PySide6")
    return out


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_violations(package: Path = PACKAGE) -> list[str]:
    """``file:line imports X`` for every import that breaks a room's contract."""
    bad: list[str] = []
    for room, forbidden in FORBIDDEN.items():
        allowed_qt = QT_ALLOWED.get(room)
        for path in sorted((package / room).rglob("*.py")):
            for line, name in _imports(path):
                hit = any(_matches(name, f) for f in forbidden)
                if allowed_qt is not None and _matches(name, "PySide6") and name != "PySide6":
                    hit = hit or not any(_matches(name, a) for a in allowed_qt)
                if hit:
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


def test_every_room_keeps_its_import_contract() -> None:
    assert layer_violations() == []


def test_the_walk_sees_imports_inside_functions(tmp_path) -> None:
    """A forbidden import hidden in a function body of the core is found (the check can fail)."""
    pkg = tmp_path / "ebm_explorer"
    for room in FORBIDDEN:
        (pkg / room).mkdir(parents=True)
    (pkg / "core" / "sneaky.py").write_text("def f():\n    from ebm_explorer.ui import panels\n", encoding="utf-8")
    (pkg / "workers" / "w.py").write_text("from PySide6 import QtCore, QtWidgets\n", encoding="utf-8")
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        bad = layer_violations(pkg)
    finally:
        ROOT = old
    assert bad == ["ebm_explorer/core/sneaky.py:2 imports ebm_explorer.ui",
                   "ebm_explorer/workers/w.py:1 imports PySide6.QtWidgets"]


def test_import_linter_contracts_are_kept() -> None:
    """The contracts in pyproject.toml, checked by import-linter itself."""
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
