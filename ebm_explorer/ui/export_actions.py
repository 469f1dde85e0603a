"""Export from the app: every plot panel and the whole window to PNG (chosen scale) and SVG, from a
right-click menu on each panel and from File > Export (PNG through pyqtgraph's ImageExporter, SVG
and the window through Qt's renderer); recording (see ``recording.py``); and the
recent trajectories and metric series of every run to NPZ / CSV in a thread with a cancellable
progress dialog. Every file is written atomically; a cancelled export leaves nothing behind.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.core.atomic import atomic_path
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.export import ExportCancelled, TrajectoryData, export_trajectories
from ebm_explorer.scenes import Scene, scene_to_toml
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.fisher_kl_panel import FisherKLPanel
from ebm_explorer.ui.metrics_panel import MetricsPanel
from ebm_explorer.ui.ports import Shell, Views
from ebm_explorer.ui.recording import ScreenRecorder
from ebm_explorer.ui.vector_export import paint_on, pdf_writer, render_pdf, render_png, render_svg, save_png, svg_generator
from ebm_explorer.ui.last_folder import get_save_file_name
from ebm_explorer.workers.recent import RECENT_STEPS, RECENT_WALKERS

__all__ = ["ExportController", "ExportParts", "TrajectoryExportJob", "export_png", "export_svg", "export_pdf",
           "export_widget_png",
           "export_widget_svg", "SCALES"]

SCALES = (1.0, 2.0, 3.0, 4.0)


# ---- image export (UI thread: rendering is UI work) -------------------------------------------------
def _exportable(target: Any) -> Any:
    """What pyqtgraph's exporters take: a plot item as is, a graphics widget's whole scene."""
    return target.scene() if isinstance(target, pg.GraphicsView) else target


def export_png(target: Any, path: str | Path, width: int | None = None, scale: float = 2.0) -> Path:
    """A plot (``PlotItem``) or a panel (``GraphicsLayoutWidget``) as PNG, ``width`` pixels wide (else its
    on-screen width times ``scale``); the height keeps the aspect ratio. A panel is cropped to its plots."""
    if isinstance(target, pg.GraphicsView):
        return render_png(target, path, scale=scale, width=width)
    exporter = pg_exporters.ImageExporter(_exportable(target))
    params = exporter.parameters()
    params["width"] = int(width) if width else max(1, int(round(params["width"] * scale)))
    target_path = Path(path)
    with atomic_path(target_path, suffix=".png") as tmp:
        exporter.export(str(tmp))
    return target_path


def export_svg(target: Any, path: str | Path) -> Path:
    """A plot or a panel as a vector SVG (ui.vector_export: axes, ticks and labels as text and paths, the
    heat map the one embedded image); pyqtgraph's SVG exporter fails on the paths Qt 6 writes."""
    if isinstance(target, QtWidgets.QWidget) and not isinstance(target, pg.GraphicsView):
        return export_widget_svg(target, path)
    return render_svg(target, path)


def export_pdf(target: Any, path: str | Path) -> Path:
    """A plot or a panel as a vector PDF (one page the size of the plot); the window through Qt's renderer."""
    if isinstance(target, QtWidgets.QWidget) and not isinstance(target, pg.GraphicsView):
        target_path = Path(path)
        with atomic_path(target_path, suffix=".pdf") as tmp:
            paint_on(pdf_writer(tmp, target.size()), lambda painter: _render(target, painter))
        return target_path
    return render_pdf(target, path)


def _render(widget: QtWidgets.QWidget, painter: QtGui.QPainter) -> None:
    """Paint ``widget`` and its children with ``painter`` (a plot panel draws its scene as vectors)."""
    if isinstance(widget, QtWidgets.QGraphicsView):
        widget.render(painter, QtCore.QRectF(0, 0, widget.width(), widget.height()))
    else:
        QtWidgets.QWidget.render(widget, painter, QtCore.QPoint(0, 0))


