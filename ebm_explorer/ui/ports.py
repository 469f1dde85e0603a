"""What a controller may use of the window: small typed interfaces instead of the main window.

Every controller gets the :class:`~ebm_explorer.ui.app_model.AppModel` (the state it changes and
observes) and one of these values naming the few widgets and callbacks it really needs. :class:`Shell`
is the frame they share: where their menus, docks, actions and banners go (a plain ``QMainWindow``,
not ``MainWindow``: nothing else of the window is reachable through it) and how to tell the user
something. Tests build them from plain widgets (``tests/ui/test_controller_ports.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6 import QtWidgets

from ebm_explorer.ui.banners import BannerOverlay
from ebm_explorer.ui.landscape_view import LandscapeView

__all__ = ["Shell", "Views", "menu"]


def menu(frame: QtWidgets.QMainWindow, title: str) -> QtWidgets.QMenu:
    """The frame's top-level menu called ``title`` (created on first use, shared by every controller)."""
    bar = frame.menuBar()
    plain = title.replace("&", "")
    for action in bar.actions():
        m = action.menu()
        if m is not None and action.text().replace("&", "") == plain:
            return m
    return bar.addMenu(title)


@dataclass(frozen=True)
class Shell:
    """The window's frame as a controller sees it."""

    frame: QtWidgets.QMainWindow  # menus, docks, window actions, dialog parent, status bar
    column: QtWidgets.QBoxLayout  # the central column: bars (presenter title, restore offer) go on top
    banners: BannerOverlay  # keyed banners floating over the landscape (a problem each)
    show_error: Callable[[str], None]
    hide_error: Callable[[], None]

    def status(self, text: str, ms: int = 5000) -> None:
        """A transient message in the status bar."""
        self.frame.statusBar().showMessage(text, ms)

    def add_bar(self, widget: QtWidgets.QWidget) -> None:
        """Put a bar (presenter title, restore offer) at the top of the central column."""
        self.column.insertWidget(0, widget)

    def menu(self, title: str) -> QtWidgets.QMenu:
        return menu(self.frame, title)


@dataclass(frozen=True)
class Views:
    """The landscape views: the single view and the compare grid's views (run i in ``compare[i]``)."""

    main: LandscapeView
    compare: tuple[LandscapeView, ...]

    def all(self) -> list[LandscapeView]:
        return [self.main, *self.compare]
