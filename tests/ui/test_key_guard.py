"""Plain-key shortcuts never fire while a field or an editable table cell has the focus."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtTest import QTest

from ebm_explorer.ui.key_guard import EditorKeyGuard, editor_has_focus


def _window(qtbot):
    w = QtWidgets.QMainWindow()
    page = QtWidgets.QWidget()
    lay = QtWidgets.QVBoxLayout(page)
    table = QtWidgets.QTableWidget(2, 2)
    for r in range(2):
        for c in range(2):
            table.setItem(r, c, QtWidgets.QTableWidgetItem("1.0"))
    gallery = QtWidgets.QListWidget()
    item = QtWidgets.QListWidgetItem("gmm")
    gallery.addItem(item)
    lay.addWidget(table)
    lay.addWidget(gallery)
    w.setCentralWidget(page)
    fired: list[int] = []
    action = QtGui.QAction("scene 4", w)
    w._keep = action
    action.setShortcut(QtGui.QKeySequence("4"))
    action.triggered.connect(lambda: fired.append(4))
    w.addAction(action)
    EditorKeyGuard(w)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitActive(w)  # window shortcuts act in the active window only
    return w, table, gallery, fired


def test_key_4_in_a_table_cell_edits_the_cell_not_the_scene(qtbot):
    w, table, _gallery, fired = _window(qtbot)
    table.setFocus()
    table.setCurrentCell(0, 0)
    assert editor_has_focus(table)
    QTest.keyClick(table, QtCore.Qt.Key.Key_4)
    assert fired == []
    assert table.state() == QtWidgets.QAbstractItemView.State.EditingState  # the key went into the cell


def test_key_4_elsewhere_still_triggers_the_shortcut(qtbot):
    w, _table, gallery, fired = _window(qtbot)
    gallery.setFocus()
    gallery.setCurrentRow(0)
    QtWidgets.QApplication.processEvents()
    assert not editor_has_focus(gallery)  # the preset gallery is not an editor
    QTest.keyClick(gallery, QtCore.Qt.Key.Key_4)
    assert fired == [4]
