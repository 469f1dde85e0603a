"""Every test runs Qt off-screen (deterministic, no window manager needed); the 3-D view test starts
its own child process on the X server when one is there (see tests/ui/test_main_window.py)."""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
# autosaves of test windows go to a private folder, never the user's app-data folder
os.environ.setdefault("EBM_EXPLORER_AUTOSAVE_DIR", __import__("tempfile").mkdtemp(prefix="ebm-autosave-"))
