"""Presenter mode (F11): full screen, the controls hidden, large fonts and thick lines, the scene's title
and one-line explanation on top; and the dark / light theme toggle (Ctrl+T).

Everything is restyled in place on the existing plot items (pens, fonts, backgrounds) and restored
from the remembered originals when presenter mode ends, so nothing is rebuilt and runs keep going.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.fisher_kl_panel import FisherKLPanel
from ebm_explorer.ui.metrics_panel import MetricsPanel
from ebm_explorer.ui.ports import Shell, Views
from ebm_explorer.ui.generate_view import GenerateView
from ebm_explorer.ui.tempering_view import TemperingDisplay
from ebm_explorer.ui.theme_extras import restyle_extras

__all__ = ["PresenterMode", "PresenterParts", "THEMES"]

#: theme name -> (plot background, foreground: axes, text and the formerly white lines)
THEMES = {"dark": ("#15171c", "#d0d0d0"), "light": ("#ffffff", "#1d1d1d")}
LINE_SCALE = 2.0
POINT_SCALE = 1.8
TICK_PT = 14
TITLE_PT = "15pt"


@dataclass(frozen=True)
class PresenterParts:
    """What presenter mode restyles or hides beyond the frame's own menu bar, status bar, toolbars and docks."""

    views: Views
    metrics: MetricsPanel
    fisher: FisherKLPanel
    readout: QtWidgets.QWidget  # the mouse readout under the view (hidden)
    frame_drawn: Any  # SignalInstance: after each drawn frame (the counter follows)
    tempering: TemperingDisplay  # the Crossing barriers plots
    generate: GenerateView  # the Generate page's plots


