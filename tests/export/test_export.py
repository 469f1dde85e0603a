"""Exporters: NPZ/CSV consistency, cancellation leaves nothing, figures and recordings are valid files."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
from matplotlib.figure import Figure

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.export import ExportCancelled, Recorder, TrajectoryData, export_trajectories, read_trajectory_csv
from ebm_explorer.export.figures import save_figure


def _data(t: int = 7, w: int = 5, dtype=np.float32) -> TrajectoryData:
    rng = np.random.default_rng(0)
    return TrajectoryData(
        steps=np.arange(t) * 3, walkers=np.arange(w) + 10,
        positions=rng.normal(size=(t, w, 2)).astype(dtype), energy=rng.normal(size=(t, w)).astype(dtype),
        accepted=rng.random((t, w)) < 0.5, log_weight=rng.normal(size=(t, w)),
    )


def test_npz_and_csv_agree(tmp_path: Path) -> None:
    data = _data()
    metrics = {"step": data.steps, "kl": np.linspace(1, 0, 7)}
    calls: list[tuple[int, int]] = []
    written = export_trajectories(data, npz_path=tmp_path / "t.npz", csv_path=tmp_path / "t.csv", metrics=metrics,
                                  metrics_csv_path=tmp_path / "m.csv", scene_toml="format_version = 1\n",
                                  scene_path=tmp_path / "s.toml", progress=lambda d, n: calls.append((d, n)))
    assert sorted(p.name for p in written) == sorted(p.name for p in tmp_path.iterdir())
    assert calls[-1][0] == calls[-1][1] and len(calls) > 7
    npz = np.load(tmp_path / "t.npz")
    assert npz["positions"].shape == (7, 5, 2) and npz["positions"].dtype == np.float32
    assert str(npz["scene_toml"]) == "format_version = 1\n"
    assert np.array_equal(npz["metric_kl"], metrics["kl"])
    csv = read_trajectory_csv(tmp_path / "t.csv")
    assert len(csv["step"]) == data.n_records * data.n_walkers
    # exact round trip of float32 through %.9g, row order = (record, walker)
    assert np.array_equal(csv["x"].astype(np.float32).reshape(7, 5), npz["positions"][..., 0])
    assert np.array_equal(csv["energy"].astype(np.float32).reshape(7, 5), npz["energy"])
    assert np.array_equal(csv["log_weight"].reshape(7, 5), npz["log_weight"])
    assert np.array_equal(csv["accepted"].reshape(7, 5).astype(bool), npz["accepted"])
    assert np.array_equal(csv["step"].reshape(7, 5)[:, 0], npz["steps"])
    assert np.array_equal(csv["walker"].reshape(7, 5)[0], npz["walkers"])
    m = np.loadtxt(tmp_path / "m.csv", delimiter=",", skiprows=1)
    assert np.array_equal(m[:, 1], metrics["kl"])


@pytest.mark.parametrize("cancel_at", [1, 9])  # during the NPZ, during the CSV
def test_cancelled_export_leaves_nothing(tmp_path: Path, cancel_at: int) -> None:
    event = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= cancel_at:
            event.set()

    (tmp_path / "keep.txt").write_text("unrelated")
    with pytest.raises(ExportCancelled):
        export_trajectories(_data(), npz_path=tmp_path / "t.npz", csv_path=tmp_path / "t.csv",
                            progress=progress, cancel=event)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_cancel_callable_before_start(tmp_path: Path) -> None:
    with pytest.raises(ExportCancelled):
        export_trajectories(_data(), csv_path=tmp_path / "t.csv", cancel=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_export_rejects_bad_shapes() -> None:
    with pytest.raises(UserInputError, match="positions"):
        TrajectoryData(np.arange(2), np.arange(3), np.zeros((2, 4, 2)), np.zeros((2, 3)), np.zeros((2, 3), bool),
                       np.zeros((2, 3)))


def test_figures_png_dpi_and_svg(tmp_path: Path) -> None:
    fig = Figure(figsize=(2.0, 1.5))
    fig.add_subplot().plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / "f.png", dpi=100)
    save_figure(fig, tmp_path / "f2.png", dpi=200)
    save_figure(fig, tmp_path / "f.svg")
    assert iio.imread(tmp_path / "f.png").shape[:2] == (150, 200)
    assert iio.imread(tmp_path / "f2.png").shape[:2] == (300, 400)
    assert ET.parse(tmp_path / "f.svg").getroot().tag.endswith("svg")
    with pytest.raises(UserInputError, match="figures can be saved"):
        save_figure(fig, tmp_path / "f.bmp")


def _frames(n: int, h: int = 41, w: int = 60) -> list[np.ndarray]:
    out = []
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, 4 * i: 4 * i + 8] = (255, 200, 0)
        out.append(f)
    return out


def test_recorder_gif_and_mp4_agree(tmp_path: Path) -> None:
    with Recorder(tmp_path / "a.gif", tmp_path / "a.mp4", fps=10) as rec:
        for f in _frames(12):
            rec.add_frame(f)
        rec.add_frame(np.zeros((30, 80, 3), np.uint8))  # another size: cropped/padded to the first
    gif = iio.imread(tmp_path / "a.gif", index=None)
    n_mp4, _ = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "a.mp4"))
    assert gif.shape == (13, 42, 60, 3)  # odd height padded to even
    assert n_mp4 == 13
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif", "a.mp4"]


def test_recorder_abort_and_cancel_leave_nothing(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "a.gif", tmp_path / "a.mp4")
    for f in _frames(3):
        rec.add_frame(f)
    rec.abort()
    assert list(tmp_path.iterdir()) == []
    stop = threading.Event()
    with pytest.raises(ExportCancelled):
        with Recorder(tmp_path / "b.gif", tmp_path / "b.mp4", cancel=stop) as rec:
            for i, f in enumerate(_frames(5)):
                if i == 3:
                    stop.set()
                rec.add_frame(f)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UserInputError, match="nothing recorded"):
        Recorder(tmp_path / "c.gif").finish()
    assert list(tmp_path.iterdir()) == []
