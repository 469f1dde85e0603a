"""Issue 19: start-up never fails because of the autosave folder, autosave never stops, no session is lost."""

from __future__ import annotations

import os
import subprocess
import zipfile

import numpy as np
import pytest

from ebm_explorer.scenes import Scene, save_scene
from ebm_explorer.scenes.recovery import scan_slots
from ebm_explorer.scenes.state import SavedRun, save_run_states

pytestmark = pytest.mark.timeout(240)
WAIT = 240_000  # ms: a wait returns once its condition holds; 4 min covers 2 test workers on 2 busy cores


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _good_slot(d, name="session-20260101-120000-999999999", title="banana"):
    slot = d / name
    slot.mkdir(parents=True)
    save_scene(Scene(title=title), slot / "scene.toml")
    save_run_states(slot / "state.npz", [SavedRun("sample", 1234, np.random.default_rng(0).normal(size=(400, 2)))])
    return slot


def _flip_compressed_byte(slot):
    p = slot / "state.npz"
    raw = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo("run0_positions.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF
    p.write_bytes(bytes(raw))


def _npz(slot, **arrays):
    np.savez(slot / "state.npz", **arrays)


def _forged_shape(slot):
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (20_000_000_000, 2)})
    with zipfile.ZipFile(slot / "state.npz", "w") as zf:
        zf.writestr("format_version.npy", _npy(np.array(1)))
        zf.writestr("n_runs.npy", _npy(np.array(1)))
        zf.writestr("run0_positions.npy", buf.getvalue() + b"\0" * 64)


def _npy(a):
    import io

    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


CORRUPTIONS = {
    "flipped_byte_in_compressed_state": _flip_compressed_byte,
    "format_version_is_a_string": lambda s: _npz(s, format_version=np.array("1"), n_runs=np.array(0)),
    "format_version_is_an_array": lambda s: _npz(s, format_version=np.array([1, 2]), n_runs=np.array(0)),
    "n_runs_is_huge": lambda s: _npz(s, format_version=np.array(1), n_runs=np.array(10**12)),
    "truncated_state": lambda s: (s / "state.npz").write_bytes((s / "state.npz").read_bytes()[:200]),
    "npy_renamed_npz": lambda s: np.save(s / "state.npy", np.zeros(3)) or os.replace(s / "state.npy", s / "state.npz"),
    "forged_2e10_shape": _forged_shape,
    "object_array": lambda s: (s / "state.npz").write_bytes(_zip_with("format_version.npy", _pickled())),
    "scene_nested_1e5_deep": lambda s: (s / "scene.toml").write_text(
        "format_version = 1\nx = " + "[" * 100_000 + "]" * 100_000 + "\n"),
    "scene_dotted_keys_deep": lambda s: (s / "scene.toml").write_text(
        "format_version = 1\n" + ".".join(["a"] * 5000) + " = 1\n"),
    "scene_binary": lambda s: (s / "scene.toml").write_bytes(os.urandom(4096)),
    "scene_is_a_fifo": lambda s: ((s / "scene.toml").unlink(), os.mkfifo(s / "scene.toml")),
    "state_is_a_directory": lambda s: ((s / "state.npz").unlink(), (s / "state.npz").mkdir()),
    "scene_wrong_version": lambda s: (s / "scene.toml").write_text('format_version = "1"\n'),
    "scene_seed_out_of_range": lambda s: (s / "scene.toml").write_text(
        "format_version = 1\n[[runs]]\nseed = -5\n"),
}


