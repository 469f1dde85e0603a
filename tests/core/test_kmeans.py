"""k-means++ starting means: one per well-separated cluster, deterministic for a seed, robust to odd data."""

from __future__ import annotations

import pytest
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.training.kmeans import kmeans_pp_means

MODES = torch.tensor([[-1.5, -1.5], [1.5, 1.5], [-2.0, 2.0]], dtype=torch.float64)


def _clusters(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(3, (3000,), generator=g)
    return MODES[label] + 0.6 * torch.randn((3000, 2), generator=g, dtype=torch.float64)


@pytest.mark.parametrize("seed", range(9))
def test_one_centre_per_cluster_and_same_seed_same_centres(seed: int) -> None:
    data = _clusters(seed)
    c = kmeans_pp_means(data, 3, torch.Generator().manual_seed(seed))
    nearest = torch.cdist(c, MODES).argmin(1)
    assert sorted(nearest.tolist()) == [0, 1, 2], c
    assert float(torch.cdist(c, MODES).min(1).values.max()) < 0.3  # Lloyd moved them onto the cluster means
    assert torch.equal(c, kmeans_pp_means(data, 3, torch.Generator().manual_seed(seed)))


def test_more_components_than_distinct_points_and_bad_input() -> None:
    data = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    c = kmeans_pp_means(data, 5, torch.Generator().manual_seed(0))
    assert c.shape == (5, 2) and torch.isfinite(c).all()
    with pytest.raises(UserInputError):
        kmeans_pp_means(data, 0, torch.Generator())
    with pytest.raises(UserInputError):
        kmeans_pp_means(torch.zeros(4, 3), 2, torch.Generator())
