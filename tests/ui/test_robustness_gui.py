"""Robustness of the desktop app: degenerate landscapes, blown-up walkers, out of memory, device
fallback, training divergence, autosave/restore, and start/pause/reset hammering without deadlock."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PySide6 import QtCore

from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.landscapes import FormulaLandscape, GridLandscape, make_landscape
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.run_settings import SampleSettings, TrainSettings
from ebm_explorer.core.types import Box
from ebm_explorer.ui.robustness import explain_landscape
from ebm_explorer.workers.commands import SetSpeed
from ebm_explorer.workers.sampling_worker import SamplingWorker
from ebm_explorer.workers.training_worker import TrainingWorker

pytestmark = pytest.mark.timeout(240)
WAIT = 240_000  # ms: a wait returns once its condition holds; 4 min covers 2 test workers on 2 busy cores
BOX = Box(-3.0, 3.0, -3.0, 3.0)


def _ref_ready(w):
    return w.model.reference is not None and w.model.reference.version == w.model.version


# ---- degenerate landscapes ----------------------------------------------------------------------
def test_verdicts_for_degenerate_landscapes():
    flat = GridLandscape(np.zeros((16, 16)), BOX)
    v = explain_landscape(compute_reference(flat, BOX, 64), flat)
    assert v.action == "wall" and v.wall and "flat" in v.message and "wall outside the box" in v.message
    drawn = GridLandscape(np.random.default_rng(0).normal(size=(16, 16)), BOX)
    assert explain_landscape(compute_reference(drawn, BOX, 64), drawn).wall
    down = FormulaLandscape("-(x**2 + y**2)", BOX)
    v = explain_landscape(compute_reference(down, BOX, 64), down)
    assert v.action == "refuse" and "Not normalisable" in v.message and not v.wall
    const = FormulaLandscape("1", BOX)
    assert explain_landscape(compute_reference(const, BOX, 64), const).action == "refuse"
    small = make_landscape("gaussian")
    v = explain_landscape(compute_reference(small, Box(-0.5, 0.5, -0.5, 0.5), 64), small)
    assert v.action == "warn" and "walkers may leave the box" in v.message
    fine = make_landscape("gmm")
    assert explain_landscape(compute_reference(fine, fine.box, 64), fine).action == "ok"


def test_unbounded_landscape_is_refused_with_a_visible_banner(qtbot, make_window, wait_paused):
    w = make_window(autostart=True)
    qtbot.waitUntil(lambda: _ref_ready(w) and w.model.any_running, timeout=WAIT)
    w.model.set_landscape(FormulaLandscape("-(x**2 + y**2)", BOX))
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    banner = w.robustness.banner
    assert banner.isVisible() and "Not normalisable" in banner.text() and "refused" in banner.text()
    wait_paused(w)
    steps = w.model.latest[0].step
    w.run()  # the user presses Run or Step: still refused, no walker moves, the status bar says why
    w.step()
    qtbot.wait(300)
    assert not w.model.any_running and w.model.latest[0].step == steps
    assert "Not normalisable" in w.statusBar().currentMessage()
    w.model.set_landscape(make_landscape("gmm"))  # a good landscape lifts the refusal
    qtbot.waitUntil(lambda: _ref_ready(w) and not banner.isVisible(), timeout=WAIT)
    w.run()
    qtbot.waitUntil(lambda: w.model.any_running, timeout=WAIT)


def test_nan_region_is_refused_and_grid_shows_its_wall(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.model.set_landscape(FormulaLandscape("log(x)", BOX))
    qtbot.waitUntil(lambda: w.robustness.refused is not None, timeout=WAIT)
    assert "NaN or -inf" in w.robustness.banner.text() and not w.error_banner.isVisible()  # one banner, not two
    w.model.set_landscape(GridLandscape(np.zeros((16, 16)), BOX))
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    assert w.robustness.refused is None and w.robustness.walls[0].isVisible()
    assert "wall" in w.robustness.banner.text()
    xs, ys = w.robustness.walls[0].getData()
    assert (min(xs), max(xs), min(ys), max(ys)) == (BOX.xmin, BOX.xmax, BOX.ymin, BOX.ymax)


# ---- blown-up walkers ---------------------------------------------------------------------------
def _worker(qtbot, config, landscape=None):
    w = SamplingWorker(1, config, landscape or make_landscape("gaussian"))
    w.setup()  # driven directly in this thread: deterministic
    return w


@pytest.mark.parametrize("rule", ["freeze", "reset"])
def test_diverging_walkers_are_counted_flagged_and_handled(qtbot, rule):
    w = _worker(qtbot, SampleSettings(sampler="ula", step_size=8.0, walkers=500, blowup_rule=rule))
    w.advance(60)
    w.step_count = 60
    snap = w.make_snapshot()  # no exception: the run goes on
    assert snap.n_blowup_events > 0 and snap.blowup_rule == rule
    assert np.isfinite(snap.walkers.points).all()
    if rule == "freeze":
        assert snap.n_flagged > 0 and len(snap.walkers.flagged) == min(snap.n_flagged, 500)
    else:
        assert snap.n_flagged == 0 and len(snap.walkers.flagged) == 0
    assert snap.n_flagged <= snap.n_walkers


def test_nan_energy_region_freezes_walkers(qtbot):
    land = FormulaLandscape("x**2 + y**2 + log(3.5 - x)", BOX)  # NaN for x > 3.5 (beyond the box)
    w = _worker(qtbot, SampleSettings(sampler="mh", step_size=2.0, walkers=400, init="point",
                                      init_point=(2.9, 0.0)), land)
    w.advance(30)
    snap = w.make_snapshot()
    assert torch.isfinite(w._state.energy[~w._frozen]).all() and torch.isfinite(w._state.position).all()
    assert snap.n_flagged == int(w._frozen.sum())


def test_blowups_show_in_the_window_and_the_app_continues(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.sampler_panel.set_config(SampleSettings(sampler="ula", step_size=9.0, walkers=400))
    w.run()
    qtbot.waitUntil(lambda: w.robustness.counts[1] > 0, timeout=WAIT)
    assert "blow-ups:" in w.robustness.blowup_label.text() and "freeze" in w.robustness.blowup_label.text()
    qtbot.waitUntil(lambda: len(w.robustness.flags[0].data) > 0, timeout=WAIT)
    assert w.model.any_running and not w.error_banner.isVisible()
    w.sampler_panel.blowup.setCurrentIndex(w.sampler_panel.blowup.findData("reset"))
    qtbot.waitUntil(lambda: "reset" in w.robustness.blowup_label.text(), timeout=WAIT)
    assert w.model.any_running


# ---- resources ----------------------------------------------------------------------------------
def test_huge_walker_count_is_refused_with_advice_and_the_run_recovers(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    with pytest.raises(UserInputError, match="try 1e"):
        SamplingWorker(1, SampleSettings(walkers=10**12), make_landscape("gmm")).setup()
    w.model.update_spec(0, w.model.specs[0].__class__("sample", "huge", SampleSettings(walkers=10**12)))
    qtbot.waitUntil(lambda: w.model.states[0] == "failed", timeout=WAIT)
    qtbot.waitUntil(lambda: "walkers need ~" in w.error_banner.text(), timeout=WAIT)
    w.sampler_panel.walkers.setValue(300)  # the user follows the advice and presses Run
    w.run()
    qtbot.waitUntil(lambda: w.model.any_running and w.model.latest[0] is not None
                    and w.model.latest[0].n_walkers == 300, timeout=WAIT)


def test_out_of_memory_during_a_step_gives_advice(qtbot, monkeypatch):
    w = SamplingWorker(3, SampleSettings(walkers=200), make_landscape("gmm"))
    errors = []
    w.failed.connect(errors.append, QtCore.Qt.ConnectionType.DirectConnection)
    w.setup()

    def oom(*_a, **_k):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    w.sampler = w.sampler._replace(step=oom)
    assert not w._guarded(w.advance, 1)
    assert errors and errors[0].message.startswith("out of memory on cpu with 200 walkers") and "try" in errors[0].message


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_request_without_gpu_falls_back_with_a_notice(qtbot, make_window):
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.sampler_panel.set_config(SampleSettings(device="cuda", walkers=300))
    assert w.sampler_panel.device.currentData() == "cuda" and "not available" in w.sampler_panel.device.currentText()
    w.run()
    # the notice can arrive (with the worker's first snapshot) before its "running" state does
    qtbot.waitUntil(lambda: "running on cpu instead" in w.robustness.banner.text() and w.model.any_running,
                    timeout=WAIT)
    assert w.model.specs[0].settings.device == "cuda"  # the user's choice is kept for a machine with a GPU


# ---- training divergence ------------------------------------------------------------------------
def test_training_divergence_stops_the_run_with_the_message(qtbot, make_window, monkeypatch):
    from ebm_explorer.core.training import Trainer
    from ebm_explorer.core.training.fused_mixture import FusedMixtureTrainer

    def diverge(self, *args, **kwargs):
        raise NumericalError("model parameters became NaN/inf at iteration 3: lower the learning rate")

    for trainer in (Trainer, FusedMixtureTrainer):  # the worker advances whichever the recipe built
        monkeypatch.setattr(trainer, "advance", diverge)
    w = make_window()
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    w.set_mode("train")
    w.run()
    qtbot.waitUntil(lambda: "lower the learning rate" in w.error_banner.text(), timeout=WAIT)
    assert w.error_banner.isVisible()
    qtbot.waitUntil(lambda: w.model.states[0] == "failed", timeout=WAIT)  # sent just after the error
    monkeypatch.undo()
    w.set_mode("sample")  # the app is alive: another run starts
    w.run()
    qtbot.waitUntil(lambda: w.model.any_running, timeout=WAIT)


# ---- autosave -----------------------------------------------------------------------------------
def test_autosave_then_restore_after_a_kill(qtbot, make_window, tmp_path, monkeypatch):
    monkeypatch.setenv("EBM_EXPLORER_AUTOSAVE_DIR", str(tmp_path / "auto"))
    a = make_window(autostart=True, walkers=300)
    qtbot.waitUntil(lambda: a.model.latest[0] is not None and a.model.latest[0].step > 20, timeout=WAIT)
    a.pause()
    qtbot.waitUntil(lambda: not a.model.any_running, timeout=WAIT)
    with qtbot.waitSignal(a.autosave.saved, timeout=WAIT) as blocker:
        a.autosave.save_now()
    from ebm_explorer.scenes.state import load_run_states

    saved = load_run_states(blocker.args[0])
    assert saved[0].kind == "sample" and saved[0].step > 20 and saved[0].positions.shape == (300, 2)
    assert (a.autosave.slot / "scene.toml").exists() and a.autosave.slot.parent == tmp_path / "auto"
    # a second start while the files are there (as after a kill) offers a restore, non-modally
    b = make_window(walkers=300)
    assert b.autosave.restore_pending and b.autosave.banner.isVisible()
    assert f"sample step {saved[0].step:,}" in b.autosave.choice.itemText(0)
    assert b.autosave.restore()
    qtbot.waitUntil(lambda: b.model.latest and b.model.latest[0] is not None
                    and b.model.latest[0].step == saved[0].step, timeout=WAIT)
    np.testing.assert_allclose(b.model.latest[0].walkers.points, saved[0].positions[:300], rtol=1e-6, atol=1e-6)
    assert not b.autosave.banner.isVisible()
    b.shutdown()  # a clean exit removes its own slot only
    assert not (b.autosave.slot / "state.npz").exists()


def test_autosave_discard_and_unreadable_autosave(qtbot, make_window, tmp_path, monkeypatch):
    d = tmp_path / "auto"
    slot = d / "session-20260101-120000-999999999"
    slot.mkdir(parents=True)
    monkeypatch.setenv("EBM_EXPLORER_AUTOSAVE_DIR", str(d))
    (slot / "scene.toml").write_text("format_version = 1\n[landscape\n")  # truncated
    w = make_window()
    text = w.autosave.banner_label.text()
    assert w.autosave.banner.isVisible() and "could not be restored" in text and "kept as" in text
    assert not w.autosave.restore_pending and (d / "damaged" / slot.name / "scene.toml").exists()
    from ebm_explorer.scenes import Scene, save_scene

    slot.mkdir()
    save_scene(Scene(title="crashed"), slot / "scene.toml")
    w2 = make_window()
    assert w2.autosave.restore_pending and "crashed" in w2.autosave.choice.itemText(0)
    w2.autosave.discard()
    assert not w2.autosave.banner.isVisible() and not slot.exists()


def test_training_state_capture_and_restore_round_trip(qtbot):
    land = make_landscape("gmm")
    a = TrainingWorker(1, TrainSettings(walkers=200, data_size=300), land)
    a.setup()
    a.advance(5)
    saved = a.capture_state()
    b = TrainingWorker(2, TrainSettings(walkers=200, data_size=300), land)
    b.setup()
    b.restore_state(saved)
    assert b.trainer.iteration == 5
    for (k, v), (_k2, v2) in zip(a.trainer.model.state_dict().items(), b.trainer.model.state_dict().items()):
        torch.testing.assert_close(v, v2, msg=k)
    torch.testing.assert_close(a.trainer.walkers, b.trainer.walkers)
    a.advance(1)
    b.advance(1)  # same parameters, optimiser moments and walkers: the next update agrees
    for v, v2 in zip(a.trainer.model.parameters(), b.trainer.model.parameters()):
        assert torch.isfinite(v2).all() and v.shape == v2.shape


# ---- hammering ----------------------------------------------------------------------------------
def test_hammer_window_controls_and_close_mid_run(qtbot, make_window):
    w = make_window(walkers=300)
    qtbot.waitUntil(lambda: _ref_ready(w), timeout=WAIT)
    rng = random.Random(0)
    actions = [w.run, w.pause, w.toggle_run, w.step, w.reset, lambda: w.set_mode(rng.choice(["sample", "train"])),
               lambda: w.set_compare(rng.random() < 0.5)]
    for i in range(300):
        rng.choice(actions)()
        if i % 25 == 0:
            qtbot.wait(5)
    w.set_compare(False)
    w.set_mode("sample")
    w.run()
    qtbot.waitUntil(lambda: w.model.any_running, timeout=WAIT)
    w.close()  # mid-run: joins every thread
    assert all(not wk.isRunning() for wk in w.model.workers) or not w.model.workers


def test_hammer_workers_directly(qtbot):
    land = make_landscape("gmm")
    rng = random.Random(1)
    for _round in range(4):
        workers = [SamplingWorker(10 + k, SampleSettings(walkers=200, sampler=s), land)
                   for k, s in enumerate(["mh", "ula", "mala", "hmc"])]
        workers.append(TrainingWorker(20, TrainSettings(walkers=100, data_size=200), land))
        for wk in workers:
            wk.start()
        for _ in range(150):
            wk = rng.choice(workers)
            rng.choice([wk.resume, wk.pause, wk.reset, lambda: wk.single_step(3), wk.request_capture,
                        lambda: wk.send(SetSpeed(rng.choice([0.0, 50.0])))])()
        qtbot.wait(20)
        for wk in workers:
            assert wk.stop(20000), "worker did not stop: deadlock"
