"""The measured thread choice: one thread or every core, remembered per job size; no timings asserted."""

from __future__ import annotations

import pytest
import torch

from ebm_explorer.core import threads


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(threads, "_choices", {})
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_choice_is_one_or_every_core_and_is_set(fresh) -> None:
    n = threads.choose_threads(20_000, rounds=1)
    assert n in (1, threads.available_cores()) and torch.get_num_threads() == n
    c = threads.last_choice()
    assert c.threads == n and c.size == 20_000
    if threads.available_cores() > 1:
        assert set(c.seconds) == {1, threads.available_cores()} and all(v > 0 for v in c.seconds.values())


def test_decisions_are_remembered_per_size_bucket(fresh, monkeypatch) -> None:
    threads.choose_threads(10_000, rounds=1)
    calls = []
    monkeypatch.setattr(threads, "_probe", lambda x, y: calls.append(1))
    threads.choose_threads(12_000, rounds=1)  # same bucket: no new probe
    assert calls == []
    threads.choose_threads(1_000_000, rounds=1, set_it=False)
    assert calls  # another size is measured


def test_one_core_needs_no_probe(fresh, monkeypatch) -> None:
    monkeypatch.setattr(threads, "available_cores", lambda: 1)
    monkeypatch.setattr(threads, "_probe", lambda x, y: pytest.fail("probed on one core"))
    assert threads.choose_threads(10**6) == 1


def test_a_second_core_must_win_clearly(fresh, monkeypatch) -> None:
    """A tie (or a win under 20%, or a lost round) keeps one thread: it leaves the machine to others."""
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    clock = iter(range(10**6))
    monkeypatch.setattr(threads.time, "perf_counter", lambda: float(next(clock)))  # every timing: 1 "second"
    monkeypatch.setattr(threads, "_probe", lambda x, y: None)
    assert threads.choose_threads(50_000, rounds=1, set_it=False) == 1
