"""One settings type per run kind: scene file -> panels -> workers -> scene file loses nothing.

Every field is set away from its default (blow-up rule, resampling scheme, kernel, optimiser, seeds
included), so a field dropped or renamed anywhere on the way makes the comparison fail.
"""

from __future__ import annotations

from dataclasses import fields, replace

from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.core.run_settings import RunSpec, SampleSettings, TrainSettings
from ebm_explorer.scenes import Scene, scene_from_toml, scene_to_toml
from ebm_explorer.ui.panels import SamplerPanel, TrainingPanel
from ebm_explorer.workers.sampling_worker import SamplingWorker
from ebm_explorer.workers.training_worker import TrainingWorker

WAIT = 60000

SAMPLE = SampleSettings(sampler="hmc", step_size=0.037, leapfrog_steps=7, walkers=321, init="point",
                        init_point=(0.5, -0.25), seed=9, device="cpu", dtype="float64", steps_per_frame=3,
                        blowup_rule="reset")
TRAIN = TrainSettings(model="mlp", components=3, mixture_init="centre", hidden=(8, 4), method="pcd", kernel="mala",
                      cd_steps=2, cd_reset=3,
                      step_size=0.0123, leapfrog_steps=6, optimizer="adam", lr=0.00731, means_lr_scale=0.5,
                      walkers=123, data_size=456, data_file="", resample_threshold=0.833,
                      resample_scheme="multinomial", noise_std=0.37, cross_fit=False, iterations=77, seed=5,
                      device="cpu", dtype="float32", steps_per_frame=2)


def test_every_field_differs_from_its_default() -> None:
    """Guards the round trip below: a field left at its default would pass unnoticed."""
    for value in (SAMPLE, TRAIN):
        default = type(value)()
        same = [f.name for f in fields(value) if getattr(value, f.name) == getattr(default, f.name)]
        assert set(same) <= {"device", "data_file"}, same  # cpu-only machine; data_file: see the panel test


def test_scene_panels_workers_scene_round_trip(qtbot) -> None:
    scene = Scene(landscape={"kind": "preset", "name": "gmm"},
                  runs=(RunSpec("sample", "S", SAMPLE), RunSpec("train", "T", TRAIN)))
    loaded, warnings = scene_from_toml(scene_to_toml(scene))
    assert warnings == [] and loaded.runs == scene.runs

    sampler_panel, training_panel = SamplerPanel(), TrainingPanel()
    qtbot.addWidget(sampler_panel)
    qtbot.addWidget(training_panel)
    sampler_panel.set_config(loaded.runs[0].settings)
    training_panel.set_settings(loaded.runs[1].settings)
    from_panels = (sampler_panel.config(), training_panel.settings())
    assert from_panels == (SAMPLE, TRAIN)
    with_file = replace(TRAIN, data_file="points.csv", device="cuda")  # kept even on a machine without a GPU
    training_panel.set_settings(with_file)
    assert training_panel.settings() == with_file
    training_panel.set_settings(TRAIN)

    land = make_landscape("gmm")
    sw = SamplingWorker(0, from_panels[0], land)
    tw = TrainingWorker(1, from_panels[1], land)
    sw.apply_config(from_panels[0])
    tw.settings = from_panels[1]
    back = Scene(landscape=loaded.landscape, runs=(RunSpec("sample", "S", sw.config), RunSpec("train", "T", tw.settings)))
    again, _ = scene_from_toml(scene_to_toml(back))
    assert again.runs == scene.runs


def test_window_applies_and_saves_a_scene_unchanged(qtbot, make_window) -> None:
    """The real window: a two-run scene becomes the model's run specs and is captured back unchanged."""
    scene = Scene(landscape={"kind": "preset", "name": "gmm"},
                  runs=(RunSpec("sample", "S", SAMPLE), RunSpec("train", "T", TRAIN)))
    w = make_window()
    w.scenes.apply(scene, start=False)
    assert [s.settings for s in w.model.specs] == [SAMPLE, TRAIN]
    assert w.sampler_panel.config() == SAMPLE and w.training_panel.settings() == TRAIN
    assert w.scenes.current_scene().runs == scene.runs


def test_training_panel_offers_score_matching(qtbot) -> None:
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    offered = {panel.method.itemData(i) for i in range(panel.method.count())}
    assert {"cd", "pcd", "jarzynski", "sm", "dsm"} <= offered
    seen = []
    panel.changed.connect(seen.append)
    panel.method.setCurrentIndex(panel.method.findData("dsm"))
    panel.noise_std.setValue(0.3)
    assert seen[-1].method == "dsm" and seen[-1].noise_std == 0.3
