"""Settings panels: sampler, training and compare mode. Each emits ``changed`` with a frozen settings value.

The panels only turn widget values into the core's frozen run settings (:class:`SampleSettings`,
:class:`TrainSettings`: the same values scene files hold and workers run) and show the values the app
model holds (``ui.settings_binding`` connects both ways); the model plans the runs from them
(``ui.run_plan``) and sends them to the running threads, where they take effect between batches of
steps. A field without a widget keeps the value last set (``set_config`` / ``set_settings``), so
scene -> panel -> worker loses nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6 import QtCore, QtWidgets

from ebm_explorer.core.blowup import BLOWUP_RULES
from ebm_explorer.core.devices import cuda_available
from ebm_explorer.core.limits import RANGES
from ebm_explorer.core.samplers import MAX_LEAPFROG_STEPS
from ebm_explorer.core.run_settings import SampleSettings, TrainSettings
from ebm_explorer.ui.fields import FloatSpin, IntSpin, SeedField
from ebm_explorer.ui.last_folder import get_open_file_name
from ebm_explorer.ui.run_plan import COMPARE_ROW_DEFAULTS, METHOD_NAMES, SAMPLER_NAMES, CompareRow

__all__ = ["SamplerPanel", "TrainingPanel", "ComparePanel", "SAMPLER_NAMES", "METHOD_NAMES", "log_spin"]



def log_spin(lo: float, hi: float, value: float, decimals: int = 4, name: str = "Value") -> QtWidgets.QDoubleSpinBox:
    """A spin box whose arrows multiply/divide (step sizes and learning rates span decades); reads 1e-3."""
    spin = FloatSpin(name)
    spin.setDecimals(decimals)
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setStepType(QtWidgets.QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    spin.setKeyboardTracking(False)
    return spin


def _kept(spin: QtWidgets.QDoubleSpinBox, base: float) -> float:
    """The spin box's value, or ``base`` when the box shows ``base`` rounded to its decimals (a scene's
    0.833 stays 0.833 although the box shows 0.83)."""
    value = spin.value()
    return float(base) if abs(value - float(base)) <= 0.5 * 10.0 ** -spin.decimals() else value


def _int_spin(lo: int, hi: int, value: int, name: str) -> QtWidgets.QSpinBox:
    """An integer field that reads 1e4, 10000, 10,000 and 10k; out of range gets a message (ui.fields)."""
    spin = IntSpin(name)
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setKeyboardTracking(False)
    spin.setGroupSeparatorShown(True)
    return spin


def _ranges(fields: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Each field's ``minimum()`` and ``maximum()`` (spin boxes and the seed field)."""
    return {name: (f.minimum(), f.maximum()) for name, f in fields.items()}


def _combo(items: dict[str, str], current: str) -> QtWidgets.QComboBox:
    box = QtWidgets.QComboBox()
    for key, label in items.items():
        box.addItem(label, key)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


def _keep_device(box: QtWidgets.QComboBox, device: str) -> None:
    """Select ``device``; one this machine lacks (cuda without a GPU) stays visible as requested, and
    the run falls back to cpu with a notice (never silently)."""
    if box.findData(device) < 0:
        box.addItem(f"{device} (not available: runs on cpu)", device)
    box.setCurrentIndex(box.findData(device))


def _devices() -> dict[str, str]:
    return {"cpu": "cpu", "cuda": "cuda"} if cuda_available() else {"cpu": "cpu"}


