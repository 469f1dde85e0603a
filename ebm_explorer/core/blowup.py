"""Walkers that blew up (NaN/inf position, energy or gradient, or flung far outside the box).

A run does not stop for them: the GUI worker counts them, shows them and applies a visible rule,
``freeze`` (keep the walker at its last finite state and stop moving it) or ``reset`` (restart it
from a fresh start point). These helpers are pure tensor functions over a :class:`SamplerState`.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.samplers.base import SamplerState
from ebm_explorer.core.types import Box

__all__ = ["BLOWUP_RULES", "FAR_FACTOR", "blown_up", "keep_where", "replace_walkers"]

#: rule names shown in the sampler panel
BLOWUP_RULES = {"freeze": "Freeze at last finite position", "reset": "Reset to a fresh start point"}
#: a walker farther than this many box sizes from the box centre counts as diverged
FAR_FACTOR = 1000.0


def blown_up(state: SamplerState, box: Box) -> torch.Tensor:
    """``(N,)`` bool: non-finite position, energy or gradient, or diverged far beyond the box."""
    pos = state.position
    bad = ~(torch.isfinite(pos).all(dim=-1) & torch.isfinite(state.energy) & torch.isfinite(state.grad).all(dim=-1))
    centre = torch.tensor([(box.xmin + box.xmax) / 2, (box.ymin + box.ymax) / 2], dtype=pos.dtype, device=pos.device)
    size = torch.tensor([box.width, box.height], dtype=pos.dtype, device=pos.device)
    far = ((pos - centre).abs() > FAR_FACTOR * size).any(dim=-1)
    return bad | far


def keep_where(mask: torch.Tensor, old: SamplerState, new: SamplerState) -> SamplerState:
    """``new`` except where ``mask``: there the walker keeps its ``old`` position, energy and gradient."""
    m1 = mask.unsqueeze(-1)
    return SamplerState(
        torch.where(m1, old.position, new.position),
        torch.where(mask, old.energy, new.energy),
        torch.where(m1, old.grad, new.grad),
    )


def replace_walkers(state: SamplerState, mask: torch.Tensor, fresh: SamplerState) -> SamplerState:
    """``state`` with the walkers under ``mask`` replaced by ``fresh`` (which holds ``mask.sum()`` walkers)."""
    idx = torch.nonzero(mask, as_tuple=True)[0]
    pos, energy, grad = state.position.clone(), state.energy.clone(), state.grad.clone()
    pos[idx] = fresh.position
    energy[idx] = fresh.energy
    grad[idx] = fresh.grad
    return SamplerState(pos, energy, grad)
