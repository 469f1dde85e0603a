"""Score-matching objectives: Hyvarinen score matching (``sm``) and denoising score matching (``dsm``).

Both fit the model score ``-grad U_theta`` to the data without ever touching ``Z_theta`` or walkers,
which is why they are cheap, and why they cannot see how mass is split between separated modes: the
Fisher divergence they descend only looks at the score, which is the same inside each mode whatever
the mode's weight (review, section on score matching; lecture scene 3).

* ``sm``: ``J(theta) = E_data[ |grad U|^2 / 2 - Laplacian U ]`` (Hyvarinen 2005, integrated by parts:
  equal to the Fisher divergence up to a constant). The Laplacian is exact: in closed form for the
  Gaussian mixture (``Hessian U = sum_j r_j / s_j^2 I - Cov_r(v)``, ``v_j = (x - a_j) / s_j^2``), and by
  two extra autograd passes for any other energy (2-D: one per coordinate, no Hutchinson noise).
* ``dsm``: ``J(theta) = E_{x ~ data, z ~ N(0, I)} |grad U(x + sigma z) - z / sigma|^2 / 2`` (Vincent
  2011): the score of the data convolved with ``N(0, sigma^2 I)``, so the optimum is the *noised* data
  density and the exact Fisher divergence to the clean target stays of order ``sigma^2``.
"""

from __future__ import annotations

import math

import torch

from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.training.models import MixtureEnergy, TrainableEnergy

__all__ = ["SCORE_METHODS", "grad_and_laplacian", "sm_loss", "dsm_loss", "score_loss_and_grads"]

SCORE_METHODS = ("sm", "dsm")


def _mixture_grad_and_laplacian(model: MixtureEnergy, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed form, differentiable in the parameters: ``grad U = sum_j r_j v_j`` and
    ``Laplacian U = sum_j r_j (2 / s_j^2 - |v_j|^2) + |grad U|^2``."""
    a = model.means.to(x.dtype)
    inv_var = torch.exp(-2.0 * model.log_widths.to(x.dtype))  # (M,)
    d = x[None, :, :] - a[:, None, :]  # (M, N, 2)
    sq = (d * d).sum(-1)  # (M, N)
    logits = -0.5 * sq * inv_var[:, None] - model.z.to(x.dtype)[:, None]
    r = torch.softmax(logits, dim=0)  # responsibilities (M, N)
    v = d * inv_var[:, None, None]  # (M, N, 2)
    g = (r[:, :, None] * v).sum(0)  # (N, 2)
    lap = (r * (2.0 * inv_var[:, None] - sq * inv_var[:, None] ** 2)).sum(0) + (g * g).sum(-1)
    return g, lap


def _autograd_grad_and_laplacian(model: TrainableEnergy, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``grad U`` and the exact Laplacian by autograd (graph kept, so both differentiate in theta)."""
    xr = x.detach().requires_grad_(True)
    e = model.energy(xr)
    (g,) = torch.autograd.grad(e.sum(), xr, create_graph=True)
    lap = torch.zeros_like(e)
    for i in range(x.shape[1]):
        (gi,) = torch.autograd.grad(g[:, i].sum(), xr, create_graph=True)
        lap = lap + gi[:, i]
    return g, lap


def grad_and_laplacian(model: TrainableEnergy, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``grad_x U (N, 2)`` and ``Laplacian U (N,)`` at ``x``, differentiable in the model parameters."""
    with torch.enable_grad():
        if isinstance(model, MixtureEnergy):
            return _mixture_grad_and_laplacian(model, x)
        return _autograd_grad_and_laplacian(model, x)


def _grad_x(model: TrainableEnergy, x: torch.Tensor) -> torch.Tensor:
    """``grad_x U`` differentiable in the parameters (the mixture's closed form, else autograd)."""
    if isinstance(model, MixtureEnergy):
        return _mixture_grad_and_laplacian(model, x)[0]
    xr = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(model.energy(xr).sum(), xr, create_graph=True)
    return g


def sm_loss(model: TrainableEnergy, x: torch.Tensor) -> torch.Tensor:
    """Hyvarinen's objective ``mean(|grad U|^2 / 2 - Laplacian U)`` on the points ``x`` (a scalar)."""
    g, lap = grad_and_laplacian(model, x)
    return (0.5 * (g * g).sum(-1) - lap).mean()


def dsm_loss(model: TrainableEnergy, x: torch.Tensor, noise_std: float, generator: torch.Generator) -> torch.Tensor:
    """Denoising score matching at noise level ``noise_std``, one fresh noise draw per point (a scalar)."""
    z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    with torch.enable_grad():
        g = _grad_x(model, x + noise_std * z)
        diff = g - z / noise_std
        return 0.5 * (diff * diff).sum(-1).mean()


def score_loss_and_grads(model: TrainableEnergy, data: torch.Tensor, method: str, noise_std: float,
                         generator: torch.Generator) -> tuple[float, list[torch.Tensor]]:
    """The objective of ``method`` on ``data`` and its gradient per trainable parameter (the
    trainer's order). Raises :class:`NumericalError` when either is NaN/inf."""
    params = model.trainable()
    with torch.enable_grad():
        if method == "sm":
            loss = sm_loss(model, data)
        elif method == "dsm":
            loss = dsm_loss(model, data, noise_std, generator)
        else:
            raise UserInputError(f"unknown score method {method!r}: choose one of {', '.join(SCORE_METHODS)}")
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    out = [torch.zeros_like(p) if g is None else g.detach() for p, g in zip(params, grads)]
    if isinstance(model, MixtureEnergy):  # z is the last group; a frozen z_1 stays put as in CE training
        out[-1] = out[-1] * model.z_grad_mask
    value = float(loss.detach())
    if not math.isfinite(value) or not all(bool(torch.isfinite(g).all()) for g in out):
        raise NumericalError(f"the {method} loss or its gradient is NaN/inf: reduce the learning rate")
    return value, out
