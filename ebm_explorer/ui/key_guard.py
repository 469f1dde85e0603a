"""Plain-key shortcuts (scene keys 1-5, Space, N, R) act only when no editor has the focus.

Qt offers a key to the window's shortcuts before the focused widget sees it; line edits and spin boxes
claim printable keys for themselves, but a table does not: with a mixture-table cell selected, "4"
loaded scene 4 and the edited landscape was gone. This filter claims the key for the focused widget
whenever that widget edits text or an editable table cell, so typing goes where the user types.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["EditorKeyGuard", "editor_has_focus"]

_TEXT_EDITORS = (QtWidgets.QLineEdit, QtWidgets.QAbstractSpinBox, QtWidgets.QTextEdit, QtWidgets.QPlainTextEdit)
_MODIFIERS = QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.AltModifier \
    | QtCore.Qt.KeyboardModifier.MetaModifier


def editor_has_focus(widget: QtWidgets.QWidget | None = None) -> bool:
    """True when ``widget`` (default: the focused widget) takes typed text: a field or an editable cell."""
    w = widget if widget is not None else QtWidgets.QApplication.focusWidget()
    if w is None:
        return False
    if isinstance(w, _TEXT_EDITORS) or (isinstance(w, QtWidgets.QComboBox) and w.isEditable()):
        return True
    if isinstance(w, QtWidgets.QAbstractItemView):
        index = w.currentIndex()
        triggers = w.editTriggers() & QtWidgets.QAbstractItemView.EditTrigger.AnyKeyPressed
        return bool(index.isValid() and triggers and index.flags() & QtCore.Qt.ItemFlag.ItemIsEditable)
    return False


class EditorKeyGuard(QtCore.QObject):
    """Application-wide event filter (installed by the main window; removed with it)."""

    def __init__(self, parent: QtCore.QObject) -> None:
        super().__init__(parent)
        QtWidgets.QApplication.instance().installEventFilter(self)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and isinstance(event, QtGui.QKeyEvent):
            if not event.modifiers() & _MODIFIERS and event.text().isprintable() and event.text() \
                    and isinstance(obj, QtWidgets.QWidget) and editor_has_focus(obj):
                event.accept()  # the key goes to the editor as a key press, not to a shortcut
        return False
