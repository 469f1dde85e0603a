"""Numeric fields read numbers as people type them, and refuse (with a message) what is out of range."""

from __future__ import annotations

import pytest
from PySide6 import QtCore
from PySide6.QtTest import QTest

from ebm_explorer.ui.fields import IntSpin, parse_number


@pytest.mark.parametrize("text, value", [("1e4", 1e4), ("10000", 1e4), ("10k", 1e4), ("10,000", 1e4),
                                         ("10 000", 1e4), ("1.5M", 1.5e6), ("2e-3", 2e-3), ("-3", -3.0)])
def test_parse_number_reads_common_spellings(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1e", "inf", "nan", "1e999"])
def test_parse_number_refuses_non_numbers(text):
    assert parse_number(text) is None


def _type(spin: IntSpin, text: str) -> None:
    spin.setFocus()
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin, text)
    QTest.keyClick(spin, QtCore.Qt.Key.Key_Return)


@pytest.fixture
def walkers(qtbot) -> IntSpin:
    """A shown Walkers field (1 to 1,000,000, group separators) holding 2000."""
    spin = IntSpin("Walkers")
    spin.setRange(1, 1_000_000)
    spin.setGroupSeparatorShown(True)
    spin.setValue(2000)
    qtbot.addWidget(spin)
    spin.show()
    return spin


@pytest.mark.parametrize("text", ["1e4", "10000", "10k", "10,000"])
def test_walkers_field_takes_ten_thousand_any_way(walkers, text):
    spin = walkers
    _type(spin, text)
    assert spin.value() == 10_000
    assert spin.message == ""


@pytest.mark.parametrize("text, why", [("1e9", "between 1 and 1,000,000"), ("1.5", "whole number")])
def test_out_of_range_keeps_the_value_and_says_why(walkers, text, why):
    spin = walkers
    _type(spin, text)
    assert spin.value() == 2000  # never another number than the one typed
    assert why in spin.message and "Walkers" in spin.message and "kept 2,000" in spin.message
