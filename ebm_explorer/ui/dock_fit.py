"""The control dock is as wide as its widest page needs: every tab label whole, every combo showing its
full text, no horizontal scroll bar (the pages scroll down only). A narrower dock used to clip "Con…",
hide the Display tab behind scroll arrows and cut the combo texts."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

__all__ = ["fit_controls"]


def fit_controls(tabs: QtWidgets.QTabWidget) -> None:
    """Make ``tabs`` (pages wrapped in scroll areas) ask for the width its contents need."""
    for t in (tabs, *tabs.findChildren(QtWidgets.QTabWidget)):
        t.setUsesScrollButtons(False)  # then the tab bar's minimum width holds every tab
        t.tabBar().setElideMode(QtCore.Qt.TextElideMode.ElideNone)
    for combo in tabs.findChildren(QtWidgets.QComboBox):
        combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
    for i in range(tabs.count()):
        scroll = tabs.widget(i)
        if not isinstance(scroll, QtWidgets.QScrollArea) or scroll.widget() is None:
            continue
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        need = scroll.widget().minimumSizeHint().width()
        bar = scroll.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        scroll.setMinimumWidth(need + bar + 2 * scroll.frameWidth())
