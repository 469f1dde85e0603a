"""Robustness of the core (no Qt): memory limits and advice, device fallback, blown-up walkers,
degenerate landscapes, bad files (scene, data, trajectory, state) and atomic writes everywhere."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import ebm_explorer
from ebm_explorer.core.blowup import blown_up, keep_where, replace_walkers
from ebm_explorer.core.devices import resolve_device
from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.landscapes import FormulaLandscape, GridLandscape, make_landscape
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.resources import (
    available_memory_bytes,
    check_walker_memory,
    device_with_fallback,
    estimate_walker_bytes,
    is_out_of_memory,
    out_of_memory_message,
)
from ebm_explorer.core.samplers import get_sampler
from ebm_explorer.core.samplers.base import SamplerState
from ebm_explorer.core.training.data import load_points
from ebm_explorer.core.types import Box
from ebm_explorer.export.trajectories import read_trajectory_csv
from ebm_explorer.scenes import Scene, load_scene, save_scene
from ebm_explorer.scenes.state import SavedRun, load_run_states, optimizer_from_bytes, optimizer_to_bytes, save_run_states

BOX = Box(-3.0, 3.0, -3.0, 3.0)


# ---- resources ----------------------------------------------------------------------------------
def test_memory_estimate_refuses_huge_walker_counts_with_a_suggestion():
    with pytest.raises(UserInputError) as info:
        check_walker_memory(10**9, "cpu", torch.float32, available=8 * 10**9)
    msg = str(info.value)
    assert "1e9 walkers need ~" in msg and "GB" in msg and "try 1e7 walkers" in msg
    assert check_walker_memory(10**4, "cpu", torch.float32, available=8 * 10**9) == estimate_walker_bytes(10**4)


def test_free_memory_is_read_without_psutil():
    avail = available_memory_bytes("cpu")
    assert avail is not None and avail > 10**7


@pytest.mark.parametrize("exc", [MemoryError(), RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"),
                                 RuntimeError("[enforce fail at alloc_cpu.cpp] DefaultCPUAllocator: not enough memory"),
                                 torch.OutOfMemoryError("boom")])
def test_out_of_memory_is_recognised_and_explained(exc):
    assert is_out_of_memory(exc)
    msg = out_of_memory_message(exc, 10**8, "cpu")
    assert msg.startswith("out of memory on cpu with 100,000,000 walkers") and "try" in msg


def test_ordinary_errors_are_not_out_of_memory():
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of memory"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu_falls_back_in_the_gui_and_is_refused_by_the_cli():
    dev, notice = device_with_fallback("cuda")
    assert dev.type == "cpu" and "no CUDA GPU" in notice
    with pytest.raises(UserInputError, match="cuda requested"):
        resolve_device("cuda")  # the CLI path: exits 2
    assert device_with_fallback("cpu") == (torch.device("cpu"), None)


# ---- blown-up walkers ---------------------------------------------------------------------------
def _state(pos, energy=None, grad=None) -> SamplerState:
    pos = torch.tensor(pos, dtype=torch.float64)
    energy = torch.zeros(len(pos), dtype=torch.float64) if energy is None else torch.tensor(energy, dtype=torch.float64)
    grad = torch.zeros_like(pos) if grad is None else torch.tensor(grad, dtype=torch.float64)
    return SamplerState(pos, energy, grad)


def test_blown_up_flags_nan_inf_and_diverged_walkers():
    s = _state([[0, 0], [np.nan, 0], [0, 0], [1e5, 0], [0, 0]], energy=[0, 0, np.inf, 0, 0],
               grad=[[0, 0], [0, 0], [0, 0], [0, 0], [np.nan, 0]])
    assert blown_up(s, BOX).tolist() == [False, True, True, True, True]


def test_freeze_keeps_the_last_finite_state_and_reset_replaces_walkers():
    old = _state([[0, 0], [1, 1]], energy=[1, 2])
    new = _state([[0.5, 0], [np.nan, np.nan]], energy=[3, np.nan])
    mask = blown_up(new, BOX)
    kept = keep_where(mask, old, new)
    assert kept.position.tolist() == [[0.5, 0], [1, 1]] and kept.energy.tolist() == [3, 2]
    fresh = _state([[2, 2]], energy=[7])
    out = replace_walkers(new, mask, fresh)
    assert out.position.tolist() == [[0.5, 0], [2, 2]] and out.energy.tolist() == [3, 7]


def test_ula_with_a_huge_step_blows_up_and_freezing_keeps_every_walker_finite():
    land = make_landscape("gaussian")
    ula = get_sampler("ula")
    from ebm_explorer.core.samplers import SamplerParams

    gen = torch.Generator().manual_seed(0)
    state = ula.init(torch.randn(200, 2, generator=gen, dtype=torch.float64), land)
    frozen = torch.zeros(200, dtype=torch.bool)
    for _ in range(200):
        new, _info = ula.step(gen, state, land, SamplerParams(step_size=50.0))
        bad = blown_up(new, land.box) | frozen
        state, frozen = keep_where(bad, state, new), bad
    assert frozen.sum() > 0  # the step size really makes walkers diverge
    assert torch.isfinite(state.position).all() and torch.isfinite(state.energy).all()


# ---- degenerate landscapes ----------------------------------------------------------------------
def test_unbounded_below_energy_is_reported_as_not_normalisable():
    ref = compute_reference(FormulaLandscape("-(x**2 + y**2)", BOX), BOX, 64)
    assert ref.outside_mass > 0.5 and any("not normalisable" in w for w in ref.warnings)


def test_nan_and_minus_inf_regions_are_numerical_errors():
    with pytest.raises(NumericalError, match="NaN or -inf"):
        compute_reference(FormulaLandscape("log(x)", BOX), BOX, 64)
    with pytest.raises(NumericalError, match="NaN or -inf"):
        compute_reference(FormulaLandscape("log(maximum(x, 0))", BOX), BOX, 64)


def test_flat_grid_and_edge_mass_are_warned():
    flat = GridLandscape(np.zeros((16, 16)), BOX)
    ref = compute_reference(flat, BOX, 64)
    assert np.ptp(ref.energy) < 1e-9 and ref.warnings  # uniform over the box: mass at the edge
    wide = compute_reference(make_landscape("gaussian"), Box(-0.5, 0.5, -0.5, 0.5), 64)
    assert any("box cuts off mass" in w for w in wide.warnings)


# ---- files --------------------------------------------------------------------------------------
def _scene_file(tmp_path: Path) -> Path:
    return save_scene(Scene(title="t"), tmp_path / "s.toml")


def test_corrupt_truncated_and_wrong_version_scene_files(tmp_path):
    good = _scene_file(tmp_path).read_text()
    cases = {
        "truncated": good[: len(good) // 2] + "\n[runs\n",
        "binary": None,
        "version": good.replace("format_version = 1", "format_version = 99"),
        "noversion": good.replace("format_version = 1", ""),
    }
    for name, text in cases.items():
        p = tmp_path / f"{name}.toml"
        if text is None:
            p.write_bytes(b"\xff\xfe\x00garbage")
        else:
            p.write_text(text)
        with pytest.raises(UserInputError) as info:
            load_scene(p)
        assert str(p) in str(info.value)
    assert "not supported" in _msg(load_scene, tmp_path / "version.toml")
    assert "no format_version" in _msg(load_scene, tmp_path / "noversion.toml")


def _msg(fn, *args) -> str:
    with pytest.raises(UserInputError) as info:
        fn(*args)
    return str(info.value)


def test_corrupt_and_truncated_training_data(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n" + "".join(f"{i},{i}\n" for i in range(50)) + "3,")
    assert "expected 2 columns" in _msg(load_points, csv) or "not two numbers" in _msg(load_points, csv)
    bad = tmp_path / "b.csv"
    bad.write_bytes(b"\x00\xff\xfe" * 10)
    assert str(bad) in _msg(load_points, bad)
    npz = tmp_path / "d.npz"
    np.savez(npz, data=np.random.default_rng(0).normal(size=(100, 2)))
    cut = tmp_path / "cut.npz"
    cut.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    assert "not a readable .npz" in _msg(load_points, cut)
    wrong = tmp_path / "w.npz"
    np.savez(wrong, data=np.zeros((100, 3)))
    assert "(n, 2)" in _msg(load_points, wrong)
    assert "not found" in _msg(load_points, tmp_path / "missing.csv")


def test_corrupt_and_foreign_trajectory_csv(tmp_path):
    foreign = tmp_path / "t.csv"
    foreign.write_text("a,b,c\n1,2,3\n")
    assert "not a trajectory CSV" in _msg(read_trajectory_csv, foreign)
    from ebm_explorer.export.trajectories import TRAJECTORY_COLUMNS

    cut = tmp_path / "cut.csv"
    cut.write_text(",".join(TRAJECTORY_COLUMNS) + "\n0,0,0.1,0.2,1.0,1,0\n1,0,0.3")
    assert "cannot read trajectory CSV" in _msg(read_trajectory_csv, cut)


def test_state_file_round_trip_and_bad_state_files(tmp_path):
    opt = torch.optim.Adam([torch.nn.Parameter(torch.ones(3))], lr=0.1)
    opt.param_groups[0]["params"][0].grad = torch.ones(3)
    opt.step()
    runs = [SavedRun("sample", 12, np.arange(8.0).reshape(4, 2)),
            SavedRun("train", 5, np.ones((3, 2)), log_weights=np.array([0.0, -1.0, -800.0]),
                     params={"means": np.eye(2)}, optimizer=optimizer_to_bytes(opt.state_dict()),
                     scalars={"log_z_ref": 1.5})]
    path = save_run_states(tmp_path / "state.npz", runs)
    back = load_run_states(path)
    assert [r.kind for r in back] == ["sample", "train"] and back[0].step == 12
    np.testing.assert_array_equal(back[1].log_weights, runs[1].log_weights)
    np.testing.assert_array_equal(back[1].params["means"], np.eye(2))
    assert back[1].scalars == {"log_z_ref": 1.5}
    assert optimizer_from_bytes(back[1].optimizer)["param_groups"][0]["lr"] == 0.1
    cut = tmp_path / "cut.npz"
    cut.write_bytes(path.read_bytes()[:100])
    assert "corrupt or truncated" in _msg(load_run_states, cut)
    other = tmp_path / "v.npz"
    np.savez(other, format_version=np.array(7), n_runs=np.array(0))
    assert "format_version 7 is not supported" in _msg(load_run_states, other)
    foreign = tmp_path / "f.npz"
    np.savez(foreign, x=np.zeros(3))
    assert "not an EBM Explorer state file" in _msg(load_run_states, foreign)
    missing = tmp_path / "m.npz"
    np.savez(missing, format_version=np.array(1), n_runs=np.array(1))
    assert "missing" in _msg(load_run_states, missing)


def test_a_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = save_run_states(tmp_path / "state.npz", [SavedRun("sample", 1, np.zeros((2, 2)))])
    before = path.read_bytes()

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        save_run_states(path, [SavedRun("sample", 2, np.ones((2, 2)))])
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["state.npz"]
    assert zipfile.is_zipfile(path)


# ---- audit: every write in the package goes through a temporary file ----------------------------
WRITE_PATTERNS = [
    re.compile(r"""open\([^)]*,\s*["'](w|a|x)b?\+?["']"""),
    re.compile(r"\bnp\.savez(_compressed)?\("),
    re.compile(r"\bnp\.save\("),
    re.compile(r"\.savefig\("),
    re.compile(r"\btorch\.save\("),
    re.compile(r"\.write_text\(|\.write_bytes\("),
    re.compile(r"\.save\([^)]*\"(PNG|GIF|JPG|PNG)\""),
]


def test_every_write_in_the_package_targets_a_temporary_file():
    """Raw writes are allowed only onto temporary paths (``atomic_path``/``atomic_outputs``) or buffers."""
    root = Path(ebm_explorer.__file__).parent
    offenders = []
    for py in root.rglob("*.py"):
        if py.name == "atomic.py":
            continue
        for lineno, line in enumerate(py.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(p.search(code) for p in WRITE_PATTERNS) and not re.search(r"tmp|temp|buf|zf\.open|atomic_", code):
                offenders.append(f"{py.relative_to(root)}:{lineno}: {line.strip()}")
    assert offenders == [], "non-atomic writes:\n" + "\n".join(offenders)
