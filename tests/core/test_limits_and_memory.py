"""Issue 13/19: one range per setting; memory estimates that count the landscape's autograd footprint and
respect the container's cgroup limit and RLIMIT_AS; safe readers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import FormulaLandscape, GaussianMixture, make_landscape
from ebm_explorer.core.limits import MAX_SEED, check_device_name, check_int, check_seed, check_setting
from ebm_explorer.core.resources import (
    cgroup_free_bytes,
    check_walker_memory,
    landscape_bytes_per_walker,
)
from ebm_explorer.core.safe_io import load_npz, parse_toml, printable, read_text, toml_depth
from ebm_explorer.core.types import Box


def test_ranges_refuse_out_of_range_and_wrong_types():
    assert check_int("walkers", 100_000_000) == 100_000_000
    for bad in (0, 100_000_001, True, "10", 1.5, 10**400):
        with pytest.raises(UserInputError):
            check_int("walkers", bad)
    assert check_seed(MAX_SEED) == MAX_SEED
    for bad in (-1, MAX_SEED + 1, 2**64, 1.0):
        with pytest.raises(UserInputError, match="seed"):
            check_seed(bad)
    for ok in ("cpu", "cuda", "cuda:0", "cuda:12"):
        assert check_device_name(ok) == ok
    for bad in ("", "foo", "cuda:", "cpu:0", "CUDA", "cuda:x", None, "cuda;rm"):
        with pytest.raises(UserInputError, match="cpu, cuda or cuda:N"):
            check_device_name(bad)
    with pytest.raises(UserInputError):
        check_setting("step_size", float("nan"))
    assert check_setting("unknown_name", 5) == 5


def test_degenerate_mixtures_are_refused():
    for kwargs in ({"stds": [1e-300]}, {"stds": [0.0]}, {"covs": [[[1.0, 1.0], [1.0, 1.0]]]},
                   {"covs": [[[1.0, 2.0], [2.0, 1.0]]]}):
        with pytest.raises(UserInputError):
            GaussianMixture([1.0], [[0.0, 0.0]], **kwargs)
    with pytest.raises(UserInputError, match="at most 1,000 components"):
        GaussianMixture([1.0] * 100_000, [[0.0, 0.0]] * 100_000)
    with pytest.raises(UserInputError, match="means"):
        GaussianMixture([1.0], [[1e300, 0.0]])


def test_memory_estimate_counts_the_formula_autograd_footprint():
    short = landscape_bytes_per_walker(FormulaLandscape("x**2 + y**2", Box(-3, 3, -3, 3)))
    long_expr = "+".join(f"sin({i}*x)*cos(y*{i % 7})" for i in range(80))
    long = landscape_bytes_per_walker(FormulaLandscape(long_expr, Box(-3, 3, -3, 3)))
    assert 0 <= short < 200 and long > 10 * max(short, 50)  # every intermediate of the long formula is kept
    land = FormulaLandscape(long_expr, Box(-3, 3, -3, 3))
    with pytest.raises(UserInputError, match="try 1e"):
        check_walker_memory(1_000_000, available=4 * 10**9, landscape=land)  # ~2.5 GB of intermediates: refused
    check_walker_memory(1_000_000, available=4 * 10**9)  # the plain 384 B/walker estimate would pass
    assert landscape_bytes_per_walker(make_landscape("gmm")) >= 0


@pytest.mark.parametrize("version", [1, 2])
def test_cgroup_limits_are_read_for_v1_and_v2(tmp_path, version):
    proc = tmp_path / "cgroup"
    if version == 2:
        proc.write_text("0::/user.slice/app\n")
        d = tmp_path / "sys" / "user.slice" / "app"
        d.mkdir(parents=True)
        (d / "memory.max").write_text("1000000000\n")
        (d / "memory.current").write_text("300000000\n")
        (d.parent / "memory.max").write_text("max\n")
    else:
        proc.write_text("4:memory:/docker/abc\n3:cpu:/docker/abc\n")
        d = tmp_path / "sys" / "memory" / "docker" / "abc"
        d.mkdir(parents=True)
        (d / "memory.limit_in_bytes").write_text("1000000000\n")
        (d / "memory.usage_in_bytes").write_text("300000000\n")
        (tmp_path / "sys" / "memory" / "memory.limit_in_bytes").write_text(str(2**63 - 4096))
    assert cgroup_free_bytes(tmp_path / "sys", proc) == 700_000_000
    assert cgroup_free_bytes(tmp_path / "none", tmp_path / "missing") is None


def test_rlimit_as_caps_the_available_memory():
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (12 * 1024**3, resource.RLIM_INFINITY));"
            "from ebm_explorer.core.resources import available_memory_bytes, rlimit_as_free_bytes;"
            "print(rlimit_as_free_bytes(), available_memory_bytes())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    free, avail = (int(v) for v in out.stdout.split())
    assert 0 < free < 12 * 1024**3 and avail <= free


def test_toml_depth_scan_ignores_strings_and_comments():
    assert toml_depth('a = "[[[[[[[[[["\n# [[[[[[[[[[[\nb = [[1], [2]]\n') == 2
    assert toml_depth("x = '''\n[[[[[[\n'''\n") == 0
    with pytest.raises(UserInputError, match="nested deeper"):
        parse_toml("x = " + "[" * 20 + "]" * 20, "f.toml")
    with pytest.raises(UserInputError, match="nested deeper"):
        parse_toml(".".join(["k"] * 40) + " = 1", "f.toml")


def test_readers_refuse_fifos_devices_and_big_files_without_blocking(tmp_path):
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    with pytest.raises(UserInputError, match="FIFO"):
        read_text(fifo)
    with pytest.raises(UserInputError, match="device"):
        read_text("/dev/zero")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(UserInputError, match="too large"):
        read_text(big, max_bytes=1000)


def test_npz_headers_are_checked_before_allocation(tmp_path):
    import io
    import zipfile

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (2 * 10**10, 2)})
    with zipfile.ZipFile(tmp_path / "f.npz", "w") as zf:
        zf.writestr("data.npy", buf.getvalue())
    with pytest.raises(UserInputError, match="arrays would need 320,000,000,000 bytes"):
        load_npz(tmp_path / "f.npz")
    np.save(tmp_path / "a.npy", np.zeros(3))
    os.replace(tmp_path / "a.npy", tmp_path / "a.npz")
    with pytest.raises(UserInputError, match="not a readable .npz"):
        load_npz(tmp_path / "a.npz")


def test_printable_escapes_control_characters():
    assert printable("a\x1b[2Jb\x07") == "a\\x1b[2Jb\\x07"
    assert printable("é ok") == "é ok" and printable("x" * 300).endswith("…")
