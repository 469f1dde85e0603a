"""Hostile inputs through the command line: files, paths, values and sizes a careless or hostile user
would try. Every case runs ``ebm-explorer`` in a fresh process with a timeout and is judged:

- traceback: a Python traceback on stderr (the user must get one line instead);
- hang: the process did not end within ``--timeout`` seconds;
- abort: killed by a signal (SIGABRT, SIGSEGV, SIGKILL from the OOM killer) or an exit status other than
  0, 2 (a refused input, one line) or 130 (interrupted);
- input changed: a file that existed before the run (the inputs) was modified or removed.

    python bench/hostile_inputs.py [--timeout 60] [--only SUBSTRING] [--json bench/results/hostile_inputs.json]

Prints one line per case and the totals; exits 1 if any case failed. ``tests/cli/test_hostile_inputs.py``
runs a fast subset in-process on every test run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Case:
    """One hostile input: ``argv`` for ``ebm-explorer`` run in ``setup``'s folder."""

    name: str
    category: str  # files | paths | values | sizes
    argv: list[str]
    setup: Callable[[Path], None] = lambda d: None
    fast: bool = False  # part of the in-process subset of the test suite
    expect: tuple[int, ...] = (2,)  # exit statuses that count as correct


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


def _forged_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue() + b"\0" * 64


def _points(n: int = 500) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 2))


def _write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8")
        else:
            p.write_bytes(data)
    return setup


