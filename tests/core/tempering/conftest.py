"""Shared pieces of the parallel-tempering and SMC tests."""

from __future__ import annotations

import pytest

from ebm_explorer.core.landscapes import GaussianMixture
from ebm_explorer.core.reference import compute_reference


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """Every tempering test runs single-threaded (the shared ``one_thread`` fixture)."""


def three_wells() -> GaussianMixture:
    """Masses 0.2 / 0.3 / 0.5 at the corners of a triangle of side 9, std 1: barriers of about 10."""
    return GaussianMixture([0.2, 0.3, 0.5], [[-4.5, -2.6], [4.5, -2.6], [0.0, 5.2]], stds=1.0)


@pytest.fixture(scope="module")
def wells():
    """The three-well landscape and its exact reference."""
    land = three_wells()
    return land, compute_reference(land, land.box)
