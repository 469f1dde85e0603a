"""Start ``ebm-explorer`` as a real process and hand it back once a signal will stop it cleanly.

The command creates ``EBM_EXPLORER_READY_FILE`` when its signal handlers are in place (just before its
loop); a fixed warm-up sleep instead raced the imports and set-up on a loaded machine (the signal then
arrived before the handlers and the run saved nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 180.0  # imports and the reference grid on a loaded 2-core machine
SETTLE_CPU_S = 3.0  # CPU seconds after the handlers: the loop has taken its first steps (milliseconds each)


def start_when_ready(args: list[str], cwd: Path) -> subprocess.Popen:
    """``ebm-explorer ARGS`` running in ``cwd``, returned once its loop is under way."""
    ready = Path(tempfile.mkdtemp(prefix="ebm-ready-")) / "ready"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1", "EBM_EXPLORER_READY_FILE": str(ready)}
    proc = subprocess.Popen([sys.executable, "-m", "ebm_explorer", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(f"ended before its loop: {proc.communicate()[1].decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no loop after {READY_TIMEOUT_S:.0f} s: {proc.communicate()[1].decode()[-2000:]}")
        time.sleep(0.1)
    _wait_for_cpu(proc, SETTLE_CPU_S, deadline)
    assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]  # still working when signalled
    return proc


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` (Linux /proc), None where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_cpu(proc: subprocess.Popen, seconds: float, deadline: float) -> None:
    """Wait until ``proc`` has worked ``seconds`` of CPU time from now: on a loaded machine a fixed
    wall-clock wait let a signal arrive before the first iteration (CI at load 12: nothing done)."""
    start = _cpu_seconds(proc.pid)
    if start is None:
        time.sleep(seconds)
        return
    while proc.poll() is None and time.monotonic() < deadline:
        now = _cpu_seconds(proc.pid)
        if now is None or now - start >= seconds:
            return
        time.sleep(0.1)