def _both(*fns: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        for f in fns:
            f(d)
    return setup


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda d: os.mkfifo(d / name)


def _good_npz(name: str = "d.npz") -> Callable[[Path], None]:
    return _write(name, _zip({"data.npy": _npy(_points())}))


def _flipped_npz(d: Path) -> None:
    raw = bytearray(_zip({"data.npy": _npy(_points(2000))}))
    raw[len(raw) // 2] ^= 0xFF
    (d / "d.npz").write_bytes(bytes(raw))


SCENE_HEAD = "format_version = 1\ntitle = 'hostile'\nsteps = 3\n"
LAND_HEAD = "[landscape]\n"
TRAIN = ["train", "--model", "gmm", "--method", "cd", "--iterations", "2", "--walkers", "20", "--data-size", "50",
         "--grid-resolution", "16"]
SAMPLE = ["sample", "--steps", "2", "--walkers", "20", "--resolution", "16"]


def _scene_cases() -> list[Case]:
    """Scene files through ``run`` (and a few through ``gui``, which reads the scene before any window)."""
    run = lambda *extra: ["run", "s.toml", "--out", "out", "--steps", "2", "--format", "npz", *extra]  # noqa: E731
    texts = {
        "empty": "",
        "truncated": SCENE_HEAD + "[landscape\n",
        "no_version": "title = 'x'\n",
        "version_string": "format_version = '1'\n",
        "version_array": "format_version = [1]\n",
        "version_99": "format_version = 99\n",
        "version_huge": "format_version = 99999999999999999999\n",
        "nested_arrays_1e5": "format_version = 1\nx = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "nested_inline_tables": "format_version = 1\nx = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n",
        "dotted_keys_5000": "format_version = 1\n" + ".".join(["k"] * 5000) + " = 1\n",
        "table_header_deep": "format_version = 1\n[" + ".".join(["t"] * 5000) + "]\n",
        "walkers_1e12": SCENE_HEAD + "[[runs]]\nwalkers = 1000000000000\n",
        "walkers_1e8_formula": SCENE_HEAD + "[landscape]\nkind = 'formula'\nexpr = '" + "+".join(
            f"sin({i}*x)*cos({i}*y)" for i in range(60)) + "'\nbox = [-3, 3, -3, 3]\n[[runs]]\nwalkers = 100000000\n",
        "walkers_0": SCENE_HEAD + "[[runs]]\nwalkers = 0\n",
        "walkers_float": SCENE_HEAD + "[[runs]]\nwalkers = 1e9\n",
        "steps_1e12": "format_version = 1\nsteps = 1000000000000\n",
        "sweep_1e5_values": SCENE_HEAD + "[sweep]\nparameter = 'beta'\nvalues = [" + ", ".join(["1.0"] * 100_000) + "]\n",
        "sweep_long": SCENE_HEAD + "[sweep]\nparameter = 'beta'\nvalues = [1.0, 2.0]\nsteps_per_value = 1000000000\n",
        "iterations_1e12": SCENE_HEAD + "[[runs]]\nkind = 'train'\niterations = 1000000000000\n",
        "components_1e7": SCENE_HEAD + "[[runs]]\nkind = 'train'\ncomponents = 10000000\n",
        "data_size_1e9": SCENE_HEAD + "[[runs]]\nkind = 'train'\ndata_size = 1000000000\n",
        "seed_2_63": SCENE_HEAD + "[[runs]]\nseed = 9223372036854775808\n",
        "seed_negative": SCENE_HEAD + "[[runs]]\nseed = -9223372036854775808\n",
        "device_foo": SCENE_HEAD + "[[runs]]\ndevice = 'foo'\n",
        "device_empty": SCENE_HEAD + "[[runs]]\ndevice = ''\n",
        "device_cuda_99": SCENE_HEAD + "[[runs]]\ndevice = 'cuda:99'\n",
        "step_size_nan": SCENE_HEAD + "[[runs]]\nstep_size = nan\n",
        "step_size_inf": SCENE_HEAD + "[[runs]]\nstep_size = inf\n",
        "step_size_1e300": SCENE_HEAD + "[[runs]]\nstep_size = 1e300\n",
        "leapfrog_1e9": SCENE_HEAD + "[[runs]]\nsampler = 'hmc'\nleapfrog_steps = 1000000000\n",
        "runs_100": SCENE_HEAD + "[[runs]]\n" * 100,
        "runs_not_table": SCENE_HEAD + "runs = [1, 2]\n",
        "landscape_string": "format_version = 1\nlandscape = 'x'\n",
        "gmm_std_1e-300": SCENE_HEAD + "[landscape]\nkind = 'gmm'\nweights = [1.0]\nmeans = [[0.0, 0.0]]\nstds = [1e-300]\n",
        "gmm_singular_cov": SCENE_HEAD + "[landscape]\nkind = 'gmm'\nweights = [1.0]\nmeans = [[0, 0]]\n"
                            "covs = [[[1.0, 1.0], [1.0, 1.0]]]\n",
        "gmm_negative_weight": SCENE_HEAD + "[landscape]\nkind = 'gmm'\nweights = [-1.0]\nmeans = [[0, 0]]\n",
        "gmm_1e5_components": SCENE_HEAD + "[landscape]\nkind = 'gmm'\nweights = [" + ",".join(["1.0"] * 100_000)
                              + "]\nmeans = [" + ",".join(["[0.0, 0.0]"] * 100_000) + "]\n",
        "gmm_means_1e300": SCENE_HEAD + "[landscape]\nkind = 'gmm'\nweights = [1.0]\nmeans = [[1e300, 0.0]]\n",
        "grid_1x1": SCENE_HEAD + "[landscape]\nkind = 'grid'\nbox = [0, 1, 0, 1]\nvalues = [[1.0]]\n",
        "formula_import": SCENE_HEAD + "[landscape]\nkind = 'formula'\nexpr = '__import__(\"os\")'\nbox = [0, 1, 0, 1]\n",
        "formula_unbounded": SCENE_HEAD + "[landscape]\nkind = 'formula'\nexpr = '-(x**2+y**2)'\nbox = [-3, 3, -3, 3]\n",
        "box_nan": SCENE_HEAD + "[landscape]\nkind = 'formula'\nexpr = 'x**2+y**2'\nbox = [nan, 1, 0, 1]\n",
        "box_inverted": SCENE_HEAD + "[landscape]\nkind = 'formula'\nexpr = 'x**2+y**2'\nbox = [1, 0, 0, 1]\n",
        "title_escape_sequences": "format_version = 1\ntitle = \"\\u001b[2J\\u001b]0;pwned\\u0007\"\nsteps = 2\n"
                                  "[[runs]]\nwalkers = 10\n[zz]\n\"\\u001b[31mkey\" = 1\n",
        "unknown_keys_10000": SCENE_HEAD + "".join(f"k{i} = 1\n" for i in range(10_000)),
    }
    cases = [Case(f"scene_{k}", "files", run(), _write("s.toml", v), fast=k in (
        "truncated", "version_string", "version_array", "nested_arrays_1e5", "dotted_keys_5000", "walkers_1e12",
        "seed_2_63", "device_foo", "gmm_std_1e-300", "sweep_1e5_values", "steps_1e12", "components_1e7"))
             for k, v in texts.items()]
    for c in cases:
        if c.name in ("scene_title_escape_sequences", "scene_unknown_keys_10000", "scene_runs_not_table") :
            c.expect = (0, 2)
    binary = os.urandom(5000)
    cases += [
        Case("scene_binary", "files", run(), _write("s.toml", binary), fast=True),
        Case("scene_fifo", "files", run(), _fifo("s.toml"), fast=True),
        Case("scene_directory", "files", run(), lambda d: (d / "s.toml").mkdir(), fast=True),
        Case("scene_dev_zero", "files", ["run", "/dev/zero", "--out", "out"], fast=True),
        Case("scene_dev_urandom", "files", ["run", "/dev/urandom", "--out", "out"]),
        Case("scene_missing", "files", run(), fast=True),
        Case("scene_sparse_10GB", "files", run(), lambda d: os.truncate(_touch(d / "s.toml"), 10 * 1024 ** 3)),
        Case("scene_symlink_loop", "files", run(), lambda d: os.symlink("s.toml", d / "s.toml")),
        Case("gui_scene_fifo", "files", ["gui", "s.toml"], _fifo("s.toml"), fast=True),
        Case("gui_scene_nested", "files", ["gui", "s.toml"], _write("s.toml", texts["nested_arrays_1e5"])),
        Case("gui_scene_dev_zero", "files", ["gui", "/dev/zero"]),
    ]
    return cases


def _touch(p: Path) -> Path:
    p.write_bytes(b"")
    return p


def _landscape_cases() -> list[Case]:
    lands = {
        "nested": LAND_HEAD + "kind = 'gmm'\nweights = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "no_table": "kind = 'gmm'\n",
        "gmm_std_0": LAND_HEAD + "kind = 'gmm'\nweights = [1.0]\nmeans = [[0.0, 0.0]]\nstds = [0.0]\n",
        "gmm_std_1e-300": LAND_HEAD + "kind = 'gmm'\nweights = [1.0]\nmeans = [[0.0, 0.0]]\nstds = [1e-300]\n",
        "gmm_cov_not_pd": LAND_HEAD + "kind = 'gmm'\nweights = [1.0]\nmeans = [[0, 0]]\ncovs = [[[1, 2], [2, 1]]]\n",
        "gmm_cov_asym": LAND_HEAD + "kind = 'gmm'\nweights = [1.0]\nmeans = [[0, 0]]\ncovs = [[[1, 0.5], [0, 1]]]\n",
        "gmm_weight_inf": LAND_HEAD + "kind = 'gmm'\nweights = [inf]\nmeans = [[0, 0]]\n",
        "gmm_1e5": LAND_HEAD + "kind = 'gmm'\nweights = [" + ",".join(["1.0"] * 100_000) + "]\nmeans = ["
                   + ",".join(["[0.0, 0.0]"] * 100_000) + "]\n",
        "grid_huge_values": LAND_HEAD + "kind = 'grid'\nbox = [0, 1, 0, 1]\nvalues = [[1e308, 1e308, 1e308], "
                            "[1e308, -1e308, 1e308], [1e308, 1e308, 1e308]]\n",
        "formula_long": LAND_HEAD + "kind = 'formula'\nexpr = '" + "x+" * 5000 + "y'\nbox = [0, 1, 0, 1]\n",
        "preset_unknown": LAND_HEAD + "kind = 'preset'\nname = '\u001b[2Jboom'\n",
        "mlp_hidden_1e5": LAND_HEAD + "kind = 'mlp'\nhidden = [100000, 100000]\nconfinement_std = 1.0\n"
                          "center = [0.0, 0.0]\nbox = [-1, 1, -1, 1]\nstate = {}\n",
        "beta_negative": LAND_HEAD + "kind = 'preset'\nname = 'donut'\nbeta = -1.0\n",
    }
    cases = [Case(f"landscape_{k}", "files", [*SAMPLE, "--landscape", "l.toml", "--out", "o.npz"],
                  _write("l.toml", v), fast=k in ("nested", "gmm_std_1e-300", "gmm_1e5", "mlp_hidden_1e5"))
             for k, v in lands.items()]
    cases += [
        Case("landscape_fifo", "files", [*SAMPLE, "--landscape", "l.toml"], _fifo("l.toml"), fast=True),
        Case("landscape_binary", "files", [*SAMPLE, "--landscape", "l.toml"], _write("l.toml", os.urandom(3000))),
        Case("reference_landscape_fifo", "files", ["reference", "--landscape", "l.toml", "--out", "r.npz"],
             _fifo("l.toml")),
        Case("train_target_nested", "files", [*TRAIN, "--target", "l.toml", "--out", "o.npz"],
             _write("l.toml", lands["nested"])),
    ]
    return cases


def _data_cases() -> list[Case]:
    train = lambda name: [*TRAIN, "--data", name, "--out", "o.npz"]  # noqa: E731
    pts = "x,y\n" + "".join(f"{a:.5f},{b:.5f}\n" for a, b in _points(200))
    csvs = {
        "field_200k": "x,y\n" + "1" * 200_000 + ",2\n",
        "values_1e308": "x,y\n" + "".join(f"{(-1) ** i * 1e308},{1e308}\n" for i in range(100)),
        "nan": pts + "nan,1\n",
        "inf": pts + "inf,1\n",
        "one_column": "x\n" + "".join(f"{i}\n" for i in range(100)),
        "three_columns": "".join(f"{i},{i},{i}\n" for i in range(100)),
        "header_only": "x,y\n",
        "empty": "",
        "nine_points": "".join(f"{i},{i}\n" for i in range(9)),
        "quotes_unclosed": 'x,y\n"1,2\n' * 50,
        "nul_bytes": "x,y\n1,2\n\0\0\0,4\n" * 20,
        "text_cells": "x,y\n" + "a,b\n" * 50,
        "crlf_bom": "\ufeffx,y\r\n" + "".join(f"{a},{b}\r\n" for a, b in _points(50)),
        "many_rows_11e6_refused": "",  # filled below (sparse-ish: rows of "0,0")
    }
    cases = []
    for k, v in csvs.items():
        if k == "many_rows_11e6_refused":
            continue
        ok = (0, 2) if k == "crlf_bom" else (2,)
        cases.append(Case(f"csv_{k}", "files", train("d.csv"), _write("d.csv", v),
                          fast=k in ("field_200k", "values_1e308", "nan", "nul_bytes"), expect=ok))
    cases += [
        Case("csv_binary", "files", train("d.csv"), _write("d.csv", os.urandom(4000))),
        Case("csv_fifo", "files", train("d.csv"), _fifo("d.csv"), fast=True),
        Case("csv_65MB", "files", train("d.csv"), lambda d: os.truncate(_touch(d / "d.csv"), 65 * 1024 ** 2)),
        Case("npz_flipped_byte", "files", train("d.npz"), _flipped_npz, fast=True),
        Case("npz_is_npy", "files", train("d.npz"), _write("d.npz", _npy(_points())), fast=True),
        Case("npz_forged_2e10", "files", train("d.npz"),
             _write("d.npz", _zip({"data.npy": _forged_header((20_000_000_000, 2))})), fast=True),
        Case("npz_forged_negative", "files", train("d.npz"),
             _write("d.npz", _zip({"data.npy": _forged_header((-5, 2))}))),
        Case("npz_object", "files", train("d.npz"), _write("d.npz", _zip({"data.npy": _pickled()})), fast=True),
        Case("npz_complex", "files", train("d.npz"), _write("d.npz", _zip({"data.npy": _npy(_points().astype(complex))}))),
        Case("npz_strings", "files", train("d.npz"), _write("d.npz", _zip({"data.npy": _npy(np.array(["a", "b"]))}))),
        Case("npz_structured", "files", train("d.npz"),
             _write("d.npz", _zip({"data.npy": _npy(np.zeros(50, dtype=[("x", "f8"), ("y", "f8")]))}))),
        Case("npz_3_columns", "files", train("d.npz"), _write("d.npz", _zip({"data.npy": _npy(np.zeros((50, 3)))}))),
        Case("npz_truncated", "files", train("d.npz"), lambda d: (_good_npz()(d), os.truncate(d / "d.npz", 300))),
        Case("npz_empty_zip", "files", train("d.npz"), _write("d.npz", _zip({}))),
        Case("npz_two_keys", "files", train("d.npz"),
             _write("d.npz", _zip({"a.npy": _npy(_points()), "b.npy": _npy(_points())}))),
        Case("npz_bad_header", "files", train("d.npz"), _write("d.npz", _zip({"data.npy": b"\x93NUMPY\x01\x00garbage"}))),
        Case("npz_values_1e308", "files", train("d.npz"), _write("d.npz", _zip({"data.npy": _npy(np.full((50, 2), 1e308))}))),
        Case("npz_directory", "files", train("d.npz"), lambda d: (d / "d.npz").mkdir()),
        Case("npz_dev_zero", "files", train("/dev/zero.npz")),
        Case("data_wrong_suffix", "files", train("d.txt"), _write("d.txt", "1,2\n")),
    ]
    return cases


def _pickled() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}] * 20, dtype=object), allow_pickle=True)
    return buf.getvalue()


def _path_cases() -> list[Case]:
    good_scene = _write("sc/s.toml", SCENE_HEAD + "[[runs]]\nwalkers = 10\n")
    ro = lambda d: (d / "ro").mkdir(mode=0o555)  # noqa: E731 - (root ignores the mode: then it writes there)
    cases = [
        Case("train_out_is_its_data", "paths", [*TRAIN, "--data", "d.npz", "--out", "d.npz"], _good_npz(), fast=True),
        Case("train_out_is_data_via_symlink", "paths", [*TRAIN, "--data", "d.npz", "--out", "link.npz"],
             _both(_good_npz(), lambda d: os.symlink("d.npz", d / "link.npz")), fast=True),
        Case("train_out_is_data_hardlink", "paths", [*TRAIN, "--data", "d.npz", "--out", "hard.npz"],
             _both(_good_npz(), lambda d: os.link(d / "d.npz", d / "hard.npz"))),
        Case("train_out_is_its_target", "paths", [*TRAIN, "--target", "l.npz", "--out", "l.npz"],
             _write("l.npz", "x")),
        Case("sample_out_is_landscape", "paths", [*SAMPLE, "--landscape", "l.toml", "--out", "l.toml"],
             _write("l.toml", LAND_HEAD + "kind = 'preset'\nname = 'donut'\n")),
        Case("run_out_is_scene_folder", "paths", ["run", "sc/s.toml", "--out", "sc", "--steps", "2"], good_scene,
             fast=True),
        Case("run_out_is_scene_folder_force", "paths", ["run", "sc/scene.toml", "--out", "sc", "--steps", "2",
                                                        "--force"],
             _write("sc/scene.toml", SCENE_HEAD + "[[runs]]\nwalkers = 10\n"), fast=True),
        Case("run_out_has_foreign_files", "paths", ["run", "1", "--out", "full", "--steps", "2"],
             _write("full/thesis.tex", "precious")),
        Case("run_out_is_a_file", "paths", ["run", "1", "--out", "f.txt", "--steps", "2"], _write("f.txt", "x")),
        Case("run_out_under_a_file", "paths", ["run", "1", "--out", "f.txt/sub", "--steps", "2"], _write("f.txt", "x")),
        Case("sample_out_is_directory", "paths", [*SAMPLE, "--out", "dir.npz"], lambda d: (d / "dir.npz").mkdir(),
             fast=True),
        Case("sample_out_under_file", "paths", [*SAMPLE, "--out", "f.txt/o.npz"], _write("f.txt", "x"), fast=True),
        Case("train_out_is_directory", "paths", [*TRAIN, "--target", "gmm", "--out", "dir.npz"],
             lambda d: (d / "dir.npz").mkdir()),
        Case("reference_out_is_fifo", "paths", ["reference", "--resolution", "16", "--out", "p.npz"], _fifo("p.npz"),
             fast=True),
        Case("reference_out_existing_dev_null", "paths", ["reference", "--resolution", "16", "--out", "n.npz"],
             lambda d: os.symlink("/dev/null", d / "n.npz")),
        Case("sample_out_readonly_folder", "paths", [*SAMPLE, "--out", "ro/o.npz"], ro, expect=(0, 2)),
        Case("sample_out_empty", "paths", [*SAMPLE, "--out", ""]),
        Case("sample_out_wrong_suffix", "paths", [*SAMPLE, "--out", "o.txt"]),
        Case("sample_out_control_chars", "paths", [*SAMPLE, "--out", "\x1b[2Jx.npz"], expect=(0, 2)),
        Case("screenshot_out_directory", "paths", ["screenshot", "--out", "dir.png"], lambda d: (d / "dir.png").mkdir()),
        Case("screenshot_out_under_file", "paths", ["screenshot", "--out", "f.txt/a.png"], _write("f.txt", "x")),
        Case("experiment_out_is_file", "paths", ["experiment", "mode-weights", "--out", "f.txt", "--iterations", "2",
                                                 "--walkers", "10"], _write("f.txt", "x")),
        Case("run_out_is_fifo", "paths", ["run", "1", "--out", "p", "--steps", "2"], _fifo("p")),
        Case("sample_out_long_name", "paths", [*SAMPLE, "--out", "a" * 300 + ".npz"]),
    ]
    return cases


