"""Every test runs Qt off-screen (deterministic, no window manager needed); the 3-D view test starts
its own child process on the X server when one is there (see tests/ui/test_main_window.py)."""

import os
import sys

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"
# autosaves of test windows go to a private folder, never the user's app-data folder
os.environ.setdefault("EBM_EXPLORER_AUTOSAVE_DIR", __import__("tempfile").mkdtemp(prefix="ebm-autosave-"))


@pytest.fixture(autouse=True)
def _collect_cycles_between_tests():
    """Once a window has switched the cycle collector to the GUI thread's timer (ebm_explorer.ui.gui_thread_gc),
    tests without an event loop would never collect: do the collector's check after every test."""
    yield
    module = sys.modules.get("ebm_explorer.ui.gui_thread_gc")
    app = module and module.QtCore.QCoreApplication.instance()
    collector = app and app.findChild(module.GuiThreadCollector)
    if collector is not None:
        collector.check()


@pytest.fixture
def one_thread():
    """Small tensors: torch's threads only add contention on a shared machine (``usefixtures``)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
