"""Data-driven starting means for a mixture model: k-means++ seeding, then Lloyd iterations.

Started from centres drawn around the middle of the box, two components of a mixture can settle on
the same mode and stay there: gradient training moves a component's mean only towards data it is
responsible for, and a mode already covered by a neighbour pulls nothing (measured on a three-mode
target: 4 of 9 seeds ended with two components on one mode, KL 0.77-0.94 for every method).
k-means++ (Arthur & Vassilvitskii 2007) picks the first centre at a random data point and each next
one at a data point drawn with probability proportional to its squared distance to the nearest centre
so far, so well-separated modes each receive a centre with high probability; Lloyd iterations then
move every centre to the mean of its cluster. Only the means are taken from the data: the model
still starts with equal masses and a common width, so what training must learn about the mode
weights (and what CD or PCD get wrong about them) is unchanged.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.errors import UserInputError

__all__ = ["kmeans_pp_means"]


def kmeans_pp_means(data: torch.Tensor, m: int, generator: torch.Generator, lloyd_iterations: int = 25,
                    max_points: int = 5000) -> torch.Tensor:
    """``(m, 2)`` float64 centres of ``data (n, 2)``: k-means++ seeding and ``lloyd_iterations`` of Lloyd.

    At most ``max_points`` data points are used (a random subset; the result depends only on the
    data, ``m`` and the CPU ``generator``, so the same seed gives the same start). A cluster that
    empties keeps its centre.
    """
    x = torch.as_tensor(data).detach().to(device="cpu", dtype=torch.float64)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] < 1:
        raise UserInputError(f"data must have shape (n, 2), got {tuple(x.shape)}")
    if m < 1:
        raise UserInputError(f"the mixture model needs at least 1 component, got {m}")
    if x.shape[0] > max_points:
        x = x[torch.randperm(x.shape[0], generator=generator)[:max_points]]
    n = x.shape[0]
    centres = torch.empty((m, 2), dtype=torch.float64)
    centres[0] = x[int(torch.randint(n, (1,), generator=generator))]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for j in range(1, m):
        total = float(d2.sum())
        if total > 0:
            i = int(torch.multinomial(d2 / total, 1, generator=generator))
        else:  # fewer distinct points than components: any point
            i = int(torch.randint(n, (1,), generator=generator))
        centres[j] = x[i]
        d2 = torch.minimum(d2, ((x - centres[j]) ** 2).sum(1))
    for _ in range(lloyd_iterations):
        label = torch.cdist(x, centres).argmin(1)
        counts = torch.bincount(label, minlength=m).to(torch.float64)
        sums = torch.zeros_like(centres).index_add_(0, label, x)
        moved = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], centres)
        if torch.equal(moved, centres):
            break
        centres = moved
    return centres
