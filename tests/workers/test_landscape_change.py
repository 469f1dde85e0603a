"""After a landscape change, walkers that cannot go on (frozen on the old landscape, a non-finite energy
on the new one, outside its box) restart from fresh start points, and the snapshot says how many and why."""

from __future__ import annotations

import torch

from ebm_explorer.core.landscapes import FormulaLandscape
from ebm_explorer.core.run_settings import SampleSettings
from ebm_explorer.core.types import Box
from ebm_explorer.workers.commands import SetLandscape
from ebm_explorer.workers.sampling_worker import SamplingWorker

BOX = Box(-3.0, 3.0, -3.0, 3.0)


def _worker(config, landscape):
    w = SamplingWorker(1, config, landscape)
    w.setup()  # driven directly in this thread: deterministic
    return w


def test_frozen_walkers_restart_when_the_landscape_is_fixed():
    nan_right = FormulaLandscape("x**2 + y**2 + log(1 - x)", BOX)  # NaN for x > 1: walkers stepping there freeze
    w = _worker(SampleSettings(sampler="ula", step_size=0.3, walkers=400, init="point", init_point=(0.5, 0.0),
                               blowup_rule="freeze"), nan_right)
    w.advance(40)
    frozen = int(w._frozen.sum())
    assert frozen > 20  # the broken landscape froze a good share of them
    w.apply(SetLandscape(FormulaLandscape("x**2 + y**2", BOX), 2))
    snap = w.make_snapshot()
    assert int(w._frozen.sum()) == 0 and snap.n_flagged == 0
    assert torch.isfinite(w._state.energy).all()
    assert snap.reset_note.startswith(f"new landscape: {frozen:,} of 400 walkers restarted")
    assert f"{frozen:,} were frozen" in snap.reset_note and snap.reset_serial == 1
    moved = w._state.position.clone()
    w.advance(1)  # every walker moves again (ULA moves each walker every step)
    assert (w._state.position != moved).any(dim=1).all()


def test_walkers_outside_a_smaller_box_restart_inside_it_and_nothing_else_moves():
    wide = FormulaLandscape("0.05*(x**2 + y**2)", Box(-10.0, 10.0, -10.0, 10.0))
    w = _worker(SampleSettings(sampler="mala", step_size=0.5, walkers=300, init="uniform"), wide)
    before = w._state.position.clone()
    inside = ((before.abs() <= 3.0).all(dim=1))
    w.apply(SetLandscape(FormulaLandscape("x**2 + y**2", BOX), 2))
    after = w._state.position
    assert torch.equal(after[inside], before[inside])  # walkers inside the new box keep their places
    assert (after.abs() <= 3.0).all()
    n_out = int((~inside).sum())
    assert f"{n_out:,} of 300 walkers restarted" in w.make_snapshot().reset_note
    assert f"{n_out:,} were outside the new box" in w.make_snapshot().reset_note


def test_walkers_just_beyond_an_unchanged_box_stay_where_they_are():
    """Where the box is no wall (formulas, presets) walkers beyond it belong to the target: a change of
    the energy on the same box (a temperature slider) must not move them."""
    land = FormulaLandscape("0.05*(x**2 + y**2)", BOX)  # wide: many walkers beyond the box
    w = _worker(SampleSettings(sampler="mala", step_size=0.5, walkers=300, init="uniform"), land)
    w._state = w.sampler.init(w._state.position * 2.0, land)  # half of them beyond the box
    before = w._state.position.clone()
    w.apply(SetLandscape(FormulaLandscape("0.06*(x**2 + y**2)", BOX), 2))
    assert torch.equal(w._state.position, before) and w.make_snapshot().reset_note == ""


def test_no_note_when_every_walker_can_go_on():
    w = _worker(SampleSettings(sampler="mala", step_size=0.1, walkers=200, init="point", init_point=(0.0, 0.0)),
                FormulaLandscape("x**2 + y**2", BOX))
    w.apply(SetLandscape(FormulaLandscape("0.5*x**2 + y**2", BOX), 2))
    assert w.make_snapshot().reset_note == ""