def _value_cases() -> list[Case]:
    values = {
        "walkers": ["0", "-1", "1e9", "1e12", "nan", "inf", "abc", "1e400", "9" * 5000, "2.5"],
        "steps": ["0", "1e12", "-5", "nan"],
        "step-size": ["nan", "inf", "-1", "0", "1e308", "1e-300"],
        "seed": ["18446744073709551616", "-1", "-9223372036854775809", "1.5", "9" * 100],
        "device": ["foo", "", "cuda:x", "cpu:0", "CPU", "cuda;rm -rf"],
        "resolution": ["100000", "1", "0", "1e5"],
        "leapfrog": ["1000000000", "0"],
        "record-every": ["0", "-1"],
        "beta": ["0", "nan", "1e300", "-1"],
        "init": ["nan,0", "1e308,0", "x", "1,2,3", ""],
        "box": [["nan", "1", "0", "1"], ["1", "0", "0", "1"], ["0", "1e308", "0", "1"], ["0", "0", "0", "0"]],
        "formula": ["__import__('os').system('true')", "x" * 3000, "(" * 500 + "x" + ")" * 500, "\x1b[2J"],
    }
    cases = []
    for flag, vals in values.items():
        for v in vals:
            argv = [*SAMPLE, f"--{flag}", *(v if isinstance(v, list) else [v])]
            if flag == "box":
                argv = [*SAMPLE, "--formula", "x**2+y**2", "--box", *v]
            tag = "_".join(v) if isinstance(v, list) else v
            cases.append(Case(f"sample_{flag}_{tag[:24]!r}", "values", argv, fast=flag in ("walkers", "seed", "device")))
    train_values = {
        "components": ["10000000", "0"], "hidden": [["100000", "100000"], ["0"]], "data-size": ["1000000000", "5"],
        "iterations": ["1000000000000", "0"], "lr": ["nan", "inf", "1e300"], "grid-resolution": ["100000", "2"],
        "walkers": ["1000000000"], "cd-steps": ["100000000"], "seed": ["-1", "99999999999999999999"],
        "device": ["foo", ""], "resample-threshold": ["2", "nan"],
    }
    for flag, vals in train_values.items():
        for v in vals:
            model = "mlp" if flag == "hidden" else "gmm"
            argv = [*TRAIN, "--target", "gmm", "--out", "o.npz", f"--{flag}", *(v if isinstance(v, list) else [v])]
            argv[argv.index("gmm")] = model
            tag = "_".join(v) if isinstance(v, list) else v
            cases.append(Case(f"train_{flag}_{tag[:24]!r}", "values", argv, fast=flag in ("hidden", "components")))
    cases += [
        Case(f"screenshot_seconds_{v}", "values", ["screenshot", "--seconds", v, "--out", "a.png"], fast=True)
        for v in ("nan", "inf", "-1", "1e9")
    ]
    cases += [
        Case(f"screenshot_size_{w}x{h}", "values", ["screenshot", "--size", w, h, "--out", "a.png"])
        for w, h in (("0", "0"), ("100000", "100000"), ("-5", "10"))
    ]
    cases += [
        Case(f"reference_resolution_{v}", "values", ["reference", "--resolution", v, "--out", "r.npz"])
        for v in ("100000", "7", "1e5")
    ]
    cases += [
        Case(f"run_{flag}_{v}", "values", ["run", "1", "--out", "o", flag, v])
        for flag, v in (("--steps", "1000000000000"), ("--steps", "0"), ("--record-every", "0"),
                        ("--max-walkers", "1000000000"), ("--dpi", "nan"), ("--dpi", "1e9"), ("--format", "exe"))
    ]
    gen = ["generate", "--steps", "3", "--walkers", "50", "--resolution", "32"]
    cases += [Case(f"generate_{flag}_{v}", "values", [*gen, "--out", "g.npz", flag, v])
              for flag, v in (("--walkers", "1e12"), ("--steps", "0"), ("--seed", "-1"), ("--device", "foo"),
                              ("--resolution", "100000"), ("--train-iterations", "1e12"), ("--resample-threshold", "nan"),
                              ("--langevin-eps", "inf"))]
    cases += [Case("generate_out_is_landscape", "paths", [*gen, "--landscape", "l.npz", "--out", "l.npz"],
                   _write("l.npz", "[landscape]\nkind = 'preset'\nname = 'donut'\n")),
              Case("generate_out_is_directory", "paths", [*gen, "--out", "d.npz"], lambda d: (d / "d.npz").mkdir())]
    cases += [Case(f"sample_threads_{v}", "values", [*SAMPLE, "--threads", v], fast=v == "1000000000")
              for v in ("0", "1000000000", "-3")]
    cases += [Case(f"experiment_seeds_{v}", "values", ["experiment", "mode-weights", "--seeds", v, "--out", "e"])
              for v in ("-1", "99999999999999999999")]
    return cases