def export_widget_png(widget: QtWidgets.QWidget, path: str | Path, scale: float = 2.0) -> Path:
    """Any widget (the whole window) rendered at ``scale`` times its size as PNG."""
    size = widget.size()
    img = QtGui.QImage(int(size.width() * scale), int(size.height() * scale), QtGui.QImage.Format.Format_RGB32)
    img.fill(QtGui.QColor("#15171c"))

    def draw(painter: QtGui.QPainter) -> None:
        painter.scale(scale, scale)
        _render(widget, painter)
    paint_on(img, draw, antialias=True)
    return save_png(img, path)


def export_widget_svg(widget: QtWidgets.QWidget, path: str | Path) -> Path:
    """Any widget (the whole window) as SVG."""
    target = Path(path)
    with atomic_path(target, suffix=".svg") as tmp:
        paint_on(svg_generator(tmp, widget.size()), lambda painter: _render(widget, painter))
    return target


# ---- trajectories ---------------------------------------------------------------------------------
class TrajectoryExportJob(QtCore.QThread):
    """Writes each run's recent trajectory (+ metrics, + scene) in a thread; ``cancel()`` leaves nothing.

    ``runs``: ``(source, metrics, npz_path, csv_path, metrics_csv_path)`` with ``source()`` returning
    the :class:`TrajectoryData` (called in this thread: it copies the worker's buffer under its lock).
    """

    progress = QtCore.Signal(int, int)  # done, total (permille of the whole export)
    done = QtCore.Signal(list)  # paths written
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()

    def __init__(self, runs: list[tuple[Callable[[], TrajectoryData | None], dict[str, np.ndarray], Path | None,
                                        Path | None, Path | None]], scene_toml: str) -> None:
        super().__init__()
        self.runs = runs
        self.scene_toml = scene_toml
        self.cancel_event = threading.Event()
        self.written: list[Path] = []

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:
        n = len(self.runs)
        try:
            for i, (source, metrics, npz, csv, metrics_csv) in enumerate(self.runs):
                data = source()
                if data is None:
                    raise UserInputError(f"run {i + 1} has no recorded steps yet")

                def report(d: int, t: int, _i: int = i) -> None:
                    self.progress.emit(int(1000 * (_i + d / max(t, 1)) / n), 1000)

                self.written += export_trajectories(data, npz_path=npz, csv_path=csv, metrics=metrics,
                                                    metrics_csv_path=metrics_csv, scene_toml=self.scene_toml,
                                                    progress=report, cancel=self.cancel_event)
        except ExportCancelled:
            self._remove_written()
            self.cancelled.emit()
        except (UserInputError, OSError) as exc:
            self._remove_written()
            self.failed.emit(str(exc))
        else:
            self.done.emit([str(p) for p in self.written])

    def _remove_written(self) -> None:
        """Runs already written are removed too: an export is all or nothing."""
        for p in self.written:
            p.unlink(missing_ok=True)
        self.written = []


def trajectory_scope(model: Any) -> str:
    """What a trajectory file holds, said plainly: the recording buffer keeps a fixed number of walkers
    and steps per run (memory stays bounded whatever N is)."""
    parts = []
    for wk, snap in zip(model.workers, model.latest):
        rec = getattr(wk, "recent", None)
        if rec is None or snap is None:
            continue
        parts.append(f"{min(rec.count, rec.capacity):,} steps of {rec.w:,} of {snap.n_walkers:,} walkers")
    if not parts:
        return ""
    return (f": the last {'; '.join(parts)} (the trajectory buffer keeps the first {RECENT_WALKERS:,} walkers "
            f"of each run over its last {RECENT_STEPS:,} steps)")


@dataclass(frozen=True)
class ExportParts:
    """What the export controller needs beyond the model and the shell."""

    views: Views  # landscape views (PNG/SVG, right-click menus)
    metrics: MetricsPanel  # the live panels (PNG/SVG of one plot or all)
    fisher: FisherKLPanel  # the sweep's plot
    view_page: Callable[[], QtWidgets.QWidget]  # the landscape widget on screen (recorded)
    redraw: Callable[[], None]  # draw the newest snapshots now (before a recorded frame)
    capture_scene: Callable[[], Scene]  # the scene on screen (written beside exported trajectories)
    start_runs: Callable[[], None]  # a recording starts paused runs


