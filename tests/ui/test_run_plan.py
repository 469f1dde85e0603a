"""Run specs are planned in one place from the app model's choices; panels edit the model."""

from __future__ import annotations

from dataclasses import replace

from ebm_explorer.core.landscapes import GaussianMixture
from ebm_explorer.core.run_settings import RunSpec, SampleSettings, TrainSettings
from ebm_explorer.ui.app_model import AppModel
from ebm_explorer.ui.run_plan import plan_runs


def test_plan_runs_single_compare_and_scene_runs() -> None:
    s, t = SampleSettings(sampler="hmc", step_size=0.3), TrainSettings(method="pcd", model="mlp")
    assert plan_runs("sample", False, s, t, ()) == [RunSpec("sample", "HMC h=0.3", s)]
    assert plan_runs("train", False, s, t, ()) == [RunSpec("train", "pcd (mlp)", t)]
    runs = plan_runs("sample", True, s, t, [("ula", 0.05), ("jarzynski", 0.2)])
    assert [r.kind for r in runs] == ["sample", "train"]
    assert runs[0].settings == replace(s, sampler="ula", step_size=0.05) and runs[0].label == "ULA h=0.05"
    assert runs[1].settings == replace(t, method="jarzynski", step_size=0.2) and runs[1].label == "Jarzynski h=0.2"
    own = [RunSpec("sample", "mine", s)]
    assert plan_runs("train", True, s, t, [("ula", 0.1)], own) == own  # a scene's runs win while they last


def test_model_edits_end_scene_runs_and_live_runs_follow(qtbot) -> None:
    m = AppModel()
    try:
        m.set_landscape(GaussianMixture([1.0], [[0.0, 0.0]], stds=[1.0]))
        own = [RunSpec("sample", "scene run", SampleSettings(walkers=50, step_size=0.07))]
        m.set_scene_runs(own)
        m.set_runs(m.run_specs())
        assert m.specs == own
        m.set_mode("sample")  # no change: the scene's runs stay
        m.set_sample_settings(m.sample, edited=True)  # equal value: no edit
        assert m.scene_runs is not None and not m.unsaved
        updated: list[RunSpec] = []
        m.spec_changed.connect(lambda _i, _old, new: updated.append(new))
        worker = m.workers[0]
        m.set_sample_settings(SampleSettings(walkers=50, step_size=0.02))
        assert m.scene_runs is None and m.unsaved
        assert m.workers[0] is worker  # same run, new settings sent to its thread
        assert m.specs[0].settings.step_size == 0.02 and m.specs[0].label == "MALA h=0.02"
        assert updated and updated[-1].label == "MALA h=0.02"  # the legend can follow without a reset
        m.set_mode("train")  # a kind change rebuilds
        m.follow_settings()
        assert [s.kind for s in m.specs] == ["train"] and m.workers[0] is not worker
    finally:
        m.shutdown()
