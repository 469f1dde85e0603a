"""The 2-D landscape view: density/energy image, contours, walkers, trails, proposals, marginals.

Every plot item is created once in ``__init__``; :meth:`LandscapeView.draw` (called by the draw
loop) only pushes the newest reference and snapshot into them. Walkers are drawn as points while
there are few and as their live histogram image (under the exact contours) when there are many.
Mouse interaction goes through a small handler object (place start points, brush, mixture editing)
so that the view itself knows nothing of editing.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.workers.messages import ReferenceReady, RunSnapshot

__all__ = ["LandscapeView", "ViewHandler", "POINTS_LIMIT", "RUN_COLOURS"]

#: at most this many walkers are drawn as points in "auto" mode; more become a density image
POINTS_LIMIT = 3000
#: one colour per run (compare mode), also used by the metrics panels
RUN_COLOURS = ["#4cc9f0", "#f72585", "#b5e48c", "#ffb703"]

_CMAPS = {"density": "viridis", "energy": "magma", "walkers": "inferno", "learned": "viridis"}


class ViewHandler(Protocol):
    """Mouse handling installed on the view; each method returns True when it used the event."""

    def click(self, x: float, y: float) -> bool: ...
    def drag(self, x: float, y: float, phase: str) -> bool: ...  # phase: start | move | end
    def wheel(self, x: float, y: float, steps: float) -> bool: ...
    def hover(self, x: float, y: float) -> None: ...


class _EditViewBox(pg.ViewBox):
    """A ViewBox that offers left clicks, drags and wheel turns to a handler before panning/zooming."""

    def __init__(self) -> None:
        super().__init__(lockAspect=True)
        self.handler: ViewHandler | None = None
        self._handler_drag = False

    def mouseClickEvent(self, ev: Any) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and self.handler is not None:
            p = self.mapSceneToView(ev.scenePos())
            if self.handler.click(p.x(), p.y()):
                ev.accept()
                return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and self.handler is not None:
            p = self.mapSceneToView(ev.scenePos())
            if ev.isStart():
                self._handler_drag = self.handler.drag(p.x(), p.y(), "start")
            if self._handler_drag:
                ev.accept()
                if not ev.isStart():
                    self.handler.drag(p.x(), p.y(), "end" if ev.isFinish() else "move")
                if ev.isFinish():
                    self._handler_drag = False
                return
        super().mouseDragEvent(ev, axis)

    def wheelEvent(self, ev: Any, axis: Any = None) -> None:
        if self.handler is not None:
            p = self.mapSceneToView(ev.scenePos())
            if self.handler.wheel(p.x(), p.y(), ev.delta() / 120.0):
                ev.accept()
                return
        super().wheelEvent(ev, axis)


class LandscapeView(pg.GraphicsLayoutWidget):
    """Main plot with marginals on top and right and a colour bar; one per run in compare mode."""

    hovered = QtCore.Signal(str)  # "x = .., y = .., U = .., p = .."

    def __init__(self, parent: QtWidgets.QWidget | None = None, marginals: bool = True,
                 colour: str = RUN_COLOURS[0], title: str = "") -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 240)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.setSpacing(2)
        self._vb = _EditViewBox()
        self.plot = pg.PlotItem(viewBox=self._vb, title=title or None)
        self.plot.setMenuEnabled(False)
        self.top = self.right = None
        if marginals:
            self.top = pg.PlotItem()
            self.right = pg.PlotItem()
            for p in (self.top, self.right):
                p.setMenuEnabled(False)
                p.hideButtons()
                p.setMouseEnabled(False, False)
            self.top.setXLink(self.plot)
            self.right.setYLink(self.plot)
            # the marginals must never push the main view's range through the linked axis
            self.top.enableAutoRange(x=False)
            self.right.enableAutoRange(y=False)
            self.top.hideAxis("bottom")
            self.right.hideAxis("left")
            self.top.setMaximumHeight(90)
            self.right.setMaximumWidth(90)
            self.addItem(self.top, row=0, col=0)
        self.addItem(self.plot, row=1, col=0)
        if marginals:
            self.addItem(self.right, row=1, col=1)
        self.plot.setLabel("bottom", "x")
        self.plot.setLabel("left", "y")

        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(width=14, colorMap=pg.colormap.get("viridis"), interactive=False)
        self.colorbar.setImageItem(self.image)
        self.addItem(self.colorbar, row=1, col=2 if marginals else 1)

        self.contours = pg.PlotDataItem(pen=pg.mkPen((255, 255, 255, 120), width=1), connect="finite")
        self.trails = pg.PlotDataItem(pen=pg.mkPen("#ffb703", width=1.5), connect="finite")
        self.walkers = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(colour))
        self.data_points = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(255, 255, 255, 150))
        self.negatives = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush("#fb8500"))
        self.hmc_path = pg.PlotDataItem(pen=pg.mkPen("#00f5d4", width=2), symbol="o", symbolSize=4,
                                        symbolBrush="#00f5d4", symbolPen=None)
        self.proposal = pg.PlotDataItem(pen=pg.mkPen("#38b000", width=2.5))
        self.proposal_end = pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=1), brush=pg.mkBrush("#38b000"))
        self.selected = pg.ScatterPlotItem(size=9, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(0, 0, 0, 0))
        self.start_marker = pg.ScatterPlotItem(size=16, symbol="+", pen=pg.mkPen("#ff006e", width=2.5))
        self.centres = pg.ScatterPlotItem(size=14, pen=pg.mkPen("w", width=2), brush=pg.mkBrush(255, 255, 255, 40))
        self.brush_ring = QtWidgets.QGraphicsEllipseItem()
        self.brush_ring.setPen(pg.mkPen((255, 255, 255, 200), width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        self.brush_ring.setVisible(False)
        for item in (self.contours, self.data_points, self.trails, self.walkers, self.negatives, self.hmc_path,
                     self.proposal, self.proposal_end, self.selected, self.start_marker, self.centres):
            item.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)  # clicks go to the view's handler
            self.plot.addItem(item)
        self.plot.addItem(self.brush_ring)
        self.message = pg.TextItem("", color="#ffd166", anchor=(0, 0))
        self.message.setParentItem(self._vb)
        self.message.setPos(6, 6)

        if marginals:
            fill = QtGui.QColor(colour)
            fill.setAlpha(90)
            self.hist_x = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=fill, pen=pg.mkPen(colour))
            self.hist_y = pg.BarGraphItem(x0=[0], y0=[0], width=[0], height=[0], brush=fill, pen=pg.mkPen(colour))
            self.exact_x = pg.PlotDataItem(pen=pg.mkPen("w", width=1.5, style=QtCore.Qt.PenStyle.DashLine))
            self.exact_y = pg.PlotDataItem(pen=pg.mkPen("w", width=1.5, style=QtCore.Qt.PenStyle.DashLine))
            self.top.addItem(self.hist_x)
            self.top.addItem(self.exact_x)
            self.right.addItem(self.hist_y)
            self.right.addItem(self.exact_y)

        self.background = "density"  # density | energy | learned
        self.walker_mode = "auto"  # auto | points | histogram
        self.show_contours = True
        self.show_trails = True
        self._ref: ReferenceReady | None = None
        self._snap: RunSnapshot | None = None
        self._ref_dirty = False
        self._snap_dirty = False
        self._override_energy: tuple[np.ndarray, Any] | None = None  # (energy image, box): editor preview
        self._hover_lookup: Callable[[float, float], str] | None = None
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.showing_histogram = False

    # ---- inputs (any time; drawn on the next frame) --------------------------------------
    @property
    def handler(self) -> ViewHandler | None:
        return self._vb.handler

    def set_handler(self, handler: ViewHandler | None) -> None:
        self._vb.handler = handler

    def set_reference(self, ref: ReferenceReady) -> None:
        first = self._ref is None or self._ref.reference.box != ref.reference.box
        self._ref = ref
        self._ref_dirty = True
        self._override_energy = None
        if first:
            b = ref.reference.box
            self.plot.setRange(xRange=(b.xmin, b.xmax), yRange=(b.ymin, b.ymax), padding=0.02)

    def set_snapshot(self, snap: RunSnapshot | None) -> None:
        self._snap = snap
        self._snap_dirty = True

    def preview_energy(self, energy: np.ndarray, box: Any) -> None:
        """Show an energy grid immediately while its exact reference is being computed (drawing)."""
        self._override_energy = (np.ascontiguousarray(energy, dtype=np.float32), box)
        self._ref_dirty = True

    def set_display(self, background: str | None = None, walker_mode: str | None = None,
                    contours: bool | None = None, trails: bool | None = None) -> None:
        if background is not None:
            self.background = background
        if walker_mode is not None:
            self.walker_mode = walker_mode
        if contours is not None:
            self.show_contours = contours
        if trails is not None:
            self.show_trails = trails
        self._ref_dirty = self._snap_dirty = True

    def set_start_point(self, point: tuple[float, float] | None) -> None:
        self.start_marker.setData([] if point is None else [{"pos": point}])

    def set_centres(self, centres: np.ndarray | None) -> None:
        self.centres.setData(pos=np.zeros((0, 2)) if centres is None else np.asarray(centres, dtype=float))

    def set_brush_ring(self, x: float, y: float, radius: float, visible: bool) -> None:
        self.brush_ring.setRect(QtCore.QRectF(x - radius, y - radius, 2 * radius, 2 * radius))
        self.brush_ring.setVisible(visible)

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    # ---- drawing (draw loop only) --------------------------------------------------------
    def draw(self) -> bool:
        drew = False
        snap = self._snap
        many = snap is not None and self._use_histogram(snap.n_walkers)
        if self._ref_dirty or (self._snap_dirty and many != self.showing_histogram):
            self._draw_background(many)
            drew = True
        if self._snap_dirty:
            self._draw_snapshot(snap, many)
            drew = True
        self._ref_dirty = self._snap_dirty = False
        return drew

    def _use_histogram(self, n: int) -> bool:
        if self.walker_mode == "histogram":
            return True
        if self.walker_mode == "points":
            return False
        return n > POINTS_LIMIT

    def _set_image(self, img: np.ndarray, box: Any, levels: tuple[float, float], cmap: str, label: str) -> None:
        lo, hi = float(levels[0]), float(levels[1])
        if not hi > lo:
            hi = lo + 1.0
        self.image.setImage(img, autoLevels=False, levels=(lo, hi))
        self.image.setRect(QtCore.QRectF(box.xmin, box.ymin, box.width, box.height))
        if getattr(self, "_cmap_name", None) != cmap:
            self.colorbar.setColorMap(pg.colormap.get(cmap))
            self._cmap_name = cmap
        self.colorbar.setLevels((lo, hi))
        self.colorbar.axis.setLabel(label)

    def _draw_background(self, many: bool) -> None:
        self.showing_histogram = many
        if self._override_energy is not None:
            energy, box = self._override_energy
            lo, hi = float(np.min(energy)), float(np.max(energy))
            self._set_image(energy, box, (lo, hi), "magma", "U (editing)")
            self.contours.setData([], [])
            return
        ref = self._ref
        if ref is None:
            return
        r = ref.reference
        training = self._snap is not None and self._snap.training is not None
        if many and self._snap is not None:
            hi = float(np.max(ref.density_image))
            self._set_image(self._snap.walkers.hist, r.box, (0.0, hi), "inferno", "walker density")
        elif self.background == "learned" and training:
            tr = self._snap.training
            self._set_image(tr.model_density, r.box, (0.0, float(np.max(ref.density_image))), "viridis",
                            "learned density")
        elif self.background == "energy":
            self._set_image(ref.energy_image, r.box, ref.energy_levels, "magma", "U(x, y)")
        else:
            self._set_image(ref.density_image, r.box, (0.0, float(np.max(ref.density_image))), "viridis",
                            "density exp(-U)/Z")
        c = ref.contours
        self.contours.setData(c[:, 0], c[:, 1], connect="finite") if self.show_contours and len(c) else \
            self.contours.setData([], [])
        if self.top is not None:
            self.exact_x.setData(r.xs, r.marginal_x)
            self.exact_y.setData(r.marginal_y, r.ys)

    def _draw_snapshot(self, snap: RunSnapshot | None, many: bool) -> None:
        empty = np.zeros((0, 2))
        if snap is None:
            for item in (self.walkers, self.selected, self.proposal_end, self.data_points, self.negatives):
                item.setData(pos=empty)
            for item in (self.trails, self.proposal, self.hmc_path):
                item.setData([], [])
            return
        w = snap.walkers
        if many:
            self.walkers.setData(pos=empty)
            self._redraw_hist_image(w.hist)
        else:
            self.walkers.setData(pos=w.points)
        if len(w.points):
            self.selected.setData(pos=w.points[:1])
        if self.show_trails and w.trails.size:
            t = w.trails  # (T, k, 2) -> lines separated by NaN
            k = t.shape[1]
            lines = np.concatenate([t.transpose(1, 0, 2), np.full((k, 1, 2), np.nan, np.float32)], axis=1)
            lines = lines.reshape(-1, 2)
            self.trails.setData(lines[:, 0], lines[:, 1], connect="finite")
        else:
            self.trails.setData([], [])
        if w.proposal_to is not None and w.proposal_from is not None:
            colour = "#38b000" if w.proposal_accepted else "#e63946"
            seg = np.stack([w.proposal_from, w.proposal_to])
            self.proposal.setData(seg[:, 0], seg[:, 1], pen=pg.mkPen(colour, width=2.5))
            self.proposal_end.setData(pos=w.proposal_to[None, :], brush=pg.mkBrush(colour))
        else:
            self.proposal.setData([], [])
            self.proposal_end.setData(pos=empty)
        if w.hmc_path is not None:
            self.hmc_path.setData(w.hmc_path[:, 0], w.hmc_path[:, 1])
        else:
            self.hmc_path.setData([], [])
        if snap.training is not None:
            # training: the walkers are the negative samples, drawn over the data points
            self.data_points.setData(pos=snap.training.data)
            self.negatives.setData(pos=empty if many else w.points)
            self.walkers.setData(pos=empty)
            if self.background == "learned" and not many:
                self._draw_background(many)
        else:
            self.data_points.setData(pos=empty)
            self.negatives.setData(pos=empty)
        if self.top is not None and self._ref is not None:
            b = self._ref.reference.box
            bins = w.hist_x.shape[0]
            ex = np.linspace(b.xmin, b.xmax, bins + 1)
            ey = np.linspace(b.ymin, b.ymax, bins + 1)
            self.hist_x.setData(ex, w.hist_x)
            self.hist_y.setOpts(x0=np.zeros(bins), y0=ey[:-1], width=w.hist_y, height=np.diff(ey))

    def _redraw_hist_image(self, hist: np.ndarray) -> None:
        self.image.setImage(hist, autoLevels=False)

    # ---- mouse-over readout --------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if not self.plot.sceneBoundingRect().contains(scene_pos):
            return
        p = self._vb.mapSceneToView(scene_pos)
        x, y = p.x(), p.y()
        if self.handler is not None:
            self.handler.hover(x, y)
        self.hovered.emit(self.readout(x, y))

    def readout(self, x: float, y: float) -> str:
        """``x, y, U, density`` at a point, looked up in the exact grid (no computation)."""
        text = f"x = {x:.3f}   y = {y:.3f}"
        if self._ref is None:
            return text
        r = self._ref.reference
        iy, ix, inside = r.cell_index(np.array([[x, y]]))
        if not inside[0]:
            return text + "   (outside the box)"
        u = r.energy[iy[0], ix[0]]
        d = r.density[iy[0], ix[0]]
        return text + f"   U = {u:.4g}   p = {d:.4g}"
