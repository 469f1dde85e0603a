"""The Generate mode in the window: its settings tab, its page in the central view, the toolbar's mode entry,
and the wiring from the app model's generation snapshots to the page.

In Generate mode the runs are generation runs (``GenerateSettings``, from the Generate tab or a scene);
the central view shows :class:`GenerateView` and the live-panels dock (sampler and training metrics) is
hidden, as its plots have nothing to show for a generation run. Leaving the mode puts both back. The
Generate tab takes the Compare tab's place in this mode only (runs side by side are the tab's "All three
samplers"), so the dock keeps its width: every tab label whole at 1280 pixels.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.run_settings import GenerateSettings, RunSpec
from ebm_explorer.ui.dock_fit import fit_controls
from ebm_explorer.ui.generate_panel import GeneratePanel
from ebm_explorer.ui.generate_view import GenerateView
from ebm_explorer.workers.generate_messages import GenerateSnapshot

__all__ = ["GenerateMode"]


class GenerateMode(QtCore.QObject):
    """Owns the Generate tab and page of one main window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.panel = GeneratePanel(GenerateSettings())
        self.view = GenerateView()
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.panel)
        self._scroll = scroll
        window.tabs.insertTab(3, scroll, "Generate")
        window.tabs.setTabVisible(window.tabs.indexOf(scroll), False)
        fit_controls(window.tabs)  # the dock as wide as the new page needs too
        self.page = window.stack.addWidget(self.view)
        window.mode_box.addItem("Generate", "generate")
        window.draw_loop.add(self.view)
        self._metrics_dock = window.findChild(QtWidgets.QDockWidget, "metrics_dock")
        self._metrics_was_visible = True
        m = window.model
        m.generation.connect(self._on_snapshot)
        m.runs_rebuilt.connect(self._on_runs_rebuilt)
        m.mode_changed.connect(self._on_mode_changed)
        m.compare_changed.connect(lambda _on: self._show_page())
        # the panel edits the model's generation settings and shows what the model holds
        self.panel.changed.connect(lambda _s: m.set_generate_state(self.panel.state()))
        m.generate_changed.connect(self._show_state)
        self.panel.set_settings(*m.generate)

    @property
    def active(self) -> bool:
        return self.window.model.mode == "generate"

    def specs(self) -> list[RunSpec]:
        return self.panel.specs()

    def _show_state(self, state: tuple[GenerateSettings, bool]) -> None:
        if self.panel.state() != state:
            self.panel.set_settings(*state)  # emits nothing

    def _on_snapshot(self, snap: GenerateSnapshot) -> None:
        i = self.window.model.index_of(snap.run_id)
        if i is not None:
            self.view.add_snapshot(i, snap)

    def _on_runs_rebuilt(self, specs: list[RunSpec]) -> None:
        self.view.set_runs([s.label for s in specs] if all(s.kind == "generate" for s in specs) else [])

    def _on_mode_changed(self, mode: str) -> None:
        dock = self._metrics_dock
        tabs = self.window.tabs
        on = mode == "generate"
        compare = next((i for i in range(tabs.count()) if tabs.tabText(i) == "Compare"), None)
        mine = tabs.indexOf(self._scroll)
        tabs.setTabVisible(mine, on)
        if compare is not None:
            tabs.setTabVisible(compare, not on)
        if on:
            if dock is not None:
                self._metrics_was_visible = dock.isVisible()
                dock.setVisible(False)
            tabs.setCurrentIndex(mine)
        elif dock is not None and self._metrics_was_visible:
            dock.setVisible(True)
        self._show_page()

    def _show_page(self) -> None:
        w = self.window
        if self.active:
            w.stack.setCurrentIndex(self.page)
        elif w.stack.currentIndex() == self.page:
            w.stack.setCurrentIndex(1 if w.model.compare else 0)
