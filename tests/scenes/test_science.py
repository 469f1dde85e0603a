"""Closed forms of the lecture scenes: ULA's biased covariance (oracle 1) and Fisher vs KL (oracle 8)."""

from __future__ import annotations

import numpy as np
import pytest

from ebm_explorer.core.closed_forms import covariance_ellipse, ula_stationary_cov
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.scenes import load_builtin_scene
from ebm_explorer.scenes.headless import scene_landscape
from ebm_explorer.scenes.science import mode_weight_curve, ula_ellipses


@pytest.mark.parametrize("var, h, expected", [(1.0, 0.1, 1.0526315789), (1.0, 0.5, 4.0 / 3.0), (2.0, 1.0, 8.0 / 3.0)])
def test_ula_covariance_oracle_1(var: float, h: float, expected: float) -> None:
    out = ula_stationary_cov(np.diag([var, var]), h)
    assert out == pytest.approx(np.diag([expected, expected]), rel=1e-9)


def test_ula_covariance_solves_the_fixed_point_and_refuses_divergence() -> None:
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    h = 0.3
    sh = ula_stationary_cov(cov, h)
    a = np.eye(2) - h * np.linalg.inv(cov)
    assert sh == pytest.approx(a @ sh @ a.T + 2 * h * np.eye(2), rel=1e-12)
    with pytest.raises(UserInputError, match="diverges"):
        ula_stationary_cov(cov, 0.4)  # 2 * smallest eigenvalue 0.2


def test_ellipse_points_lie_on_the_mahalanobis_circle() -> None:
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    pts = covariance_ellipse([1.0, -1.0], cov, n_std=2.0, n_points=50)
    d = pts - [1.0, -1.0]
    m = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
    assert m == pytest.approx(np.full(50, 4.0), rel=1e-12)
    assert pts[0] == pytest.approx(pts[-1])


def test_scene_2_ellipses() -> None:
    scene = load_builtin_scene(2)
    curves = ula_ellipses(scene_landscape(scene), {"ULA": 0.3})
    assert list(curves) == ["exact N(mu, Sigma)", "ULA h=0.3 (exact)"]
    spread = {k: np.ptp(v, axis=0) for k, v in curves.items()}
    assert np.all(spread["ULA h=0.3 (exact)"] > spread["exact N(mu, Sigma)"])


def test_scene_3_matches_oracle_8_table() -> None:
    scene = load_builtin_scene(3)
    curve = mode_weight_curve(scene_landscape(scene), 0, np.array([0.5, 0.4, 0.25, 0.1, 0.01]))
    # docs/algorithms.md oracle 8 (1-D quadrature, 4 decimals); the N(0, 1) second coordinate changes nothing
    assert curve["kl"] == pytest.approx([0.0, 0.0204, 0.1438, 0.5108, 1.6145], abs=6e-5)
    assert curve["fisher"] == pytest.approx([0.0, 2.4e-7, 1.8e-6, 7.6e-6, 4.4e-5], rel=0.05, abs=1e-12)
    p = np.array([0.4, 0.25, 0.1])
    assert curve["kl"][1:4] == pytest.approx(-np.log(2) - 0.5 * np.log(p * (1 - p)), abs=1e-4)
