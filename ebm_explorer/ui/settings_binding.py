"""Panels edit the app model's run settings, and show what the model holds.

A panel edit goes straight to the model's setter (the model plans the runs and sends the new settings
to the live threads); a value the model takes from elsewhere (a scene, saved preferences, a click on
the landscape) comes back to the panel without the panel announcing it again. The model is the one
source: no controller sets a panel's widgets.
"""

from __future__ import annotations

from ebm_explorer.core.run_settings import SampleSettings, TemperedSettings, TrainSettings
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.panels import ComparePanel, SamplerPanel, TrainingPanel
from ebm_explorer.ui.run_plan import CompareRow
from ebm_explorer.ui.tempering_view import TemperingPanel

__all__ = ["bind_settings_panels"]


def bind_settings_panels(model: AppModel, sampler: SamplerPanel, training: TrainingPanel,
                         compare: ComparePanel, tempering: TemperingPanel) -> None:
    """Connect the settings panels to ``model`` both ways (the model's values shown first)."""

    def show_sample(value: SampleSettings) -> None:
        if sampler.config() != value:
            sampler.blockSignals(True)
            sampler.set_config(value)
            sampler.blockSignals(False)

    def show_train(value: TrainSettings) -> None:
        if training.settings() != value:
            training.set_settings(value)  # emits nothing

    def show_tempered(value: TemperedSettings) -> None:
        if tempering.settings() != value:
            tempering.set_settings(value)  # emits nothing

    def show_rows(rows: tuple[CompareRow, ...]) -> None:
        if compare.choices() != rows:
            compare.blockSignals(True)
            compare.set_rows(rows)
            compare.blockSignals(False)

    show_sample(model.sample)
    show_train(model.train)
    show_tempered(model.tempered)
    show_rows(model.compare_rows)
    model.sample_changed.connect(show_sample)
    model.train_changed.connect(show_train)
    model.tempered_changed.connect(show_tempered)
    model.compare_rows_changed.connect(show_rows)
    sampler.changed.connect(model.set_sample_settings)
    training.changed.connect(model.set_train_settings)
    tempering.changed.connect(model.set_tempered_settings)
    compare.changed.connect(lambda: model.set_compare_rows(compare.choices()))