def _zip_with(name, data):
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def _pickled():
    import io

    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_every_corruption_is_moved_aside_and_reported(tmp_path, kind):
    slot = _good_slot(tmp_path)
    CORRUPTIONS[kind](slot)
    result = scan_slots(tmp_path)
    assert result.recoverable == [] and len(result.problems) == 1
    msg = result.problems[0]
    assert msg.startswith("the previous session could not be restored (") and "it was kept as" in msg
    assert (tmp_path / "damaged" / slot.name).exists() and not slot.exists()


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_the_app_starts_on_its_default_scene_whatever_the_autosave(qtbot, make_window, tmp_path, monkeypatch, kind):
    monkeypatch.setenv("EBM_EXPLORER_AUTOSAVE_DIR", str(tmp_path))
    slot = _good_slot(tmp_path)
    CORRUPTIONS[kind](slot)
    w = make_window()  # must not raise
    text = w.autosave.banner_label.text()
    assert w.autosave.banner.isVisible() and "could not be restored" in text and "kept as" in text
    assert not w.autosave.restore_pending and w.model.workers  # the default scene's runs are set up


def test_folder_that_is_a_file_or_unreadable_does_not_stop_start_up(qtbot, make_window, tmp_path, monkeypatch):
    f = tmp_path / "auto"
    f.write_text("not a folder")
    monkeypatch.setenv("EBM_EXPLORER_AUTOSAVE_DIR", str(f))
    w = make_window()
    assert not w.autosave.restore_pending


def test_two_crashes_lose_nothing(qtbot, make_window, tmp_path, monkeypatch, wait_paused):
    """Session 1 is killed; session 2 ignores the restore offer, runs another scene and is killed too;
    session 3 offers both, and restoring one keeps the other."""
    monkeypatch.setenv("EBM_EXPLORER_AUTOSAVE_DIR", str(tmp_path))
    s1 = _good_slot(tmp_path, title="banana")  # session 1's autosave, left by a kill
    b = make_window(walkers=300)  # session 2
    assert b.autosave.restore_pending and "banana" in b.autosave.choice.itemText(0)
    b.scenes.open_builtin(4, start=True)  # the user ignores the banner and works on another scene
    qtbot.waitUntil(lambda: b.model.latest and all(s is not None and s.step > 10 for s in b.model.latest),
                    timeout=WAIT)
    b.pause()
    wait_paused(b)
    with qtbot.waitSignal(b.autosave.saved, timeout=WAIT):
        b.autosave.save_now()  # saves although the restore question is still open
    steps2 = [s.step for s in b.model.latest]
    b.autosave.timer.stop()  # session 2 is "killed": its slot stays
    c = make_window(walkers=300)  # session 3
    labels = [c.autosave.choice.itemText(i) for i in range(c.autosave.choice.count())]
    assert len(labels) == 2 and any("banana" in t for t in labels) and any("barrier" in t.lower() for t in labels)
    i2 = next(i for i, t in enumerate(labels) if "barrier" in t.lower())
    assert c.autosave.restore(i2)
    qtbot.waitUntil(lambda: c.model.latest and all(s is not None for s in c.model.latest)
                    and [s.step for s in c.model.latest] == steps2, timeout=WAIT)
    assert s1.exists() and c.autosave.restore_pending  # session 1 is still offered, untouched
    assert "banana" in c.autosave.choice.itemText(0)


def test_temp_files_of_killed_writers_are_removed(tmp_path):
    from ebm_explorer.core.atomic import save_npz_atomic

    dead = _dead_pid()
    stale = tmp_path / f".big.npz.ebmtmp-{dead}-abc123.npz"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".big.npz.ebmtmp-{os.getpid()}-zzz.npz"  # a write in progress in this process
    live.write_bytes(b"y")
    save_npz_atomic(tmp_path / "other.npz", a=np.zeros(3))
    assert not stale.exists() and live.exists()
    slot = _good_slot(tmp_path / "auto")
    (slot / f".state.npz.ebmtmp-{dead}-q.npz").write_bytes(b"z")
    scan_slots(tmp_path / "auto")
    assert [p.name for p in slot.iterdir() if "ebmtmp" in p.name] == []


def test_saved_files_get_the_umask_permissions(tmp_path):
    from ebm_explorer.core.atomic import save_npz_atomic

    old = os.umask(0o022)
    try:
        save_npz_atomic(tmp_path / "a.npz", a=np.zeros(2))
        assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        save_npz_atomic(tmp_path / "b.npz", a=np.zeros(2))
        assert (tmp_path / "b.npz").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
