"""Cycles are collected in the GUI thread only (a worker thread destroying Qt objects deadlocked the app)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6 import QtCore

from ebm_explorer.ui.gui_thread_gc import INTERVAL_MS, collect_in_gui_thread


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_worker_thread_garbage_is_collected_by_the_gui_thread(qtbot, qapp):
    collector = collect_in_gui_thread(qapp)
    assert collect_in_gui_thread(qapp) is collector and not gc.isenabled()
    collected_in: list[int] = []

    def record(phase: str, _info: dict) -> None:
        if phase == "start":
            collected_in.append(threading.get_ident())

    refs: list[weakref.ref] = []

    def churn() -> None:  # 20x the generation-0 threshold: an enabled collector would run here
        for _ in range(20 * collector.threshold[0]):
            node = _Node()
            node.qt = QtCore.QObject()  # the kind of object that must not die off the GUI thread
            refs.append(weakref.ref(node))

    gc.callbacks.append(record)
    try:
        worker = threading.Thread(target=churn)
        worker.start()
        worker.join()
        assert collected_in == []  # nothing ran in the worker
        qtbot.waitUntil(lambda: all(r() is None for r in refs), timeout=20 * INTERVAL_MS)
    finally:
        gc.callbacks.remove(record)
    assert collected_in and set(collected_in) == {threading.get_ident()}
