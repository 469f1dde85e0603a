"""A trainable neural energy: an MLP plus a confining quadratic, normalisable from the start."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes._util import SpecLandscape, as_array, as_box, as_float, box_list
from ebm_explorer.core.types import Box


class MLPEnergy(torch.nn.Module, SpecLandscape):
    """``U(x) = |x - c|^2 / (2 s^2) + f((x - c) / s)`` with ``f`` a SiLU MLP ``2 -> hidden -> 1``.

    The quadratic keeps ``exp(-U)`` normalisable whatever the network does near the data. With
    ``zero_last=True`` (default) the output layer starts at zero, so at initialisation the model
    is exactly ``N(c, s^2 I)``: ``log Z = log(2 pi s^2)`` (see :meth:`log_z_confinement`).
    Weights are drawn from a generator seeded with ``seed`` (no global RNG). Parameters live
    where the user puts them (``.to(...)``); inputs of another device/dtype are served by
    converting the parameters on the fly, which autograd differentiates through.
    """

    name = "mlp"
    description = "Neural energy: SiLU MLP plus a confining quadratic"

    def __init__(
        self,
        hidden: Sequence[int] = (64, 64),
        confinement_std: float = 3.0,
        center: Sequence[float] = (0.0, 0.0),
        box: Box | Sequence[float] | None = None,
        zero_last: bool = True,
        seed: int = 0,
    ) -> None:
        torch.nn.Module.__init__(self)
        s = as_float(confinement_std, "confinement_std", positive=True)
        c = as_array(center, "center", (2,))
        sizes = [int(h) for h in hidden]
        if not sizes or any(h < 1 for h in sizes):
            raise UserInputError(f"hidden sizes must be positive integers, got {list(hidden)}")
        if box is None:
            h = 4.5 * s  # edge mass of N(c, s^2 I) outside +-4.5 s: ~1e-5
            box = (c[0] - h, c[0] + h, c[1] - h, c[1] + h)
        SpecLandscape.__init__(self, as_box(box))
        self.hidden = tuple(sizes)
        self.confinement_std = s
        self.center_xy = (float(c[0]), float(c[1]))
        self.zero_last = bool(zero_last)
        self.seed = int(seed)
        gen = torch.Generator().manual_seed(self.seed)
        dims = [2, *sizes, 1]
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
            lin = torch.nn.utils.skip_init(torch.nn.Linear, fan_in, fan_out)  # no global-RNG draw
            bound = 1.0 / math.sqrt(fan_in)  # torch's default Linear init, with our generator
            last = i == len(dims) - 2
            with torch.no_grad():
                if last and self.zero_last:
                    lin.weight.zero_()
                    lin.bias.zero_()
                else:
                    lin.weight.copy_((torch.rand(fan_out, fan_in, generator=gen) * 2 - 1) * bound)
                    lin.bias.copy_((torch.rand(fan_out, generator=gen) * 2 - 1) * bound)
            layers.append(lin)
        self.layers = torch.nn.ModuleList(layers)

    def network(self, z: torch.Tensor) -> torch.Tensor:
        """The MLP part ``f(z)`` on standardised inputs: ``(N, 2) -> (N,)``."""
        h = z
        for i, lin in enumerate(self.layers):
            h = F.linear(h, lin.weight.to(z.device, z.dtype), lin.bias.to(z.device, z.dtype))
            if i < len(self.layers) - 1:
                h = F.silu(h)
        return h[:, 0]

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        c = torch.tensor(self.center_xy, dtype=x.dtype, device=x.device)
        z = (x - c) / self.confinement_std
        return 0.5 * (z * z).sum(1) + self.network(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.energy(x)

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradient in ``x`` only: ``autograd.grad`` with ``inputs=x`` leaves parameter ``.grad`` untouched."""
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            e = self.energy(xr)
            (g,) = torch.autograd.grad(e.sum(), xr)
        return e.detach(), g.detach()

    def log_z_confinement(self) -> float:
        """``log Z`` of the confining Gaussian alone, ``log(2 pi s^2)``: exact while the output layer is zero."""
        return math.log(2.0 * math.pi * self.confinement_std**2)

    def _own_spec(self) -> dict[str, Any]:
        return {
            "kind": "mlp",
            "hidden": list(self.hidden),
            "confinement_std": self.confinement_std,
            "center": list(self.center_xy),
            "box": box_list(self.box),
            "state": {k: v.detach().cpu().double().numpy().tolist() for k, v in self.state_dict().items()},
        }

    def load_state_lists(self, state: dict[str, Any]) -> None:
        """Load parameters saved by :meth:`spec` (nested lists), checking names and shapes."""
        own = self.state_dict()
        if set(state) != set(own):
            raise UserInputError(f"mlp state must have keys {sorted(own)}, got {sorted(state)}")
        new = {}
        for k, ref in own.items():
            arr = np.asarray(state[k], dtype=np.float64)
            if arr.shape != tuple(ref.shape):
                raise UserInputError(f"mlp state {k!r} must have shape {tuple(ref.shape)}, got {arr.shape}")
            new[k] = torch.as_tensor(arr, dtype=ref.dtype)
        self.load_state_dict(new)
