"""Which live panels show, and how they are laid out: follows the app model's display options.

``DisplayOptions.panels`` (scene panel names) and ``one_column`` (presenter mode: one column of wide
plots, readable from the back of a room) live in the model; a scene, the View > Live panels menu and
presenter mode change them there, and this layout puts the metrics plots in place, two per row.
"""

from __future__ import annotations

from typing import Iterable

from PySide6 import QtCore, QtGui

from ebm_explorer.ui.app_model import AppModel, DisplayOptions
from ebm_explorer.ui.metrics_panel import MetricsPanel
from ebm_explorer.ui.panel_truth import panels_for_kinds
from ebm_explorer.ui.ports import Shell

__all__ = ["LivePanelLayout", "METRIC_PLOTS", "live_panels"]

#: scene panel name -> the metrics panel's plots that show it
METRIC_PLOTS = {"mean_energy": ("energy",), "acceptance": ("acceptance",), "divergence": ("divergence",),
                "ess": ("ess",), "mode_weights": ("modes_bar", "modes_time"), "log_z": ("logz",),
                "cross_entropy": ("cross_entropy",)}
_PLOT_ROW_HEIGHT = 150
_PRESENTER_ROW_HEIGHT = 100  # one column in presenter mode: the plots fit without a scroll bar


def live_panels(names: Iterable[str]) -> tuple[str, ...]:
    """The live panels to show for these scene panel names (``fisher_kl`` lives in the sweep dock);
    none at all means every one."""
    return tuple(n for n in names if n in METRIC_PLOTS) or tuple(METRIC_PLOTS)


class LivePanelLayout(QtCore.QObject):
    """View > Live panels, and the metrics plots laid out as the model's display options say."""

    def __init__(self, model: AppModel, shell: Shell, metrics: MetricsPanel) -> None:
        super().__init__(shell.frame)
        self.model = model
        self.metrics = metrics
        panels_menu = shell.menu("&View").addMenu("Live panels")
        self.panel_actions: dict[str, QtGui.QAction] = {}
        for name in METRIC_PLOTS:
            a = QtGui.QAction(name.replace("_", " "), shell.frame)
            a.setCheckable(True)
            a.toggled.connect(lambda _on: self.set_panels(
                tuple(n for n, act in self.panel_actions.items() if act.isChecked())))
            panels_menu.addAction(a)
            self.panel_actions[name] = a
        d = model.display
        self._shown: tuple[object, ...] = (d.panels, d.one_column, ())  # the metrics panel starts with every plot
        self._check(d.panels)
        model.display_changed.connect(self._on_display)
        model.runs_rebuilt.connect(lambda _specs: self._on_display(model.display))  # training-only panels

    def set_panels(self, names: Iterable[str]) -> None:
        """Show only these live panels (scene panel names)."""
        self.model.set_display(panels=live_panels(names))

    def _on_display(self, d: DisplayOptions) -> None:
        kinds = tuple(s.kind for s in self.model.specs)
        if (d.panels, d.one_column, kinds) == self._shown:
            return
        self._shown = (d.panels, d.one_column, kinds)
        panels = panels_for_kinds(d.panels, list(kinds))
        self._check(panels)
        m = self.metrics
        ci = m.graphics.ci
        for plot in m.plots.values():
            if plot in ci.items:
                ci.removeItem(plot)
        keys = [k for n in live_panels(panels) for k in METRIC_PLOTS[n]]
        cols = 1 if len(keys) <= 3 or d.one_column else 2  # full width: readable from the back of a room
        for i, key in enumerate(keys):
            ci.addItem(m.plots[key], row=i // cols, col=i % cols)
        row = _PRESENTER_ROW_HEIGHT if d.one_column else _PLOT_ROW_HEIGHT
        m.graphics.setMinimumHeight(row * ((len(keys) + cols - 1) // cols))
        m.mark_dirty()

    def _check(self, panels: tuple[str, ...]) -> None:
        for n, a in self.panel_actions.items():
            a.blockSignals(True)
            a.setChecked(n in panels)
            a.blockSignals(False)

    def visible_plots(self) -> list[str]:
        """Keys of the metrics plots now in the layout (tests, export)."""
        ci = self.metrics.graphics.ci
        return [k for k, p in self.metrics.plots.items() if p in ci.items]
