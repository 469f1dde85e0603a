"""True vector exports of the plots (SVG and PDF) and PNGs cropped to the plot (issue 12, item 16).

Qt's SVG generator draws what the scene paints, so the scene is put in an export state first
(:func:`export_state`): item caches off (a cached axis would be an embedded bitmap), pyqtgraph's export
mode on (scatter symbols as paths instead of pixmap fragments), auto-range "A" buttons hidden, and the
colour bar's pixmap replaced by a rectangle with a linear gradient. The heat map stays one embedded
image. Cosmetic pens come out of Qt as ``vector-effect="non-scaling-stroke"`` inside a scaled group,
which other renderers (rsvg-convert) draw as blobs; :func:`bake_transforms` applies each such group's
matrix to its shapes' coordinates, so strokes keep their pixel width in every renderer.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from ebm_explorer.core.atomic import atomic_path

__all__ = ["export_state", "content_rect", "render_svg", "render_pdf", "render_png", "bake_transforms", "background",
           "svg_generator", "pdf_writer", "paint_on", "save_png"]

SVG_NS = "http://www.w3.org/2000/svg"
_SHAPES = {"path", "polyline", "polygon", "line", "rect"}
_NUM = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def content_rect(target: Any) -> QtCore.QRectF:
    """The scene rectangle worth exporting: a plot item's own, a layout widget's laid-out items
    (a landscape view's plot, marginals, colour bar and legend; not the blank space under them)."""
    if isinstance(target, pg.GraphicsView):
        ci = getattr(target, "ci", None)
        items = [i for i in (ci.items if ci is not None else []) if i.isVisible()]
        if items:
            rect = QtCore.QRectF()
            for item in items:
                rect = rect.united(item.sceneBoundingRect())
            return rect.adjusted(-4, -4, 4, 4).intersected(target.sceneRect())
        return target.sceneRect()
    return target.sceneBoundingRect()


def _scene(target: Any) -> QtWidgets.QGraphicsScene:
    return target.scene()


@contextmanager
def export_state(scene: QtWidgets.QGraphicsScene) -> Iterator[None]:
    """Put every item of ``scene`` in its vector-export state, and back afterwards."""
    cached, hidden, modes, bars, axes = [], [], [], [], []
    try:
        for item in scene.items():
            if item.cacheMode() != QtWidgets.QGraphicsItem.CacheMode.NoCache:
                cached.append((item, item.cacheMode()))
                item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
            if isinstance(item, pg.ButtonItem) and item.isVisible():
                hidden.append(item)
                item.setVisible(False)
            if hasattr(item, "setExportMode"):
                item.setExportMode(True, {"antialias": True, "resolutionScale": 1.0})
                modes.append(item)
            if isinstance(item, pg.ColorBarItem):
                bars.append(_vector_bar(item))
            if isinstance(item, pg.AxisItem):  # its QPicture replays with the wrong offsets on the SVG engine
                item.paint = _direct_axis_paint(item)
                axes.append(item)
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)
        for item in modes:  # (a plot leaving export mode re-shows its buttons as the mouse says)
            item.setExportMode(False)
        for item in hidden:
            item.setVisible(True)
        for item in axes:
            del item.paint
        for bar, rect in bars:
            if rect is not None:
                rect.scene().removeItem(rect) if rect.scene() is not None else None
                bar.bar.setVisible(True)


def _direct_axis_paint(axis: pg.AxisItem) -> Any:
    """An axis painted straight onto the export painter (ticks, labels and grid as paths and text)."""
    def paint(p: QtGui.QPainter, *_args: Any) -> None:
        if axis.style.get("tickFont"):
            p.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(p)
        if specs is not None:
            axis.drawPicture(p, *specs)
    return paint


