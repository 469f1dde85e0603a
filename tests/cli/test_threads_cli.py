"""Headless commands set torch's thread count: every core but one by default (as the app's runs), ``--threads`` overrides."""

from __future__ import annotations

import pytest
import torch

from ebm_explorer.cli.main import THREADED_COMMANDS, build_parser, main
from ebm_explorer.core.threads import compute_threads


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


def test_default_and_override(tmp_path, restore_threads) -> None:
    args = ["reference", "--landscape", "gaussian", "--resolution", "32"]
    torch.set_num_threads(2)
    assert main([*args, "--threads", "1", "--out", str(tmp_path / "a.npz")]) == 0
    assert torch.get_num_threads() == 1
    assert main([*args, "--out", str(tmp_path / "b.npz")]) == 0
    assert torch.get_num_threads() == compute_threads()


def test_bad_thread_count_exits_2(tmp_path, capsys) -> None:
    rc = main(["reference", "--landscape", "gaussian", "--threads", "0", "--out", str(tmp_path / "a.npz")])
    assert rc == 2 and "--threads" in capsys.readouterr().err
