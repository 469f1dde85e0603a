"""Keeps the live panels honest while runs change under them (issue 12, items 9-11).

- The legend, the compare views' titles and the panels' titles follow every run's current settings at
  once (a sampler or step-size change is not held back until Reset).
- A change of sampler, step size, walkers, start or seed in the middle of a sampling run is marked on
  the histories (a vertical line and a short label on every time plot); landscape changes are marked
  by the app model.
- Titles and the panels shown follow the kind of runs: in Train mode the log Z and cross-entropy plots
  (the Jarzynski outputs) are shown, in Sample mode they are left out instead of standing empty.
- The Training tab's Train button switches to Train mode and starts; Compare in Train mode compares
  training methods (the Compare tab's rows switch between sampler and training-method defaults).
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore

from ebm_explorer.core.run_settings import RunSpec, SampleSettings
from ebm_explorer.ui.landscape_view import RUN_COLOURS

__all__ = ["PanelTruth", "change_text", "panels_for_kinds", "TRAIN_ONLY_PANELS"]

#: scene panel names that mean something only while training
TRAIN_ONLY_PANELS = ("log_z", "cross_entropy")


def change_text(old: Any, new: Any) -> str:
    """A short label for what changed between two sampler settings ('' when nothing a plot would show)."""
    if not isinstance(old, SampleSettings) or not isinstance(new, SampleSettings):
        return ""
    parts = []
    if old.sampler != new.sampler:
        parts.append(new.sampler.upper())
    if old.step_size != new.step_size:
        parts.append(f"h={new.step_size:g}")
    if old.leapfrog_steps != new.leapfrog_steps and new.sampler == "hmc":
        parts.append(f"L={new.leapfrog_steps}")
    if old.walkers != new.walkers:
        parts.append(f"N={new.walkers:,}")
    if (old.init, old.init_point, old.seed, old.device) != (new.init, new.init_point, new.seed, new.device):
        parts.append("restart")
    return " ".join(parts)


def panels_for_kinds(names: tuple[str, ...] | list[str], kinds: list[str]) -> tuple[str, ...]:
    """The scene panels to show for runs of these kinds: the training-only ones added while any run
    trains, left out while none does."""
    names = tuple(names)
    if "train" in kinds:
        return names + tuple(n for n in TRAIN_ONLY_PANELS if n not in names)
    return tuple(n for n in names if n not in TRAIN_ONLY_PANELS)


class PanelTruth(QtCore.QObject):
    """Wires the app model's run changes to the legend, titles, marks and the panel layout."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        m = window.model
        m.spec_changed.connect(self._on_spec_changed)
        m.runs_rebuilt.connect(self._on_runs_rebuilt)
        m.mode_changed.connect(self._on_mode_changed)
        window.training_panel.train_requested.connect(self.train)
        self._on_runs_rebuilt(m.specs)

    def train(self) -> None:
        """The Training tab's button: Train mode, running."""
        w = self.window
        w.set_mode("train")
        if not w.model.any_running:
            w.run()

    def _on_mode_changed(self, mode: str) -> None:
        panel = self.window.compare_panel
        panel.suit_mode(mode)
        self.window.model.set_compare_rows(panel.choices(), edited=False)  # the rows of this mode

    def _on_runs_rebuilt(self, specs: list[RunSpec]) -> None:
        w = self.window
        kinds = [s.kind for s in specs]
        w.metrics.set_kinds(kinds)  # the live-panel layout follows the run kinds itself (ui.live_layout)
        self._relabel(specs)

    def _on_spec_changed(self, index: int, old: RunSpec, new: RunSpec) -> None:
        w = self.window
        text = change_text(old.settings, new.settings)
        if text and index < len(w.model.histories):
            w.model.histories[index].mark(text)
        w.metrics.set_kinds([s.kind for s in w.model.specs])
        self._relabel(w.model.specs)

    def _relabel(self, specs: list[RunSpec]) -> None:
        w = self.window
        labels = [s.label for s in specs]
        w.metrics.set_labels(labels)
        for i, v in enumerate(w.compare_views):
            if i < len(labels) and v.plot.titleLabel.text != labels[i]:
                v.plot.setTitle(labels[i], color=RUN_COLOURS[i])
        w.metrics.mark_dirty()
