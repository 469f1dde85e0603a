"""Scene files: round trip (bit-for-bit runs), defaults, warnings, and clear errors for bad files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.scenes import (
    FORMAT_VERSION,
    RunSpec,
    SampleSettings,
    Scene,
    list_builtin_scenes,
    load_builtin_scene,
    load_default_scene,
    load_scene,
    save_scene,
    scene_to_toml,
)
from ebm_explorer.scenes.headless import run_scene


def _small_scene() -> Scene:
    runs = (
        RunSpec("sample", "MALA", SampleSettings(sampler="mala", step_size=0.2, walkers=64, seed=7)),
        RunSpec("sample", "HMC", SampleSettings(sampler="hmc", step_size=0.2, leapfrog_steps=4, walkers=64,
                                                 init="point", init_point=(-2.5, 0.0), seed=7, dtype="float64")),
    )
    return Scene(landscape={"kind": "preset", "name": "gmm"}, runs=runs, title="small", explanation="test", steps=5)


def test_round_trip_is_equal_and_runs_bit_for_bit(tmp_path: Path) -> None:
    scene = _small_scene()
    path = save_scene(scene, tmp_path / "s.toml")
    loaded, warnings = load_scene(path)
    assert warnings == []
    assert loaded == scene
    a = run_scene(scene, steps=5, record_every=1)
    b = run_scene(loaded, steps=5, record_every=1)
    for ra, rb in zip(a.runs, b.runs):
        assert ra.final_positions.dtype == rb.final_positions.dtype
        assert np.array_equal(ra.final_positions, rb.final_positions)
        assert np.array_equal(ra.trajectory.positions, rb.trajectory.positions)
    assert not np.array_equal(a.runs[0].final_positions, a.runs[0].trajectory.positions[0])  # it did move


@pytest.mark.parametrize("number", [n for n, _, _ in list_builtin_scenes()])
def test_builtin_scenes_round_trip(number: int, tmp_path: Path) -> None:
    scene = load_builtin_scene(number)
    assert scene.title and scene.explanation
    loaded, warnings = load_scene(save_scene(scene, tmp_path / "copy.toml"))
    assert warnings == [] and loaded == scene


def test_builtin_catalogue() -> None:
    numbers = [n for n, _, _ in list_builtin_scenes()]
    assert numbers == [1, 2, 3, 4, 5, 6, 7, 8]
    assert load_builtin_scene("fisher_vs_kl") == load_builtin_scene(3) == load_builtin_scene("03_fisher_vs_kl")
    assert len(load_builtin_scene(1).runs) == 3 and {r.kind for r in load_builtin_scene(1).runs} == {"train"}
    assert load_default_scene().runs[0].kind == "sample"
    with pytest.raises(UserInputError, match="no built-in scene"):
        load_builtin_scene(9)


def test_missing_keys_take_defaults(tmp_path: Path) -> None:
    p = tmp_path / "min.toml"
    p.write_text(f'format_version = {FORMAT_VERSION}\n[landscape]\nkind = "preset"\nname = "gmm"\n'
                 '[[runs]]\nsampler = "ula"\n')
    scene, warnings = load_scene(p)
    assert warnings == []
    assert scene.runs[0].settings == SampleSettings(sampler="ula")
    assert scene.view == Scene().view and scene.sweep is None


def test_unknown_keys_warn_and_are_ignored(tmp_path: Path) -> None:
    text = scene_to_toml(_small_scene()).replace('title = "small"', 'title = "small"\ncolour = "red"')
    text = text.replace('sampler = "mala"', 'sampler = "mala"\nstepsize = 0.3')
    p = tmp_path / "extra.toml"
    p.write_text(text)
    scene, warnings = load_scene(p)
    assert scene == _small_scene()
    assert any("'colour'" in w for w in warnings) and any("'runs[0].stepsize'" in w for w in warnings)
    assert all(str(p) in w for w in warnings)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: t[: len(t) // 2] + '\n[[runs]\n', "not a valid TOML"),  # truncated mid-table
        (lambda t: t.replace("format_version = 1", "format_version = 2"), "format_version 2"),
        (lambda t: t.replace("format_version = 1\n", ""), "no format_version"),
        (lambda t: t.replace("walkers = 64", 'walkers = "many"', 1), "walkers must be an integer"),
        (lambda t: t.replace('sampler = "mala"', 'sampler = "gibbs"'), "sampler must be one of"),
        (lambda t: t.replace('name = "gmm"', 'name = "nope"'), "nope"),
        (lambda t: t.replace("step_size = 0.2", "step_size = -1.0", 1), "step_size must be > 0"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, mutate, message: str) -> None:
    p = tmp_path / "bad_scene.toml"
    p.write_text(mutate(scene_to_toml(_small_scene())))
    with pytest.raises(UserInputError, match=message) as info:
        load_scene(p)
    assert str(p) in str(info.value) and "\n" not in str(info.value)


def test_binary_and_missing_files(tmp_path: Path) -> None:
    p = tmp_path / "garbage.toml"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(UserInputError, match="garbage.toml"):
        load_scene(p)
    with pytest.raises(UserInputError, match="scene file not found"):
        load_scene(tmp_path / "absent.toml")
    with pytest.raises(UserInputError, match="is a directory"):
        load_scene(tmp_path)


def test_save_is_atomic_and_keeps_drawn_grid(tmp_path: Path) -> None:
    values = np.linspace(0.0, 3.0, 16 * 12).reshape(12, 16)
    scene = replace(_small_scene(), landscape={"kind": "grid", "values": values.tolist(),
                                               "box": [-2.0, 2.0, -1.5, 1.5]})
    target = tmp_path / "grid.toml"
    save_scene(scene, target)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["grid.toml"]
    loaded, _ = load_scene(target)
    assert np.array_equal(np.asarray(loaded.landscape["values"]), values)
