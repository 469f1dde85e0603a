"""Headless commands set torch's thread count: measured (one thread or every core) by default, ``--threads`` overrides."""

from __future__ import annotations

import pytest
import torch

from ebm_explorer.cli.main import THREADED_COMMANDS, build_parser, main
from ebm_explorer.cli.main import job_size
from ebm_explorer.core.threads import available_cores, last_choice


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_every_computing_command_takes_threads() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in THREADED_COMMANDS:
        assert any("--threads" in a.option_strings for a in sub.choices[name]._actions), name
    assert set(THREADED_COMMANDS) == {"sample", "reference", "train", "generate", "experiment", "run"}


def test_default_and_override(tmp_path, restore_threads, monkeypatch) -> None:
    from ebm_explorer.core import threads

    monkeypatch.setattr(threads, "_choices", {})  # no decision remembered from an earlier test in this process
    args = ["reference", "--landscape", "gaussian", "--resolution", "32"]
    torch.set_num_threads(2)
    assert main([*args, "--threads", "1", "--out", str(tmp_path / "a.npz")]) == 0
    assert torch.get_num_threads() == 1
    assert main([*args, "--out", str(tmp_path / "b.npz")]) == 0
    choice = last_choice()
    assert choice is not None and choice.size == 32 * 32  # the probe had the job's size (the grid)
    assert torch.get_num_threads() == choice.threads in (1, available_cores())


def test_job_size_is_the_walkers_else_the_grid() -> None:
    parser = build_parser()
    assert job_size(parser.parse_args(["sample", "--landscape", "gmm", "--walkers", "5000"])) == 5000
    assert job_size(parser.parse_args(["reference", "--landscape", "gmm", "--resolution", "64", "--out", "r.npz"])) == 64 * 64


def test_bad_thread_count_exits_2(tmp_path, capsys) -> None:
    rc = main(["reference", "--landscape", "gaussian", "--threads", "0", "--out", str(tmp_path / "a.npz")])
    assert rc == 2 and "--threads" in capsys.readouterr().err
