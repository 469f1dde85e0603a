"""An opt-in window of the app's state for tests that drive the real window from outside (tests/realwindow).

With ``EBM_EXPLORER_PROBE=PATH`` set, the app writes a small JSON file at PATH a few times a second
(every 200 ms): the view ranges and boxes of the visible landscape views, the focused widget,
the panel titles and legends, the walker count, the formula state, the scene and presenter state. The
test reads it and waits on conditions instead of guessing with sleeps. Without the variable nothing
is installed. The file is replaced atomically (written beside it, then renamed), so a reader never
sees half of it.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["PROBE_ENV", "install_probe", "window_state"]

PROBE_ENV = "EBM_EXPLORER_PROBE"
INTERVAL_MS = 200


def _view_state(v: Any) -> dict[str, Any]:
    (x0, x1), (y0, y1) = v.plot.getViewBox().viewRange()
    box = v._box
    return {"visible": v.isVisible(), "size": [v.width(), v.height()],
            "view": [x0, x1, y0, y1],
            "box": None if box is None else [box.xmin, box.xmax, box.ymin, box.ymax],
            "plot_size": [v.plot.getViewBox().width(), v.plot.getViewBox().height()],
            "plot_pos_in_widget": _item_rect(v, v.plot.getViewBox()),
            "colorbar_in_widget": _item_rect(v, v.colorbar),
            # the part of the widget on screen (a view wider than its cell is clipped by its parents)
            "visible_in_widget": _visible_rect(v),
            "title": v.plot.titleLabel.text,
            # drawn: the newest reference is on screen (not an older one kept while the view was hidden)
            "drawn": v.image.image is not None and v._ref is not None and not v._ref_dirty}


def _visible_rect(widget: QtWidgets.QWidget) -> list[int]:
    """[left, top, right, bottom] of the widget's part not clipped by its parents (its own pixels)."""
    seen = QtCore.QRect(widget.mapTo(widget.window(), QtCore.QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None:  # each ancestor clips to its own rectangle
        corner = parent.mapTo(parent.window(), QtCore.QPoint(0, 0)) if parent is not parent.window() else QtCore.QPoint(0, 0)
        seen = seen.intersected(QtCore.QRect(corner, parent.size()))
        parent = None if parent is parent.window() else parent.parentWidget()
    seen.translate(-widget.mapTo(widget.window(), QtCore.QPoint(0, 0)))
    return [seen.left(), seen.top(), seen.left() + seen.width(), seen.top() + seen.height()]


def _item_rect(view: Any, item: Any) -> list[float]:
    """The item's rectangle in the widget's pixels [left, top, right, bottom]."""
    r = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    return [r.left(), r.top(), r.right(), r.bottom()]


def _global(widget: QtWidgets.QWidget, rect: QtCore.QRect | None = None) -> list[int] | None:
    """[x, y, width, height] of a widget (or a rectangle in it) on the screen; None when hidden."""
    if not widget.isVisible():
        return None
    r = widget.rect() if rect is None else rect
    p = widget.mapToGlobal(r.topLeft())
    return [p.x(), p.y(), r.width(), r.height()]


def _targets(w: Any) -> dict[str, Any]:
    """Where a test clicks: the dock's tabs, the editor's tabs, a few fields, the mixture table's first cell."""
    out: dict[str, Any] = {}
    for prefix, tabs in (("tab", w.tabs), ("editor_tab", w.editor.tabs)):
        bar = tabs.tabBar()
        for i in range(bar.count()):
            out[f"{prefix}:{bar.tabText(i)}"] = _global(bar, bar.tabRect(i))
    out["view"] = _global(w.views[0])
    out["walkers"] = _global(w.sampler_panel.walkers)
    out["algorithm"] = _global(w.sampler_panel.algorithm)
    out["train_button"] = _global(w.training_panel.train_button)
    bar = w.findChild(QtWidgets.QToolBar, "run_toolbar")
    for name, action in (("run_button", w.run_action), ("compare_button", w.compare_action)):
        button = bar.widgetForAction(action) if bar is not None else None
        out[name] = None if button is None else _global(button)
    out["formula"] = _global(w.editor.formula)
    gallery = w.editor.gallery
    if gallery.isVisible():
        for i in range(gallery.count()):
            item = gallery.item(i)
            out[f"gallery:{item.data(QtCore.Qt.ItemDataRole.UserRole)}"] = _global(gallery.viewport(),
                                                                                  gallery.visualItemRect(item))
    table = w.editor.table
    if table.rowCount() and table.item(0, 0) is not None:
        out["mix_cell"] = _global(table.viewport(), table.visualItemRect(table.item(0, 0)))
    return out


def window_state(w: Any) -> dict[str, Any]:
    """What the real-window tests assert on (plain JSON values only)."""
    focus = QtWidgets.QApplication.focusWidget()
    snaps = [s for s in w.model.latest if s is not None]
    scene = w.scenes.scene
    sp = w.sampler_panel
    dock = w.findChild(QtWidgets.QDockWidget, "controls_dock")
    scrolls = [w.tabs.widget(i) for i in range(w.tabs.count())]
    return {
        "pid": os.getpid(),
        "window": [w.x(), w.y(), w.width(), w.height()],
        "fullscreen": w.isFullScreen(),
        "min_size": [w.minimumSizeHint().width(), w.minimumSizeHint().height()],
        "presenter": w.presenter.active,
        "presenter_title": w.presenter.title_label.text() if w.presenter.active else None,
        "presenter_counter": w.presenter.counter_label.text() if w.presenter.active else None,
        "scene": None if scene is None else scene.title,
        "focus": None if focus is None else {"class": type(focus).__name__, "name": focus.objectName()},
        "views": [_view_state(v) for v in w.all_views() if v.isVisible()],
        "panel_titles": {k: p.titleLabel.text for k, p in w.metrics.plots.items() if p.isVisible()},
        "legend": w.metrics.legend.text(),
        "shown_plots": w.live_panels.visible_plots(),
        "plot_titles": {k: w.metrics.title(k) for k in w.live_panels.visible_plots()},
        "marks": [t for _s, t in w.metrics.marks_drawn("divergence")],
        "kl_floor": _latest(w, "kl_expected"),
        "mode": w.mode,
        "theme": w.presenter.theme,
        "colorbar": [{"font_px": QtGui.QFontInfo(v.colorbar.axis.style["tickFont"] or QtGui.QFont()).pixelSize(),
                      "text": v.colorbar.axis.textPen().color().name(), "y_axis_width": v.plot.getAxis("left").width()}
                     for v in w.all_views() if v.isVisible()],
        "panels_scrollbar": w.metrics.graphics.parentWidget().parentWidget().verticalScrollBar().isVisible(),
        "panels_fit": {"plots": w.metrics.graphics.width(), "viewport": w.metrics.graphics.parentWidget().width(),
                       "legend_right": w.metrics.legend.geometry().right(), "panel": w.metrics.width()},
        "run_kinds": [s.kind for s in w.model.specs],
        "run_labels": [s.label for s in w.model.run_specs()],
        "walkers_field": sp.walkers.value(),
        "walkers_text": sp.walkers.text(),
        "n_walkers": [s.n_walkers for s in snaps],
        "running": w.model.any_running,
        "step": [int(s.step) for s in snaps],
        "landscape": type(w.model.landscape).__name__ if w.model.landscape is not None else None,
        "formula_text": w.editor.formula.text(),
        "formula_status": w.editor.formula_status.text(),
        "landscape_expr": getattr(w.model.landscape, "expr", None),
        "editor_source": w.editor.source,
        "landscape_digest": landscape_digest(w.model.landscape),
        "reference_version": None if w.model.reference is None else w.model.reference.version,
        "landscape_version": w.model.version,
        "energy_lattice": _energy_lattice(w),
        "undo": {"count": w.history.stack.count(), "index": w.history.stack.index(),
                 "undo_text": w.history.stack.undoText(), "redo_text": w.history.stack.redoText()},
        "gallery_current": (w.editor.gallery.currentItem().data(QtCore.Qt.ItemDataRole.UserRole)
                            if w.editor.gallery.currentItem() is not None and w.editor.gallery.selectedItems() else None),
        "readout": w.readout.text(),
        "run_button": _global(w.findChild(QtWidgets.QToolBar, "run_toolbar").widgetForAction(w.run_action)),
        "sweep_dock": w.scenes.sweep_dock.isVisible(),
        "banner": "\n".join(w.banners.visible_texts().values()),
        "banners": w.banners.visible_texts(),
        "view_note": w.views[0].message.toPlainText(),
        "status_message": w.statusBar().currentMessage(),
        "targets": _targets(w),
        "tempering": w.tempering.probe_state(),
        "generate": w.generate.view.probe_state(),
        "mode": w.mode,
        "dock": None if dock is None else {
            "visible": dock.isVisible(), "width": dock.width(),
            "hscroll": [s.horizontalScrollBar().isVisible() for s in scrolls if hasattr(s, "horizontalScrollBar")],
            "tabs_elided": _tabs_clipped(w.tabs) or _tabs_clipped(w.editor.tabs),
            "combos_cut": [c.currentText() for c in dock.findChildren(QtWidgets.QComboBox)
                           if c.isVisible() and c.width() < c.sizeHint().width() - 1]},
    }


def landscape_digest(land: Any) -> str | None:
    """A short hash of the landscape's spec: equal digests, the same landscape (tests of undo)."""
    if land is None:
        return None
    try:
        spec = land.spec()
    except NotImplementedError:
        return f"{type(land).__name__}@{id(land):x}"
    h = hashlib.sha1()

    def feed(v: Any) -> None:
        if isinstance(v, dict):
            for k in sorted(v):
                h.update(str(k).encode())
                feed(v[k])
        elif isinstance(v, (list, tuple, np.ndarray)):
            h.update(np.asarray(v, dtype=float).tobytes() if _numeric(v) else repr(v).encode())
        else:
            h.update(repr(v).encode())
    feed(spec)
    return h.hexdigest()[:16]


def _numeric(v: Any) -> bool:
    try:
        np.asarray(v, dtype=float)
        return True
    except (TypeError, ValueError):
        return False


def _energy_lattice(w: Any, n: int = 16) -> dict[str, Any] | None:
    """The exact reference's energy on an n x n lattice of its cells (rows = y) with their centres, for
    tests that compare a landscape before and after an edit away from the edit."""
    ref = w.model.reference
    if ref is None or ref.version != w.model.version:
        return None
    r = ref.reference
    iy = np.linspace(0, r.energy.shape[0] - 1, n).round().astype(int)
    ix = np.linspace(0, r.energy.shape[1] - 1, n).round().astype(int)
    e = np.asarray(r.energy)[np.ix_(iy, ix)]
    return {"x": np.asarray(r.xs)[ix].tolist(), "y": np.asarray(r.ys)[iy].tolist(),
            "energy": np.where(np.isfinite(e), e, 1e300).tolist()}


def _latest(w: Any, field: str) -> float | None:
    """Run 1's newest value of a metric (None when it has none yet)."""
    h = w.model.histories[0] if w.model.histories else None
    value = None if h is None or h.latest is None else getattr(h.latest, field)
    return None if value is None or value != value else float(value)


def _tabs_clipped(tabs: QtWidgets.QTabWidget) -> bool:
    """True when a tab label is cut (scroll buttons shown or a tab narrower than its text)."""
    bar = tabs.tabBar()
    fm = bar.fontMetrics()
    for i in range(bar.count()):
        if not bar.isTabVisible(i):  # a mode's own tab, hidden in the other modes
            continue
        if bar.tabRect(i).width() < fm.horizontalAdvance(bar.tabText(i)) + 8:
            return True
        if not bar.rect().contains(bar.tabRect(i)):
            return True
    return False


class _Probe(QtCore.QObject):
    def __init__(self, window: Any, path: str) -> None:
        super().__init__(window)
        self.window, self.path = window, path
        self.seq = 0  # numbers the writes: a reader can tell a new state from the same one read twice
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.write)
        self.timer.start(INTERVAL_MS)

    def write(self) -> None:
        self.seq += 1
        try:
            state = {"seq": self.seq, **window_state(self.window)}
        except RuntimeError:  # a widget deleted while the window closes
            return
        tmp = f"{self.path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f)
        os.replace(tmp, self.path)


def install_probe(window: Any) -> QtCore.QObject | None:
    """Start writing the state file when ``EBM_EXPLORER_PROBE`` names one (tests only); else nothing."""
    path = os.environ.get(PROBE_ENV)
    if not path:
        return None
    return _Probe(window, path)
