"""Smaller promises of the window: a saved scene keeps the user's title, file dialogs open in the last
folder used, the trajectory export says how many walkers and steps it holds."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets

from ebm_explorer.scenes import load_scene
from ebm_explorer.ui.export_actions import trajectory_scope
from ebm_explorer.ui.last_folder import KEY, get_open_file_name, get_save_file_name

pytestmark = pytest.mark.timeout(240)
WAIT = 240_000


def _ref_ready(w):
    return w.model.reference is not None and w.model.reference.version == w.model.version


def test_a_saved_scene_keeps_the_users_title(qtbot, make_window, tmp_path):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    assert w.scenes.title_for(tmp_path / "my_first_lecture.toml") == "my first lecture"
    written = w.scenes.save_path(tmp_path / "lecture.toml", title="Week 3: two wells")
    scene, _ = load_scene(written)
    assert scene.title == "Week 3: two wells"
    assert w.windowTitle() == "EBM Explorer — Week 3: two wells"  # saved: no '*' and the user's title
    assert w.scenes.title_for(tmp_path / "other.toml") == "Week 3: two wells"
    w.scenes.open_builtin(2, start=False)
    assert w.scenes.title_for(tmp_path / "x.toml") == w.model.scene.title  # a built-in scene keeps its own


def test_file_dialogs_open_in_the_last_folder(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window()
    asked = []

    def fake(owner, title, start, filters):
        asked.append(start)
        return str(tmp_path / "deep" / "chosen.toml"), filters

    (tmp_path / "deep").mkdir()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", fake)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", fake)
    get_save_file_name(w, "Save", "scene.toml", "*.toml")
    assert w.settings.value(KEY) == str((tmp_path / "deep").resolve())
    get_open_file_name(w.editor, "Image", "", "*.png")  # from a widget inside the window: same settings
    get_save_file_name(w, "Export", "figure.svg", "*.svg")
    assert asked[1:] == [str((tmp_path / "deep").resolve()), str((tmp_path / "deep").resolve() / "figure.svg")]


def test_trajectory_export_says_how_many_walkers_it_holds(qtbot, make_window):
    w = make_window(walkers=2000)
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.step()
    qtbot.waitUntil(lambda: w.model.latest and w.model.latest[0] is not None, timeout=WAIT)
    text = trajectory_scope(w.model)
    assert "of 256 of 2,000 walkers" in text and "keeps the first 256 walkers" in text
