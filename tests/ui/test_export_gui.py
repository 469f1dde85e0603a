"""Export from the real window: panel / window PNG and SVG, GIF + MP4 recording, trajectory export
(NPZ and CSV row counts), and a cancelled export that leaves nothing (off-screen)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.export import read_trajectory_csv
from ebm_explorer.scenes import scene_from_toml
from ebm_explorer.ui.vector_export import content_rect

WAIT = 240_000  # ms: a wait returns once its condition holds; 4 min covers 2 test workers on 2 busy cores


def _ref_ready(w):
    return w.model.reference is not None and w.model.reference.version == w.model.version


def _svg_ok(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return root


def test_panel_and_window_png_svg(qtbot, make_window, tmp_path, monkeypatch):
    w = make_window(autostart=True)
    qtbot.waitUntil(lambda: _ref_ready(w) and w.model.latest[0] is not None, timeout=WAIT)
    qtbot.wait(200)
    ex = w.exporter
    view = ex.landscape_target()
    out = ex.export_image(view, tmp_path / "view.png", width=640)
    img = QtGui.QImage(str(out))
    assert not img.isNull() and img.width() == 640
    crop = content_rect(view)  # cropped to the plot: no blank half under it
    assert abs(img.height() - 640 * crop.height() / crop.width()) <= 2
    assert crop.height() <= view.height() and crop.width() <= view.width()
    plot = w.metrics.plots["divergence"]
    img = QtGui.QImage(str(ex.export_image(plot, tmp_path / "kl.png", width=500)))
    assert img.width() == 500 and img.height() > 50
    _svg_ok(ex.export_image(view, tmp_path / "view.svg"))
    _svg_ok(ex.export_image(plot, tmp_path / "kl.svg"))
    img = QtGui.QImage(str(ex.export_image(w, tmp_path / "window.png", scale=1.5)))
    assert (img.width(), img.height()) == (int(w.width() * 1.5), int(w.height() * 1.5))
    _svg_ok(ex.export_image(w, tmp_path / "window.svg"))
    # the right-click menu of a panel offers PNG / SVG; its PNG action asks for the scale and a file
    menu = ex.context_menu(view, [("landscape view", view)])
    texts = [a.text() for a in menu.actions()]
    assert "Export landscape view as PNG…" in texts and "Export whole window as SVG…" in texts
    monkeypatch.setattr(QtWidgets.QInputDialog, "getItem", lambda *a, **k: (a[3][2], True))  # 3x
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "ctx"), ""))
    next(a for a in menu.actions() if a.text() == "Export landscape view as PNG…").trigger()
    img = QtGui.QImage(str(tmp_path / "ctx.png"))
    assert img.width() == pytest.approx(3 * content_rect(view).width(), abs=3)
    names = sorted(p.name for p in tmp_path.iterdir() if p.name != "settings.ini")
    assert names == ["ctx.png", "kl.png", "kl.svg", "view.png", "view.svg", "window.png", "window.svg"]  # no temps


def test_recording_gif_and_mp4_have_the_same_frames(qtbot, make_window, tmp_path):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.speed.setValue(5)  # 20 steps/s: every grabbed frame shows a new state
    gif, mp4 = tmp_path / "rec.gif", tmp_path / "rec.mp4"
    assert w.exporter.start_recording("view", gif, mp4, fps=10)
    assert w.exporter.rec_label.isVisibleTo(w)
    qtbot.waitUntil(lambda: w.model.any_running, timeout=WAIT)  # recording starts the run
    rec = w.exporter.recorder
    qtbot.waitUntil(lambda: rec.frames_grabbed >= 8, timeout=WAIT)
    with qtbot.waitSignal(rec.finished, timeout=WAIT) as done:
        w.exporter.rec_stop.click()
    assert sorted(done.args[0]) == sorted([str(gif), str(mp4)])
    n = rec.frames_grabbed
    with Image.open(gif) as im:
        assert im.n_frames == n
        size = im.size
    frames, _secs = imageio_ffmpeg.count_frames_and_secs(str(mp4))
    assert frames == n
    view = w.stack.currentWidget()
    assert abs(size[0] - view.width() * view.devicePixelRatioF()) <= 1
    assert not w.exporter.rec_label.isVisibleTo(w)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "settings.ini") == ["rec.gif", "rec.mp4"]


def _stepped(qtbot, w, k):
    qtbot.waitUntil(lambda: _ref_ready(w) and w.model.latest and w.model.latest[0] is not None, timeout=WAIT)
    for _ in range(k):
        w.step()
    qtbot.waitUntil(lambda: all(s is not None and s.step == k for s in w.model.latest), timeout=WAIT)
    qtbot.waitUntil(lambda: all(h.n >= 1 for h in w.model.histories), timeout=WAIT)


def test_trajectory_export_npz_and_csv_row_counts(qtbot, make_window, tmp_path):
    w = make_window(walkers=300)
    w.compare_panel.set_rows([("mala", 0.1), ("ula", 0.1)])
    w.set_compare(True)
    k = 12
    _stepped(qtbot, w, k)
    job = w.exporter.export_trajectories(tmp_path / "traj.npz", dialog=False)
    with qtbot.waitSignal(job.done, timeout=WAIT):
        pass
    job.wait()
    for i in (1, 2):
        z = np.load(tmp_path / f"traj_run{i}.npz")
        assert z["positions"].shape == (k + 1, 256, 2) and list(z["steps"]) == list(range(k + 1))
        assert z["metric_step"].shape == z["metric_kl"].shape and z["metric_step"].size >= 1
        scene, _ = scene_from_toml(str(z["scene_toml"]))
        assert [r.settings.sampler for r in scene.runs] == ["mala", "ula"]
    job = w.exporter.export_trajectories(tmp_path / "traj.csv", dialog=False)
    with qtbot.waitSignal(job.done, timeout=WAIT):
        pass
    job.wait()
    cols = read_trajectory_csv(tmp_path / "traj_run1.csv")
    assert cols["step"].size == (k + 1) * 256
    z = np.load(tmp_path / "traj_run1.npz")
    np.testing.assert_array_equal(cols["x"].reshape(k + 1, 256).astype(np.float32), z["positions"][:, :, 0])
    n_metrics = sum(1 for _ in open(tmp_path / "traj_run1_metrics.csv")) - 1
    assert n_metrics == z["metric_step"].size  # paused: the same series in both exports
    # the headless run of the same scene writes the same metric columns (one metrics-history type)
    from ebm_explorer.scenes.headless import run_scene_to_dir

    run_scene_to_dir(w.scenes.current_scene(), tmp_path / "headless", steps=k, formats=("csv",))
    for i in (1, 2):
        gui = open(tmp_path / f"traj_run{i}_metrics.csv").readline()
        headless = open(tmp_path / "headless" / f"run{i}_metrics.csv").readline()
        assert gui == headless and "mode_weight_exact_0" in gui and "tv_expected" in gui


def test_cancelled_trajectory_export_leaves_nothing(qtbot, make_window, tmp_path):
    w = make_window(walkers=300)
    w.compare_panel.set_rows([("mala", 0.1), ("ula", 0.1)])
    w.set_compare(True)
    _stepped(qtbot, w, 10)
    out = tmp_path / "out"
    out.mkdir()
    job = w.exporter.export_trajectories(out / "traj.csv", dialog=True)
    seen = []

    def cancel_half_way(done, total):  # runs in the export thread: deterministic
        seen.append(done)
        if done >= total // 2:
            job.cancel()

    job.progress.connect(cancel_half_way, QtCore.Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(job.cancelled, timeout=WAIT):
        pass
    job.wait()
    assert list(out.iterdir()) == []  # neither run's files nor any temporary file
    assert "cancelled" in w.exporter.last_message
    assert w.exporter.dialog is not None and not w.exporter.dialog.isVisible()
