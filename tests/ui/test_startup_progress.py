"""The first minute: a splash before torch is imported, then the reference's progress in the window."""

from __future__ import annotations

import threading

import pytest

from ebm_explorer.cli.main import opens_window
from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.ui import splash
from ebm_explorer.workers.commands import ReferenceKey, ThumbnailKey
from ebm_explorer.workers.jobs import JobWorker


def test_splash_imports_behind_a_live_window_then_closes(qtbot):
    s = splash.start()
    try:
        assert s.isVisible() and splash.active() is s
        s.import_in_background(["json", "ebm_explorer.core.errors"], "loading…", 5, 60)
        assert s.bar.value() == 60 and s.label.text() == "loading…"
        with pytest.raises(ModuleNotFoundError):
            s.import_in_background(["no_such_module_here"], "loading…", 60, 70)
        splash.step("building the window…", 80)
        assert s.bar.value() == 80
    finally:
        splash.finish()
    assert splash.active() is None and not s.isVisible()
    splash.step("nothing to show", 90)  # no splash: a no-op


@pytest.mark.parametrize("argv, window", [([], True), (["gui"], True), (["gui", "3"], True), (["gui", "--help"], False),
                                          (["sample"], False), (["--version"], False), (["screenshot"], False)])
def test_only_commands_that_open_the_window_show_the_splash(argv, window):
    assert opens_window(argv) == window


def test_reference_progress_shows_stages_then_goes_away(make_window, qtbot):
    w = make_window()
    qtbot.waitUntil(lambda: w.model.reference is not None, timeout=120_000)
    assert not w.reference_progress.computing
    seen: list[tuple[str, str, float]] = []
    w.model.jobs.progress.connect(lambda key, stage, fraction: seen.append((key, stage, fraction)))
    w.model.set_landscape(make_landscape("double_well"))
    assert w.reference_progress.computing and w.reference_progress.bar.isVisibleTo(w)
    assert w.views[0].message.toPlainText().startswith("computing the exact reference")
    qtbot.waitUntil(lambda: w.model.reference is not None and not w.reference_progress.computing, timeout=120_000)
    fractions = [f for key, _stage, f in seen if key == ReferenceKey()]
    assert fractions[0] == 0.0 and fractions[-1] == 0.9 and fractions == sorted(fractions)
    assert not w.reference_progress.bar.isVisibleTo(w)
    assert all(not v.message.toPlainText().startswith("computing") for v in w.all_views())


def test_the_reference_job_jumps_the_queue(qtbot):
    jobs = JobWorker()
    release = threading.Event()
    order: list[str] = []
    jobs.submit(ThumbnailKey("busy"), lambda: release.wait(30))
    jobs.start()
    try:
        qtbot.waitUntil(lambda: not jobs.idle() and ThumbnailKey("busy") not in jobs._pending, timeout=10_000)
        for name in ("thumb-a", "thumb-b", "reference", "thumb-c"):
            key = ReferenceKey() if name == "reference" else ThumbnailKey(name)
            jobs.submit(key, lambda k=name: order.append(k))
        release.set()
        qtbot.waitUntil(jobs.idle, timeout=10_000)
    finally:
        jobs.stop()
    assert order == ["reference", "thumb-a", "thumb-b", "thumb-c"]
