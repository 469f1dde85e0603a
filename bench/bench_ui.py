"""UI responsiveness while the heaviest run animates: frames drawn per second and the longest
event-loop stall, with 1e4, 1e5 and 1e6 walkers (cpu; cuda too when present).

A 1 ms probe timer measures the event loop: the longest gap between two of its ticks minus 1 ms
is the longest stall the user could feel. Frames are counted by the draw loop (frames that drew new
data). Runs off-screen: ``python bench/bench_ui.py [--seconds 8] [--sampler hmc]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore  # noqa: E402

from ebm_explorer.core.devices import cuda_available  # noqa: E402
from ebm_explorer.ui.app import make_app  # noqa: E402
from ebm_explorer.ui.main_window import MainWindow  # noqa: E402


def measure(app, n: int, device: str, sampler: str, seconds: float) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(os.path.join(tmp, "s.ini"), QtCore.QSettings.Format.IniFormat)
        w = MainWindow(settings=settings, autostart=False, restore=False)
        w.show()
        p = w.sampler_panel
        p.algorithm.setCurrentIndex(p.algorithm.findData(sampler))
        p.device.setCurrentIndex(max(0, p.device.findData(device)))
        p.walkers.setValue(n)
        loop = QtCore.QEventLoop()
        deadline = time.perf_counter() + 60
        while (w.model.reference is None or not w.model.latest or w.model.latest[0] is None) \
                and time.perf_counter() < deadline:
            QtCore.QTimer.singleShot(50, loop.quit)
            loop.exec()
        w.run()
        QtCore.QTimer.singleShot(1000, loop.quit)  # warm-up
        loop.exec()
        gaps = []
        last = [time.perf_counter()]

        def probe() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        timer = QtCore.QTimer()
        timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        timer.timeout.connect(probe)
        f0, s0 = w.draw_loop.frames, w.model.latest[0].step
        timer.start(1)
        QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
        t0 = time.perf_counter()
        loop.exec()
        elapsed = time.perf_counter() - t0
        timer.stop()
        fps = (w.draw_loop.frames - f0) / elapsed
        steps = (w.model.latest[0].step - s0) / elapsed
        stall = max(gaps) * 1000 - 1.0 if gaps else float("nan")
        w.shutdown()
        w.close()
        return fps, stall, steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--sampler", default="hmc", help="heaviest by default: HMC (10 gradients per step)")
    ap.add_argument("--walkers", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    args = ap.parse_args()
    app = make_app(offscreen=True)
    devices = ["cpu"] + (["cuda"] if cuda_available() else [])
    print(f"{'device':6} {'walkers':>9} {'fps':>6} {'max stall ms':>13} {'steps/s':>9}   ({args.sampler}, "
          f"{args.seconds:g} s each; aim: 30 fps, stall < 50 ms at 1e5 on cpu)")
    for dev in devices:
        for n in args.walkers:
            fps, stall, steps = measure(app, n, dev, args.sampler, args.seconds)
            print(f"{dev:6} {n:>9,} {fps:6.1f} {stall:13.1f} {steps:9.1f}", flush=True)
    app.processEvents()


if __name__ == "__main__":
    main()
