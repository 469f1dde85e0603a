"""Figures with matplotlib's Agg canvas (no Qt, no pyplot global state): PNG at a chosen dpi, SVG.

* :func:`landscape_figure` draws the exact density (or energy) of a grid reference with walkers and
  optional closed curves (e.g. the ULA covariance ellipses); :class:`LandscapeAnimator` keeps that
  figure and moves the walkers, returning each frame as an RGB array for :class:`Recorder`.
* :func:`metrics_figure` draws time series of several runs in shared panels, exact values dashed.
* :func:`save_figure` writes any figure atomically, the format taken from the suffix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ebm_explorer.core.atomic import atomic_path
from ebm_explorer.core.errors import UserInputError

__all__ = ["FIGURE_FORMATS", "save_figure", "figure_to_rgb", "landscape_figure", "LandscapeAnimator",
           "metrics_figure", "curves_figure"]

FIGURE_FORMATS = ("png", "svg", "pdf")
RUN_COLOURS = ("#e6550d", "#3182bd", "#31a354", "#756bb1")
#: at most this many walkers are drawn as points (an evenly strided subset, no random draw)
MAX_DRAWN_WALKERS = 5000


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: float = 150) -> Path:
    """Write ``fig`` to ``path`` (PNG, SVG or PDF by suffix) atomically; ``dpi`` sets the PNG resolution."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise UserInputError(f"{target}: figures can be saved as {', '.join(FIGURE_FORMATS)}, not {fmt or 'no suffix'}")
    if not (isinstance(dpi, (int, float)) and 10 <= dpi <= 1200):
        raise UserInputError(f"dpi must be in [10, 1200], got {dpi!r}")
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    try:
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
    except OSError as exc:
        raise UserInputError(f"{target}: cannot write figure: {exc.strerror or exc}") from None
    return target


def figure_to_rgb(fig: Figure) -> np.ndarray:
    """The figure rendered by Agg as an ``(H, W, 3)`` uint8 array."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


def _stride(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    step = max(1, len(pts) // MAX_DRAWN_WALKERS)
    return pts[::step]


def landscape_figure(
    ref,
    positions: np.ndarray | None = None,
    *,
    show: str = "density",
    title: str = "",
    curves: Mapping[str, np.ndarray] | None = None,
    groups: Mapping[str, np.ndarray] | None = None,
    size: tuple[float, float] = (5.0, 4.2),
) -> Figure:
    """The exact density (or energy) of ``ref`` (a GridReference) with walkers and labelled closed curves.

    ``positions`` are drawn white; ``groups`` (label -> ``(N, 2)``, e.g. the final walkers of each
    run in compare mode) each in its run colour.
    """
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    b = ref.box
    if show == "energy":
        img = np.where(np.isfinite(ref.energy), ref.energy, np.nan)
        label = "energy U"
    else:
        img = ref.density
        label = "density exp(-U)/Z"
    im = ax.imshow(img, origin="lower", extent=(b.xmin, b.xmax, b.ymin, b.ymax), cmap="viridis",
                   aspect="auto", interpolation="bilinear")
    fig.colorbar(im, ax=ax, label=label, shrink=0.85)
    for i, (name, pts) in enumerate((curves or {}).items()):
        p = np.asarray(pts)
        ax.plot(p[:, 0], p[:, 1], lw=2, color=("white", "#ff7f0e", "#e377c2", "#17becf")[i % 4],
                ls="--" if i == 0 else "-", label=name)
    for i, (name, pts) in enumerate((groups or {}).items()):
        p = _stride(pts)
        ax.scatter(p[:, 0], p[:, 1], s=3, color=RUN_COLOURS[i % len(RUN_COLOURS)], alpha=0.6, label=name)
    if curves or groups:
        ax.legend(loc="upper right", fontsize="small", framealpha=0.7, markerscale=3)
    ax.scatter([], [], s=4, c="white", edgecolors="black", linewidths=0.2, alpha=0.8, label="_walkers")
    if positions is not None:
        pts = _stride(positions)
        ax.collections[-1].set_offsets(pts)
    ax.set_xlim(b.xmin, b.xmax)
    ax.set_ylim(b.ymin, b.ymax)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    return fig


class LandscapeAnimator:
    """One landscape figure, created once; :meth:`frame` moves the walkers and returns the RGB image."""

    def __init__(self, ref, *, show: str = "density", title: str = "", curves: Mapping[str, np.ndarray] | None = None,
                 size: tuple[float, float] = (5.0, 4.2), dpi: float = 80) -> None:
        self.figure = landscape_figure(ref, None, show=show, title=title, curves=curves, size=size)
        self.figure.set_dpi(dpi)
        ax = self.figure.axes[0]
        self._points = ax.collections[-1]
        self._text = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", color="white", fontsize=9)
        figure_to_rgb(self.figure)  # lay out once (constrained layout is the slow part), then freeze it
        self.figure.set_layout_engine("none")

    def frame(self, positions: np.ndarray, label: str = "") -> np.ndarray:
        """The figure with walkers at ``positions`` ``(N, 2)`` and ``label`` in the corner, as RGB."""
        self._points.set_offsets(_stride(positions))
        self._text.set_text(label)
        return figure_to_rgb(self.figure)


def metrics_figure(
    runs: Mapping[str, Mapping[str, np.ndarray]],
    panels: Sequence[tuple[str, Sequence[str], str | None]],
    *,
    x: str = "step",
    title: str = "",
) -> Figure:
    """Time series of several runs in shared panels.

    ``runs``: label -> metric series (each has the ``x`` column). ``panels``: ``(panel title, series
    names, exact series name or None)``; each run draws its series in its colour, the exact series
    dashed in black. Series a run does not have are skipped.
    """
    n = max(1, len(panels))
    cols = min(n, 2)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(5.0 * cols, 2.8 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (panel, names, exact) in zip(axes, panels):
        for i, (label, series) in enumerate(runs.items()):
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            xs = np.asarray(series[x]) if x in series else None
            for j, name in enumerate(names):
                if xs is None or name not in series:
                    continue
                ax.plot(xs, series[name], color=colour, lw=1.5, ls=("-", ":", "-.", (0, (5, 1)))[j % 4],
                        label=f"{label}" if len(names) == 1 else f"{label}: {name}")
            if exact and xs is not None and exact in series and i == 0:
                ax.plot(xs, series[exact], color="black", lw=1.2, ls="--", label="exact")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(x)
        if ax.lines:
            ax.legend(fontsize="x-small")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


def curves_figure(x: np.ndarray, curves: Mapping[str, np.ndarray], *, xlabel: str, ylabel: str = "",
                  title: str = "", logy: bool = False) -> Figure:
    """Several named curves against ``x`` on one axis (e.g. KL and Fisher against a mode weight)."""
    fig = Figure(figsize=(5.5, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (name, y) in enumerate(curves.items()):
        ax.plot(x, y, lw=2, color=RUN_COLOURS[i % len(RUN_COLOURS)], label=name, marker="o", ms=3)
    if logy:
        ax.set_yscale("symlog", linthresh=1e-6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig
