"""The 2-D landscape view: density/energy image, contours, walkers, trails, proposals, marginals.

Every plot item is created once in ``__init__``; :meth:`LandscapeView.draw` (called by the draw
loop) only pushes the newest reference and snapshot into them. Walkers are drawn as points while
there are few and as their live histogram image (under the exact contours) when there are many.
Mouse interaction goes through a small handler object (place start points, brush, mixture editing)
so that the view itself knows nothing of editing.

The aspect ratio stays locked (x and y are the same coordinate with the same units: circles, HMC
paths and gradients must look like what they are), and instead the plot is laid out to the box's
shape: :meth:`LandscapeView._fit_layout` pads the layout so that the view box has the box's aspect
ratio, so the landscape fills the plot and the marginals hug it whatever the widget's shape.
Axes are cached as pixmaps (their text costs more to paint than the data) and the marginals have
fixed ranges, so a frame repaints only the data that changed.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.ui.label_fit import shrinkable
from ebm_explorer.ui.walker_style import CONTOUR_OVER_DENSITY, CONTOUR_OVER_WALKERS, canvas_legend, marker_look
from ebm_explorer.workers.messages import ReferenceReady, RunSnapshot

__all__ = ["LandscapeView", "ViewHandler", "PointCloud", "POINTS_LIMIT", "RUN_COLOURS"]

#: at most this many walkers are drawn as points in "auto" mode; more become a density image
POINTS_LIMIT = 3000
#: the legend's text before walkers are drawn: two empty lines, so the layout keeps one height
_LEGEND_BLANK = "&nbsp;<br>&nbsp;"
#: one colour per run (compare mode), also used by the metrics panels
RUN_COLOURS = ["#4cc9f0", "#f72585", "#b5e48c", "#ffb703"]

#: opacity levels of weighted walkers (SMC): one polygon per level
_ALPHA_LEVELS = 6
_CMAPS = {"density": "viridis", "energy": "magma", "walkers": "inferno", "learned": "viridis"}


class PointCloud(pg.GraphicsObject):
    """Many identical points drawn by one ``QPainter.drawPoints`` (a square cosmetic pen: a fixed size in pixels).

    ``ScatterPlotItem`` keeps a style per point and builds an atlas key for every point on each
    ``setData`` (about 1 ms per 1000 points on a busy core, on the UI thread, every frame); walkers
    all look alike, so one pen does. Offers ``opts["size"]``/``setSize`` like a scatter item.
    """

    def __init__(self, size: float, colour: Any) -> None:
        super().__init__()
        self.opts = {"size": float(size)}
        self._pen = QtGui.QPen(QtGui.QColor(colour))
        self._pen.setCosmetic(True)
        self._pen.setCapStyle(QtCore.Qt.PenCapStyle.SquareCap)  # round caps cost a path per point
        self._poly = QtGui.QPolygonF()
        self._pos = np.zeros((0, 2))
        self._rect = QtCore.QRectF()
        self._groups: list[tuple[QtGui.QPolygonF, int]] = []  # weighted points: (points, alpha 0-255) per level
        self.scale = 1.0  # x the size (many walkers: smaller), composed with setSize (presenter mode)

    def set_look(self, scale: float, alpha: int) -> None:
        """Size factor and opacity for the number of points drawn (walker_style.marker_look)."""
        colour = self._pen.color()
        if scale == self.scale and colour.alpha() == alpha:
            return
        colour.setAlpha(int(alpha))
        self._pen.setColor(colour)
        self.scale = float(scale)
        self.prepareGeometryChange()
        self.update()

    def setSize(self, size: float) -> None:  # noqa: N802 - pyqtgraph naming
        self.opts["size"] = float(size)
        self.prepareGeometryChange()
        self.update()

    def setBrush(self, brush: Any) -> None:  # noqa: N802 - pyqtgraph naming
        colour = pg.mkBrush(brush).color()
        colour.setAlpha(self._pen.color().alpha())
        self._pen.setColor(colour)
        self.update()

    def setData(self, pos: np.ndarray, alpha: np.ndarray | None = None) -> None:  # noqa: N802 - pyqtgraph naming
        """``alpha`` (n,) in (0, 1]: each point's opacity (weighted walkers), drawn in a few opacity levels."""
        pos = np.asarray(pos, dtype=np.float64).reshape(-1, 2)
        if alpha is not None:
            alpha = np.asarray(alpha, dtype=np.float64).reshape(-1)
        if pos.size and not np.isfinite(pos).all():
            keep = np.isfinite(pos).all(axis=1)
            pos = pos[keep]
            alpha = alpha[keep] if alpha is not None and alpha.shape[0] == keep.shape[0] else None
        self.prepareGeometryChange()
        self._groups = []
        if alpha is not None and alpha.shape[0] == pos.shape[0]:
            level = np.clip(np.ceil(alpha * _ALPHA_LEVELS), 1, _ALPHA_LEVELS).astype(int)
            for k in range(1, _ALPHA_LEVELS + 1):
                part = pos[level == k]
                if len(part):
                    poly = pg.functions.create_qpolygonf(len(part))
                    pg.functions.ndarray_from_qpolygonf(poly)[:] = part
                    self._groups.append((poly, int(round(255 * k / _ALPHA_LEVELS))))
        self._poly = pg.functions.create_qpolygonf(len(pos))
        if len(pos):
            pg.functions.ndarray_from_qpolygonf(self._poly)[:] = pos
            lo, hi = pos.min(axis=0), pos.max(axis=0)
            self._rect = QtCore.QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        else:
            self._rect = QtCore.QRectF()
        self._pos = pos
        self.update()

    def points(self) -> np.ndarray:
        """The points drawn ``(n, 2)`` (tests)."""
        return self._pos

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None) -> Any:  # noqa: N802
        if not len(self._pos):
            return None
        return [float(self._pos[:, ax].min()), float(self._pos[:, ax].max())]

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt naming
        """The points' rectangle plus the pen's half width in data units.

        Qt calls this from C++ while painting; an exception raised here crashes PySide's error
        report (SIGSEGV in ``PepException_GetArgs``), so it must never raise. The pixel size is
        undefined, ``(None, None)``, while the view box has no size or no view (a compare view that
        is being re-laid out): the rectangle is then returned without the pen margin.
        """
        if self._rect.isNull() and not len(self._pos):
            return QtCore.QRectF()
        px, py = self.pixelSize() if self.getViewBox() is not None else (None, None)
        if px is None or py is None:
            return QtCore.QRectF(self._rect)
        r = self.opts["size"] * self.scale
        return self._rect.adjusted(-r * px, -r * py, r * px, r * py)

    def paint(self, p: QtGui.QPainter, *args: Any) -> None:
        if not len(self._pos):
            return
        self._pen.setWidthF(self.opts["size"] * self.scale)
        if self._groups:
            look = self._pen.color().alphaF()  # the look for N points, times each point's weight level
            for poly, a in self._groups:
                pen = QtGui.QPen(self._pen)
                c = QtGui.QColor(pen.color())
                c.setAlpha(int(round(a * look)))
                pen.setColor(c)
                p.setPen(pen)
                p.drawPoints(poly)
            return
        p.setPen(self._pen)
        p.drawPoints(self._poly)


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
    box_changed = QtCore.Signal()  # a landscape with another box arrived (the compare grid re-arranges)

    def __init__(self, parent: QtWidgets.QWidget | None = None, marginals: bool = True,
                 colour: str = RUN_COLOURS[0], title: str = "") -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 240)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.setSpacing(2)
        self._vb = _EditViewBox()
        self.plot = pg.PlotItem(viewBox=self._vb, title=title or None)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()  # no auto-range "A": the view is framed on the box, never on the walkers
        self._vb.disableAutoRange()
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
        self._box: Any = None  # the box the layout is fitted to
        self._fitting = False
        self._fit_passes = 0
        self._fit_timer = QtCore.QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_layout)

        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(width=14, colorMap=pg.colormap.get("viridis"), interactive=False)
        self.colorbar.setImageItem(self.image)
        self.addItem(self.colorbar, row=1, col=2 if marginals else 1)

        self.contours = pg.PlotDataItem(pen=pg.mkPen((255, 255, 255, 120), width=1), connect="finite")
        self.trails = pg.PlotDataItem(pen=pg.mkPen((255, 183, 3, 170), width=1.2), connect="finite",
                                     skipFiniteCheck=True)
        self.walkers = PointCloud(3, colour)
        self.data_points = PointCloud(3, QtGui.QColor(255, 255, 255, 150))
        self.negatives = PointCloud(3, "#fb8500")
        # the selected walker, its last proposal and HMC path: drawn large and above the crowd of walkers
        self.hmc_path = pg.PlotDataItem(pen=pg.mkPen("#00f5d4", width=3), symbol="o", symbolSize=7,
                                        symbolBrush="#00f5d4", symbolPen=pg.mkPen("k", width=1))
        self.proposal = pg.PlotDataItem(pen=pg.mkPen("#38b000", width=4))
        # accepted / rejected styles made once: a new brush per frame would re-render the symbol atlas
        self._proposal_pens = {True: pg.mkPen("#38b000", width=4), False: pg.mkPen("#e63946", width=4)}
        self._proposal_brushes = {True: pg.mkBrush("#38b000"), False: pg.mkBrush("#e63946")}
        self._proposal_shown: bool | None = None
        self.proposal_end = pg.ScatterPlotItem(size=16, pen=pg.mkPen("w", width=2), brush=pg.mkBrush("#38b000"))
        self.selected = pg.ScatterPlotItem(size=20, pen=pg.mkPen("w", width=3), brush=pg.mkBrush(0, 0, 0, 0))
        self.start_marker = pg.ScatterPlotItem(size=16, symbol="+", pen=pg.mkPen("#ff006e", width=2.5))
        self.centres = pg.ScatterPlotItem(size=14, pen=pg.mkPen("w", width=2), brush=pg.mkBrush(255, 255, 255, 40))
        self.brush_ring = QtWidgets.QGraphicsEllipseItem()
        self.brush_ring.setPen(pg.mkPen((255, 255, 255, 200), width=1.5, style=QtCore.Qt.PenStyle.DashLine))
        self.brush_ring.setVisible(False)
        for item in (self.contours, self.data_points, self.trails, self.walkers, self.negatives, self.hmc_path,
                     self.proposal, self.proposal_end, self.selected, self.start_marker, self.centres):
            item.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)  # clicks go to the view's handler
            self.plot.addItem(item)
        for z, item in enumerate((self.hmc_path, self.proposal, self.proposal_end, self.selected)):
            item.setZValue(20 + z)
        self.plot.addItem(self.brush_ring)
        # what is drawn, on the canvas under the plot (never over the landscape)
        self.legend = pg.LabelItem(_LEGEND_BLANK, size="8pt", justify="left")
        shrinkable(self.legend)  # its text never widens the plot's column (a narrow compare cell clips it)
        self.addItem(self.legend, row=2, col=0)
        self._legend_key: tuple[Any, ...] | None = None
        self.message = pg.TextItem("", color="#ffd166", anchor=(0, 0))
        self.message.setParentItem(self._vb)
        self.message.setPos(6, 6)

        if marginals:
            fill = QtGui.QColor(colour)
            fill.setAlpha(90)
            self.hist_x = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=fill, pen=pg.mkPen(colour),
                                          skipFiniteCheck=True)
            # the y marginal is the same step curve drawn with x and y swapped (a transform, not 128 bars)
            self.hist_y = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=fill, pen=pg.mkPen(colour),
                                          skipFiniteCheck=True)
            self.hist_y.setTransform(QtGui.QTransform(0, 1, 1, 0, 0, 0))
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
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.showing_histogram = False
        for plot in (self.plot, self.top, self.right):
            if plot is not None:
                for name in ("left", "bottom", "top", "right"):
                    plot.getAxis(name).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.colorbar.axis.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.colorbar.axis.enableAutoSIPrefix(False)  # densities read 0.12, not "120 (x0.001)"
        # fixed axis widths: new levels or ranges must not reflow the layout (it would move under the mouse)
        self.colorbar.axis.setWidth(52)
        self.plot.getAxis("left").setWidth(34)
        # the contours change only with the landscape: paint them from a pixmap, not from the path each frame
        self.contours.curve.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)

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
            self._box = b
            self._fit_passes = 0
            self._fit_layout()
            self.frame_box()
            self.box_changed.emit()
        if self.top is not None:
            # fixed marginal ranges (the exact marginal with head room): no axis re-layout per frame
            r = ref.reference
            self.top.setYRange(0, 1.3 * float(np.max(r.marginal_x)), padding=0)
            self.right.setXRange(0, 1.3 * float(np.max(r.marginal_y)), padding=0)
        self._refresh_readout()

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
        if not self.isVisible():
            return False  # hidden (another page of the stack): the newest data is drawn when shown
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
        elif getattr(self._snap, "background", None) is not None and self.background != "energy":
            # a tempered run: the exact density its walkers should follow now (a replica's, an SMC level's)
            img = self._snap.background
            self._set_image(img, r.box, (0.0, float(np.max(img)) or 1.0), "viridis",
                            getattr(self._snap, "background_label", "") or "exact density")
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
        self.contours.setPen(pg.mkPen(CONTOUR_OVER_WALKERS if many else CONTOUR_OVER_DENSITY, width=1.3 if many else 1))
        self.contours.setData(c[:, 0], c[:, 1], connect="finite") if self.show_contours and len(c) else \
            self.contours.setData([], [])
        if self.top is not None:
            self.exact_x.setData(r.xs, r.marginal_x)
            self.exact_y.setData(r.marginal_y, r.ys)

    def _draw_snapshot(self, snap: RunSnapshot | None, many: bool) -> None:
        empty = np.zeros((0, 2))
        if snap is None:
            self.legend.setText(_LEGEND_BLANK)
            self._legend_key = None
            for item in (self.walkers, self.selected, self.proposal_end, self.data_points, self.negatives):
                item.setData(pos=empty)
            for item in (self.trails, self.proposal, self.hmc_path):
                item.setData([], [])
            return
        w = snap.walkers
        look = marker_look(len(w.points))
        for cloud in (self.walkers, self.negatives, self.data_points):
            cloud.set_look(*look)
        self._update_legend(snap, many)
        if many:
            self.walkers.setData(pos=empty)
            self._redraw_hist_image(w.hist)
        else:
            self.walkers.setData(pos=w.points, alpha=getattr(snap, "point_alpha", None))
            if getattr(snap, "background", None) is not None:
                self._draw_background(many)
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
            acc = bool(w.proposal_accepted)
            seg = np.stack([w.proposal_from, w.proposal_to])
            if acc != self._proposal_shown:
                self.proposal.setPen(self._proposal_pens[acc])
                self._proposal_shown = acc
            self.proposal.setData(seg[:, 0], seg[:, 1])
            self.proposal_end.setData(pos=w.proposal_to[None, :], brush=self._proposal_brushes[acc])
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
            self.hist_y.setData(ey, w.hist_y)

    def _update_legend(self, snap: RunSnapshot, many: bool) -> None:
        key = (snap.training is not None, many, snap.n_walkers)
        if key != self._legend_key:
            self._legend_key = key
            colour = self.walkers._pen.color().name()
            self.legend.setText(canvas_legend(key[0], many, snap.n_walkers, colour))

    def _redraw_hist_image(self, hist: np.ndarray) -> None:
        self.image.setImage(hist, autoLevels=False)

    # ---- layout: the plot takes the box's shape ------------------------------------------
    def frame_box(self) -> None:
        """Show the whole box (2 % margin), nothing else: on every new box, resize and show."""
        b = self._box
        if b is not None:
            self._vb.setRange(xRange=(b.xmin, b.xmax), yRange=(b.ymin, b.ymax), padding=0.02)

    def refit(self) -> None:
        """Fit the layout again (axis widths or fonts changed: the old padding would push the plot out)."""
        self.ci.setContentsMargins(2, 2, 2, 2)
        self._fit_passes = 0
        self._fit_timer.start(0)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_fit_timer"):  # pyqtgraph resizes once inside its own __init__
            self._fit_passes = 0
            self._fit_timer.start(0)  # after Qt has laid the items out at the new size

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if hasattr(self, "_fit_timer"):
            self._fit_passes = 0
            self._fit_timer.start(0)

    def _fit_layout(self) -> None:
        """Pad the layout so that the view box has the box's aspect ratio (no wasted area around the box).

        The padding is measured from the laid-out view box (the layout is activated first, so its
        geometry is current): axis widths, titles and marginals need no estimates.
        """
        if self._box is None or self._fitting or not shiboken6.isValid(self.ci.layout):
            return  # (a pass scheduled just before the widget was deleted finds its layout gone)
        self._fitting = True
        try:
            lay = self.ci.layout
            lay.activate()
            vb = self._vb.size()
            vw, vh = float(vb.width()), float(vb.height())
            base = 2.0
            left, _top, _right, bottom = lay.getContentsMargins()
            extra_x, extra_y = max(left - base, 0.0), max(bottom - base, 0.0) / 2
            full_w, full_h = vw + 2 * extra_x, vh + 2 * extra_y  # the view box without any padding
            geo = lay.geometry()
            overflow = geo.width() > self.width() + 1 or geo.height() > self.height() + 1
            if full_w < 60 or full_h < 60 or overflow:
                if (left, bottom) != (base, base) and self._fit_passes < 4:
                    # the padding of a larger size (presenter mode, before a resize) leaves no room
                    # at this one: drop it and measure again, or the plot runs past the widget
                    self.ci.setContentsMargins(base, base, base, base)
                    self._fit_passes += 1
                    self._fit_timer.start(0)
                return
            ratio = self._box.width / self._box.height  # wanted width / height of the view box
            new_x = min(max((full_w - full_h * ratio) / 2, 0.0), (full_w - 50) / 2)
            new_y = min(max((full_h - full_w / ratio) / 2, 0.0), (full_h - 50) / 2)
            if abs(new_x - extra_x) < 1.5 and abs(new_y - extra_y) < 1.5:
                self.frame_box()  # the layout is final: the range follows the view box's size
                return
            # centred across, top-aligned down: when the widget's height changes (a banner above it
            # appears) the plot stays where it is under the mouse, with the same scale
            self.ci.setContentsMargins(base + new_x, base, base + new_x, base + 2 * new_y)
            lay.activate()
            self.frame_box()
            # axis labels may change width with the new range: check again, a few passes at most
            self._fit_passes += 1
            if self._fit_passes < 4:
                self._fit_timer.start(0)
        finally:
            self._fitting = False

    # ---- mouse-over readout --------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        if not self.plot.sceneBoundingRect().contains(scene_pos):
            return
        p = self._vb.mapSceneToView(scene_pos)
        x, y = p.x(), p.y()
        self._hover = (x, y)
        if self.handler is not None:
            self.handler.hover(x, y)
        self.hovered.emit(self.readout(x, y))

    def leaveEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 - Qt naming
        self._hover = None
        super().leaveEvent(event)

    def _refresh_readout(self) -> None:
        """A new landscape under a still mouse: the readout shows the new U, not the old one."""
        if getattr(self, "_hover", None) is not None and self.isVisible():
            self.hovered.emit(self.readout(*self._hover))

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
