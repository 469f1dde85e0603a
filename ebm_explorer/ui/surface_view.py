"""The 3-D view: the energy surface with the walkers riding on it (pyqtgraph.opengl), rotatable.

OpenGL is optional: :func:`gl_unavailable_reason` says why no context can be had (off-screen
platform, no driver), and the main window then shows that reason on the toggle instead of the view.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtGui, QtWidgets

from ebm_explorer.workers.messages import ReferenceReady, RunSnapshot

__all__ = ["gl_unavailable_reason", "SurfaceView", "SURFACE_NODES"]

#: nodes per axis of the drawn surface (the 256 x 256 reference is subsampled)
SURFACE_NODES = 96

_reason_cache: list[str | None] = []


def gl_unavailable_reason() -> str | None:
    """None when an OpenGL context can be created here, else a one-line reason."""
    if _reason_cache:
        return _reason_cache[0]
    reason: str | None = None
    platform = QtGui.QGuiApplication.platformName()
    if platform in ("offscreen", "minimal", "vnc"):
        reason = f"no OpenGL context on the '{platform}' Qt platform (off-screen); the 2-D view shows everything"
    else:
        try:
            import OpenGL.GL  # noqa: F401  (PyOpenGL is what pyqtgraph.opengl draws with)
            from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

            ctx = QOpenGLContext()
            surface = QOffscreenSurface()
            surface.create()
            if not ctx.create() or not ctx.makeCurrent(surface):
                reason = "could not create an OpenGL context (no GPU driver or remote desktop)"
            else:
                ctx.doneCurrent()
        except Exception as exc:  # noqa: BLE001 - any failure means: no 3-D view, with the reason shown
            reason = f"OpenGL is not usable here: {exc}"
    _reason_cache.append(reason)
    return reason


class SurfaceView(QtWidgets.QWidget):
    """A GLViewWidget holding the surface (created once) and a scatter of walkers at their energy."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg
        import pyqtgraph.opengl as gl

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.gl = gl.GLViewWidget()
        self.gl.setBackgroundColor("#111318")
        self.gl.setCameraPosition(distance=29, elevation=32, azimuth=-60)  # the surface fills the view
        lay.addWidget(self.gl)
        self.surface = gl.GLSurfacePlotItem(shader="shaded", smooth=True, computeNormals=True,
                                            glOptions="opaque")
        self._surface_added = False  # added at the first data: an empty surface fails to draw
        self.walkers = gl.GLScatterPlotItem(pos=np.zeros((1, 3)), size=4, color=(0.3, 0.8, 0.95, 1.0),
                                            pxMode=True)
        self.walkers.setGLOptions("translucent")
        self.gl.addItem(self.walkers)
        grid = gl.GLGridItem()
        grid.setSize(20, 20)
        grid.setSpacing(2, 2)
        self.gl.addItem(grid)
        self._cmap = pg.colormap.get("magma")
        self._ref: ReferenceReady | None = None
        self._snap: RunSnapshot | None = None
        self._ref_dirty = self._snap_dirty = False
        self._scale = (1.0, 1.0, 1.0, 0.0)  # sx, sy, sz, z offset: the box maps to about 20 x 20 x 8

    def set_reference(self, ref: ReferenceReady) -> None:
        self._ref = ref
        self._ref_dirty = True

    def set_snapshot(self, snap: RunSnapshot | None) -> None:
        self._snap = snap
        self._snap_dirty = True

    def draw(self) -> bool:
        if not self.isVisible():
            return False
        drew = False
        if self._ref_dirty and self._ref is not None:
            self._draw_surface(self._ref)
            drew = True
        if self._snap_dirty and self._snap is not None and self._ref is not None:
            self._draw_walkers(self._snap)
            drew = True
        self._ref_dirty = self._snap_dirty = False
        return drew

    def _draw_surface(self, ref: ReferenceReady) -> None:
        r = ref.reference
        idx = np.linspace(0, r.resolution - 1, SURFACE_NODES).round().astype(int)
        lo, hi = ref.energy_levels
        z = ref.energy_image[np.ix_(idx, idx)].T  # GLSurfacePlotItem wants z[ix, iy]
        b = r.box
        sx, sy = 20.0 / b.width, 20.0 / b.height
        sz = 8.0 / max(hi - lo, 1e-9)
        self._scale = (sx, sy, sz, lo)
        xs = (r.xs[idx] - (b.xmin + b.xmax) / 2) * sx
        ys = (r.ys[idx] - (b.ymin + b.ymax) / 2) * sy
        zz = (z - lo) * sz
        colours = self._cmap.map((z - lo) / max(hi - lo, 1e-9), mode="float")
        self.surface.setData(x=xs, y=ys, z=zz, colors=colours.reshape(SURFACE_NODES, SURFACE_NODES, 4))
        if not self._surface_added:
            self.gl.addItem(self.surface)
            self._surface_added = True
        self._centre = ((b.xmin + b.xmax) / 2, (b.ymin + b.ymax) / 2)
        self._hi = hi

    def _draw_walkers(self, snap: RunSnapshot) -> None:
        sx, sy, sz, lo = self._scale
        p = snap.walkers.points
        if not len(p):
            return
        cx, cy = self._centre
        e = np.minimum(snap.walkers.point_energy, self._hi)
        pos = np.stack([(p[:, 0] - cx) * sx, (p[:, 1] - cy) * sy, (e - lo) * sz + 0.15], axis=1)
        self.walkers.setData(pos=pos)
