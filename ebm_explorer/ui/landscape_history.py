"""Undo and redo (Ctrl+Z / Ctrl+Shift+Z, Edit menu) for everything that replaces the landscape.

Every landscape change (a formula applied, a drawing stroke, a mixture cell or centre drag, an image
imported, a preset chosen, box or temperature changed, a scene opened, a sweep slider) becomes one
command on a ``QUndoStack``. A command holds two :class:`Moment` s, the window before and after: the
editor's own values (so the formula, grid or mixture can be edited on from there), the exact landscape
object the walkers used, the scene with its run recipes and the panels' settings. Undoing puts the
*before* moment back: opening scene 4 over an edited landscape is undone by one Ctrl+Z and the edited
landscape returns bit for bit. A drag (stroke or centre) is one command however many times the
landscape was rebuilt while it lasted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui

from ebm_explorer.core.landscapes import GaussianMixture, Landscape
from ebm_explorer.core.types import Box
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.editor_panel import EditorPanel
from ebm_explorer.ui.ports import Shell, Views
from ebm_explorer.ui.scene_actions import SceneController

__all__ = ["EditorValues", "Moment", "LandscapeHistory", "capture_editor", "restore_editor"]

_GESTURE_ID = 1201  # QUndoCommand.id() of commands that may merge (one drag, one sweep slider)


@dataclass(frozen=True)
class EditorValues:
    """What the landscape editor holds (copies): its source and the values behind each kind."""

    source: str
    preset_name: str
    formula: str
    grid_values: np.ndarray
    grid_box: Box
    mix_weights: np.ndarray
    mix_means: np.ndarray
    mix_stds: np.ndarray
    box: tuple[float, float, float, float]
    beta: float


def capture_editor(editor: Any) -> EditorValues:
    return EditorValues(editor.source, editor.preset_name, editor.formula.text(), editor.grid_values.copy(),
                        editor.grid_box, editor.mix_weights.copy(), editor.mix_means.copy(), editor.mix_stds.copy(),
                        tuple(s.value() for s in editor.box_spins), editor.beta.value())


def restore_editor(editor: Any, values: EditorValues, landscape: Landscape) -> None:
    """Put ``values`` back into the editor's fields without emitting a change (the caller hands
    ``landscape`` to the model)."""
    editor.source, editor.preset_name = values.source, values.preset_name
    editor.grid_values, editor.grid_box = values.grid_values.copy(), values.grid_box
    editor.mix_weights, editor.mix_means = values.mix_weights.copy(), values.mix_means.copy()
    editor.mix_stds = values.mix_stds.copy()
    editor._fill_table()
    editor.formula.blockSignals(True)
    editor.formula.setText(values.formula)
    editor.formula.blockSignals(False)
    editor.beta.blockSignals(True)
    editor.beta.setValue(values.beta)
    editor.beta.blockSignals(False)
    editor.set_box(Box(*values.box))
    editor.show_gallery_choice()
    editor.current = landscape
    base = getattr(landscape, "base", landscape)
    editor.centres_changed.emit(np.asarray(base.means, dtype=float).copy() if isinstance(base, GaussianMixture)
                                else np.zeros((0, 2)))


@dataclass(frozen=True)
class Moment:
    """The window at one point of the history: landscape, editor, scene and run settings."""

    landscape: Landscape
    editor: EditorValues
    scene: Any
    scene_path: Any
    scene_override: Any
    scene_base: Any
    sweep_shown: bool
    sample: Any
    train: Any
    compare_rows: tuple[Any, ...]
    mode: str
    compare: bool
    unsaved: bool
    tempered: Any = None  # the Tempering tab's settings (PT / SMC)
    generate: Any = None  # the Generate tab's (settings, all samplers)


class _Command(QtGui.QUndoCommand):
    def __init__(self, history: "LandscapeHistory", before: Moment, after: Moment, text: str,
                 gesture: Any) -> None:
        super().__init__(text)
        self.history, self.before, self.after, self.gesture = history, before, after, gesture
        self._pushed = False

    def id(self) -> int:  # noqa: A003 - Qt naming
        return _GESTURE_ID if self.gesture is not None else -1

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:  # noqa: N802 - Qt naming
        if not isinstance(other, _Command) or other.gesture != self.gesture:
            return False
        self.after = other.after  # one drag, one command
        return True

    def redo(self) -> None:
        if self._pushed:
            self.history.restore(self.after)
        self._pushed = True  # QUndoStack.push calls redo(): the change is already on screen

    def undo(self) -> None:
        self.history.restore(self.before)


class LandscapeHistory(QtCore.QObject):
    """Records landscape changes on an undo stack and restores them: through the model (landscape, run
    settings, mode, scene), the editor (its values) and the scene controller (a scene, its sweep)."""

    def __init__(self, model: AppModel, shell: Shell, editor: EditorPanel, scenes: SceneController,
                 views: Views) -> None:
        super().__init__(shell.frame)
        self.model, self.shell, self.editor, self.scenes, self.views = model, shell, editor, scenes, views
        window = shell.frame
        self.stack = QtGui.QUndoStack(self)
        self.stack.setUndoLimit(100)
        self.current: Moment | None = None
        self._restoring = False
        self._pending: tuple[str, Any] | None = None  # (label, gesture) of the change being recorded
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # after the scene or editor has finished setting everything
        self._timer.timeout.connect(self._record)
        model.landscape_changed.connect(lambda *_: self._changed(None))
        editor.landscape_changed.connect(lambda _land: self._changed(self._editor_label()))
        scenes.scene_applied.connect(lambda scene: self._changed(f"open scene “{scene.title}”"))
        self.undo_action = self.stack.createUndoAction(window, "&Undo")
        self.undo_action.setShortcuts([QtGui.QKeySequence.StandardKey.Undo])
        self.redo_action = self.stack.createRedoAction(window, "&Redo")
        self.redo_action.setShortcuts([QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")])
        edit = shell.menu("&Edit")
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        for a in (self.undo_action, self.redo_action):
            window.addAction(a)  # the keys work in presenter mode too (menu bar hidden)

    # ---- recording -------------------------------------------------------------------------
    def _editor_label(self) -> str:
        e = self.editor
        return {"preset": f"preset “{e.preset_name.replace('_', ' ')}”", "formula": "formula",
                "grid": "drawing", "gmm": "mixture edit", "image": "image import"}.get(e.source, "landscape edit")

    def _changed(self, label: str | None) -> None:
        if self._restoring:
            return
        gesture = getattr(self.editor, "gesture", None)
        # an editor's or a scene's own label wins over the model's anonymous one ("open scene" over all)
        if self._pending is None or (label is not None and not self._pending[0].startswith("open scene")):
            if label is None and self.scenes.sweeping:
                label, gesture = "temperature / weight slider", "sweep"
            self._pending = (label or "landscape change", gesture)
        self._timer.start()

    def capture(self) -> Moment:
        sc, m = self.scenes, self.model  # the run settings and a scene's own runs live in the model
        return Moment(m.landscape, capture_editor(self.editor), sc.scene, sc.path, m.scene_runs, sc.sweep_base,
                      sc.sweep_dock.isVisibleTo(self.shell.frame), m.sample, m.train, m.compare_rows, m.mode,
                      m.compare, m.unsaved, m.tempered, generate=m.generate)

    def _record(self) -> None:
        pending, self._pending = self._pending, None
        if self._restoring or self.model.landscape is None:
            return
        after = self.capture()
        before, self.current = self.current, after
        if before is None or (before.landscape is after.landscape and before.scene is after.scene):
            return  # the first landscape is where the history starts
        label, gesture = pending or ("landscape change", None)
        self.stack.push(_Command(self, before, after, label, gesture))

    def resync(self) -> None:
        """The window changed in a way that is not an undo step (a scene saved under a new title):
        the next command starts from what is on screen now."""
        if self.current is not None and self.model.landscape is not None:
            self.current = self.capture()

    # ---- restoring -------------------------------------------------------------------------
    def restore(self, m: Moment) -> None:
        """Put moment ``m`` back on screen (walkers follow; nothing is recorded meanwhile)."""
        model, sc = self.model, self.scenes
        self._timer.stop()
        self._pending = None
        self._restoring = True
        try:
            running = model.any_running
            if m.scene is not sc.scene or m.sweep_shown != sc.sweep_dock.isVisibleTo(self.shell.frame):
                self._restore_scene(m, running)
            restore_editor(self.editor, m.editor, m.landscape)
            if model.landscape is not m.landscape:
                model.set_landscape(m.landscape)
                for v in self.views.all():
                    v.show_message("computing the exact reference…")
            sc.sweep_base = m.scene_base
            model.set_unsaved(m.unsaved)
        finally:
            self._restoring = False
        self.current = m

    def _restore_scene(self, m: Moment, running: bool) -> None:
        model, sc = self.model, self.scenes
        if m.scene is not None:
            sc.apply(m.scene, start=running)
        else:
            model.set_scene(None)
            sc.leave_scene()
        sc.path = m.scene_path  # the panels follow the model's settings
        model.set_sample_settings(m.sample, edited=False)
        model.set_train_settings(m.train, edited=False)
        if m.tempered is not None:
            model.set_tempered_settings(m.tempered, edited=False)
        if m.generate is not None:
            model.set_generate_state(m.generate, edited=False)
        model.set_compare_rows(m.compare_rows, edited=False)
        model.set_mode(m.mode)
        model.set_compare(m.compare)
        model.set_scene_runs(m.scene_override)
        sc.sweep_dock.setVisible(m.sweep_shown)
        self.shell.hide_error()
        model.rebuild_runs(running)
