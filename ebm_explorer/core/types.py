"""Shared types and conventions of the numerical core.

Conventions (stated once, used everywhere):

* Points are torch tensors of shape ``(N, 2)``: one row per walker, columns ``(x, y)``.
* The core speaks *energy* ``U(x) = -log p~(x)``; the target density is ``exp(-U) / Z``.
  Inverse temperature is folded into the energy by :class:`~ebm_explorer.core.landscapes.base.Tempered`
  (``beta * U``), so samplers and the grid reference never see ``beta`` separately.
* Grid arrays are row-major ``(ny, nx)``: ``array[iy, ix]`` is the value at ``(xs[ix], ys[iy])``.
* Randomness always comes from an explicit ``torch.Generator``; nothing calls ``torch.manual_seed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

from ebm_explorer.core.errors import UserInputError


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle ``[xmin, xmax] x [ymin, ymax]`` (plotting box and grid domain)."""

    xmin: float
    xmax: float
    ymin: float
    ymax: float

    def __post_init__(self) -> None:
        vals = (self.xmin, self.xmax, self.ymin, self.ymax)
        if not all(isinstance(v, (int, float)) and abs(float(v)) < float("inf") for v in vals):
            raise UserInputError(f"box needs four finite numbers, got {vals}")
        if not (self.xmax > self.xmin and self.ymax > self.ymin):
            raise UserInputError(f"box must have xmin < xmax and ymin < ymax (order XMIN XMAX YMIN YMAX), "
                                 f"got {' '.join(f'{float(v):g}' for v in vals)}")

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (float(self.xmin), float(self.xmax), float(self.ymin), float(self.ymax))

    @classmethod
    def from_sequence(cls, values) -> "Box":
        vals = list(values)
        if len(vals) != 4:
            raise UserInputError(f"box needs four numbers XMIN XMAX YMIN YMAX, got {len(vals)}")
        try:
            numbers = [float(v) for v in vals]
        except (TypeError, ValueError) as exc:
            raise UserInputError(f"box needs four numbers XMIN XMAX YMIN YMAX, got {vals}") from exc
        return cls(*numbers)  # its own message says what is wrong (order, infinities)


@runtime_checkable
class EnergyFn(Protocol):
    """What samplers and the grid reference need from an energy: batched U and its gradient."""

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 2) -> (N,)``."""

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, 2) -> ((N,), (N, 2))``, detached from any autograd graph."""