class SamplerPanel(QtWidgets.QWidget):
    """Algorithm, step size, leapfrog steps, walkers, initialisation, seed, device, steps per frame."""

    changed = QtCore.Signal(object)  # SampleSettings

    def __init__(self, config: SampleSettings = SampleSettings(), parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = config  # fields without a widget (dtype) keep their value
        self._point = config.init_point
        form = QtWidgets.QFormLayout(self)
        self.algorithm = _combo(SAMPLER_NAMES, config.sampler)
        self.step_size = log_spin(1e-4, 10.0, config.step_size, name="Step size")
        self.step_size.setToolTip("MH: proposal std; ULA/MALA: h (x' = x - h grad U + sqrt(2h) xi); HMC: leapfrog eps")
        self.leapfrog = _int_spin(1, MAX_LEAPFROG_STEPS, config.leapfrog_steps, "Leapfrog steps")
        self.walkers = _int_spin(1, RANGES["walkers"][1], config.walkers, "Walkers")
        self.walkers.setSingleStep(1000)
        self.init = _combo({"gaussian": "Gaussian in the box", "uniform": "Uniform in the box",
                            "point": "At the clicked point"}, config.init)
        self.seed = SeedField(config.seed)
        self.device = _combo(_devices(), config.device)
        self.steps_per_frame = _int_spin(1, 10_000, config.steps_per_frame, "Steps per frame")
        self.steps_per_frame.setToolTip("Sampler steps between two looks at the controls (and between snapshots)")
        self.blowup = _combo(BLOWUP_RULES, config.blowup_rule)
        self.blowup.setToolTip("Walkers whose position, energy or gradient becomes NaN/inf (or that diverge far "
                               "beyond the box) are counted in the status bar, drawn as magenta crosses, and "
                               "frozen or restarted")
        form.addRow("Algorithm", self.algorithm)
        form.addRow("Step size", self.step_size)
        form.addRow("Leapfrog steps", self.leapfrog)
        form.addRow("Walkers", self.walkers)
        form.addRow("Start", self.init)
        form.addRow("Seed", self.seed)
        form.addRow("Device", self.device)
        form.addRow("Steps per frame", self.steps_per_frame)
        form.addRow("Blown-up walkers", self.blowup)
        hint = QtWidgets.QLabel("Click the landscape to place the start point.\n"
                                "Over 3000 walkers are drawn as a live density image.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        form.addRow(hint)
        for w in (self.algorithm, self.init, self.device, self.blowup):
            w.currentIndexChanged.connect(self._emit)
        for w in (self.step_size, self.leapfrog, self.walkers, self.seed, self.steps_per_frame):
            w.valueChanged.connect(self._emit)
        self.algorithm.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()

    def _update_enabled(self) -> None:
        self.leapfrog.setVisible(self.algorithm.currentData() == "hmc")
        label = self.layout().labelForField(self.leapfrog)
        if label is not None:
            label.setVisible(self.algorithm.currentData() == "hmc")

    def field_ranges(self) -> dict[str, tuple[float, float]]:
        """Setting name -> the lowest and highest value its field can show (a scene beyond them is refused)."""
        return _ranges({"step_size": self.step_size, "leapfrog_steps": self.leapfrog, "walkers": self.walkers,
                        "seed": self.seed, "steps_per_frame": self.steps_per_frame})

    def config(self) -> SampleSettings:
        return replace(
            self._base, sampler=self.algorithm.currentData(), step_size=_kept(self.step_size, self._base.step_size),
            leapfrog_steps=self.leapfrog.value(), walkers=self.walkers.value(), init=self.init.currentData(),
            init_point=self._point, seed=self.seed.value(), device=self.device.currentData(),
            steps_per_frame=self.steps_per_frame.value(), blowup_rule=self.blowup.currentData(),
        )

    def set_config(self, config: SampleSettings) -> None:
        self._base = config
        widgets = (self.algorithm, self.step_size, self.leapfrog, self.walkers, self.init, self.seed, self.device,
                   self.steps_per_frame, self.blowup)
        for w in widgets:
            w.blockSignals(True)
        self.algorithm.setCurrentIndex(max(0, self.algorithm.findData(config.sampler)))
        self.step_size.setValue(config.step_size)
        self.leapfrog.setValue(config.leapfrog_steps)
        self.walkers.setValue(config.walkers)
        self.init.setCurrentIndex(max(0, self.init.findData(config.init)))
        self.seed.setValue(config.seed)
        _keep_device(self.device, config.device)
        self.steps_per_frame.setValue(config.steps_per_frame)
        self.blowup.setCurrentIndex(max(0, self.blowup.findData(config.blowup_rule)))
        self._point = config.init_point
        for w in widgets:
            w.blockSignals(False)
        self._update_enabled()
        self._emit()

    def _emit(self, *_args: object) -> None:
        self.changed.emit(self.config())


class TrainingPanel(QtWidgets.QWidget):
    """Target, model, method, kernel, learning rate, walkers, resampling, iterations."""

    changed = QtCore.Signal(object)  # TrainSettings
    use_as_landscape = QtCore.Signal()
    train_requested = QtCore.Signal()  # the Train button: Train mode, running

    def __init__(self, settings: TrainSettings = TrainSettings(), parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = settings  # fields without a widget (cd_reset, hidden, dtype, ...) keep their value
        form = QtWidgets.QFormLayout(self)
        self.train_button = QtWidgets.QPushButton("Train")
        self.train_button.setObjectName("train_button")
        self.train_button.setToolTip("Switch to Train mode and start training with these settings")
        self.train_button.clicked.connect(self.train_requested)
        form.addRow(self.train_button)
        self.target = _combo({"landscape": "Current landscape (exact samples)", "file": "Data file (CSV/NPZ)"},
                             "file" if settings.data_file else "landscape")
        self.data_file = QtWidgets.QLineEdit(settings.data_file)
        self.data_file.setPlaceholderText("points.csv / points.npz")
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row = QtWidgets.QHBoxLayout()
        file_row.addWidget(self.data_file)
        file_row.addWidget(browse)
        self.data_size = _int_spin(10, 1_000_000, settings.data_size, "Data points")
        self.model = _combo({"gmm": "Gaussian mixture", "mlp": "MLP energy"}, settings.model)
        self.components = _int_spin(1, 32, settings.components, "Components")
        self.method = _combo(METHOD_NAMES, settings.method)
        self.kernel = _combo({"ula": "ULA", "mala": "MALA", "hmc": "HMC"}, settings.kernel)
        self.cd_steps = _int_spin(1, 1000, settings.cd_steps, "CD steps")
        self.step_size = log_spin(1e-4, 5.0, settings.step_size, name="Step size")
        self.lr = log_spin(1e-5, 10.0, settings.lr, decimals=5, name="Learning rate")
        self.optimizer = _combo({"adam": "Adam", "sgd": "SGD"}, settings.optimizer)
        self.noise_std = log_spin(1e-3, 10.0, settings.noise_std, name="Noise std")
        self.noise_std.setToolTip("Denoising score matching: the noise level sigma added to the data")
        self.walkers = _int_spin(10, RANGES["walkers"][1], settings.walkers, "Walkers")
        self.threshold = QtWidgets.QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(settings.resample_threshold)
        self.threshold.setToolTip("Jarzynski: resample when ESS/N falls below this")
        self.resampling = _combo({"systematic": "systematic", "multinomial": "multinomial"}, settings.resample_scheme)
        self.iterations = _int_spin(0, 10_000_000, settings.iterations, "Iterations")
        self.iterations.setSpecialValueText("until paused")
        self.seed = SeedField(settings.seed)
        self.device = _combo(_devices(), settings.device)
        form.addRow("Target", self.target)
        form.addRow("Data file", file_row)
        form.addRow("Data points", self.data_size)
        form.addRow("Model", self.model)
        form.addRow("Components", self.components)
        form.addRow("Method", self.method)
        form.addRow("Walker kernel", self.kernel)
        form.addRow("CD steps k", self.cd_steps)
        form.addRow("Step size h", self.step_size)
        form.addRow("Learning rate", self.lr)
        form.addRow("Optimiser", self.optimizer)
        form.addRow("Noise std (DSM)", self.noise_std)
        form.addRow("Walkers", self.walkers)
        form.addRow("Resample below ESS/N", self.threshold)
        form.addRow("Resampling", self.resampling)
        form.addRow("Iterations", self.iterations)
        form.addRow("Seed", self.seed)
        form.addRow("Device", self.device)
        self.use_button = QtWidgets.QPushButton("Use learned energy as landscape")
        self.use_button.setToolTip("Replace the current landscape by the model being trained")
        self.use_button.clicked.connect(self.use_as_landscape)
        form.addRow(self.use_button)
        for w in (self.target, self.model, self.method, self.kernel, self.optimizer, self.resampling, self.device):
            w.currentIndexChanged.connect(self._emit)
        for w in (self.data_size, self.components, self.cd_steps, self.step_size, self.lr, self.noise_std,
                  self.walkers, self.threshold, self.iterations, self.seed):
            w.valueChanged.connect(self._emit)
        self.data_file.editingFinished.connect(self._emit)

    def _browse(self) -> None:
        path, _ = get_open_file_name(self, "Data points", "", "Points (*.csv *.npz)")
        if path:
            self.data_file.setText(path)
            self.target.setCurrentIndex(self.target.findData("file"))
            self._emit()

    def field_ranges(self) -> dict[str, tuple[float, float]]:
        """Setting name -> the lowest and highest value its field can show (a scene beyond them is refused)."""
        return _ranges({"data_size": self.data_size, "components": self.components, "cd_steps": self.cd_steps,
                        "step_size": self.step_size, "lr": self.lr, "walkers": self.walkers,
                        "resample_threshold": self.threshold, "iterations": self.iterations, "seed": self.seed})

    def settings(self) -> TrainSettings:
        use_file = self.target.currentData() == "file" and self.data_file.text().strip()
        b = self._base
        return replace(
            b, method=self.method.currentData(), kernel=self.kernel.currentData(), model=self.model.currentData(),
            components=self.components.value(), step_size=_kept(self.step_size, b.step_size),
            cd_steps=self.cd_steps.value(), walkers=self.walkers.value(), data_size=self.data_size.value(),
            data_file=self.data_file.text().strip() if use_file else "", lr=_kept(self.lr, b.lr),
            noise_std=_kept(self.noise_std, b.noise_std),
            optimizer=self.optimizer.currentData(), resample_threshold=_kept(self.threshold, b.resample_threshold),
            resample_scheme=self.resampling.currentData(), iterations=self.iterations.value(),
            seed=self.seed.value(), device=self.device.currentData(),
        )

    def set_settings(self, settings: TrainSettings) -> None:
        """Show ``settings`` (every widget, without emitting ``changed``); fields without a widget are kept."""
        self._base = settings
        self.blockSignals(True)
        try:
            for box, key in ((self.target, "file" if settings.data_file else "landscape"),
                             (self.model, settings.model), (self.method, settings.method),
                             (self.kernel, settings.kernel), (self.optimizer, settings.optimizer),
                             (self.resampling, settings.resample_scheme)):
                box.setCurrentIndex(max(0, box.findData(key)))
            _keep_device(self.device, settings.device)
            self.data_file.setText(settings.data_file)
            for spin, value in ((self.data_size, settings.data_size), (self.components, settings.components),
                                (self.cd_steps, settings.cd_steps), (self.step_size, settings.step_size),
                                (self.lr, settings.lr), (self.noise_std, settings.noise_std),
                                (self.walkers, settings.walkers),
                                (self.threshold, settings.resample_threshold), (self.iterations, settings.iterations),
                                (self.seed, settings.seed)):
                spin.setValue(value)
        finally:
            self.blockSignals(False)

    def _emit(self, *_args: object) -> None:
        self.changed.emit(self.settings())


class ComparePanel(QtWidgets.QWidget):
    """2 to 4 runs side by side: each row picks the algorithm (or training method) and its step size."""

    changed = QtCore.Signal()

    CHOICES = {**{k: f"sample: {v}" for k, v in SAMPLER_NAMES.items()},
               **{k: f"train: {v}" for k, v in METHOD_NAMES.items()}}
    #: the rows a mode starts with: two samplers; the three training methods of lecture scene 1
    DEFAULT_ROWS = {"sample": [("ula", 0.2), ("mala", 0.2)],
                    "train": [("cd", 0.1), ("pcd", 0.1), ("jarzynski", 0.1)]}

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Runs"))
        self.count = _int_spin(2, 4, 2, "Runs")
        top.addWidget(self.count)
        top.addStretch(1)
        lay.addLayout(top)
        grid = QtWidgets.QGridLayout()
        grid.addWidget(QtWidgets.QLabel("Algorithm / method"), 0, 1)
        grid.addWidget(QtWidgets.QLabel("Step size"), 0, 2)
        self.rows: list[tuple[QtWidgets.QComboBox, QtWidgets.QDoubleSpinBox]] = []
        for i, (kind, h) in enumerate(COMPARE_ROW_DEFAULTS):
            combo = _combo(self.CHOICES, kind)
            spin = log_spin(1e-4, 10.0, h, name="Step size")
            grid.addWidget(QtWidgets.QLabel(f"{i + 1}"), i + 1, 0)
            grid.addWidget(combo, i + 1, 1)
            grid.addWidget(spin, i + 1, 2)
            combo.currentIndexChanged.connect(self._emit)
            spin.valueChanged.connect(self._emit)
            self.rows.append((combo, spin))
        lay.addLayout(grid)
        note = QtWidgets.QLabel("All runs share the landscape, the seed and the other settings of the "
                                "Sampler / Training tabs; the axes are linked and the metrics overlaid.")
        note.setWordWrap(True)
        note.setStyleSheet("color: gray")
        lay.addWidget(note)
        lay.addStretch(1)
        self.count.valueChanged.connect(self._update_rows)
        self.count.valueChanged.connect(self._emit)
        self._update_rows()
        self._kept_rows: dict[str, list[tuple[str, float]]] = {}  # mode -> the rows last shown in it

    def suit_mode(self, mode: str) -> None:
        """Compare what the mode runs: in Train mode training methods, in Sample mode samplers. Rows that
        all belong to the other mode are put away (and come back with their mode); mixed rows stay."""
        if mode not in self.DEFAULT_ROWS:  # other modes (tempering, generation) have their own tabs
            return
        rows = self.choices()
        other = "sample" if mode == "train" else "train"
        names = METHOD_NAMES if other == "train" else SAMPLER_NAMES
        if not all(kind in names for kind, _h in rows):
            return
        self._kept_rows[other] = rows
        self.set_rows(self._kept_rows.get(mode) or self.DEFAULT_ROWS[mode], emit=False)

    def _update_rows(self) -> None:
        for i, (combo, spin) in enumerate(self.rows):
            combo.setEnabled(i < self.count.value())
            spin.setEnabled(i < self.count.value())

    def set_rows(self, rows: list[CompareRow] | tuple[CompareRow, ...], emit: bool = True) -> None:
        self.blockSignals(True)
        self.count.setValue(len(rows))
        for (combo, spin), (kind, h) in zip(self.rows, rows):
            combo.setCurrentIndex(max(0, combo.findData(kind)))
            spin.setValue(h)
        self.blockSignals(False)
        if emit:
            self._emit()

    def choices(self) -> tuple[CompareRow, ...]:
        return tuple((c.currentData(), s.value()) for c, s in self.rows[: self.count.value()])

    def _emit(self, *_args: object) -> None:
        self.changed.emit()
