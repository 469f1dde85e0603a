"""A real X display for the real app: Xvfb (a free display number of its own) with the openbox window
manager, the app started as ``python -m ebm_explorer gui`` on it, real key and mouse events from
xdotool, screenshots of the whole X display by ImageMagick's ``import``.

The app's state is read from the JSON file it writes when ``EBM_EXPLORER_PROBE`` is set
(ebm_explorer/ui/probe.py); every wait polls that file for a condition with a generous deadline, so a
loaded machine only makes the suite slower, never wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

TOOLS = ("Xvfb", "openbox", "xdotool", "import")
SCREEN = "1600x1000x24"
ROOT = Path(__file__).resolve().parents[2]


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


class XServer:
    """Xvfb + openbox on a display number Xvfb picks itself (``-displayfd``): never collides with
    xvfb-run's display of the rest of the suite or another worker's server."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
                                     pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            self.xvfb.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        self.env = {**os.environ, "DISPLAY": self.display}
        self.env.pop("QT_QPA_PLATFORM", None)  # tests/conftest.py sets offscreen for the in-process tests
        self.env.pop("WAYLAND_DISPLAY", None)
        self.wm = subprocess.Popen(["openbox"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # openbox is up once it owns the root's WM check property
            out = subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=self.env,
                                 capture_output=True, text=True).stdout if shutil.which("xprop") else "window id"
            if "window id" in out:
                break
            time.sleep(0.1)

    def xdo(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=30).stdout

    def screenshot(self, path: Path) -> Path:
        subprocess.run(["import", "-display", self.display, "-window", "root", str(path)], env=self.env,
                       check=True, timeout=60, capture_output=True)
        return path

    def close(self) -> None:
        for p in (self.wm, self.xvfb):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


class App:
    """The real app on ``server``; ``state()`` is its probe file, ``wait(cond)`` polls it."""

    def __init__(self, server: XServer, shots: Path, *args: str) -> None:
        self.server = server
        self.shots = shots
        self.dir = Path(tempfile.mkdtemp(prefix="ebm-realwindow-"))
        self.probe = self.dir / "state.json"
        env = {**server.env, "EBM_EXPLORER_PROBE": str(self.probe), "XDG_CONFIG_HOME": str(self.dir / "config"),
               "XDG_DATA_HOME": str(self.dir / "data"), "PYTHONFAULTHANDLER": "1", "PYTHONPATH": str(ROOT) + os.pathsep
               + server.env.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}
        self.log = open(self.dir / "app.log", "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen([sys.executable, "-m", "ebm_explorer", "gui", "--reset-settings", *args],
                                     env=env, cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait(lambda s: s["views"] and s["views"][0]["box"] is not None, 90, "the window to show a landscape")
        self.wid = server.xdo("search", "--sync", "--onlyvisible", "--pid", str(self.proc.pid)).split()[0]
        self.server.xdo("windowactivate", "--sync", self.wid)

    # ---- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.probe.read_text())
        except (OSError, ValueError):
            return None

    def wait(self, cond: Callable[[dict[str, Any]], Any], timeout: float = 30, what: str = "") -> dict[str, Any]:
        """The first state (newer than now) meeting ``cond``; fails with the last state seen."""
        deadline = time.monotonic() + timeout
        start = time.time()
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited ({self.proc.returncode}): {self.log_text()[-3000:]}")
            try:
                fresh = self.probe.stat().st_mtime >= start - 0.05
            except OSError:
                fresh = False
            s = self.state() if fresh else None
            if s is not None:
                last = s
                try:
                    if cond(s):
                        return s
                except (KeyError, IndexError, TypeError):
                    pass
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what or cond}; last state: "
                             f"{json.dumps(last)[:3000]}")

    def settle(self, timeout: float = 30) -> dict[str, Any]:
        """Wait until two consecutive probe writes agree on the window and the view ranges (layout done)."""
        prev: list[Any] = []

        def same(s: dict[str, Any]) -> bool:
            if prev and s["seq"] == prev[0]:
                return False  # the same write read twice
            key = [s["window"], s["fullscreen"], [v["view"] + v["size"] for v in s["views"]]]
            ok = bool(prev) and key == prev[1]
            prev[:] = [s["seq"], key]
            return ok
        time.sleep(0.3)
        return self.wait(same, timeout, "the layout to settle")

    def log_text(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return (self.dir / "app.log").read_text(errors="replace")

    # ---- input ---------------------------------------------------------------------------------
    def key(self, *keys: str) -> None:
        self.server.xdo("key", "--clearmodifiers", *keys)

    def type(self, text: str) -> None:
        self.server.xdo("type", "--delay", "40", text)

    def replace_text(self, target: str, text: str) -> None:
        """Click a field, select all its text, type ``text`` and press Enter."""
        self.click_target(target)
        self.key("ctrl+a")
        self.type(text)
        self.key("Return")

    def click_target(self, name: str) -> None:
        s = self.wait(lambda s: s["targets"].get(name), 20, f"{name} to be on screen")
        x, y, w, h = s["targets"][name]
        self.click(x + w // 2, y + h // 2)

    def click(self, x: int, y: int) -> None:
        self.server.xdo("mousemove", "--sync", str(x), str(y), "click", "1")

    def resize(self, width: int, height: int) -> None:
        self.server.xdo("windowsize", "--sync", self.wid, str(width), str(height))

    def shot(self, name: str) -> Path:
        return self.server.screenshot(self.shots / f"{name}.png")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
