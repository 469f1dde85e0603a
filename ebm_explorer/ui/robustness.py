"""What the window shows when something is wrong: degenerate landscapes, blown-up walkers, fallbacks.

:func:`~ebm_explorer.core.verdict.explain_landscape` (core, shared with the command line) reads the
exact reference and says what is wrong and what the app does: nothing (a fine landscape), *warn*
(mass at the box edge: walkers may leave, metrics count the inside), *wall* (grid landscapes: a
quadratic wall outside the box confines the walkers; the box edge is drawn as that wall) or *refuse*
(not normalisable in the box, NaN/-inf regions: runs stay paused until the landscape is fixed).
:class:`RobustnessController` puts that on screen: an amber banner over the top of the plot (one,
never two, per problem; a box that cuts off under 1 % of the mass gets a note in the view's corner
instead), an orange frame for the wall, magenta crosses for walkers held by the blow-up rule, and a
status-bar counter with the rule's name.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.reference import beyond_percent
from ebm_explorer.core.verdict import NON_NORMALISABLE_OUTSIDE, LandscapeVerdict, explain_landscape
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.ports import Shell, Views
from ebm_explorer.workers.messages import ReferenceReady, RunSnapshot, RunState

__all__ = ["LandscapeVerdict", "explain_landscape", "RobustnessController", "NON_NORMALISABLE_OUTSIDE"]

#: a box that cuts off less than this share of the mass (percent) gets a corner note, not a banner
QUIET_MASS_PERCENT = 1.0
WALL_COLOUR = (255, 150, 30)
FLAG_COLOUR = (255, 0, 255)


def quiet_mass_note(reference: Any) -> str:
    """A one-line note when the only warning is a box that cuts off less than :data:`QUIET_MASS_PERCENT`
    of the mass (edge ring plus the estimate beyond it); empty when a banner is deserved."""
    if not reference.warnings or not all(w.startswith("box cuts off mass") for w in reference.warnings):
        return ""
    beyond = beyond_percent(float(reference.outside_mass))
    cut = float(reference.edge_mass) * (100.0 - beyond) + beyond
    if not cut < QUIET_MASS_PERCENT:
        return ""
    return f"{cut:.2g}% of the mass is at or beyond the box edge (metrics compare the inside)"


def _rect(box: Any) -> tuple[list[float], list[float]]:
    return ([box.xmin, box.xmax, box.xmax, box.xmin, box.xmin], [box.ymin, box.ymin, box.ymax, box.ymax, box.ymin])


class RobustnessController(QtCore.QObject):
    """The banner, wall frame, blown-up markers and status counter: follows the model's reference and
    snapshots; draws only its own items (in ``views``) and pauses runs through the model."""

    def __init__(self, model: AppModel, shell: Shell, views: Views) -> None:
        super().__init__(shell.frame)
        self.model = model
        self.views = views
        self.verdict = LandscapeVerdict("ok", "", False)
        self.refused: str | None = None  # why runs are refused, or None
        self.notices: list[str] = []
        self.quiet_note = ""  # a small box-edge loss shown in the view's corner instead of a banner
        self.shell = shell
        self.banner = shell.banners.label("landscape", level="warn")  # an overlay: the plot never moves
        self.blowup_label = QtWidgets.QLabel("")
        self.blowup_label.setToolTip("Walkers whose position, energy or gradient became NaN/inf or that diverged "
                                     "far beyond the box, and the rule applied to them (Sampler tab)")
        shell.frame.statusBar().addPermanentWidget(self.blowup_label)
        self.walls: list[pg.PlotDataItem] = []
        self.flags: list[pg.ScatterPlotItem] = []
        for view in views.all():
            wall = pg.PlotDataItem(pen=pg.mkPen(WALL_COLOUR, width=4, style=QtCore.Qt.PenStyle.DashLine))
            wall.setZValue(50)
            wall.setVisible(False)
            flag = pg.ScatterPlotItem(symbol="x", size=10, pen=pg.mkPen(FLAG_COLOUR, width=2), brush=None)
            flag.setZValue(60)
            view.plot.addItem(wall, ignoreBounds=True)  # never changes the view's range
            view.plot.addItem(flag, ignoreBounds=True)
            self.walls.append(wall)
            self.flags.append(flag)
        m = model
        m.reference_ready.connect(self._on_reference)
        m.landscape_changed.connect(self._on_landscape_changed)
        m.reference_failed.connect(self._on_reference_failed)
        m.snapshot.connect(self._on_snapshot)
        m.run_state.connect(self._on_run_state)
        m.runs_rebuilt.connect(lambda _specs: self._clear_flags())
        self._counts: dict[int, tuple[int, int, str]] = {}
        self._reset_shown: dict[int, int] = {}  # run -> serial of the reset note already shown
        self.last_reset_note = ""
        self._update_label()

    # ---- landscape -----------------------------------------------------------------------
    def _on_reference(self, ref: ReferenceReady) -> None:
        self.refused = None
        self.verdict = explain_landscape(ref.reference, self.model.landscape)
        xs, ys = _rect(ref.reference.box)
        for wall in self.walls:
            wall.setData(xs, ys)
            wall.setVisible(self.verdict.wall)
        if self.verdict.action == "refuse":
            self._refuse(self.verdict.message)
        self.quiet_note = quiet_mass_note(ref.reference) if self.verdict.action == "warn" else ""
        if self.quiet_note:  # a sliver of mass beyond the box: a note in the corner, not an alarm
            self.verdict = LandscapeVerdict("ok", "", self.verdict.wall)
        self.views.main.show_message(self.quiet_note)
        self._show_banner()

    def _on_landscape_changed(self, *_args: Any) -> None:
        """A new landscape: the red banner of an earlier failure is stale, and a run stopped by an error
        restarts on the new landscape (if the error comes back, so does its banner)."""
        m = self.model
        self.shell.hide_error()
        for i, state in enumerate(m.states):
            if state == "failed" and i < len(m.workers):
                m.workers[i].reset()

    def _on_reference_failed(self, message: str) -> None:
        self._refuse(f"The landscape cannot be normalised: {message}. Runs are refused until it is fixed "
                     "(NaN/-inf regions: change the formula or the box).")
        self._show_banner()

    def _refuse(self, why: str) -> None:
        self.refused = why
        self.model.pause()

    def _on_run_state(self, state: RunState) -> None:
        if self.refused is not None and state.state == "running":
            self.model.pause()

    def _show_banner(self) -> None:
        parts = [self.refused] if self.refused else ([self.verdict.message] if self.verdict.message else [])
        parts += self.notices
        self.shell.banners.show_text("landscape", "⚠ " + "\n⚠ ".join(parts) if parts else "", level="warn")

    def add_notice(self, text: str) -> None:
        """Show a notice (e.g. a device fallback) until the runs are rebuilt."""
        if text and text not in self.notices:
            self.notices.append(text)
            self._show_banner()

    # ---- walkers -------------------------------------------------------------------------
    def _clear_flags(self) -> None:
        self._counts.clear()
        self._reset_shown.clear()
        self.notices.clear()
        for f in self.flags:
            f.setData([], [])
        self._update_label()
        self._show_banner()

    def _on_snapshot(self, snap: RunSnapshot) -> None:
        i = self.model.index_of(snap.run_id)
        if i is None:
            return
        if snap.notice:
            self.add_notice(f"Run {i + 1}: {snap.notice}")
        if snap.reset_note and self._reset_shown.get(i) != snap.reset_serial:
            self._reset_shown[i] = snap.reset_serial  # each landscape change's reset is said once
            self.last_reset_note = f"Run {i + 1}: {snap.reset_note}"
            if self.refused is None:  # a refused landscape's reason stays in the status bar
                self.shell.status(self.last_reset_note, 12000)
        self._counts[i] = (snap.n_flagged, snap.n_blowup_events, snap.blowup_rule)
        pts = snap.walkers.flagged
        targets = [0] if i == 0 else []
        if i < len(self.views.compare):
            targets.append(1 + i)
        for t in targets:
            if pts is None or len(pts) == 0:
                self.flags[t].setData([], [])
            else:
                self.flags[t].setData(pts[:, 0], pts[:, 1])
        self._update_label()

    def _update_label(self) -> None:
        frozen = sum(c[0] for c in self._counts.values())
        events = sum(c[1] for c in self._counts.values())
        rules = sorted({c[2] for c in self._counts.values() if c[2]})
        rule = "/".join(rules) if rules else "freeze"
        text = f"blow-ups: {events:,} (rule: {rule}"
        text += f", {frozen:,} frozen)" if "freeze" in rules or not rules else ")"
        self.blowup_label.setText(text)
        self.blowup_label.setStyleSheet("color: #ff40ff; font-weight: bold" if events else "")

    @property
    def counts(self) -> tuple[int, int]:
        """(walkers frozen now, blow-up events since the reset), summed over the runs."""
        return sum(c[0] for c in self._counts.values()), sum(c[1] for c in self._counts.values())
