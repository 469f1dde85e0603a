"""Regression guard: PySide6 6.12.0 on Python 3.11 lost a reference to None/True/False per signal
emit, aborting the app after ~1000 emits ("Fatal Python error: none_dealloc"). pyproject pins it out;
this proves the installed build counts correctly (in a subprocess, since the failure is an abort)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from PySide6 import QtCore
class Emitter(QtCore.QObject):
    sig = QtCore.Signal(object)
app = QtCore.QCoreApplication([])
e = Emitter()
e.sig.connect(lambda v: None)
before = [sys.getrefcount(v) for v in (None, True, False)]
for i in range(20000):
    e.sig.emit(None)
    e.sig.emit(i % 2 == 0)
after = [sys.getrefcount(v) for v in (None, True, False)]
print(*(a - b for a, b in zip(after, before)))
"""


def test_signal_emits_keep_singleton_refcounts():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # a leak would be -20000 per singleton; allow small noise from the interpreter itself
    assert all(abs(int(d)) < 100 for d in done.stdout.split()), done.stdout
