"""Issue 13/19: File > Open never raises, never half-applies a scene, never blocks; the fields hold every
value the scene format accepts (64-bit seeds) or the scene is refused before anything changes."""

from __future__ import annotations

import os

import pytest

from ebm_explorer.core.limits import MAX_SEED
from ebm_explorer.scenes import Scene, save_scene
from ebm_explorer.scenes.model import RunSpec, SampleSettings

pytestmark = pytest.mark.timeout(60)


def _scene(tmp_path, name="s.toml", **settings):
    p = tmp_path / name
    save_scene(Scene(title="big seed", runs=(RunSpec(settings=SampleSettings(**settings)),)), p)
    return p


@pytest.mark.parametrize("seed", [3_000_000_000, MAX_SEED])
def test_a_64_bit_seed_opens_and_is_kept(qtbot, make_window, tmp_path, seed):
    w = make_window()
    assert w.scenes.open_path(_scene(tmp_path, seed=seed), start=False)
    assert w.sampler_panel.seed.value() == seed and w.sampler_panel.config().seed == seed
    assert w.scenes.current_scene().runs[0].settings.seed == seed  # saved back exactly


def test_a_scene_beyond_a_field_is_refused_before_anything_changes(qtbot, make_window, tmp_path):
    w = make_window()
    before = (w.sampler_panel.config(), w.windowTitle(), w.scenes.scene)
    big = tmp_path / "big.toml"
    big.write_text("format_version = 1\ntitle = 'huge'\n[[runs]]\nsampler = 'hmc'\nstep_size = 50.0\n")
    assert not w.scenes.open_path(big)
    assert w.error_banner.isVisible() and "step_size" in w.error_banner.text()
    assert (w.sampler_panel.config(), w.windowTitle(), w.scenes.scene) == before


@pytest.mark.parametrize("kind", ["fifo", "directory", "device", "nested", "binary", "missing", "walkers_1e12"])
def test_file_open_refuses_bad_files_without_raising_or_blocking(qtbot, make_window, tmp_path, kind):
    w = make_window()
    path = tmp_path / "x.toml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "device":
        path = "/dev/zero"
    elif kind == "nested":
        path.write_text("format_version = 1\na = " + "[" * 50_000 + "]" * 50_000)
    elif kind == "binary":
        path.write_bytes(os.urandom(2000))
    elif kind == "walkers_1e12":
        path.write_text("format_version = 1\n[[runs]]\nwalkers = 1000000000000\n")
    assert w.scenes.open_path(path) is False  # a blocking open (FIFO) would trip the test's timeout
    assert w.error_banner.isVisible() and "Cannot open scene" in w.error_banner.text()


def test_control_characters_in_a_title_are_escaped(qtbot, make_window, tmp_path):
    w = make_window()
    p = tmp_path / "t.toml"
    p.write_text('format_version = 1\ntitle = "evil\\u001b[2J\\u0007title"\n')
    assert w.scenes.open_path(p, start=False)
    assert "\x1b" not in w.windowTitle() and "\\x1b" in w.windowTitle()


def test_a_scene_asking_for_more_memory_than_there_is_gets_a_banner_not_an_abort(qtbot, make_window, tmp_path):
    w = make_window()
    p = tmp_path / "huge.toml"
    expr = "+".join(f"sin({i}*x)*cos({i}*y)" for i in range(60))
    p.write_text(f"format_version = 1\n[landscape]\nkind = 'formula'\nexpr = '{expr} + 0.1*(x**2+y**2)'\n"
                 "box = [-3, 3, -3, 3]\n[[runs]]\nwalkers = 100000000\nseed = 9000000000000000000\n")
    assert w.scenes.open_path(p, start=True)
    qtbot.waitUntil(lambda: "walkers need" in w.error_banner.text(), timeout=60000)
    assert w.error_banner.isVisible() and not w.model.any_running
    w.sampler_panel.walkers.setValue(200)  # fewer walkers: the app runs on
    w.run()
    qtbot.waitUntil(lambda: w.model.any_running, timeout=60000)
