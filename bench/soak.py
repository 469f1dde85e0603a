"""Soak test: the heaviest lecture scene animating off-screen for a long time, watching memory and stalls.

Default: built-in scene 1 (mode-weight bias: CD, PCD and Jarzynski training side by side, three worker
threads, every live panel) for 30 minutes. Every ``--every`` seconds it prints resident memory
(``VmRSS`` from ``/proc/self/status``), the longest event-loop stall in that interval (a 10 ms QTimer
heartbeat: a gap beyond 10 ms is a stall the user would feel) and the runs' step counts. It also
runs an autosave every interval (the real code path). Exits 1 when RSS grows more than
``--max-growth-mb`` after the warm-up (the first 20% of the run), or when a stall exceeds
``--max-stall-ms``; 0 otherwise.

    python bench/soak.py [--minutes 30] [--scene 1] [--walkers 2000] [--every 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore  # noqa: E402

HEARTBEAT_MS = 10


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    return float("nan")


class Heartbeat(QtCore.QObject):
    """A 10 ms timer; the largest gap beyond its period since the last :meth:`take` is the stall."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.worst = 0.0
        self.ticks = 0

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, (now - self.last) * 1000.0 - HEARTBEAT_MS)
        self.last = now
        self.ticks += 1

    def take(self) -> tuple[float, int]:
        worst, ticks = self.worst, self.ticks
        self.worst, self.ticks = 0.0, 0
        return worst, ticks


def _wait(ms: int) -> None:
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--scene", type=int, default=1, help="built-in scene number (1: mode-weight training, 3 runs)")
    ap.add_argument("--walkers", type=int, default=2000, help="walkers of every run")
    ap.add_argument("--every", type=float, default=30.0, help="seconds between table rows (and autosaves)")
    ap.add_argument("--max-growth-mb", type=float, default=150.0)
    ap.add_argument("--max-stall-ms", type=float, default=1000.0)
    args = ap.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="ebm-soak-")
    os.environ["EBM_EXPLORER_AUTOSAVE_DIR"] = os.path.join(tmp, "autosave")
    from ebm_explorer.scenes import load_builtin_scene
    from ebm_explorer.ui.app import make_app
    from ebm_explorer.ui.main_window import MainWindow

    app = make_app(offscreen=True)
    settings = QtCore.QSettings(os.path.join(tmp, "settings.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, autostart=False, restore=True)
    window.resize(1600, 950)
    window.show()
    scene = load_builtin_scene(args.scene)
    runs = tuple(replace(r, settings=replace(r.settings, walkers=args.walkers, iterations=10**9)
                         if r.kind == "train" else replace(r.settings, walkers=args.walkers)) for r in scene.runs)
    window.scenes.apply(replace(scene, runs=runs), start=True)
    beat = Heartbeat()
    beat.start()
    saves = [0]
    window.autosave.saved.connect(lambda _p: saves.__setitem__(0, saves[0] + 1))

    duration = args.minutes * 60.0
    t0 = time.perf_counter()
    rows: list[tuple[float, float, float, str]] = []
    print(f"soak: scene {args.scene} ({scene.title}), {len(runs)} runs x {args.walkers} walkers, "
          f"{args.minutes:g} min, row every {args.every:g} s", flush=True)
    print(f"{'t [s]':>7} {'RSS [MB]':>9} {'max stall [ms]':>15} {'beats/s':>8}  steps per run", flush=True)
    while time.perf_counter() - t0 < duration:
        _wait(int(args.every * 1000))
        window.autosave.save_now()
        stall, ticks = beat.take()
        steps = ",".join(str(s.step) if s is not None else "-" for s in window.model.latest)
        row = (time.perf_counter() - t0, rss_mb(), stall, steps)
        rows.append(row)
        failed = [e.message for e in window.model.errors]
        print(f"{row[0]:7.0f} {row[1]:9.1f} {row[2]:15.1f} {ticks / args.every:8.1f}  {steps}"
              + (f"  errors: {failed[-1][:80]}" if failed else ""), flush=True)
    window.shutdown()
    window.close()
    app.processEvents()

    warm = [r for r in rows if r[0] >= 0.2 * duration] or rows
    growth = max(r[1] for r in warm) - warm[0][1]
    worst = max(r[2] for r in rows) if rows else 0.0
    print(f"\nRSS after warm-up {warm[0][1]:.1f} MB, peak {max(r[1] for r in warm):.1f} MB, growth {growth:+.1f} MB "
          f"(bound {args.max_growth_mb:g}); worst stall {worst:.1f} ms (bound {args.max_stall_ms:g}); "
          f"autosaves {saves[0]}; worker errors {len(window.model.errors)}")
    ok = growth <= args.max_growth_mb and worst <= args.max_stall_ms
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
