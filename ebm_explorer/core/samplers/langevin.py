"""The overdamped Langevin (Euler-Maruyama) step shared by ULA and MALA.

``y = x - h grad U(x) + sqrt(2h) xi``, ``xi ~ N(0, I)`` (blackjax ``mcmc/diffusions.py``), and the
log density of that Gaussian move, used by MALA's Metropolis-Hastings correction (docs/algorithms.md §2.3).
"""

from __future__ import annotations

import math

import torch

from ebm_explorer.core.samplers.proposal import squared_norm

__all__ = ["langevin_move", "langevin_log_kernel"]


def langevin_move(
    generator: torch.Generator, position: torch.Tensor, grad: torch.Tensor, step_size: float
) -> torch.Tensor:
    """One Euler-Maruyama step of ``dX = -grad U dt + sqrt(2) dW`` with ``dt = step_size``: ``(N, 2)``."""
    noise = torch.randn(position.shape, generator=generator, device=position.device, dtype=position.dtype)
    return position - step_size * grad + math.sqrt(2.0 * step_size) * noise


def langevin_log_kernel(
    to: torch.Tensor, frm: torch.Tensor, grad_frm: torch.Tensor, step_size: float
) -> torch.Tensor:
    """``log q(frm -> to)`` up to the constant that cancels in MH ratios: ``-|to - frm + h grad U(frm)|^2 / 4h``."""
    return -squared_norm(to - frm + step_size * grad_frm) / (4.0 * step_size)
