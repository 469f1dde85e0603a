"""The application model: what the app shows and runs, in one object that views observe through signals.

It holds the mode (sample / train / tempered / generate), compare mode, the display options, the current
scene and whether it has unsaved edits, the current landscape, the run settings the panels edit (sampler,
training, tempering, generation, compare rows, and a scene's own runs until a choice changes), the run
specifications planned from them (``ui.run_plan``, the one place that builds them) and the threads that
serve them.
Widgets and controllers call its setters; each change is announced by a signal, and the views follow
it (none of them writes another's widgets). It owns every worker thread (runs and the job thread) and
joins them on :meth:`shutdown`. It never computes: the reference comes from the job thread, walkers and
metrics from the run workers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from PySide6 import QtCore

from ebm_explorer.core.landscapes import Landscape
from ebm_explorer.core.run_settings import GenerateSettings, RunSpec, SampleSettings, TemperedSettings, TrainSettings
from ebm_explorer.export.metrics_history import MetricsHistory
from ebm_explorer.ui.run_plan import DEFAULT_COMPARE_ROWS, CompareRow, plan_runs
from ebm_explorer.workers.base import LoopWorker
from ebm_explorer.workers.generate_messages import GenerateSnapshot
from ebm_explorer.workers.generate_worker import GenerateWorker
from ebm_explorer.workers.commands import JobKey, ReferenceKey, SetLandscape, SetReference, SetSettings, SetSpeed
from ebm_explorer.workers.jobs import JobWorker, reference_job
from ebm_explorer.workers.messages import JobDone, ReferenceReady, RunSnapshot, RunState, WorkerError
from ebm_explorer.workers.sampling_worker import SamplingWorker
from ebm_explorer.workers.tempering_worker import TemperingWorker
from ebm_explorer.workers.training_worker import TrainingWorker

__all__ = ["AppModel", "DisplayOptions", "MODES"]

MODES = ("sample", "train", "tempered", "generate")


@dataclass(frozen=True)
class DisplayOptions:
    """What the views draw: background (density, energy, learned), walkers as points or a density image
    (or auto), the exact contours, the trails of a few walkers; which live panels show (scene panel
    names, ``ui.live_layout``) and whether in one column (presenter mode)."""

    background: str = "density"  # density | energy | learned
    walker_mode: str = "auto"  # auto | points | histogram
    contours: bool = True
    trails: bool = True
    panels: tuple[str, ...] = ("mean_energy", "acceptance", "ess", "divergence", "mode_weights", "log_z",
                               "cross_entropy")
    one_column: bool = False


class AppModel(QtCore.QObject):
    landscape_changed = QtCore.Signal(object, int)  # landscape, version
    reference_ready = QtCore.Signal(object)  # ReferenceReady
    reference_failed = QtCore.Signal(str)
    runs_rebuilt = QtCore.Signal(list)  # list[RunSpec]
    spec_changed = QtCore.Signal(int, object, object)  # index, old RunSpec, new RunSpec (a live run's settings)
    snapshot = QtCore.Signal(object)  # RunSnapshot (already stored in ``latest``)
    generation = QtCore.Signal(object)  # GenerateSnapshot of a generation run (also stored in ``latest``)
    run_state = QtCore.Signal(object)  # RunState
    worker_error = QtCore.Signal(object)  # WorkerError
    job_done = QtCore.Signal(object)  # JobDone other than the reference
    mode_changed = QtCore.Signal(str)  # sample | train | tempered | generate
    compare_changed = QtCore.Signal(bool)
    display_changed = QtCore.Signal(object)  # DisplayOptions
    scene_changed = QtCore.Signal(object)  # Scene | None: the scene on screen
    edited_changed = QtCore.Signal(bool)  # True: settings or landscape changed since the scene was opened/saved
    sample_changed = QtCore.Signal(object)  # SampleSettings (the sampler panel shows it)
    train_changed = QtCore.Signal(object)  # TrainSettings (the training panel shows it)
    tempered_changed = QtCore.Signal(object)  # TemperedSettings (the tempering panel shows it)
    generate_changed = QtCore.Signal(object)  # (GenerateSettings, all solvers) (the generate panel shows it)
    compare_rows_changed = QtCore.Signal(object)  # tuple of (algorithm or method, step size)
    settings_edited = QtCore.Signal()  # the user changed a run setting (live runs already follow)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = JobWorker()
        self.jobs.done.connect(self._on_job_done)
        self.jobs.failed.connect(self._on_job_failed)
        self.jobs.start()
        self.landscape: Landscape | None = None
        self.version = 0
        self.reference: ReferenceReady | None = None
        self.specs: list[RunSpec] = []
        self.workers: list[LoopWorker] = []
        self.histories: list[MetricsHistory] = []
        self.latest: list[RunSnapshot | None] = []
        self.states: list[str] = []
        self.errors: list[WorkerError] = []
        self.speed = 0.0
        self._generation = 0  # run ids of old workers are ignored after a rebuild
        self.mode = "sample"
        self.compare = False
        self.display = DisplayOptions()
        self.scene: Any = None  # scenes.Scene on screen (None: none opened yet)
        self.unsaved = False
        self.sample = SampleSettings()
        self.train = TrainSettings()
        self.tempered = TemperedSettings()
        self.generate: tuple[GenerateSettings, bool] = (GenerateSettings(), False)
        self.compare_rows: tuple[CompareRow, ...] = DEFAULT_COMPARE_ROWS
        self.scene_runs: tuple[RunSpec, ...] | None = None  # a scene's own runs, until a choice changes

    # ---- what is shown -------------------------------------------------------------------
    def set_mode(self, mode: str) -> bool:
        """Sample, train, tempered (PT / SMC) or generate; True when it changed (the runs are rebuilt by the caller)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == self.mode:
            return False
        self.mode = mode
        self.scene_runs = None
        self.mode_changed.emit(mode)
        return True

    def set_compare(self, on: bool) -> bool:
        """Compare mode on or off; True when it changed."""
        if bool(on) == self.compare:
            return False
        self.compare = bool(on)
        self.scene_runs = None
        self.compare_changed.emit(self.compare)
        return True

    def set_display(self, **changes: Any) -> None:
        """Change display options by name (``background="energy"``, ``contours=False``, ...)."""
        new = replace(self.display, **changes)
        if new != self.display:
            self.display = new
            self.display_changed.emit(new)

    def set_scene(self, scene: Any) -> None:
        """The scene now on screen (just opened, applied or saved): nothing unsaved."""
        self.scene = scene
        self.scene_changed.emit(scene)
        self.set_unsaved(False)

    def set_unsaved(self, unsaved: bool = True) -> None:
        if bool(unsaved) != self.unsaved:
            self.unsaved = bool(unsaved)
            self.edited_changed.emit(self.unsaved)

    # ---- run settings (the panels edit them; the runs follow) ---------------------------------
    def set_sample_settings(self, settings: SampleSettings, edited: bool = True) -> None:
        """New sampler settings; ``edited`` (a user's change) ends a scene's own runs, marks the scene
        unsaved and lets the live runs follow. A scene (``edited=False``) rebuilds the runs itself."""
        if settings == self.sample:
            return
        self.sample = settings
        self.sample_changed.emit(settings)
        if edited:
            self.follow_settings(edited=True)

    def set_train_settings(self, settings: TrainSettings, edited: bool = True) -> None:
        """New training settings (see :meth:`set_sample_settings`)."""
        if settings == self.train:
            return
        self.train = settings
        self.train_changed.emit(settings)
        if edited:
            self.follow_settings(edited=True)

    def set_tempered_settings(self, settings: TemperedSettings, edited: bool = True) -> None:
        """New tempering (PT / SMC) settings (see :meth:`set_sample_settings`)."""
        if settings == self.tempered:
            return
        self.tempered = settings
        self.tempered_changed.emit(settings)
        if edited:
            self.follow_settings(edited=True)

    def set_generate_state(self, state: tuple[GenerateSettings, bool], edited: bool = True) -> None:
        """New generation settings and whether all three samplers run (see :meth:`set_sample_settings`)."""
        state = (state[0], bool(state[1]))
        if state == self.generate:
            return
        self.generate = state
        self.generate_changed.emit(state)
        if edited:
            self.follow_settings(edited=True)

    def set_compare_rows(self, rows: tuple[CompareRow, ...] | list[CompareRow], edited: bool = True) -> None:
        """The compared algorithms (or methods) and their step sizes (see :meth:`set_sample_settings`)."""
        rows = tuple((str(k), float(h)) for k, h in rows)
        if rows == self.compare_rows:
            return
        self.compare_rows = rows
        self.compare_rows_changed.emit(rows)
        if edited:
            self.follow_settings(edited=True, restart=self.compare)  # compared runs start again together

    def set_scene_runs(self, runs: list[RunSpec] | tuple[RunSpec, ...] | None) -> None:
        """A scene's own runs: planned as they are until the user changes a choice."""
        self.scene_runs = None if runs is None else tuple(runs)

    def rebuild_runs(self, start: bool | None = None) -> None:
        """Replace the runs by the planned ones (``start`` None: running runs keep running)."""
        if self.landscape is not None:
            self.set_runs(self.run_specs(), start=self.any_running if start is None else start)

    def run_specs(self) -> list[RunSpec]:
        """The runs the current choices describe (``ui.run_plan.plan_runs``)."""
        return plan_runs(self.mode, self.compare, self.sample, self.train, self.compare_rows, self.scene_runs,
                         self.tempered, self.generate)

    def follow_settings(self, edited: bool = False, restart: bool = False) -> None:
        """Live runs take the planned settings. ``edited``: a user's change (ends a scene's own runs, marks
        the scene unsaved). Runs of the same number and kinds get the new settings in their threads (a
        failed one restarts with them); otherwise, or with ``restart``, they are rebuilt (running ones
        keep running)."""
        if edited:
            self.scene_runs = None
            self.set_unsaved()
            self.settings_edited.emit()
        if self.landscape is None:
            return  # no runs yet: they are built when the landscape arrives
        specs = self.run_specs()
        if restart or [s.kind for s in specs] != [s.kind for s in self.specs]:
            self.set_runs(specs, start=self.any_running)
            return
        if specs == self.specs:
            return
        for i, (old, new) in enumerate(zip(list(self.specs), specs)):
            if new != old:
                self.update_spec(i, new)  # sent to its thread; spec_changed relabels and marks the curves
            if self.states[i] == "failed":
                self.workers[i].reset()

    # ---- landscape -----------------------------------------------------------------------
    def set_landscape(self, landscape: Landscape) -> None:
        """Use ``landscape`` everywhere: reference recomputed off-thread, live runs follow it."""
        self.version += 1
        self.landscape = landscape
        self.reference = None
        self.jobs.submit(ReferenceKey(), partial(reference_job, landscape, self.version,
                                                 progress=partial(self.jobs.progress.emit, ReferenceKey())))
        for w in self.workers:
            w.send(SetLandscape(landscape, self.version))
        for i, spec in enumerate(self.specs[: len(self.histories)]):
            if spec.kind == "train":  # a new target: the training starts over, and its curves with it
                self.histories[i] = MetricsHistory()
            else:  # the walkers go on from where they are: the curves go on, marked
                self.histories[i].mark("new landscape")
        self.landscape_changed.emit(landscape, self.version)

    def submit_job(self, key: JobKey, fn: Any) -> None:
        self.jobs.submit(key, fn)

    def _on_job_done(self, job: JobDone) -> None:
        if isinstance(job.key, ReferenceKey):
            ref: ReferenceReady = job.result
            if ref.version != self.version:
                return
            self.reference = ref
            for w in self.workers:
                w.send(SetReference(ref))
            self.reference_ready.emit(ref)
        else:
            self.job_done.emit(job)

    def _on_job_failed(self, key: str, err: WorkerError) -> None:
        if isinstance(key, ReferenceKey):
            self.reference_failed.emit(err.message)
        else:
            self.worker_error.emit(err)

    # ---- runs ----------------------------------------------------------------------------
    def set_runs(self, specs: list[RunSpec], start: bool = False) -> None:
        """Replace all runs by ``specs`` (same landscape, each with its own settings)."""
        self._stop_workers()
        self._generation += 1
        base = self._generation * 16
        self.specs = list(specs)
        self.histories = [MetricsHistory() for _ in specs]
        self.latest = [None] * len(specs)
        self.states = ["paused"] * len(specs)
        self.workers = []
        for i, spec in enumerate(specs):
            if spec.kind == "train":
                w: LoopWorker = TrainingWorker(base + i, spec.settings, self.landscape, self.version)
            elif spec.kind == "tempered":
                w = TemperingWorker(base + i, spec.settings, self.landscape, self.version)
            elif spec.kind == "generate":
                w = GenerateWorker(base + i, spec.settings, self.landscape, self.version)
            else:
                w = SamplingWorker(base + i, spec.settings, self.landscape, self.version)
            w.max_steps_per_s = self.speed
            w.message.connect(self._on_message)
            w.failed.connect(self._on_failed)
            w.state_changed.connect(self._on_state)
            self.workers.append(w)
            w.start()
            if self.reference is not None:
                w.send(SetReference(self.reference))
            if start:
                w.resume()
        self.runs_rebuilt.emit(self.specs)

    def update_spec(self, index: int, spec: RunSpec) -> None:
        """New settings for a live run of the same kind (applied in its thread without a restart
        where possible)."""
        if index >= len(self.specs):
            return
        old = self.specs[index]
        self.specs[index] = spec
        if old.kind != spec.kind:
            self.set_runs(self.specs, start=self.states[index] == "running")
            return
        if old.settings == spec.settings:
            return
        if spec.kind == "train":  # new settings start the training over: its curves start over too
            self.histories[index] = MetricsHistory()
        self.workers[index].send(SetSettings(spec.settings))
        self.spec_changed.emit(index, old, spec)

    def _index(self, run_id: int) -> int | None:
        i = run_id - self._generation * 16
        return i if 0 <= i < len(self.workers) else None

    def _on_message(self, snap: RunSnapshot) -> None:
        i = self._index(snap.run_id)
        if i is None:
            return
        self.latest[i] = snap
        if isinstance(snap, GenerateSnapshot):
            self.generation.emit(snap)
            return
        if snap.metrics is not None:
            self.histories[i].append(snap.metrics)
        self.snapshot.emit(snap)

    def _on_failed(self, err: WorkerError) -> None:
        if self._index(err.run_id) is None:
            return
        self.errors.append(err)
        self.worker_error.emit(err)

    def _on_state(self, state: RunState) -> None:
        i = self._index(state.run_id)
        if i is None:
            return
        self.states[i] = state.state
        self.run_state.emit(state)

    def index_of(self, run_id: int) -> int | None:
        """Position of a run in ``specs`` (None for a run that no longer exists)."""
        return self._index(run_id)

    # ---- controls (every run together) ---------------------------------------------------
    def run(self) -> None:
        for w in self.workers:
            w.resume()

    def pause(self) -> None:
        for w in self.workers:
            w.pause()

    def step(self, n: int = 1) -> None:
        for w in self.workers:
            w.single_step(n)

    def reset(self) -> None:
        for i, w in enumerate(self.workers):
            self.histories[i] = MetricsHistory()
            w.reset()
        self.runs_rebuilt.emit(self.specs)

    def set_speed(self, steps_per_s: float) -> None:
        self.speed = float(steps_per_s)
        for w in self.workers:
            w.send(SetSpeed(self.speed))

    @property
    def any_running(self) -> bool:
        return any(s == "running" for s in self.states)

    def _stop_workers(self) -> None:
        """Ask every run to stop, then join them all (they wind down in parallel)."""
        for w in self.workers:
            w.message.disconnect(self._on_message)
            w.request_stop()
        for w in self.workers:
            w.stop()
        self.workers = []

    def shutdown(self) -> None:
        """Stop and join every thread (window closing, application quitting)."""
        self._stop_workers()
        self.jobs.stop()
