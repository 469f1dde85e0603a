"""What the presenter/theme restyle leaves out of the plots' own axes (issue 12, items 4 and 14).

The colour bars' ticks and title, the landscape's y axis width (its label must not overprint the 0
tick), the marginals' value axes (too narrow for large tick labels: hidden in presenter mode), the
on-canvas legends, the live panels' floor labels, change marks and legends, the Fisher/KL legend and
its w marker: all follow the theme's foreground and, in presenter mode, the large fonts.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

__all__ = ["restyle_extras", "MARK_COLOURS"]

#: change-mark colour per theme (amber on dark, a darker amber that reads on white)
MARK_COLOURS = {"dark": (255, 210, 90), "light": (150, 95, 0)}


def _axis(ax: pg.AxisItem, fg: str, font: QtGui.QFont) -> None:
    ax.setPen(fg)
    ax.setTextPen(fg)
    ax.setTickFont(font)
    ax.label.setFont(font)
    ax.label.setDefaultTextColor(QtGui.QColor(fg))
    ax.labelStyle = {**ax.labelStyle, "color": fg}


def _legend(legend: pg.LegendItem | None, fg: str, pt: int) -> None:
    if legend is None:
        return
    for _sample, label in legend.items:
        label.setText(label.text, color=fg, size=f"{pt}pt")


def restyle_extras(views: list[Any], metrics: Any, fisher: Any, theme: str, fg: str, big: bool,
                   tick_pt: int) -> None:
    """Apply the theme's foreground (and presenter sizes when ``big``) to the items listed above."""
    font = QtGui.QFont()
    font.setPointSize(tick_pt if big else 9)
    fm = QtGui.QFontMetrics(font)
    for v in views:
        _axis(v.colorbar.axis, fg, font)
        v.colorbar.axis.setWidth(fm.horizontalAdvance("0.00") + fm.height() + 10)  # ticks and the rotated title
        left = v.plot.getAxis("left")
        left.setWidth(fm.horizontalAdvance("-10") + fm.height() + 8)  # the "y" label clear of the tick labels
        for marg, name in ((v.top, "left"), (v.right, "bottom")):
            if marg is not None:  # a density's values: too narrow for large labels, the shape is what counts
                marg.getAxis(name).setStyle(showValues=not big)
        v.legend.setAttr("color", fg)
        v.legend.setAttr("size", f"{tick_pt - 2}pt" if big else "8pt")
        v.legend.setText(v.legend.text)
        v.refit()  # wider axes: the layout's padding is measured again
    m = metrics
    for label in m.floor_labels.values():
        label.setColor(fg)
    for note in m.notes.values():
        note.setColor(fg)
    mark = MARK_COLOURS.get(theme, MARK_COLOURS["dark"])
    m.mark_colour = mark
    for lines in m._marks.values():
        for line in lines:
            line.setPen(pg.mkPen(mark, width=1.5, style=QtCore.Qt.PenStyle.DashLine))
            line.label.setColor(mark)
    for key in ("logz", "cross_entropy"):
        _legend(m.plots[key].legend, fg, tick_pt - 4 if big else 7)
    fk = fisher
    _legend(fk.legend, fg, tick_pt - 2 if big else 9)
    fk.marker.setPen(pg.mkPen(fg, width=3 if big else 1.5, style=QtCore.Qt.PenStyle.DashLine))
