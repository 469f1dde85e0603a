"""The Generate tab: the settings of a generation run (noising path, sampler, steps K, walkers, score source,
Jarzynski weights) as one :class:`GenerateSettings`, and the runs it asks for (one, or the three samplers
side by side so their KL against rho_t can be compared)."""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.limits import RANGES
from ebm_explorer.core.run_settings import GenerateSettings, RunSpec
from ebm_explorer.ui.fields import SeedField
from ebm_explorer.ui.run_plan import generate_runs
from ebm_explorer.ui.panels import _combo, _int_spin

__all__ = ["GeneratePanel", "PATH_NAMES", "SOLVER_NAMES", "SCORE_NAMES"]

PATH_NAMES = {"interpolant": "Interpolant (α=1−t, σ=t)", "vp": "VP diffusion"}
SOLVER_NAMES = {"sde": "Reverse SDE", "ode": "Probability-flow ODE", "annealed-langevin": "Annealed Langevin"}
SCORE_NAMES = {"exact": "Exact ∇log ρ_t", "learned": "Learned (DSM network)"}


class GeneratePanel(QtWidgets.QWidget):
    """Path, sampler, steps K, walkers, score source, training iterations, Jarzynski, resampling, seed."""

    changed = QtCore.Signal(object)  # GenerateSettings

    def __init__(self, settings: GenerateSettings | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        s = settings or GenerateSettings()
        self._base = s
        form = QtWidgets.QFormLayout(self)
        self.path = _combo(PATH_NAMES, s.path)
        self.path.setToolTip("Linear stochastic interpolant x_t = (1 − t) x_0 + t z, or the variance-preserving "
                             "diffusion (Song et al. 2021)")
        self.solver = _combo(SOLVER_NAMES, s.solver)
        self.solver.setToolTip("Reverse SDE: Euler–Maruyama; ODE: Heun on the probability flow; annealed "
                               "Langevin: K noise levels of ULA steps (Song and Ermon)")
        self.all_solvers = QtWidgets.QCheckBox("All three samplers")
        self.all_solvers.setToolTip("Run the reverse SDE, the ODE and annealed Langevin with these settings and "
                                    "compare their KL against ρ_t (the ODE runs without weights)")
        self.steps = _int_spin(1, 100_000, s.steps, "Steps K")
        self.steps.setToolTip("Time steps from t = 1 to 0 (annealed Langevin: noise levels)")
        self.walkers = _int_spin(10, min(RANGES["walkers"][1], 1_000_000), s.walkers, "Walkers")
        self.score = _combo(SCORE_NAMES, s.score)
        self.score.setToolTip("The exact score of ρ_t, or an MLP trained first by denoising score matching "
                              "across the noise levels (progress above the view)")
        self.train_iterations = _int_spin(1, 1_000_000, s.train_iterations, "Training iterations")
        self.train_iterations.setToolTip("Learned score: Adam iterations of 512 fresh exact samples, all noise levels")
        self.jarzynski = QtWidgets.QCheckBox("Jarzynski weights")
        self.jarzynski.setChecked(s.jarzynski)
        self.jarzynski.setToolTip("Weights that remove the discretization error (stochastic samplers only); "
                                  "drawn as the walkers' opacity")
        self.threshold = QtWidgets.QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(s.resample_threshold)
        self.threshold.setToolTip("Resample the walkers when ESS/N falls below this (0: never)")
        self.langevin_steps = _int_spin(1, 100_000, s.langevin_steps, "Langevin steps per level")
        self.langevin_steps.setToolTip("Annealed Langevin: ULA steps at each noise level")
        self.seed = SeedField(s.seed)
        form.addRow("Path", self.path)
        form.addRow("Sampler", self.solver)
        form.addRow(self.all_solvers)
        form.addRow("Steps K", self.steps)
        form.addRow("Walkers", self.walkers)
        form.addRow("Score", self.score)
        form.addRow("Training iterations", self.train_iterations)
        form.addRow(self.jarzynski)
        form.addRow("Resample below ESS/N", self.threshold)
        form.addRow("Langevin steps", self.langevin_steps)
        form.addRow("Seed", self.seed)
        hint = QtWidgets.QLabel("Run (Space) generates; the time slider under the view goes back over the run.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        form.addRow(hint)
        for w in (self.path, self.solver, self.score):
            w.currentIndexChanged.connect(self._emit)
        for w in (self.all_solvers, self.jarzynski):
            w.toggled.connect(self._emit)
        for w in (self.steps, self.walkers, self.train_iterations, self.threshold, self.langevin_steps, self.seed):
            w.valueChanged.connect(self._emit)

    def settings(self) -> GenerateSettings:
        return replace(self._base, path=self.path.currentData(), solver=self.solver.currentData(),
                       steps=self.steps.value(), walkers=self.walkers.value(), score=self.score.currentData(),
                       train_iterations=self.train_iterations.value(), jarzynski=self.jarzynski.isChecked(),
                       resample_threshold=round(self.threshold.value(), 6), langevin_steps=self.langevin_steps.value(),
                       seed=self.seed.value())

    def set_settings(self, settings: GenerateSettings, all_solvers: bool = False) -> None:
        """Show ``settings`` without emitting ``changed`` (fields without a widget are kept)."""
        self._base = settings
        self.blockSignals(True)
        try:
            for box, key in ((self.path, settings.path), (self.solver, settings.solver), (self.score, settings.score)):
                box.setCurrentIndex(max(0, box.findData(key)))
            for spin, value in ((self.steps, settings.steps), (self.walkers, settings.walkers),
                                (self.train_iterations, settings.train_iterations),
                                (self.threshold, settings.resample_threshold),
                                (self.langevin_steps, settings.langevin_steps), (self.seed, settings.seed)):
                spin.setValue(value)
            self.jarzynski.setChecked(settings.jarzynski)
            self.all_solvers.setChecked(all_solvers)
        finally:
            self.blockSignals(False)

    def field_ranges(self) -> dict[str, tuple[float, float]]:
        """Setting name -> the lowest and highest value its field can show (a scene beyond them is refused)."""
        return {name: (f.minimum(), f.maximum()) for name, f in (
            ("steps", self.steps), ("walkers", self.walkers), ("train_iterations", self.train_iterations),
            ("resample_threshold", self.threshold), ("langevin_steps", self.langevin_steps), ("seed", self.seed))}

    def state(self) -> tuple[GenerateSettings, bool]:
        """Everything the panel shows (a scene's runs stay on screen while this is unchanged)."""
        return self.settings(), self.all_solvers.isChecked()

    def specs(self) -> list[RunSpec]:
        """The runs these settings ask for (``ui.run_plan.generate_runs``, the one planner)."""
        return generate_runs(*self.state())

    def _emit(self, *_args: object) -> None:
        self.changed.emit(self.settings())
