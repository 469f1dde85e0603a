"""UI responsiveness while the heaviest run animates, with 1e4, 1e5 and 1e6 walkers (cpu; cuda too).

Reported separately, because they are separate things:

- **draw fps**: draw-loop timer ticks the event loop served per second (the frame rate a user sees;
  Qt does not queue late ticks, so a stalled loop serves fewer). Aim: 30.
- **new fps**: ticks that had a new snapshot to draw (bounded by the worker's emission rate).
- **steps/s**: sampler steps per second of the worker thread (its own pace, not tied to frames).
- **stall max / p99**: a 1 ms probe timer measures the event loop; each gap between two of its
  ticks minus 1 ms is a stall the user could feel. Aim: max < 50 ms at 1e5 walkers on cpu. Measured
  in the steady state, from 3 s after Run; **start stall** is the longest over those first 3 s
  (the first snapshots arrive and every metric plot lays out and rescales at once).
- **draw ms**: the longest single pass of the draw loop (UI-thread cost of pushing data into items).
- **RSS MB**: resident memory growth over the measured interval (histories are bounded: flat).

Runs off-screen: ``python bench/bench_ui.py [--seconds 8] [--sampler hmc] [--walkers 10000 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6 import QtCore  # noqa: E402

from ebm_explorer.core.devices import cuda_available  # noqa: E402
from ebm_explorer.ui.app import make_app  # noqa: E402
from ebm_explorer.ui.main_window import MainWindow  # noqa: E402


def rss_mb() -> float:
    """Resident set size of this process (Linux /proc; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _wait(ms: int) -> None:
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()


#: seconds after Run before the steady-state measurement (the start's stalls are reported apart)
WARM_UP_S = 3.0


def measure(n: int, device: str, sampler: str, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(os.path.join(tmp, "s.ini"), QtCore.QSettings.Format.IniFormat)
        w = MainWindow(settings=settings, autostart=False, restore=False)
        w.resize(1600, 950)
        w.show()
        p = w.sampler_panel
        p.algorithm.setCurrentIndex(p.algorithm.findData(sampler))
        p.device.setCurrentIndex(max(0, p.device.findData(device)))
        p.walkers.setValue(n)
        deadline = time.perf_counter() + 120
        # start measuring once the startup jobs (reference, gallery thumbnails) are done
        while (w.model.reference is None or not w.model.latest or w.model.latest[0] is None
               or w.model.latest[0].n_walkers != n or not w.model.jobs.idle()) and time.perf_counter() < deadline:
            _wait(50)
        gaps: list[tuple[float, float]] = []  # (time of the tick, gap since the previous one)
        last = [time.perf_counter()]

        def probe() -> None:
            now = time.perf_counter()
            gaps.append((now, now - last[0]))
            last[0] = now

        timer = QtCore.QTimer()
        timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        timer.timeout.connect(probe)
        timer.start(1)
        t_run = time.perf_counter()
        w.run()
        _wait(int(WARM_UP_S * 1000))  # the start: first batches size themselves, metric plots lay out
        dl = w.draw_loop
        t0_ticks, f0, s0 = dl.ticks, dl.frames, w.model.latest[0].step
        dl.longest_frame_s = 0.0
        rss0 = rss_mb()
        t0 = time.perf_counter()
        _wait(int(seconds * 1000))
        elapsed = time.perf_counter() - t0
        timer.stop()
        start_gaps = np.asarray([g for t, g in gaps[1:] if t < t0] or [0.0])
        steady = np.asarray([g for t, g in gaps if t >= t0] or [0.0])
        stalls = np.maximum(steady * 1000 - 1.0, 0.0)
        out = dict(
            walkers=n, device=device,
            draw_fps=(dl.ticks - t0_ticks) / elapsed,
            new_fps=(dl.frames - f0) / elapsed,
            steps_per_s=(w.model.latest[0].step - s0) / elapsed,
            stall_max_ms=float(stalls.max()),
            start_stall_max_ms=float(max(start_gaps.max() * 1000 - 1.0, 0.0)),
            start_s=t0 - t_run,
            stall_p99_ms=float(np.percentile(stalls, 99)),
            draw_ms=dl.longest_frame_s * 1000,
            rss_growth_mb=rss_mb() - rss0,
        )
        w.shutdown()
        w.close()
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--sampler", default="hmc", help="heaviest by default: HMC (10 gradients per step)")
    ap.add_argument("--walkers", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--json", default="", help="also write the rows to this JSON file")
    args = ap.parse_args()
    app = make_app(offscreen=True)
    devices = ["cpu"] + (["cuda"] if cuda_available() else [])
    print(f"({args.sampler}, {args.seconds:g} s each, {os.cpu_count()} cores; aim: 30 draw fps, "
          f"stall < 50 ms at 1e5 walkers on cpu)")
    print(f"{'device':6} {'walkers':>9} {'draw fps':>8} {'new fps':>7} {'steps/s':>8} {'start stall':>11} {'stall max':>9} "
          f"{'p99 ms':>7} {'draw ms':>7} {'RSS MB':>7}")
    rows = []
    for dev in devices:
        for n in args.walkers:
            r = measure(n, dev, args.sampler, args.seconds)
            rows.append(r)
            print(f"{dev:6} {n:>9,} {r['draw_fps']:8.1f} {r['new_fps']:7.1f} {r['steps_per_s']:8.1f} "
                  f"{r['start_stall_max_ms']:11.1f} "
                  f"{r['stall_max_ms']:9.1f} {r['stall_p99_ms']:7.1f} {r['draw_ms']:7.1f} "
                  f"{r['rss_growth_mb']:+7.1f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    app.processEvents()


if __name__ == "__main__":
    main()
