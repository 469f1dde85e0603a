"""The suite always ends with its summary line: a test past its limit fails (pytest-timeout, signal
method) and a test stuck inside C is ended by tests/conftest.py's hard stop, failing alone under xdist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HANGING_TESTS = '''
import ctypes
import time


def test_fine():
    pass


def test_stuck_in_python():
    while True:
        time.sleep(0.05)


def test_stuck_in_c_holding_the_gil():
    libc = ctypes.PyDLL(None)
    mutex = ctypes.create_string_buffer(64)  # a default pthread mutex is all zeros
    libc.pthread_mutex_lock(mutex)
    libc.pthread_mutex_lock(mutex)  # never returns: no Python signal handler can run


def test_fine_after_the_hangs():
    pass
'''


@pytest.mark.slow  # two worker processes and a 3 s limit: ~15 s
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pthread mutex via ctypes")
def test_hanging_tests_fail_alone_and_the_run_ends_with_its_summary(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_hangs.py").write_text(HANGING_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\ntimeout = 3\ntimeout_method = signal\n")
    env = {**os.environ, "EBM_TEST_HANG_GRACE_S": "2"}
    env.pop("EBM_TEST_HANG_DIR", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert out.rstrip().splitlines()[-1].startswith("2 failed, 2 passed"), out
    assert "Timeout (>3.0s)" in out  # the Python hang: pytest-timeout's own failure
    assert "crashed while running 'test_hangs.py::test_stuck_in_c_holding_the_gil'" in out
    stacks = out.split("stuck outside Python; every thread's stack:", 1)[1]
    assert "in test_stuck_in_c_holding_the_gil" in stacks  # the stuck test's frame is in the report
