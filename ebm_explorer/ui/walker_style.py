"""How walkers look on the landscape, so that they never hide it (issue 12, item 13).

Few walkers are drawn as large, nearly opaque points; many as small translucent ones, so that the
density and contours stay visible under a crowd (:func:`marker_look`). Above the points limit the
walkers become a density image and the exact contours are drawn over it in a colour that stands out
on that image (:data:`CONTOUR_OVER_WALKERS`). The on-canvas legend (:func:`canvas_legend`) names what
is drawn: walkers or data vs negative samples, the selected walker, its proposal and HMC path.
"""

from __future__ import annotations

import html
import math

__all__ = ["marker_look", "canvas_legend", "CONTOUR_OVER_WALKERS", "CONTOUR_OVER_DENSITY"]

#: exact-density contours over the walker-density image (cyan on inferno) and over the exact density
CONTOUR_OVER_WALKERS = (120, 230, 255, 230)
CONTOUR_OVER_DENSITY = (255, 255, 255, 120)


def marker_look(n: int) -> tuple[float, int]:
    """``(size scale, alpha 0-255)`` of a walker point when ``n`` are drawn.

    10 walkers: 2.3x the base size, opaque; 100: 1.8x, alpha 204; 2,000: 1.15x, alpha 121;
    3,000: 1.06x, alpha 110 (every walker still visible, the landscape through the crowd).
    """
    decades = math.log10(max(int(n), 1))
    scale = min(max(2.8 - 0.5 * decades, 1.0), 2.5)
    alpha = int(round(min(max(255 * (1.3 - 0.25 * decades), 90), 255)))
    return scale, alpha


def _swatch(colour: str, text: str, glyph: str = "&#9679;") -> str:
    return f'<span style="color:{colour}">{glyph}</span>&nbsp;{html.escape(text)}'


def canvas_legend(training: bool, many: bool, n: int, walker_colour: str) -> str:
    """Rich text naming what the view draws now (two short lines, under the plot)."""
    if training:
        first = [_swatch("#ffffff", "data"),
                 _swatch("#fb8500", f"negative samples ({n:,} walkers)" if not many else
                         f"negative samples: density of {n:,} walkers", "&#9632;" if many else "&#9679;")]
    elif many:
        first = [_swatch("#ffb000", f"density of {n:,} walkers", "&#9632;"),
                 _swatch("rgb(120,230,255)", "exact contours", "&#8212;")]
    else:
        first = [_swatch(walker_colour, f"{n:,} walkers")]
    first.append(_swatch("#ffffff", "selected walker", "&#9675;"))
    second = [_swatch("#38b000", "its proposal: accepted", "&#8212;"), _swatch("#e63946", "rejected", "&#8212;"),
              _swatch("#00f5d4", "HMC path", "&#8212;")]
    return "&nbsp;&nbsp;".join(first) + "<br>" + "&nbsp;&nbsp;".join(second)
