"""Grid landscapes: exact at nodes, C1 across cell edges, exact on quadratics, a wall outside the box."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import GridLandscape
from ebm_explorer.core.types import Box

BOX = Box(-2.0, 3.0, -1.0, 1.5)


def random_grid(ny: int = 9, nx: int = 12, seed: int = 0) -> GridLandscape:
    return GridLandscape(np.random.default_rng(seed).normal(size=(ny, nx)), BOX)


def nodes(land: GridLandscape) -> torch.Tensor:
    xs, ys = land.node_coordinates()
    X, Y = np.meshgrid(xs, ys)
    return torch.tensor(np.stack([X.ravel(), Y.ravel()], 1))


def test_reproduces_node_values():
    land = random_grid()
    with torch.no_grad():
        e = land.energy(nodes(land)).numpy().reshape(land.shape)
    np.testing.assert_allclose(e, land.values, rtol=0, atol=1e-13)


def test_quadratic_is_reproduced_with_analytic_gradient():
    q = lambda X, Y: 1.5 * X**2 - 0.7 * X * Y + 2.0 * Y**2 + 0.3 * X - Y + 4.0
    xs = np.linspace(BOX.xmin, BOX.xmax, 21)
    ys = np.linspace(BOX.ymin, BOX.ymax, 17)
    X, Y = np.meshgrid(xs, ys)
    land = GridLandscape(q(X, Y), BOX)
    gen = torch.Generator().manual_seed(1)
    u = torch.rand(200, 2, generator=gen, dtype=torch.float64)
    x = torch.stack([BOX.xmin + u[:, 0] * BOX.width, BOX.ymin + u[:, 1] * BOX.height], 1)
    e, g = land.energy_and_grad(x)
    px, py = x[:, 0], x[:, 1]
    torch.testing.assert_close(e, q(px, py), rtol=1e-11, atol=1e-11)
    g_exact = torch.stack([3.0 * px - 0.7 * py + 0.3, -0.7 * px + 4.0 * py - 1.0], 1)
    torch.testing.assert_close(g, g_exact, rtol=1e-10, atol=1e-10)


def test_gradient_is_continuous_across_cell_edges():
    land = random_grid(seed=2)
    xs, ys = land.node_coordinates()
    h = 1e-7
    # interior vertical cell edges x = xs[i], at random heights inside cells
    rng = np.random.default_rng(3)
    for i in range(1, len(xs) - 1):
        for yv in rng.uniform(BOX.ymin, BOX.ymax, size=3):
            pts = torch.tensor([[xs[i] - h, yv], [xs[i] + h, yv]], dtype=torch.float64)
            _, g = land.energy_and_grad(pts)
            # one-sided slopes on either side of the edge agree (C1); the slope itself is O(1)
            assert torch.allclose(g[0], g[1], atol=1e-5)
            with torch.no_grad():
                left = (land.energy(pts[:1]) - land.energy(pts[:1] - torch.tensor([h, 0.0], dtype=torch.float64))) / h
                right = (land.energy(pts[1:] + torch.tensor([h, 0.0], dtype=torch.float64)) - land.energy(pts[1:])) / h
            assert abs(float(left - right)) < 1e-4
    for j in range(1, len(ys) - 1):
        xv = rng.uniform(BOX.xmin, BOX.xmax)
        pts = torch.tensor([[xv, ys[j] - h], [xv, ys[j] + h]], dtype=torch.float64)
        _, g = land.energy_and_grad(pts)
        assert torch.allclose(g[0], g[1], atol=1e-5)


def test_gradient_matches_finite_differences_inside():
    land = random_grid(seed=4)
    gen = torch.Generator().manual_seed(5)
    u = torch.rand(100, 2, generator=gen, dtype=torch.float64) * 0.98 + 0.01
    x = torch.stack([BOX.xmin + u[:, 0] * BOX.width, BOX.ymin + u[:, 1] * BOX.height], 1)
    _, g = land.energy_and_grad(x)
    h = 1e-6
    for k in range(2):
        d = torch.zeros_like(x)
        d[:, k] = h
        with torch.no_grad():
            fd = (land.energy(x + d) - land.energy(x - d)) / (2 * h)
        torch.testing.assert_close(g[:, k], fd, rtol=1e-5, atol=1e-6)


def test_outside_the_box_edge_value_plus_wall():
    land = GridLandscape(np.zeros((5, 5)) + 2.0, BOX, wall_strength=3.0)
    x = torch.tensor([[BOX.xmax + 1.0, 0.0], [BOX.xmin - 0.5, BOX.ymax + 2.0], [0.0, 0.0]], dtype=torch.float64)
    e, g = land.energy_and_grad(x)
    torch.testing.assert_close(e, torch.tensor([2.0 + 3.0, 2.0 + 3.0 * (0.25 + 4.0), 2.0], dtype=torch.float64))
    torch.testing.assert_close(g, torch.tensor([[6.0, 0.0], [-3.0, 12.0], [0.0, 0.0]], dtype=torch.float64))
    # default wall: 10 energy units at 10% of the shorter side outside the box
    d = GridLandscape(np.zeros((4, 4)), BOX)
    out = torch.tensor([[BOX.xmax + 0.1 * BOX.height, 0.0]], dtype=torch.float64)
    assert float(d.energy(out)) == pytest.approx(10.0)


def test_nan_and_inf_positions_do_not_crash():
    land = random_grid()
    x = torch.tensor([[float("nan"), 0.0], [0.0, float("inf")], [1.0, 0.5]], dtype=torch.float64)
    with torch.no_grad():
        e = land.energy(x)
    assert torch.isnan(e[0]) and e[1] == float("inf") and torch.isfinite(e[2])


def test_values_copy_with_values_and_dtypes():
    land = random_grid()
    v = land.values
    v[0, 0] = 99.0
    assert land.values[0, 0] != 99.0 and land.values.dtype == np.float64
    new = land.with_values(np.ones(land.shape))
    assert new.box == land.box and new.wall_strength == land.wall_strength
    assert torch.allclose(new.energy(nodes(new)), torch.ones(new.shape[0] * new.shape[1], dtype=torch.float64))
    x32 = nodes(land).float()
    e32, g32 = land.energy_and_grad(x32)
    assert e32.dtype == torch.float32 and g32.dtype == torch.float32
    np.testing.assert_allclose(e32.numpy().reshape(land.shape), land.values, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_grid_on_cuda_matches_cpu():
    land = random_grid()
    x = nodes(land) * 0.97
    e, g = land.energy_and_grad(x)
    e2, g2 = land.energy_and_grad(x.cuda())
    torch.testing.assert_close(e2.cpu(), e)
    torch.testing.assert_close(g2.cpu(), g)


def test_from_image_dark_is_low_and_top_row_is_top(tmp_path):
    img = np.full((20, 30), 255, dtype=np.uint8)
    img[:5, :] = 0  # a dark band across the top of the picture
    path = tmp_path / "pic.png"
    Image.fromarray(img).save(path)
    for source in (path, img, np.stack([img] * 3, axis=2)):
        land = GridLandscape.from_image(source, BOX, energy_range=(1.0, 5.0))
        assert land.shape == (20, 30)
        assert land.values.min() == pytest.approx(1.0) and land.values.max() == pytest.approx(5.0)
        top = torch.tensor([[0.0, BOX.ymax]], dtype=torch.float64)
        bottom = torch.tensor([[0.0, BOX.ymin]], dtype=torch.float64)
        assert float(land.energy(top)) == pytest.approx(1.0) and float(land.energy(bottom)) == pytest.approx(5.0)


def test_from_image_downsamples_and_reports_bad_input(tmp_path):
    big = GridLandscape.from_image(np.random.default_rng(0).uniform(size=(600, 400)), BOX, max_size=100)
    assert max(big.shape) == 100
    with pytest.raises(UserInputError, match="not found"):
        GridLandscape.from_image(tmp_path / "missing.png", BOX)
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    with pytest.raises(UserInputError, match="cannot read image"):
        GridLandscape.from_image(bad, BOX)


@pytest.mark.parametrize(
    "values, match",
    [
        (np.zeros((2, 5)), "at least 3x3"),
        (np.zeros(9), "at least 3x3"),
        (np.array([[0.0, np.nan, 0], [0, 0, 0], [0, 0, 0]]), "finite"),
        ([["a", "b", "c"]] * 3, "numbers"),
    ],
)
def test_bad_grids_are_refused(values, match):
    with pytest.raises(UserInputError, match=match):
        GridLandscape(values, BOX)


def test_image_without_a_box_keeps_its_aspect_and_dark_pixels_are_wells(tmp_path) -> None:
    """The one image-to-energy conversion (the editor's Import image calls it): no box given -> x in
    [-3, 3], y by the aspect ratio; black is the low end of the energy range, white the high end."""
    from PIL import Image

    img = np.full((20, 40), 255, dtype=np.uint8)
    img[5:10, 30:35] = 0  # a dark blot in the upper right
    path = tmp_path / "blot.png"
    Image.fromarray(img).save(path)
    land = GridLandscape.from_image(path)
    assert land.box.as_tuple() == (-3.0, 3.0, -1.5, 1.5)
    assert land.values.shape == (20, 40)
    low = np.unravel_index(np.argmin(land.values), land.values.shape)
    assert land.values.min() == 0.0 and land.values.max() == 10.0
    assert low[0] >= 10 and low[1] >= 30  # row 0 is the bottom of the box: the blot is in the upper half