def _size_cases() -> list[Case]:
    """Requests whose memory would exceed the machine: refused before allocation with a suggestion."""
    long_formula = "+".join(f"sin({i}*x)*cos(y*{i % 7})" for i in range(90))
    return [
        Case("sample_walkers_1e8_long_formula", "sizes", [*SAMPLE, "--formula", long_formula, "--walkers",
                                                          "100000000"], fast=True, expect=(2,)),
        Case("sample_steps_1e8_records", "sizes", [*SAMPLE[:-4], "--steps", "100000000", "--walkers", "100000000"],
             expect=(2,)),
        Case("sample_trajectory_5e8", "sizes", [*SAMPLE[:-4], "--walkers", "10000000", "--steps", "1000",
                                                "--record-every", "1"], expect=(2,)),
        Case("reference_resolution_4096_ok", "sizes", ["reference", "--resolution", "4096", "--out", "r.npz"],
             expect=(0, 2)),
        Case("train_mlp_4096x16", "sizes", [*TRAIN[:-4], "--model", "mlp", "--target", "gmm", "--out", "o.npz",
                                            "--hidden", *["4096"] * 16, "--walkers", "100000000"], expect=(2,)),
        Case("train_data_1e7_walkers_1e8", "sizes", [*TRAIN[:-4], "--target", "gmm", "--out", "o.npz",
                                                     "--walkers", "100000000", "--data-size", "10000000"], expect=(2,)),
    ]


