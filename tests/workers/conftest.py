"""Worker tests need only QtCore; the platform is set off-screen in case a test touches QtGui."""

from __future__ import annotations

import os

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
