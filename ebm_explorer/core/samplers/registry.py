"""Sampler registry, parameter validation and initial walker positions (the user-facing entry points)."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.samplers import hmc, mala, mh, ula
from ebm_explorer.core.samplers.base import Sampler, SamplerParams
from ebm_explorer.core.types import Box

__all__ = ["SAMPLERS", "INIT_KINDS", "MAX_LEAPFROG_STEPS", "get_sampler", "validate_params", "initial_positions"]

SAMPLERS: dict[str, Sampler] = {s.name: s for s in (mh.SAMPLER, ula.SAMPLER, mala.SAMPLER, hmc.SAMPLER)}
INIT_KINDS = ("gaussian", "uniform", "point", "given")
MAX_LEAPFROG_STEPS = 1000


def get_sampler(name: str) -> Sampler:
    """The sampler registered under ``name``; a :class:`UserInputError` lists the valid names."""
    try:
        return SAMPLERS[name]
    except (KeyError, TypeError):
        raise UserInputError(f"unknown sampler {name!r}: choose one of {', '.join(SAMPLERS)}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def validate_params(name: str, params: SamplerParams) -> SamplerParams:
    """Check ``params`` for sampler ``name`` once, before a run, with a message naming the bad value."""
    get_sampler(name)
    h = params.step_size
    if isinstance(h, bool) or not isinstance(h, Real) or not math.isfinite(h) or h <= 0:
        raise UserInputError(f"step size must be a finite number > 0, got {h!r}")
    if name == "hmc":
        steps = params.leapfrog_steps
        if not _is_int(steps) or not 1 <= steps <= MAX_LEAPFROG_STEPS:
            raise UserInputError(f"leapfrog steps must be an integer in [1, {MAX_LEAPFROG_STEPS}], got {steps!r}")
        if not _is_int(params.trace_walkers) or params.trace_walkers < 0:
            raise UserInputError(f"trace walkers must be an integer >= 0, got {params.trace_walkers!r}")
    return params


def initial_positions(
    kind: str,
    n: int,
    box: Box,
    generator: torch.Generator,
    device: torch.device | str,
    dtype: torch.dtype,
    point: tuple[float, float] | None = None,
    given: np.ndarray | torch.Tensor | None = None,
) -> torch.Tensor:
    """Starting positions ``(n, 2)`` of the walkers.

    ``gaussian``: centred in ``box`` with per-axis std = box size / 6 (most walkers inside the box);
    ``uniform``: uniform in ``box``; ``point``: ``point`` repeated; ``given``: the ``(n, 2)`` array ``given``.
    """
    if not _is_int(n) or n < 1:
        raise UserInputError(f"number of walkers must be an integer >= 1, got {n!r}")
    if kind == "gaussian":
        centre = torch.tensor([(box.xmin + box.xmax) / 2, (box.ymin + box.ymax) / 2], device=device, dtype=dtype)
        std = torch.tensor([box.width / 6, box.height / 6], device=device, dtype=dtype)
        return centre + std * torch.randn((n, 2), generator=generator, device=device, dtype=dtype)
    if kind == "uniform":
        low = torch.tensor([box.xmin, box.ymin], device=device, dtype=dtype)
        size = torch.tensor([box.width, box.height], device=device, dtype=dtype)
        return low + size * torch.rand((n, 2), generator=generator, device=device, dtype=dtype)
    if kind == "point":
        try:
            xy = [float(v) for v in point]  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise UserInputError(f"init point needs two numbers x, y, got {point!r}") from None
        if len(xy) != 2 or not all(math.isfinite(v) for v in xy):
            raise UserInputError(f"init point needs two finite numbers x, y, got {point!r}")
        return torch.tensor(xy, device=device, dtype=dtype).expand(n, 2).clone()
    if kind == "given":
        if given is None:
            raise UserInputError("init 'given' needs an (N, 2) array of positions")
        try:
            pos = given if isinstance(given, torch.Tensor) else torch.as_tensor(np.asarray(given, dtype=np.float64))
        except (TypeError, ValueError):
            raise UserInputError("given positions must be an (N, 2) array of numbers") from None
        if pos.is_complex() or pos.dtype == torch.bool:
            raise UserInputError("given positions must be real numbers")
        if tuple(pos.shape) != (n, 2):
            raise UserInputError(f"given positions must have shape ({n}, 2), got {tuple(pos.shape)}")
        pos = pos.to(device=device, dtype=dtype, copy=True)  # the caller's array is never aliased
        if not torch.isfinite(pos).all():
            raise UserInputError("given positions contain NaN or inf")
        return pos
    raise UserInputError(f"unknown init {kind!r}: choose one of {', '.join(INIT_KINDS)}")