def _vector_bar(bar: pg.ColorBarItem) -> tuple[pg.ColorBarItem, QtWidgets.QGraphicsRectItem | None]:
    """The colour bar's pixmap hidden, a gradient rectangle in its place."""
    pix = bar.bar
    if not pix.isVisible() or pix.parentItem() is None or bar.colorMap() is None:
        return bar, None
    r = pix.mapRectToParent(pix.boundingRect())
    grad = QtGui.QLinearGradient(QtCore.QPointF(0, r.top()), QtCore.QPointF(0, r.bottom()))
    if getattr(bar, "horizontal", False):
        grad = QtGui.QLinearGradient(QtCore.QPointF(r.left(), 0), QtCore.QPointF(r.right(), 0))
    stops = np.linspace(0.0, 1.0, 17)
    for s, c in zip(stops, bar.colorMap().map(stops, mode="qcolor")):
        grad.setColorAt(float(s), c)
    rect = QtWidgets.QGraphicsRectItem(r, pix.parentItem())
    rect.setBrush(QtGui.QBrush(grad))
    rect.setPen(QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
    rect.setZValue(pix.zValue())
    pix.setVisible(False)
    return bar, rect


def background(target: Any) -> QtGui.QColor:
    """The colour the plot is shown on (the view's background; the app's dark grey by default)."""
    scene = _scene(target)
    views = scene.views() if scene is not None else []
    if views:
        brush = views[0].backgroundBrush()
        if brush.style() != QtCore.Qt.BrushStyle.NoBrush:
            return brush.color()
    return QtGui.QColor("#15171c")


def _render(target: Any, painter: QtGui.QPainter, out: QtCore.QRectF, vector: bool = True) -> None:
    scene = _scene(target)
    source = content_rect(target)
    painter.fillRect(out, background(target))  # as on screen: the exported figure is not transparent
    if not vector:
        scene.render(painter, out, source)
        return
    with export_state(scene):
        scene.render(painter, out, source)


def _size(target: Any) -> QtCore.QSize:
    r = content_rect(target)
    return QtCore.QSize(int(np.ceil(r.width())), int(np.ceil(r.height())))


def _write_vector(target: Any, path: str | Path, suffix: str, device: Callable[[Path, QtCore.QSize], Any]) -> Path:
    size = _size(target)
    target_path = Path(path)
    with atomic_path(target_path, suffix=suffix) as tmp:
        paint_on(device(tmp, size),
                 lambda painter: _render(target, painter, QtCore.QRectF(0, 0, size.width(), size.height())))
        if suffix == ".svg":
            bake_transforms(tmp)
    return target_path


def render_svg(target: Any, path: str | Path) -> Path:
    """A plot item or a plot widget as a vector SVG (axes, ticks and labels as text and paths)."""
    return _write_vector(target, path, ".svg", svg_generator)


def render_pdf(target: Any, path: str | Path) -> Path:
    """A plot item or a plot widget as a vector PDF, one page the size of the plot (1 px = 1 pt)."""
    return _write_vector(target, path, ".pdf", pdf_writer)


def svg_generator(path: Path, size: QtCore.QSize) -> QtSvg.QSvgGenerator:
    """An SVG paint device of ``size`` pixels writing to ``path``."""
    gen = QtSvg.QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(size)
    gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
    gen.setTitle("EBM Explorer")
    return gen


def pdf_writer(path: Path, size: QtCore.QSize) -> QtGui.QPdfWriter:
    """A one-page PDF paint device the size of ``size`` (1 px = 1 pt) writing to ``path``."""
    writer = QtGui.QPdfWriter(str(path))
    writer.setResolution(72)
    writer.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
    writer.setPageSize(QtGui.QPageSize(QtCore.QSizeF(size.width(), size.height()), QtGui.QPageSize.Unit.Point))
    writer.setTitle("EBM Explorer")
    return writer


def paint_on(device: QtGui.QPaintDevice, draw: Callable[[QtGui.QPainter], None], antialias: bool = False) -> None:
    """Run ``draw`` with a painter on ``device`` and always end the painter (which finishes the file)."""
    painter = QtGui.QPainter(device)
    if antialias:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    try:
        draw(painter)
    finally:
        painter.end()


def save_png(img: QtGui.QImage, path: str | Path) -> Path:
    """``img`` written atomically as PNG."""
    target_path = Path(path)
    with atomic_path(target_path, suffix=".png") as tmp:
        if not img.save(str(tmp), "PNG"):
            raise OSError(f"{target_path}: could not write the PNG")
    return target_path


def render_png(target: Any, path: str | Path, scale: float = 2.0, width: int | None = None) -> Path:
    """A plot item or a plot widget as PNG at ``scale`` x its size (or ``width`` pixels wide), cropped to
    the plot: no blank space under a landscape view's plot."""
    size = _size(target)
    if width:
        scale = float(width) / max(size.width(), 1)
    img = QtGui.QImage(max(1, int(round(size.width() * scale))), max(1, int(round(size.height() * scale))),
                       QtGui.QImage.Format.Format_RGB32)
    paint_on(img, lambda painter: _render(target, painter, QtCore.QRectF(0, 0, img.width(), img.height()),
                                          vector=False), antialias=True)
    return save_png(img, path)


# ---- SVG post-processing ---------------------------------------------------------------------------
def _matrix(text: str) -> np.ndarray | None:
    m = re.fullmatch(r"\s*matrix\(([^)]*)\)\s*", text or "")
    if not m:
        return None
    v = [float(x) for x in _NUM.findall(m.group(1))]
    return np.array(v) if len(v) == 6 else None


def _apply(m: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b, c, d, e, f = m
    return a * xs + c * ys + e, b * xs + d * ys + f


def _fmt(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".")


def _map_pairs(text: str, m: np.ndarray) -> str:
    """Every "x,y" pair (or x y) of a path's d / a polyline's points, mapped by ``m``; commands kept."""
    tokens = re.findall(r"[A-Za-z]|" + _NUM.pattern, text)
    out, nums = [], []

    def flush() -> None:
        arr = np.array(nums, dtype=float)
        x, y = _apply(m, arr[0::2], arr[1::2])
        out.extend(f"{_fmt(p)},{_fmt(q)}" for p, q in zip(x, y))
        nums.clear()
    for t in tokens:
        if t.isalpha():
            if nums:
                flush()
            out.append(t)
        else:
            nums.append(float(t))
    if nums:
        flush()
    return " ".join(out)


def _bake_shape(el: ET.Element, m: np.ndarray) -> bool:
    tag = el.tag.split("}")[-1]
    if tag == "path" and "d" in el.attrib:
        if re.search(r"[AaHhVvSsQqTt]|[a-z]", el.attrib["d"].replace("e", "")):
            return False  # relative or arc commands: not written by Qt, not handled
        el.set("d", _map_pairs(el.attrib["d"], m))
    elif tag in ("polyline", "polygon") and "points" in el.attrib:
        el.set("points", _map_pairs(el.attrib["points"], m))
    elif tag == "line":
        x, y = _apply(m, np.array([float(el.get("x1", 0)), float(el.get("x2", 0))]),
                      np.array([float(el.get("y1", 0)), float(el.get("y2", 0))]))
        el.set("x1", _fmt(x[0])), el.set("y1", _fmt(y[0])), el.set("x2", _fmt(x[1])), el.set("y2", _fmt(y[1]))
    elif tag == "rect":
        x0, y0 = float(el.get("x", 0)), float(el.get("y", 0))
        w, h = float(el.get("width", 0)), float(el.get("height", 0))
        x, y = _apply(m, np.array([x0, x0 + w, x0 + w, x0]), np.array([y0, y0, y0 + h, y0 + h]))
        el.tag = el.tag.replace("rect", "polygon")
        for k in ("x", "y", "width", "height", "rx", "ry"):
            el.attrib.pop(k, None)
        el.set("points", " ".join(f"{_fmt(p)},{_fmt(q)}" for p, q in zip(x, y)))
    else:
        return False
    el.attrib.pop("vector-effect", None)
    return True


def bake_transforms(path: str | Path) -> int:
    """Apply each group's matrix to its shapes where they use non-scaling strokes; returns the groups done.

    A group is baked only when every child is a shape this function maps (paths with absolute M/L/C/Z,
    polylines, polygons, lines, rects); a group holding text or an image keeps its transform.
    """
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    tree = ET.parse(path)
    done = 0
    for g in tree.getroot().iter(f"{{{SVG_NS}}}g"):
        m = _matrix(g.get("transform", ""))
        kids = list(g)
        if m is None or not kids or not any(k.get("vector-effect") for k in kids):
            continue
        if not all(k.tag.split("}")[-1] in _SHAPES for k in kids):
            continue
        if all(_bake_shape(k, m) for k in kids):
            g.attrib.pop("transform", None)
            done += 1
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return done
