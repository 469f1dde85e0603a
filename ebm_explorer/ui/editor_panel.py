"""The landscape editor: preset gallery, formula box, grid drawing, mixture editing, image import,
box and temperature.

The editor builds landscape *objects* (core classes) from what the user does and emits them; it
never evaluates an energy itself (thumbnails and the reference come from the job thread). Grid
drawing edits a small array of node values with a Gaussian brush: that is editing, not science.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from scipy.ndimage import gaussian_filter

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import (
    FormulaError,
    FormulaLandscape,
    GaussianMixture,
    GridLandscape,
    Landscape,
    Tempered,
    list_presets,
    make_landscape,
)
from ebm_explorer.core.normalisable import sampling_problem
from ebm_explorer.core.types import Box
from ebm_explorer.workers.commands import ThumbnailKey
from ebm_explorer.workers.jobs import thumbnail_job
from ebm_explorer.ui.last_folder import get_open_file_name

__all__ = ["EditorPanel", "BrushHandler", "MixtureHandler", "GRID_NODES", "FORMULA_EXAMPLES", "grid_from_energy",
           "caret_excerpt"]

#: nodes per axis of a drawn grid landscape
GRID_NODES = 96
#: nodes per axis when drawing starts from a formula, preset or mixture (fine enough for narrow wells)
GRID_NODES_FROM_CURRENT = 160
#: energy above the lowest value at which a landscape converted to a grid is capped (exp(-60) ~ 1e-26)
GRID_ENERGY_CAP = 60.0
DRAW_HINT = ("Drag on the landscape to draw (the Draw tab must be open): the stroke changes the landscape "
             "shown now, whatever its kind. Walkers follow at once; Ctrl+Z undoes a stroke.")
FORMULA_EXAMPLES = [
    "(x**2 - 1)**2 + 0.5*y**2",
    "0.5*(x**2 + y**2) + 2*sin(2*x)*cos(2*y)",
    "((x**2 + y**2)**0.5 - 2)**2 / 0.1",
    "(y - x**2)**2 + 0.1*(1 - x)**2",
]


def grid_from_energy(energy: np.ndarray, box: Box, nodes: int) -> np.ndarray:
    """Node values ``(nodes, nodes)`` on the box's corners-to-corners lattice from an energy sampled at
    cell centres (``(R, R)``, rows = y): bilinear resampling, shifted to start at 0 and capped at
    :data:`GRID_ENERGY_CAP` above (NaN/inf read as the cap)."""
    r_y, r_x = energy.shape
    finite = np.isfinite(energy)
    lo = float(energy[finite].min()) if finite.any() else 0.0
    e = np.where(finite, np.minimum(energy - lo, GRID_ENERGY_CAP), GRID_ENERGY_CAP)
    # node k sits at box.min + k / (nodes - 1) * size; cell centre i at box.min + (i + 0.5) / R * size
    def coords(n_cells: int) -> np.ndarray:
        return np.clip(np.linspace(0.0, 1.0, nodes) * n_cells - 0.5, 0.0, n_cells - 1.0)
    cy, cx = coords(r_y), coords(r_x)
    y0, x0 = np.floor(cy).astype(int), np.floor(cx).astype(int)
    y1, x1 = np.minimum(y0 + 1, r_y - 1), np.minimum(x0 + 1, r_x - 1)
    fy, fx = (cy - y0)[:, None], (cx - x0)[None, :]
    top = e[np.ix_(y0, x0)] * (1 - fx) + e[np.ix_(y0, x1)] * fx
    bottom = e[np.ix_(y1, x0)] * (1 - fx) + e[np.ix_(y1, x1)] * fx
    return np.asarray(top * (1 - fy) + bottom * fy, dtype=float)


def caret_excerpt(text: str, position: int, width: int = 34) -> tuple[str, int]:
    """At most ``width`` characters of ``text`` around ``position`` (with … where cut) and the caret's
    column in that excerpt: a long formula's error fits the dock instead of running off its edge."""
    if len(text) <= width:
        return text, position
    start = max(0, min(position - width // 2, len(text) - width))
    line = text[start:start + width]
    caret = position - start
    if start > 0:
        line, caret = "…" + line[1:], caret
    if start + width < len(text):
        line = line[:-1] + "…"
    return line, caret


class BrushHandler:
    """Mouse drawing on a grid landscape: dig wells or raise hills, erase, with radius and strength."""

    def __init__(self, editor: "EditorPanel") -> None:
        self.editor = editor

    def click(self, x: float, y: float) -> bool:
        self.editor.paint(x, y)
        self.editor.commit_grid()
        return True

    def drag(self, x: float, y: float, phase: str) -> bool:
        if phase == "start":
            self.editor.gesture = object()  # the whole stroke is one undo step
        self.editor.paint(x, y)
        if phase == "end":
            self.editor.commit_grid()
            self.editor.gesture = None
        else:
            self.editor.schedule_commit()
        return True

    def wheel(self, x: float, y: float, steps: float) -> bool:
        return False

    def hover(self, x: float, y: float) -> None:
        self.editor.hover_brush(x, y)


class MixtureHandler:
    """Drag a component's centre; turn the wheel over it to change its width."""

    def __init__(self, editor: "EditorPanel") -> None:
        self.editor = editor
        self._dragging: int | None = None

    def click(self, x: float, y: float) -> bool:
        return self.editor.nearest_component(x, y) is not None

    def drag(self, x: float, y: float, phase: str) -> bool:
        if phase == "start":
            self._dragging = self.editor.nearest_component(x, y)
            self.editor.gesture = object() if self._dragging is not None else None  # one drag, one undo step
            return self._dragging is not None
        if self._dragging is None:
            return False
        self.editor.move_component(self._dragging, x, y, final=phase == "end")
        if phase == "end":
            self._dragging = None
            self.editor.gesture = None
        return True

    def wheel(self, x: float, y: float, steps: float) -> bool:
        j = self.editor.nearest_component(x, y)
        if j is None:
            return False
        self.editor.scale_component(j, 1.1 ** steps)
        return True

    def hover(self, x: float, y: float) -> None:
        return None


class EditorPanel(QtWidgets.QWidget):
    """Emits ``landscape_changed(landscape)`` (box and beta applied) whenever the user edits."""

    landscape_changed = QtCore.Signal(object)
    preview = QtCore.Signal(object, object)  # energy grid (ny, nx), box: immediate feedback while drawing
    handler_changed = QtCore.Signal()
    centres_changed = QtCore.Signal(object)  # (M, 2); (0, 2) when not editing a mixture
    brush_ring = QtCore.Signal(float, float, float, bool)
    thumbnails_wanted = QtCore.Signal(object, object)  # ThumbnailKey, callable (run in the job thread)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.source: str = "preset"  # preset | formula | grid | gmm | image
        self.preset_name = "gmm"
        self.grid_values = np.zeros((GRID_NODES, GRID_NODES))
        self.grid_box = Box(-3.0, 3.0, -3.0, 3.0)
        self.mix_weights = np.array([1.0, 3.0])
        self.mix_means = np.array([[-2.5, 0.0], [2.5, 0.0]])
        self.mix_stds = np.array([1.0, 1.0])
        self.current: Landscape | None = None
        self.gesture: object | None = None  # set while a drag lasts (its rebuilds are one undo step)
        self._building = False
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        self.tabs = QtWidgets.QTabWidget()
        lay.addWidget(self.tabs)
        self._build_presets()
        self._build_formula()
        self._build_grid()
        self._build_mixture()
        self._build_image()
        lay.addWidget(self._build_box())
        self.tabs.currentChanged.connect(lambda _i: self.handler_changed.emit())
        self._commit_timer = QtCore.QTimer(self)
        self._commit_timer.setSingleShot(True)
        self._commit_timer.setInterval(120)
        self._commit_timer.timeout.connect(self.commit_grid)
        self.brush = BrushHandler(self)
        self.mixture = MixtureHandler(self)

    # ---- pages ---------------------------------------------------------------------------
    def _build_presets(self) -> None:
        self.gallery = QtWidgets.QListWidget()
        self.gallery.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QtCore.QSize(64, 64))
        self.gallery.setGridSize(QtCore.QSize(104, 96))
        self.gallery.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QtWidgets.QListView.Movement.Static)
        self.gallery.setWordWrap(True)
        blank = QtGui.QPixmap(64, 64)
        blank.fill(QtGui.QColor("#202020"))
        for name, desc in list_presets():
            item = QtWidgets.QListWidgetItem(QtGui.QIcon(blank), name.replace("_", " "))
            item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
            item.setToolTip(desc)
            self.gallery.addItem(item)
        self.gallery.itemClicked.connect(lambda item: self.select_preset(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        self.tabs.addTab(self.gallery, "Presets")

    def request_thumbnails(self) -> None:
        """Ask the job thread for one thumbnail per preset (they appear as they are computed)."""
        for name, _ in list_presets():
            self.thumbnails_wanted.emit(ThumbnailKey(name), partial(thumbnail_job, make_landscape(name)))

    def set_thumbnail(self, name: str, image: np.ndarray) -> None:
        lut = pg.colormap.get("viridis").getLookupTable(nPts=256, alpha=False)
        idx = np.clip((image[::-1] * 255).astype(np.int64), 0, 255)
        rgb = np.ascontiguousarray(lut[idx].astype(np.uint8))
        h, w, _ = rgb.shape
        qimg = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()
        for i in range(self.gallery.count()):
            item = self.gallery.item(i)
            if item.data(QtCore.Qt.ItemDataRole.UserRole) == name:
                item.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(qimg)))

    def _build_formula(self) -> None:
        page = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(page)
        lay.addWidget(QtWidgets.QLabel("U(x, y) ="))
        self.formula = QtWidgets.QLineEdit(FORMULA_EXAMPLES[0])
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.formula.setFont(font)
        lay.addWidget(self.formula)
        self.formula_status = QtWidgets.QLabel("")
        self.formula_status.setFont(font)
        self.formula_status.setWordWrap(True)
        self.formula_status.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        lay.addWidget(self.formula_status)
        examples = QtWidgets.QComboBox()
        examples.addItem("Examples…")
        for ex in FORMULA_EXAMPLES:
            examples.addItem(ex)
        examples.activated.connect(lambda i: self._use_example(examples.itemText(i)) if i > 0 else None)
        lay.addWidget(examples)
        help_ = QtWidgets.QLabel("Operators + - * / **, functions sin cos exp log sqrt abs tanh …, "
                                 "variables x and y. Checked as you type, applied on Enter.")
        help_.setWordWrap(True)
        help_.setStyleSheet("color: gray")
        lay.addWidget(help_)
        lay.addStretch(1)
        self.formula.textChanged.connect(self._formula_edited)
        self.formula.returnPressed.connect(self._apply_formula)  # never while typing: half a formula is not one
        self.tabs.addTab(page, "Formula")

    def _build_grid(self) -> None:
        page = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(page)
        self.tool = QtWidgets.QComboBox()
        for key, label in (("dig", "Dig a well (lower U)"), ("raise", "Raise a hill"), ("erase", "Eraser")):
            self.tool.addItem(label, key)
        self.radius = QtWidgets.QDoubleSpinBox()
        self.radius.setRange(0.02, 10.0)
        self.radius.setValue(0.5)
        self.radius.setSingleStep(0.05)
        self.strength = QtWidgets.QDoubleSpinBox()
        self.strength.setRange(0.01, 10.0)
        self.strength.setValue(0.6)
        self.strength.setSingleStep(0.1)
        form.addRow("Brush", self.tool)
        form.addRow("Radius", self.radius)
        form.addRow("Strength", self.strength)
        row = QtWidgets.QHBoxLayout()
        self.smooth_button = QtWidgets.QPushButton("Smooth")
        self.clear_button = QtWidgets.QPushButton("Clear")
        self.from_current = QtWidgets.QPushButton("Start from current")
        self.from_current.setToolTip("Copy the landscape shown now into the grid, then draw on it")
        for b in (self.smooth_button, self.clear_button, self.from_current):
            row.addWidget(b)
        form.addRow(row)
        self.draw_hint = QtWidgets.QLabel(DRAW_HINT)
        self.draw_hint.setWordWrap(True)
        self.draw_hint.setStyleSheet("color: gray")
        form.addRow(self.draw_hint)
        self.smooth_button.clicked.connect(self.smooth)
        self.clear_button.clicked.connect(self.clear_grid)
        self.tabs.addTab(page, "Draw")
        self._current_energy_source = None  # callable returning (energy grid, box) of the current landscape
        self.from_current.clicked.connect(self.grid_from_current)

    def _build_mixture(self) -> None:
        page = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(page)
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["weight", "x", "y", "std"])
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        lay.addWidget(self.table)
        row = QtWidgets.QHBoxLayout()
        add = QtWidgets.QPushButton("Add component")
        remove = QtWidgets.QPushButton("Remove selected")
        row.addWidget(add)
        row.addWidget(remove)
        lay.addLayout(row)
        hint = QtWidgets.QLabel("Drag a centre on the landscape; turn the wheel over it to change its width. "
                                "Masses are weight / sum of weights.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        lay.addWidget(hint)
        add.clicked.connect(self.add_component)
        remove.clicked.connect(self.remove_component)
        self.tabs.addTab(page, "Mixture")
        self._fill_table()

    def _build_image(self) -> None:
        page = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(page)
        button = QtWidgets.QPushButton("Import grayscale image…")
        button.clicked.connect(self._browse_image)
        lay.addWidget(button)
        self.image_status = QtWidgets.QLabel("Dark pixels become low energy (high density): U = -log(ink + 0.02).")
        self.image_status.setWordWrap(True)
        lay.addWidget(self.image_status)
        lay.addStretch(1)
        self.tabs.addTab(page, "Image")

    def _build_box(self) -> QtWidgets.QWidget:
        group = QtWidgets.QGroupBox("Box and temperature")
        grid = QtWidgets.QGridLayout(group)
        self.box_spins = []
        for i, name in enumerate(("x min", "x max", "y min", "y max")):
            spin = QtWidgets.QDoubleSpinBox()
            spin.setRange(-1e4, 1e4)
            spin.setDecimals(2)
            spin.setKeyboardTracking(False)
            grid.addWidget(QtWidgets.QLabel(name), i // 2, 2 * (i % 2))
            grid.addWidget(spin, i // 2, 2 * (i % 2) + 1)
            spin.valueChanged.connect(self._box_edited)
            self.box_spins.append(spin)
        self.beta = QtWidgets.QDoubleSpinBox()
        self.beta.setRange(0.01, 100.0)
        self.beta.setValue(1.0)
        self.beta.setDecimals(3)
        self.beta.setSingleStep(0.1)
        self.beta.setKeyboardTracking(False)
        self.beta.setToolTip("Inverse temperature: the target is exp(-beta U)")
        grid.addWidget(QtWidgets.QLabel("beta"), 2, 0)
        grid.addWidget(self.beta, 2, 1)
        self.beta.valueChanged.connect(lambda _v: self.rebuild())
        self.box_error = QtWidgets.QLabel("")
        self.box_error.setStyleSheet("color: #e63946")
        grid.addWidget(self.box_error, 3, 0, 1, 4)
        return group

    # ---- handlers ------------------------------------------------------------------------
    def active_handler(self) -> Any:
        """The mouse handler the landscape view should use now (None: place start points)."""
        page = self.tabs.tabText(self.tabs.currentIndex())
        if page == "Draw":
            return self.brush
        if page == "Mixture":
            return self.mixture
        return None

    # ---- building ------------------------------------------------------------------------
    def box(self) -> Box:
        v = [s.value() for s in self.box_spins]
        return Box(*v)

    def set_box(self, box: Box) -> None:
        for s, v in zip(self.box_spins, box.as_tuple()):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)

    def _box_edited(self, _v: float) -> None:
        try:
            self.box()
        except UserInputError as exc:
            self.box_error.setText(str(exc))
            return
        self.box_error.setText("")
        if self.source in ("grid", "image"):
            self.grid_box = self.box()
        self.rebuild()

    def base_landscape(self) -> Landscape:
        box = self.box()
        if self.source == "preset":
            return make_landscape(self.preset_name, box=box)
        if self.source == "formula":
            return FormulaLandscape(self.formula.text(), box)
        if self.source in ("grid", "image"):
            return GridLandscape(self.grid_values.copy(), box)
        # copies: a centre drag moves ``mix_means`` in place, the landscape handed on must not move with it
        return GaussianMixture(self.mix_weights.copy(), self.mix_means.copy(), stds=self.mix_stds.copy(), box=box)

    def rebuild(self) -> None:
        """Build the landscape from the current source, box and beta, and emit it."""
        if self._building:
            return
        try:
            base = self.base_landscape()
        except UserInputError as exc:
            self.box_error.setText(str(exc))
            return
        beta = self.beta.value()
        land = Tempered(base, beta) if beta != 1.0 else base
        self.current = land
        self.show_gallery_choice()
        # never emit None through a Signal(object): PySide6 on Python 3.11 mis-counts its references
        self.centres_changed.emit(self.mix_means.copy() if self.source == "gmm" else np.zeros((0, 2)))
        self.landscape_changed.emit(land)

    def show_gallery_choice(self) -> None:
        """Highlight the preset in use; none when the landscape is a formula, drawing, mixture or image."""
        row = -1
        if self.source == "preset":
            row = next((i for i in range(self.gallery.count())
                        if self.gallery.item(i).data(QtCore.Qt.ItemDataRole.UserRole) == self.preset_name), -1)
        if row != self.gallery.currentRow() or (row < 0 and self.gallery.selectedItems()):
            self.gallery.clearSelection()
            self.gallery.setCurrentRow(row)
        if row >= 0:
            self.gallery.scrollToItem(self.gallery.item(row))  # a preset low in the list is shown too

    def select_preset(self, name: str) -> None:
        land = make_landscape(name)
        self.preset_name = name
        self.source = "preset"
        self.set_box(land.box)
        for i in range(self.gallery.count()):
            if self.gallery.item(i).data(QtCore.Qt.ItemDataRole.UserRole) == name:
                self.gallery.setCurrentRow(i)
        self.rebuild()

    def show_landscape(self, land: Landscape, base: Landscape, beta: float) -> None:
        """Show ``land`` (= ``base`` at inverse temperature ``beta``, e.g. a scene's) as the current landscape,
        editable where its kind allows, without emitting ``landscape_changed`` (the caller hands it on)."""
        self.blockSignals(True)
        try:
            self.beta.setValue(beta)
            if isinstance(base, (GaussianMixture, GridLandscape)):
                self.set_landscape_object(base)
            else:
                spec = base.spec()
                if spec.get("kind") == "preset":
                    self.select_preset(spec["name"])
                elif spec.get("kind") == "formula":
                    self.formula.setText(spec["expr"])
                    self.source = "formula"
                self.set_box(base.box)
        finally:
            self.blockSignals(False)
        self.current = land
        self.centres_changed.emit(np.asarray(base.means, dtype=float).copy() if isinstance(base, GaussianMixture)
                                  else np.zeros((0, 2)))

    def show_beta(self, beta: float, land: Landscape) -> None:
        """A new inverse temperature set elsewhere (a sweep slider): show it, ``land`` is the current landscape."""
        self.beta.blockSignals(True)
        self.beta.setValue(beta)
        self.beta.blockSignals(False)
        self.current = land

    def set_landscape_object(self, land: Landscape, source: str = "gmm") -> None:
        """Adopt a landscape built elsewhere (the learned model), keeping it editable where possible."""
        if isinstance(land, GaussianMixture):
            self.mix_weights = np.asarray(land.weights, dtype=float).copy()
            self.mix_means = np.asarray(land.means, dtype=float).copy()
            self.mix_stds = np.sqrt(np.asarray(land.covs)[:, 0, 0]).copy()
            self.source = "gmm"
            self._fill_table()
        elif isinstance(land, GridLandscape):
            self.grid_values = land.values
            self.grid_box = land.box
            self.source = "grid"
        self.set_box(land.box)
        self.rebuild()

    # ---- formula -------------------------------------------------------------------------
    def _formula_edited(self, text: str) -> None:
        ok, message = self.validate_formula(text)
        self.formula.setStyleSheet("" if ok else "QLineEdit { border: 2px solid #e63946; }")
        self.formula_status.setStyleSheet("color: #38b000" if ok else "color: #e63946")
        self.formula_status.setText(message + ("  (Enter applies it)" if ok else ""))

    def _use_example(self, text: str) -> None:
        self.formula.setText(text)
        self._apply_formula()

    def validate_formula(self, text: str) -> tuple[bool, str]:
        """(valid, message); the message of an invalid formula points at the column with a caret."""
        try:
            FormulaLandscape(text, self.box())
        except FormulaError as exc:
            if exc.position is not None:
                line, caret = caret_excerpt(text, exc.position)
                return False, f"{line}\n{' ' * caret}^\n{exc}"
            return False, str(exc)
        except UserInputError as exc:
            return False, str(exc)
        return True, "✓ valid formula"

    def _apply_formula(self) -> None:
        """Enter: the formula replaces the landscape only when it is valid and ``exp(-U)`` can be sampled
        on the box; otherwise the reason is shown and the walkers never see it."""
        text = self.formula.text()
        ok, _message = self.validate_formula(text)
        if not ok:
            return
        problem = sampling_problem(FormulaLandscape(text, self.box()), self.box())
        if problem is not None:
            self.formula.setStyleSheet("QLineEdit { border: 2px solid #e63946; }")
            self.formula_status.setStyleSheet("color: #e63946")
            self.formula_status.setText(f"not applied: {problem}")
            return
        self.formula_status.setText("✓ applied")
        self.source = "formula"
        self.rebuild()

    # ---- grid drawing --------------------------------------------------------------------
    def set_current_energy_source(self, fn: Any) -> None:
        self._current_energy_source = fn

    def grid_from_current(self) -> None:
        """Start the drawing from the landscape shown now (its exact-grid energy, resampled)."""
        if self._adopt_current_as_grid():
            self.rebuild()

    def _adopt_current_as_grid(self) -> bool:
        """Make the landscape on screen (formula, preset, mixture, image, drawing) the grid to draw on:
        its exact-reference energy without beta, resampled to :data:`GRID_NODES_FROM_CURRENT` nodes.
        False (and a hint) while that reference is still being computed."""
        if self.source == "grid":
            return True
        if self.source == "image":  # the image's nodes are the grid already
            self.source = "grid"
            return True
        got = self._current_energy_source() if self._current_energy_source is not None else None
        if got is None:
            self.draw_hint.setText("Wait a moment: the drawing starts from the current landscape, whose exact "
                                   "reference is still being computed.")
            return False
        energy, _levels, box = got
        self.grid_values = grid_from_energy(np.asarray(energy, dtype=float) / self.beta.value(), box,
                                            GRID_NODES_FROM_CURRENT)
        self.grid_box = box
        self.source = "grid"
        self.set_box(box)
        self.draw_hint.setText(DRAW_HINT)
        return True

    def clear_grid(self) -> None:
        self.grid_values = np.zeros((GRID_NODES, GRID_NODES))
        self.source = "grid"
        self.grid_box = self.box()
        self.rebuild()

    def smooth(self) -> None:
        self.grid_values = gaussian_filter(self.grid_values, 1.5, mode="nearest")
        self.source = "grid"
        self.rebuild()

    def paint(self, x: float, y: float) -> None:
        """One dab of the brush at ``(x, y)`` (world coordinates), on the landscape shown now."""
        if not self._adopt_current_as_grid():
            return
        b = self.grid_box
        ny, nx = self.grid_values.shape
        xs = np.linspace(b.xmin, b.xmax, nx)
        ys = np.linspace(b.ymin, b.ymax, ny)
        r = self.radius.value()
        g = np.exp(-((xs[None, :] - x) ** 2 + (ys[:, None] - y) ** 2) / (2 * (r / 2) ** 2))  # (ny, nx)
        s = self.strength.value()
        tool = self.tool.currentData()
        if tool == "dig":
            self.grid_values = self.grid_values - s * g
        elif tool == "raise":
            self.grid_values = self.grid_values + s * g
        else:
            self.grid_values = self.grid_values * (1 - np.clip(s, 0, 1) * g)
        self.preview.emit(self.grid_values * self.beta.value(), b)

    def schedule_commit(self) -> None:
        if not self._commit_timer.isActive():
            self._commit_timer.start()

    def commit_grid(self) -> None:
        self._commit_timer.stop()
        self.rebuild()

    def hover_brush(self, x: float, y: float) -> None:
        self.brush_ring.emit(x, y, self.radius.value() / 2, True)

    # ---- mixture -------------------------------------------------------------------------
    def _fill_table(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.mix_weights))
        for j in range(len(self.mix_weights)):
            vals = (self.mix_weights[j], self.mix_means[j, 0], self.mix_means[j, 1], self.mix_stds[j])
            for c, v in enumerate(vals):
                self.table.setItem(j, c, QtWidgets.QTableWidgetItem(f"{v:.4g}"))
        self.table.blockSignals(False)
        if not hasattr(self, "_table_connected"):
            self.table.itemChanged.connect(self._table_edited)
            self._table_connected = True

    def _table_edited(self, item: QtWidgets.QTableWidgetItem) -> None:
        try:
            v = float(item.text())
        except ValueError:
            item.setBackground(QtGui.QColor("#5a1a1a"))
            return
        j, c = item.row(), item.column()
        if (c in (0, 3) and not v > 0) or not math.isfinite(v):
            item.setBackground(QtGui.QColor("#5a1a1a"))
            return
        item.setBackground(QtGui.QBrush())
        if c == 0:
            self.mix_weights[j] = v
        elif c in (1, 2):
            self.mix_means[j, c - 1] = v
        else:
            self.mix_stds[j] = v
        self.source = "gmm"
        self.rebuild()

    def add_component(self) -> None:
        b = self.box()
        self.mix_weights = np.append(self.mix_weights, 1.0)
        self.mix_means = np.vstack([self.mix_means, [(b.xmin + b.xmax) / 2, (b.ymin + b.ymax) / 2]])
        self.mix_stds = np.append(self.mix_stds, min(b.width, b.height) / 10)
        self.source = "gmm"
        self._fill_table()
        self.rebuild()

    def remove_component(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True) or [len(self.mix_weights) - 1]
        if len(self.mix_weights) - len(rows) < 1:
            return
        keep = np.setdiff1d(np.arange(len(self.mix_weights)), rows)
        self.mix_weights, self.mix_means, self.mix_stds = self.mix_weights[keep], self.mix_means[keep], self.mix_stds[keep]
        self.source = "gmm"
        self._fill_table()
        self.rebuild()

    def nearest_component(self, x: float, y: float) -> int | None:
        if self.source != "gmm" or not len(self.mix_means):
            return None
        b = self.box()
        d = np.hypot(self.mix_means[:, 0] - x, self.mix_means[:, 1] - y)
        j = int(np.argmin(d))
        return j if d[j] < 0.04 * max(b.width, b.height) + self.mix_stds[j] * 0.5 else None

    def move_component(self, j: int, x: float, y: float, final: bool) -> None:
        self.mix_means[j] = (x, y)
        self.centres_changed.emit(self.mix_means.copy())
        if final:
            self._fill_table()
            self.rebuild()
        elif not self._commit_timer.isActive():
            self._fill_table()
            self.rebuild()
            self._commit_timer.start()  # at most ~8 rebuilds per second while dragging

    def scale_component(self, j: int, factor: float) -> None:
        self.mix_stds[j] = float(np.clip(self.mix_stds[j] * factor, 1e-3, 1e3))
        self._fill_table()
        self.rebuild()

    # ---- image ---------------------------------------------------------------------------
    def _browse_image(self) -> None:
        path, _ = get_open_file_name(self, "Grayscale image", "", "Images (*.png *.jpg *.jpeg *.bmp)")
        if path:
            try:
                self.import_image(path)
            except UserInputError as exc:
                self.image_status.setText(str(exc))

    def import_image(self, path: str, max_nodes: int = 160) -> None:
        """Dark pixels -> wells, through the core's one conversion (``GridLandscape.from_image``)."""
        land = GridLandscape.from_image(path, max_size=max_nodes)
        self.grid_values = land.values
        self.grid_box = land.box
        h, w = self.grid_values.shape
        self.source = "image"
        self.set_box(self.grid_box)
        self.image_status.setText(f"Imported {path.rsplit('/', 1)[-1]} ({w} x {h} nodes).")
        self.rebuild()
