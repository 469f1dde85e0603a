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
    """``U(x) = |x - c|^2 / (2 s^2) + f((x - c) / L)`` with ``f`` a SiLU MLP ``2 -> hidden -> 1``.

    The quadratic keeps ``exp(-U)`` normalisable whatever the network does (SiLU grows at most
    linearly). With ``zero_last=True`` (default) the output layer starts at zero, so at
    initialisation the model is exactly ``N(c, s^2 I)``: ``log Z = log(2 pi s^2)`` (see
    :meth:`log_z_confinement`). ``L`` (``input_scale``, default ``s``) standardises the network's
    input. Weights are drawn from ``generator``, or from one seeded with ``seed`` (no global RNG).
    Parameters live where the user puts them (``dtype``/``device``, ``.to(...)``); inputs of another
    device/dtype are served by converting the parameters on the fly, which autograd differentiates
    through. The inherited :meth:`energy_and_grad` differentiates in ``x`` only, so sampling leaves
    parameter ``.grad`` untouched.
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
        input_scale: float | None = None,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        torch.nn.Module.__init__(self)
        s = as_float(confinement_std, "confinement_std", positive=True)
        scale = s if input_scale is None else as_float(input_scale, "input_scale", positive=True)
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
        self.input_scale = scale
        self.center_xy = (float(c[0]), float(c[1]))
        self.zero_last = bool(zero_last)
        gen = torch.Generator().manual_seed(int(seed)) if generator is None else generator
        dtype = torch.get_default_dtype() if dtype is None else dtype
        dims = [2, *sizes, 1]
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
            # skip_init: no draw from the global RNG
            lin = torch.nn.utils.skip_init(torch.nn.Linear, fan_in, fan_out, dtype=dtype, device=device)
            bound = 1.0 / math.sqrt(fan_in)  # torch's default Linear init, drawn (on the CPU) from our generator
            with torch.no_grad():
                for p in (lin.weight, lin.bias):
                    if i == len(dims) - 2 and self.zero_last:
                        p.zero_()
                    else:
                        p.copy_(torch.empty(p.shape, dtype=dtype).uniform_(-bound, bound, generator=gen))
            layers.append(lin)
        self.layers = torch.nn.ModuleList(layers)

    def network(self, u: torch.Tensor) -> torch.Tensor:
        """The MLP part ``f(u)`` on standardised inputs: ``(N, 2) -> (N,)``."""
        h = u
        for i, lin in enumerate(self.layers):
            h = F.linear(h, lin.weight.to(u.device, u.dtype), lin.bias.to(u.device, u.dtype))
            if i < len(self.layers) - 1:
                h = F.silu(h)
        return h[:, 0]

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        d = x - torch.tensor(self.center_xy, dtype=x.dtype, device=x.device)
        z = d / self.confinement_std
        return 0.5 * (z * z).sum(1) + self.network(d / self.input_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.energy(x)

    def log_z_confinement(self) -> float:
        """``log Z`` of the confining Gaussian alone, ``log(2 pi s^2)``: exact while the output layer is zero."""
        return math.log(2.0 * math.pi * self.confinement_std**2)

    def _own_spec(self) -> dict[str, Any]:
        return {
            "kind": "mlp",
            "hidden": list(self.hidden),
            "confinement_std": self.confinement_std,
            "input_scale": self.input_scale,
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
