"""The numerical core must run without Qt: importing all of it pulls in no Qt binding."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import importlib, pkgutil, sys
import ebm_explorer.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, prefix="ebm_explorer.core.")]
for name in names:
    importlib.import_module(name)
qt = sorted(m for m in sys.modules if m.split(".")[0].lower().startswith(("pyside", "pyqt", "pyqtgraph", "shiboken")))
print(len(names))
print(",".join(qt))
"""


def test_core_imports_no_qt():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    count, qt = int(lines[0]), lines[1]
    assert count >= 5  # the walk found the core's modules (landscapes.* at least)
    assert qt == "", f"Qt modules imported by the core: {qt}"
