"""Banners drawn *over* the top of the landscape area, one per problem, never part of the layout.

A banner inside the layout pushes the plot down when it appears: a drawing stroke or a centre drag
then lands 60 px away from where the mouse is. Here the banners float over the landscape stack (the
mouse passes through them to the plot underneath) and the plot never moves. Each banner is a label
with a key (``error``, ``landscape``, ...); setting its text again replaces it, so a problem is shown
once, and hiding it when its cause goes clears it.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

__all__ = ["BannerOverlay", "LEVEL_STYLES"]

#: background colours per level (slightly translucent: the plot stays visible behind a banner)
LEVEL_STYLES = {"error": "rgba(122, 16, 32, 230)", "warn": "rgba(138, 90, 0, 230)", "info": "rgba(29, 79, 122, 230)"}
_MARGIN = 6


class BannerOverlay(QtWidgets.QWidget):
    """Keyed banners floating over the top edge of ``host``; mouse events go through to the host."""

    def __init__(self, host: QtWidgets.QWidget) -> None:
        super().__init__(host)
        self.setObjectName("banner_overlay")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._labels: dict[str, QtWidgets.QLabel] = {}
        self.host = host
        self._timer = QtCore.QTimer(self)  # owned: never fires after the overlay is gone
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._place)
        host.installEventFilter(self)
        if isinstance(host, QtWidgets.QStackedWidget):  # another page shown: stay above it
            host.currentChanged.connect(lambda _i: self._place())
        self._place()

    def label(self, key: str, level: str = "error") -> QtWidgets.QLabel:
        """The banner for ``key`` (created hidden on first use); show it with ``setVisible``/:meth:`show_text`."""
        if key not in self._labels:
            lab = QtWidgets.QLabel("")
            lab.setObjectName(f"banner_{key}")
            lab.setWordWrap(True)
            lab.setStyleSheet(f"QLabel {{ background: {LEVEL_STYLES[level]}; color: white; padding: 6px; "
                              "border-radius: 4px; }")
            lab.setVisible(False)
            lab.installEventFilter(self)  # shown / hidden / new text: the overlay takes its new height
            self._layout.addWidget(lab)
            self._labels[key] = lab
        return self._labels[key]

    def show_text(self, key: str, text: str, level: str = "error") -> None:
        """Show ``text`` as the banner ``key`` (an empty text hides it)."""
        lab = self.label(key, level)
        if text != lab.text():
            lab.setText(text)
            lab.setToolTip(text)
        lab.setVisible(bool(text))
        self._place()

    def clear(self, key: str) -> None:
        if key in self._labels:
            self.show_text(key, "")

    def visible_texts(self) -> dict[str, str]:
        """``key -> text`` of the banners on screen now (tests, probe)."""
        return {k: lab.text() for k, lab in self._labels.items() if lab.isVisibleTo(self)}

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() in (QtCore.QEvent.Type.Resize, QtCore.QEvent.Type.Show, QtCore.QEvent.Type.Hide,
                            QtCore.QEvent.Type.LayoutRequest):
            self._timer.start()
        return False

    def _place(self) -> None:
        """Across the host's top edge, as tall as the visible banners; always above the plot."""
        width = max(60, self.host.width() - 2 * _MARGIN)
        shown = [lab for lab in self._labels.values() if lab.isVisibleTo(self)]
        height = sum(lab.heightForWidth(width) if lab.hasHeightForWidth() else lab.sizeHint().height()
                     for lab in shown) + self._layout.spacing() * max(0, len(shown) - 1)
        self.setGeometry(_MARGIN, _MARGIN, width, max(0, height))
        self.setVisible(bool(shown))
        self.raise_()