def all_cases() -> list[Case]:
    return _scene_cases() + _landscape_cases() + _data_cases() + _path_cases() + _value_cases() + _size_cases()


def _snapshot(d: Path) -> dict[str, str]:
    """Hash of every regular file under ``d`` (FIFOs and devices are skipped: reading them would block)."""
    out = {}
    for root, _dirs, files in os.walk(d):
        for f in files:
            p = Path(root) / f
            try:
                if not p.is_file() or p.stat().st_size > 256 * 1024 ** 2:
                    out[str(p)] = f"size:{p.lstat().st_size}"
                    continue
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            except OSError:
                out[str(p)] = "unreadable"
    return out


@dataclass
class Outcome:
    name: str
    category: str
    rc: int | None
    seconds: float
    verdict: str  # ok | traceback | hang | abort | input_changed | unexpected_status
    stderr_tail: str = ""
    changed: list[str] = field(default_factory=list)


def judge(case: Case, rc: int | None, stderr: str, before: dict[str, str], after: dict[str, str],
          seconds: float) -> Outcome:
    changed = [k for k, v in before.items() if after.get(k) != v]
    if "Traceback (most recent call last)" in stderr:
        verdict = "traceback"
    elif rc is None:
        verdict = "hang"
    elif rc < 0 or rc in (134, 137, 139):
        verdict = "abort"
    elif changed:
        verdict = "input_changed"
    elif rc not in case.expect and rc not in (0, 2, 130):
        verdict = "unexpected_status"
    else:
        verdict = "ok"
    tail = stderr.strip().splitlines()[-1][:200] if stderr.strip() else ""
    return Outcome(case.name, case.category, rc, round(seconds, 2), verdict, tail, changed)