class ExportController(QtCore.QObject):
    """File > Export, the panels' right-click menus, recording and the trajectory export."""

    def __init__(self, model: AppModel, shell: Shell, parts: ExportParts) -> None:
        super().__init__(shell.frame)
        self.model = model
        self.shell = shell
        self.parts = parts
        self.recorder = ScreenRecorder(model, shell.frame, parts.view_page, parts.redraw)
        self.job: TrajectoryExportJob | None = None
        self.dialog: QtWidgets.QProgressDialog | None = None
        self.last_message = ""
        self._build_menu()
        self._build_indicator()
        for v in parts.views.all():
            self._context(v, lambda pos, v=v: [("landscape view", v)])
        self._context(parts.metrics.graphics, self._metric_targets)
        fisher = parts.fisher
        self._context(fisher.graphics, lambda pos: [("Fisher vs KL plot", fisher.plot)])

    # ---- menus ---------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        w, graphics = self.shell.frame, self.parts.metrics.graphics
        em = self.shell.menu("&File").addMenu("&Export")
        em.addAction("Landscape view as PNG…", lambda: self.ask_image(self.landscape_target(), "png"))
        em.addAction("Landscape view as SVG…", lambda: self.ask_image(self.landscape_target(), "svg"))
        em.addAction("Landscape view as PDF…", lambda: self.ask_image(self.landscape_target(), "pdf"))
        em.addAction("Live panels as PNG…", lambda: self.ask_image(graphics, "png"))
        em.addAction("Live panels as SVG…", lambda: self.ask_image(graphics, "svg"))
        em.addAction("Live panels as PDF…", lambda: self.ask_image(graphics, "pdf"))
        em.addAction("Whole window as PNG…", lambda: self.ask_image(w, "png"))
        em.addAction("Whole window as SVG…", lambda: self.ask_image(w, "svg"))
        em.addSeparator()
        self.traj_action = em.addAction("Trajectories and metrics (NPZ / CSV)…", self.ask_trajectories)
        self.traj_action.setShortcut(QtGui.QKeySequence("Ctrl+E"))
        em.addSeparator()
        em.addAction("Record landscape view (GIF + MP4)…", lambda: self.ask_record("view"))
        em.addAction("Record whole window (GIF + MP4)…", lambda: self.ask_record("window"))
        self.stop_action = em.addAction("Stop recording", self.recorder.stop)
        self.stop_action.setEnabled(False)

    def _build_indicator(self) -> None:
        self.rec_label = QtWidgets.QLabel("")
        self.rec_label.setStyleSheet("color: #e63946; font-weight: bold")
        self.rec_stop = QtWidgets.QPushButton("Stop recording")
        self.rec_stop.clicked.connect(self.recorder.stop)
        for x in (self.rec_label, self.rec_stop):
            x.setVisible(False)
            self.shell.frame.statusBar().addWidget(x)
        self.recorder.progress.connect(self._rec_progress)
        self.recorder.finished.connect(self._rec_finished)
        self.recorder.failed.connect(self._rec_failed)

    def landscape_target(self) -> QtWidgets.QWidget:
        """The landscape widget on screen: the single view or the compare grid's first view."""
        views = self.parts.views
        return views.compare[0] if self.model.compare else views.main

    def _metric_targets(self, pos: QtCore.QPoint) -> list[tuple[str, Any]]:
        g = self.parts.metrics.graphics
        scene_pos = g.mapToScene(pos)
        out = []
        for key, plot in self.parts.metrics.plots.items():
            if plot.scene() is g.scene() and plot.sceneBoundingRect().contains(scene_pos):
                out.append((f"plot '{plot.titleLabel.text or key}'", plot))
        return out + [("live panels", g)]

    def _context(self, widget: QtWidgets.QWidget, targets: Callable[[QtCore.QPoint], list[tuple[str, Any]]]) -> None:
        widget.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        widget.customContextMenuRequested.connect(
            lambda pos: self.context_menu(widget, targets(pos)).popup(widget.mapToGlobal(pos)))

    def context_menu(self, widget: QtWidgets.QWidget, targets: list[tuple[str, Any]]) -> QtWidgets.QMenu:
        """The right-click menu of a panel: PNG / SVG of each target, the window, recording."""
        m = QtWidgets.QMenu(widget)
        for name, target in targets:
            m.addAction(f"Export {name} as PNG…", partial(self.ask_image, target, "png"))
            m.addAction(f"Export {name} as SVG…", partial(self.ask_image, target, "svg"))
            m.addAction(f"Export {name} as PDF…", partial(self.ask_image, target, "pdf"))
        m.addSeparator()
        m.addAction("Export whole window as PNG…", partial(self.ask_image, self.shell.frame, "png"))
        m.addAction("Export whole window as SVG…", partial(self.ask_image, self.shell.frame, "svg"))
        m.addAction("Record landscape view…", partial(self.ask_record, "view"))
        return m

    # ---- images --------------------------------------------------------------------------------
    def ask_image(self, target: Any, fmt: str) -> None:
        w = self.shell.frame
        scale = 2.0
        if fmt == "png":
            labels = [f"{s:g}x  ({self._pixel_size(target, s)})" for s in SCALES]
            choice, ok = QtWidgets.QInputDialog.getItem(w, "PNG resolution", "Scale of the on-screen size:", labels,
                                                        1, False)
            if not ok:
                return
            scale = SCALES[labels.index(choice)]
        path, _ = get_save_file_name(w, f"Export {fmt.upper()}", f"figure.{fmt}",
                                                        f"{fmt.upper()} (*.{fmt})")
        if not path:
            return
        if not path.lower().endswith(f".{fmt}"):
            path += f".{fmt}"
        self.export_image(target, path, scale)

    @staticmethod
    def _pixel_size(target: Any, scale: float) -> str:
        if isinstance(target, QtWidgets.QWidget):
            s = target.size()
            return f"{int(s.width() * scale)} x {int(s.height() * scale)}"
        r = target.sceneBoundingRect()
        return f"{int(r.width() * scale)} x {int(r.height() * scale)}"

    def export_image(self, target: Any, path: str | Path, scale: float = 2.0, width: int | None = None) -> Path | None:
        """Write ``target`` (a plot, a panel, or the window) to ``path`` by its suffix (.png / .svg / .pdf)."""
        is_plot_panel = isinstance(target, (pg.GraphicsView, pg.PlotItem))
        svg = str(path).lower().endswith(".svg")
        try:
            if str(path).lower().endswith(".pdf"):
                out = export_pdf(target, path)
            elif is_plot_panel:
                out = export_svg(target, path) if svg else export_png(target, path, width=width, scale=scale)
            else:
                out = export_widget_svg(target, path) if svg else export_widget_png(target, path, scale=scale)
        except (UserInputError, OSError) as exc:
            self.shell.show_error(f"Export failed: {exc}")
            return None
        self._message(f"Exported {out}")
        return out

    def _message(self, text: str) -> None:
        self.last_message = text
        self.shell.status(text, 8000)

    # ---- recording -----------------------------------------------------------------------------
    def ask_record(self, target: str) -> None:
        path, _ = get_save_file_name(self.shell.frame, "Record as GIF and MP4 (same name)",
                                                        "recording.mp4", "Video (*.mp4 *.gif)")
        if path:
            stem = str(Path(path).with_suffix(""))
            self.start_recording(target, stem + ".gif", stem + ".mp4")

    def start_recording(self, target: str, gif: str | Path | None, mp4: str | Path | None, fps: float = 10.0) -> bool:
        try:
            self.recorder.start(target, gif, mp4, fps=fps)
        except UserInputError as exc:
            self.shell.show_error(str(exc))
            return False
        if not self.model.any_running:
            self.parts.start_runs()
        self.stop_action.setEnabled(True)
        self.rec_label.setVisible(True)
        self.rec_stop.setVisible(True)
        return True

    def _rec_progress(self, text: str) -> None:
        self.rec_label.setText(text)

    def _rec_done(self) -> None:
        self.stop_action.setEnabled(False)
        self.rec_stop.setVisible(False)
        self.rec_label.setVisible(False)

    def _rec_finished(self, paths: list[str]) -> None:
        self._rec_done()
        self._message("Recorded " + ", ".join(paths))

    def _rec_failed(self, message: str) -> None:
        self._rec_done()
        self.shell.show_error(f"Recording failed: {message}")

    # ---- trajectories --------------------------------------------------------------------------
    def ask_trajectories(self) -> None:
        path, chosen = get_save_file_name(
            self.shell.frame, "Export trajectories and metrics", "trajectories.npz",
            "NPZ: arrays + metrics + scene (*.npz);;CSV: long format + metrics (*.csv)")
        if path:
            fmt = "csv" if "csv" in chosen.lower() or path.lower().endswith(".csv") else "npz"
            if not path.lower().endswith(f".{fmt}"):
                path += f".{fmt}"
            self.export_trajectories(path)

    def trajectory_paths(self, path: str | Path) -> list[tuple[Path | None, Path | None, Path | None]]:
        """``(npz, csv, metrics_csv)`` per run: ``name.npz`` / ``name.csv`` + ``name_metrics.csv``;
        with several runs ``name_run1.npz``, ``name_run2.npz``, ..."""
        p = Path(path)
        n = len(self.model.workers)
        out = []
        for i in range(n):
            stem = p.with_suffix("") if n == 1 else p.with_name(f"{p.stem}_run{i + 1}")
            if p.suffix.lower() == ".csv":
                out.append((None, stem.with_suffix(".csv"), stem.with_name(stem.name + "_metrics.csv")))
            else:
                out.append((stem.with_suffix(".npz"), None, None))
        return out

    def export_trajectories(self, path: str | Path, dialog: bool = True) -> TrajectoryExportJob | None:
        """Start the export of every run's recent trajectory and metrics; returns the running job."""
        m, show_error = self.model, self.shell.show_error
        if self.job is not None and self.job.isRunning():
            show_error("An export is already running")
            return None
        if not m.workers:
            show_error("Nothing to export: no run yet")
            return None
        try:
            scene_text = scene_to_toml(self.parts.capture_scene())
        except UserInputError as exc:
            scene_text = f"# the scene could not be captured: {exc}\n"
        runs = []
        for worker, history, paths in zip(m.workers, m.histories, self.trajectory_paths(path)):
            source = (lambda wk=worker: wk.recent.copy() if wk.recent is not None else None)
            runs.append((source, history.columns(), *paths))
        job = TrajectoryExportJob(runs, scene_text)
        kept = trajectory_scope(m)
        job.done.connect(lambda paths: self._message("Exported " + ", ".join(paths) + kept))
        job.failed.connect(lambda msg: show_error(f"Export failed: {msg}"))
        job.cancelled.connect(lambda: self._message("Export cancelled: nothing written"))
        if dialog:
            dlg = QtWidgets.QProgressDialog("Exporting trajectories…", "Cancel", 0, 1000, self.shell.frame)
            dlg.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
            dlg.setMinimumDuration(300)
            dlg.setAutoClose(True)
            dlg.canceled.connect(job.cancel)
            job.progress.connect(lambda d, _t: dlg.setValue(d) if not dlg.wasCanceled() else None)
            for sig in (job.done, job.failed, job.cancelled):
                sig.connect(dlg.reset)
            self.dialog = dlg
        self.job = job
        job.start()
        return job

    def shutdown(self) -> None:
        """Stop a recording (files written) and wait for a running export (window closing)."""
        if self.recorder.recording:
            self.recorder.stop()
        self.recorder.wait(None)  # the files are finished, however slow the machine
        if self.job is not None:
            self.job.cancel()
            self.job.wait()  # a QThread left running when Python exits aborts the process