class PresenterMode(QtCore.QObject):
    """Toggles presenter mode and the theme of the window (``shell.frame``)."""

    toggled = QtCore.Signal(bool)

    def __init__(self, model: AppModel, shell: Shell, parts: PresenterParts) -> None:
        super().__init__(shell.frame)
        self.model = model
        self.shell = shell
        self.parts = parts
        window = shell.frame
        self.active = False
        self.theme = "dark"
        self._saved: dict[str, Any] = {}
        self._pens: dict[int, tuple[Any, Any]] = {}  # id(item) -> (item, original pen or size)
        self._titles: dict[int, tuple[Any, str | None]] = {}

        self.banner = QtWidgets.QWidget()
        self.banner.setObjectName("presenter_banner")
        bl = QtWidgets.QVBoxLayout(self.banner)
        bl.setContentsMargins(12, 6, 12, 6)
        bl.setSpacing(2)
        self.title_label = QtWidgets.QLabel("EBM Explorer")
        self.title_label.setObjectName("presenter_title")
        self.title_label.setWordWrap(True)  # a long title wraps instead of widening the window past the screen
        self.explanation_label = QtWidgets.QLabel("")
        self.explanation_label.setObjectName("presenter_explanation")
        self.explanation_label.setWordWrap(True)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.title_label, 1)
        # the class sees the run move on: "step 1,234" (sampling) or "iteration 56" (training), per run
        self.counter_label = QtWidgets.QLabel("")
        self.counter_label.setObjectName("presenter_counter")
        self.counter_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.counter_label)
        bl.addLayout(top)
        bl.addWidget(self.explanation_label)
        self.banner.setVisible(False)
        shell.add_bar(self.banner)

        view_menu = shell.menu("&View")
        self.action = QtGui.QAction("Presenter mode", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_F11))
        self.action.toggled.connect(self.set_enabled)
        self.theme_action = QtGui.QAction("Light theme", window)
        self.theme_action.setCheckable(True)
        self.theme_action.setShortcut(QtGui.QKeySequence("Ctrl+T"))
        self.theme_action.toggled.connect(lambda on: self.set_theme("light" if on else "dark"))
        for a in (self.action, self.theme_action):
            window.addAction(a)  # shortcuts keep working while the menu bar is hidden
            view_menu.addAction(a)
        model.scene_changed.connect(lambda _s: self.update_title())
        self.update_title()
        parts.frame_drawn.connect(self.update_counter)
        self._pending_widths: list[tuple[QtWidgets.QDockWidget, int]] = []
        window.installEventFilter(self)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QtCore.QEvent.Type.Resize and self._pending_widths and not self.active:
            QtCore.QTimer.singleShot(0, self._restore_widths)
        return False

    def _restore_widths(self) -> None:
        """Give the docks the widths they had before presenter mode (F11 round trips keep the layout)."""
        w = self.shell.frame
        if self.active:  # a restore queued just before F11 was pressed again
            return
        docks = [(d, width) for d, width in self._pending_widths if d.isVisible()]
        if docks:
            w.resizeDocks([d for d, _ in docks], [width for _, width in docks], QtCore.Qt.Orientation.Horizontal)
        if not w.isFullScreen() and all(abs(d.width() - width) <= 2 for d, width in docks):
            self._pending_widths = []

    # ---- title ---------------------------------------------------------------------------------
    def update_title(self) -> None:
        scene = self.model.scene
        self.title_label.setText(scene.title if scene is not None else "EBM Explorer")
        self.explanation_label.setText(scene.explanation if scene is not None else
                                       "Walkers sampling exp(-U)/Z live, against the exact density.")

    def update_counter(self) -> None:
        """Steps (or training iterations) of each run, shown in presenter mode only."""
        if not self.active:
            return
        snaps = [x for x in self.model.latest if x is not None]
        if not snaps:
            self.counter_label.setText("")
            return
        word = "iteration" if snaps[0].training is not None else "step"
        self.counter_label.setText(f"{word} " + " · ".join(f"{x.step:,}" for x in snaps))

    # ---- plots to restyle ----------------------------------------------------------------------
    def _plots(self) -> list[tuple[pg.PlotItem, bool]]:
        """(plot, is a landscape plot) for every plot of the window."""
        p = self.parts
        out: list[tuple[pg.PlotItem, bool]] = []
        for v in p.views.all():
            out.append((v.plot, True))
            out += [(q, False) for q in (v.top, v.right) if q is not None]
        out += [(q, False) for q in p.metrics.plots.values()]
        out.append((p.fisher.plot, False))
        out += [(q, False) for q in p.tempering.plots()]
        out += p.generate.plots()
        return out

    def _graphics_widgets(self) -> list[pg.GraphicsLayoutWidget]:
        p = self.parts
        return [*p.views.all(), p.metrics.graphics, p.fisher.graphics, *p.tempering.graphics(), p.generate.graphics]

    def restyle(self) -> None:
        """Apply the theme and (in presenter mode) the large fonts and thick lines to every plot."""
        bg, fg = THEMES[self.theme]
        big = self.active
        for gw in self._graphics_widgets():
            gw.setBackground(bg)
        font = QtGui.QFont()
        font.setPointSize(TICK_PT if big else 9)
        for plot, is_landscape in self._plots():
            for name in ("left", "bottom"):
                ax = plot.getAxis(name)
                ax.setPen(fg)
                ax.setTextPen(fg)
                ax.setTickFont(font)
                ax.label.setFont(font)
            key = id(plot)
            if key not in self._titles:  # the original size only: the text follows the runs and scenes
                self._titles[key] = (plot, plot.titleLabel.opts.get("size"))
            _p, size = self._titles[key]
            text = plot.titleLabel.text
            if text:
                plot.titleLabel.setText(text, size=TITLE_PT if big else size, color=fg)
            for item in plot.listDataItems():
                self._restyle_item(item, big, light_fix=not is_landscape and self.theme == "light", fg=fg)
        self.parts.metrics.fit_left_axes(font)
        self.parts.generate.set_line_width(2.0 * LINE_SCALE if big else 2.0)
        # colour bars, legends, marks, w marker
        restyle_extras(self.parts.views.all(), self.parts.metrics, self.parts.fisher, self.theme, fg, big, TICK_PT)
        for v in self.parts.views.all():
            for item in (v.walkers, v.negatives, v.data_points):
                self._restyle_item(item, big, light_fix=False, fg=fg)
            self._restyle_item(v.trails, big, light_fix=False, fg=fg)
            self._restyle_item(v.contours, big, light_fix=False, fg=fg)

    def _restyle_item(self, item: Any, big: bool, light_fix: bool, fg: str) -> None:
        key = id(item)
        if isinstance(item, pg.ScatterPlotItem) or hasattr(item, "setSize"):  # scatters and point clouds
            if key not in self._pens:
                self._pens[key] = (item, item.opts["size"])
            size = self._pens[key][1]
            item.setSize(size * POINT_SCALE if big else size)
            return
        if not isinstance(item, pg.PlotDataItem):
            return
        if key not in self._pens:
            self._pens[key] = (item, pg.mkPen(item.opts["pen"]))
        pen = QtGui.QPen(self._pens[key][1])
        if big:
            pen.setWidthF(max(pen.widthF(), 1.0) * LINE_SCALE)
        if light_fix and pen.color().lightness() > 200:
            c = QtGui.QColor(fg)
            c.setAlpha(pen.color().alpha())
            pen.setColor(c)
        item.setPen(pen)

    # ---- theme ---------------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        self.theme = theme
        self.theme_action.blockSignals(True)
        self.theme_action.setChecked(theme == "light")
        self.theme_action.blockSignals(False)
        self.restyle()
        self._style_widgets()

    def _style_widgets(self) -> None:
        bg, fg = THEMES[self.theme]
        size = 16 if self.active else None
        sheet = ""
        if self.active:
            sheet = f"QWidget {{ font-size: {size}pt; }} "
        if self.active or self.theme == "light":
            sheet += (f"QMainWindow, QDockWidget, QScrollArea, QScrollArea > QWidget > QWidget {{ background: {bg}; "
                      f"color: {fg}; }} QLabel, QCheckBox {{ color: {fg}; }}")
        self.shell.frame.setStyleSheet(sheet)
        self.banner.setStyleSheet(
            f"#presenter_banner {{ background: {bg}; }} #presenter_title {{ color: {fg}; font-size: 26pt; "
            f"font-weight: bold; }} #presenter_explanation {{ color: {fg}; font-size: 17pt; }} "
            f"#presenter_counter {{ color: {fg}; font-size: 22pt; }}")

    # ---- presenter mode ------------------------------------------------------------------------
    def set_enabled(self, on: bool, fullscreen: bool = True) -> None:
        """Enter or leave presenter mode (``fullscreen=False`` keeps the window size: screenshots)."""
        on = bool(on)
        self.action.blockSignals(True)
        self.action.setChecked(on)
        self.action.blockSignals(False)
        if on == self.active:
            return
        w, metrics = self.shell.frame, self.parts.metrics
        controls = w.findChild(QtWidgets.QDockWidget, "controls_dock")
        widgets = [controls, w.menuBar(), w.statusBar(), self.parts.readout, metrics.freeze, metrics.window,
                   *[lab for lab in metrics.findChildren(QtWidgets.QLabel) if lab.text() == "Window"],
                   *w.findChildren(QtWidgets.QToolBar)]
        widgets = [x for x in widgets if x is not None]  # a frame without a controls dock hides the rest
        if on:
            self._saved = {"visible": [(x, x.isVisible()) for x in widgets], "state": w.windowState(),
                           "geometry": w.saveGeometry(),
                           "widths": [(d, d.width()) for d in w.findChildren(QtWidgets.QDockWidget)
                                      if d.isVisible() and not d.isFloating()]}
            self._pending_widths = []
            for x in widgets:
                x.setVisible(False)
            self.update_title()
            self.banner.setVisible(True)
            self.active = True
            if fullscreen:
                w.showFullScreen()
            dock = w.findChild(QtWidgets.QDockWidget, "metrics_dock")
            if dock is not None:
                w.resizeDocks([dock], [int(0.48 * w.width())], QtCore.Qt.Orientation.Horizontal)
        else:
            self.active = False
            self.banner.setVisible(False)
        self.model.set_display(one_column=on)  # the live panels follow (ui.live_layout)
        self.restyle()
        self._style_widgets()
        if not on:
            # show the controls and leave full screen only now that the small fonts are back: the controls
            # in presenter fonts made the window's minimum width exceed the screen (1763 px), Qt grew the
            # window and the window manager kept it full screen while Qt believed it normal
            for x, vis in self._saved.get("visible", []):
                x.setVisible(vis)
            if w.isFullScreen():
                w.setWindowState(self._saved.get("state", QtCore.Qt.WindowState.WindowNoState))
                w.restoreGeometry(self._saved["geometry"])
            self._pending_widths = self._saved.get("widths", [])
            self._restore_widths()  # now, and again once the window has its old size back
        self.toggled.emit(on)
