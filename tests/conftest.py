"""Every test runs Qt off-screen (deterministic, no window manager needed); the 3-D view test starts
its own child process on the X server when one is there (see tests/ui/test_main_window.py)."""

import faulthandler
import os
import signal
import sys
import tempfile

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"
# autosaves of test windows go to a private folder, never the user's app-data folder
os.environ.setdefault("EBM_EXPLORER_AUTOSAVE_DIR", tempfile.mkdtemp(prefix="ebm-autosave-"))


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


# --- hung tests -------------------------------------------------------------------------------------
# pytest-timeout's signal method fails a test that runs past its limit and lets the run go on. A test
# stuck inside C (a Qt lock, a deadlock between threads) never returns to Python, so that signal never
# acts: GRACE_S later faulthandler (a C thread, no GIL needed) writes every thread's stack to a file and
# ends the process. Under pytest-xdist (scripts/test.sh) that process is a worker: the test is reported
# failed with those stacks, a fresh worker takes the remaining tests, and the run still ends with its
# summary line. In a plain `pytest` run it ends the run, stacks printed, instead of hanging forever.
GRACE_S = float(os.environ.get("EBM_TEST_HANG_GRACE_S", "60"))
_HANG_DIR_ENV = "EBM_TEST_HANG_DIR"


def _hang_file(worker_id: str) -> str:
    return os.path.join(os.environ[_HANG_DIR_ENV], f"hang-{worker_id}.txt")


_hard_stop: dict = {"stderr": None, "handle": None}


def pytest_configure(config):
    if _HANG_DIR_ENV not in os.environ:  # the controller (or a plain run) picks it; workers inherit it
        os.environ[_HANG_DIR_ENV] = tempfile.mkdtemp(prefix="ebm-test-hangs-")
    capture = config.pluginmanager.getplugin("capturemanager")  # fd 2 is pytest's capture file right now
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    try:
        _hard_stop["stderr"] = os.fdopen(os.dup(2), "w")  # the real stderr, for a plain run's stacks
    finally:
        if capture is not None:
            capture.resume_global_capture()


@pytest.hookimpl(optionalhook=True)
def pytest_timeout_set_timer(item, settings):
    """Arm the hard stop beside pytest-timeout's own timer (returning None lets that one be set too)."""
    if settings.timeout and settings.timeout > 0:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        handle = _hard_stop["stderr"]
        if worker is not None:  # the controller reads this file into the failure report
            handle = _hard_stop["handle"] = open(_hang_file(worker), "w")  # noqa: SIM115 - closed on cancel
        handle.write(f"\n{item.nodeid} ran {settings.timeout + GRACE_S:g} s (limit {settings.timeout:g} s) "
                     "stuck outside Python; every thread's stack:\n" if worker else "")
        handle.flush()
        faulthandler.dump_traceback_later(settings.timeout + GRACE_S, exit=True, file=handle)


@pytest.hookimpl(optionalhook=True)
def pytest_timeout_cancel_timer(item):
    faulthandler.cancel_dump_traceback_later()
    if _hard_stop["handle"] is not None:
        _hard_stop["handle"].close()
        _hard_stop["handle"] = None


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem, report, sched):
    """xdist: a worker died in ``crashitem``; put the stacks it wrote (if it was our hard stop) in the report."""
    path = _hang_file(report.node.gateway.id)
    if os.path.exists(path):
        with open(path) as fh:
            stacks = fh.read()
        if stacks.startswith(f"\n{crashitem} "):
            report.longrepr = f"{report.longrepr}\n{stacks}"


def pytest_sessionfinish(session):
    """An xdist worker that is done gets its main thread "interrupted" by execnet while it shuts down: the
    KeyboardInterrupt would print a warning after the run's summary line. Nothing is left to interrupt."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