def run_case(case: Case, timeout: float) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        d = Path(tmp)
        case.setup(d)
        before = _snapshot(d)
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "QT_QPA_PLATFORM": "offscreen", "EBM_EXPLORER_AUTOSAVE_DIR": str(d / ".autosave"),
               "OMP_NUM_THREADS": "1"}
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "ebm_explorer", *case.argv], cwd=d, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            _out, err = proc.communicate(timeout=timeout)
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            _out, err = proc.communicate()
            rc = None
        seconds = time.perf_counter() - t0
        return judge(case, rc, err.decode("utf-8", "replace"), before, _snapshot(d), seconds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    ap.add_argument("--json", default=str(REPO / "bench" / "results" / "hostile_inputs.json"))
    ap.add_argument("--jobs", type=int, default=1, help="cases run at the same time (default 1)")
    args = ap.parse_args(argv)
    cases = [c for c in all_cases() if args.only in c.name]
    outcomes = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for i, o in enumerate(pool.map(lambda c: run_case(c, args.timeout), cases), 1):
            outcomes.append(o)
            print(f"[{i:3d}/{len(cases)}] {o.verdict:17s} rc={o.rc!s:>4} {o.seconds:6.1f}s {o.category:6s} {o.name}: "
                  f"{o.stderr_tail[:110]!r}", flush=True)
    totals = {v: sum(o.verdict == v for o in outcomes) for v in
              ("ok", "traceback", "hang", "abort", "input_changed", "unexpected_status")}
    by_cat = {cat: sum(o.category == cat for o in outcomes) for cat in ("files", "paths", "values", "sizes")}
    print(f"{len(outcomes)} cases ({by_cat}): {totals}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"cases": len(outcomes), "by_category": by_cat, "totals": totals,
                                           "timeout_s": args.timeout,
                                           "outcomes": [o.__dict__ for o in outcomes]}, indent=1))
    return 0 if totals["ok"] == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
