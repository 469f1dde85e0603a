"""The landscape contract: a batched energy ``U(x)`` with a gradient and a plotting box."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch

from ebm_explorer.core.types import Box


class Landscape(ABC):
    """A 2D energy ``U: (N, 2) -> (N,)`` on any device and floating dtype.

    Subclasses implement :meth:`energy` with differentiable torch operations; the gradient then
    comes from autograd. Subclasses with a cheaper analytic gradient override :meth:`energy_and_grad`.
    Parameters held as tensors must follow ``x.device`` / ``x.dtype`` (use :meth:`_like`).
    """

    #: registry / display name, e.g. ``"double_well"``
    name: str = "landscape"
    #: one-line description shown by ``ebm-explorer landscapes`` and the GUI gallery
    description: str = ""

    def __init__(self, box: Box) -> None:
        self.box = box

    @abstractmethod
    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """Energy of each point: ``(N, 2) -> (N,)``."""

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Energy and its gradient in ``x`` (autograd), both detached: ``((N,), (N, 2))``."""
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            e = self.energy(xr)
            (g,) = torch.autograd.grad(e.sum(), xr)
        return e.detach(), g.detach()

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return self.energy_and_grad(x)[1]

    def spec(self) -> dict[str, Any]:
        """A TOML-ready ``[landscape]`` table that rebuilds this landscape (see ``spec.py``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be saved as a spec")

    @staticmethod
    def _like(value: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``value`` moved to ``x``'s device and dtype (cheap when already there)."""
        return value.to(device=x.device, dtype=x.dtype)


class Tempered(Landscape):
    """``beta * U``: inverse temperature folded into the energy, so samplers need no ``beta``."""

    def __init__(self, base: Landscape, beta: float) -> None:
        super().__init__(base.box)
        if isinstance(base, Tempered):  # tempering twice multiplies the betas
            beta, base = float(beta) * base.beta, base.base
        self.base = base
        self.beta = float(beta)
        self.name = base.name
        self.description = base.description

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self.beta * self.base.energy(x)

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e, g = self.base.energy_and_grad(x)
        return self.beta * e, self.beta * g

    def spec(self) -> dict[str, Any]:
        return {**self.base.spec(), "beta": self.beta}
