"""Walkers that blew up (NaN/inf position, energy or gradient, or flung far outside the box).

A run does not stop for them: the GUI worker counts them, shows them and applies a visible rule,
``freeze`` (keep the walker at its last finite state and stop moving it) or ``reset`` (restart it
from a fresh start point). These helpers are pure tensor functions over a :class:`SamplerState`.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.samplers.base import SamplerState
from ebm_explorer.core.types import Box

__all__ = ["BLOWUP_RULES", "FAR_FACTOR", "blown_up", "keep_where", "replace_walkers", "stuck_after_change",
           "describe_reset"]

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


def stuck_after_change(state: SamplerState, frozen: torch.Tensor, box: Box, old_box: Box | None = None
                       ) -> dict[str, torch.Tensor]:
    """Walkers that cannot go on after the landscape changed, by reason (disjoint ``(N,)`` masks):
    ``frozen`` (held by the freeze rule on the old landscape), ``non_finite`` (NaN/inf energy or
    gradient on the new one, or diverged) and ``outside`` (beyond the new box, when the box changed:
    walkers a little beyond an unchanged box are part of the target where the box is no wall)."""
    pos = state.position
    bad = blown_up(state, box) & ~frozen
    inside = (pos[:, 0] >= box.xmin) & (pos[:, 0] <= box.xmax) & (pos[:, 1] >= box.ymin) & (pos[:, 1] <= box.ymax)
    outside = ~inside & ~frozen & ~bad if old_box is not None and old_box != box else torch.zeros_like(bad)
    return {"frozen": frozen.clone(), "non_finite": bad, "outside": outside}


def describe_reset(counts: dict[str, int], total: int) -> str:
    """The status line for a reset after a landscape change ('' when no walker was reset)."""
    k = sum(counts.values())
    if not k:
        return ""
    words = {"frozen": "were frozen", "non_finite": "had a non-finite energy there",
             "outside": "were outside the new box"}
    why = ", ".join(f"{n:,} {words[r]}" for r, n in counts.items() if n)
    return f"new landscape: {k:,} of {total:,} walkers restarted from fresh start points ({why})"
