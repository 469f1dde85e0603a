"""Trainable energies: a Gaussian-mixture energy with closed-form log Z, and a confined MLP energy.

Both are ``torch.nn.Module`` and :class:`~ebm_explorer.core.landscapes.base.Landscape`, so samplers
and the grid reference work on them unchanged; the MLP is the landscape
:class:`~ebm_explorer.core.landscapes.mlp.MLPEnergy` plus the training extras. Both start from a
model whose exact samples and ``log Z`` are known, which Jarzynski training needs (docs/algorithms.md
§4.4: ``A = 0`` and ``log Z_0`` known at the start).

The trainer needs one thing beyond ``energy``: :meth:`TrainableEnergy.weighted_param_grad`, the
parameter gradient of ``sum_i w_i U(x_i)`` in one pass (no per-walker Jacobians). The mixture
computes it in closed form; the MLP uses one autograd backward pass over the weighted sum.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes._util import lse_and_softmax
from ebm_explorer.core.landscapes.base import Landscape
from ebm_explorer.core.landscapes.mlp import MLPEnergy
from ebm_explorer.core.types import Box

__all__ = ["TrainableEnergy", "MixtureEnergy", "MLPModel", "stratified_counts"]


def stratified_counts(n: int, masses: np.ndarray) -> np.ndarray:
    """Deterministic component counts summing to ``n``: ``floor(n m_j)`` plus largest remainders.

    With masses (1/2, 1/2) this is GMM.py's "N/2 walkers from each mode" initialisation.
    """
    raw = n * np.asarray(masses, dtype=np.float64)
    counts = np.floor(raw).astype(np.int64)
    short = n - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts


#: ``w (N,) -> d/dtheta sum_i w_i U(x_i)`` per trainable parameter, at points and parameters fixed earlier
WeightedGradFn = Callable[[torch.Tensor], list[torch.Tensor]]


class TrainableEnergy(nn.Module, Landscape):
    """A trainable 2-D energy: ``nn.Module`` parameters in named groups, plus what training needs."""

    def __init__(self, box: Box) -> None:
        nn.Module.__init__(self)
        Landscape.__init__(self, box)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters by group name (one learning rate per group)."""
        raise NotImplementedError

    def trainable(self) -> list[nn.Parameter]:
        """The parameters in the order :meth:`weighted_param_grad` returns their gradients."""
        return [p for ps in self.param_groups().values() for p in ps]

    def weighted_param_grad(self, x: torch.Tensor, w: torch.Tensor) -> list[torch.Tensor]:
        """``d/dtheta sum_i w_i U(x_i)`` for each trainable parameter: one backward pass, no Jacobians."""
        return self.energy_and_weighted_param_grad(x, w)[1]

    def energy_and_weighted_param_grad(self, x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``U(x)`` ``(N,)`` (detached) and :meth:`weighted_param_grad` from the same forward pass."""
        params = self.trainable()
        with torch.enable_grad():
            e = self.energy(x.detach())
            grads = torch.autograd.grad((w * e).sum(), params, allow_unused=True)
        return e.detach(), [torch.zeros_like(p) if g is None else g.detach() for p, g in zip(params, grads)]

    def energy_grad_and_param_grad_fn(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, WeightedGradFn]:
        """``U(x)``, ``grad_x U(x)`` and ``w -> weighted_param_grad(x, w)`` at the current parameters;
        a model with a closed form reuses its forward pass for the last (see :class:`MixtureEnergy`)."""
        e, g = self.energy_and_grad(x)
        return e, g, lambda w: self.weighted_param_grad(x, w)

    def log_z_exact(self) -> float | None:
        """Closed-form ``log Z`` of the current parameters, or None when only the grid can give it."""
        return None

    def initial_log_z(self) -> float:
        """``log Z`` of the model as constructed (known exactly: Jarzynski's starting point)."""
        raise NotImplementedError

    def initial_samples(self, n: int, generator: torch.Generator, stratified: bool = False) -> torch.Tensor:
        """``(n, 2)`` exact samples of the model as constructed."""
        raise NotImplementedError

    def param_arrays(self) -> dict[str, np.ndarray]:
        """Copies of all parameters as numpy arrays (history, saving)."""
        return {name: p.detach().cpu().numpy().copy() for name, p in self.named_parameters()}

    def load_param_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Set parameters from :meth:`param_arrays` output (resuming a saved model)."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(torch.as_tensor(arrays[name], dtype=p.dtype, device=p.device))


class MixtureEnergy(TrainableEnergy):
    """``U(x) = -log sum_j exp(-|x - a_j|^2 / (2 s_j^2) - z_j)`` with learnable ``a``, ``log s`` and ``z``.

    Closed forms (docs/algorithms.md oracle 9, with isotropic widths):
    ``log Z = log sum_j 2 pi s_j^2 e^{-z_j}``, component masses ``softmax(-z + log 2 pi s^2)``.
    With ``learn_widths=False`` the widths stay 1 (identity covariance, the family of 3.1).
    ``freeze_first_z`` keeps ``z_1`` fixed as GMM.py does "to avoid global blow up of energy": the
    energy is invariant to a common shift of ``z`` up to ``log Z``, so one ``z`` is redundant.
    """

    name = "mixture_model"
    description = "trainable Gaussian mixture (means, isotropic widths, log-weights)"

    def __init__(
        self,
        means: Sequence[Sequence[float]] | np.ndarray | torch.Tensor,
        widths: Sequence[float] | float | None = None,
        z: Sequence[float] | None = None,
        learn_widths: bool = True,
        freeze_first_z: bool = False,
        box: Box | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ) -> None:
        a = torch.as_tensor(np.asarray(means, dtype=np.float64), dtype=dtype, device=device)
        if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 1:
            raise UserInputError(f"mixture means must have shape (M, 2), got {tuple(a.shape)}")
        m = a.shape[0]
        s = np.ones(m) if widths is None else np.broadcast_to(np.asarray(widths, dtype=np.float64), (m,))
        if np.any(~np.isfinite(s)) or np.any(s <= 0):
            raise UserInputError(f"mixture widths must be finite and > 0, got {np.asarray(s).tolist()}")
        zz = np.zeros(m) if z is None else np.asarray(z, dtype=np.float64)
        if zz.shape != (m,) or not np.all(np.isfinite(zz)):
            raise UserInputError(f"mixture z must be {m} finite numbers")
        if box is None:
            lo = a.detach().cpu().numpy().min(0) - 4.0 * s.max()
            hi = a.detach().cpu().numpy().max(0) + 4.0 * s.max()
            box = Box(float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        super().__init__(box)
        self.means = nn.Parameter(a.clone())
        log_s = torch.as_tensor(np.log(s), dtype=dtype, device=device)
        if learn_widths:
            self.log_widths = nn.Parameter(log_s.clone())
        else:
            self.register_buffer("log_widths", log_s.clone())
        self.learn_widths = learn_widths
        self.z = nn.Parameter(torch.as_tensor(zz, dtype=dtype, device=device))
        mask = torch.ones(m, dtype=dtype, device=device)
        if freeze_first_z:
            mask[0] = 0.0
        self.register_buffer("z_grad_mask", mask)
        self.freeze_first_z = freeze_first_z
        self._initial = (a.detach().clone(), log_s.clone(), self.z.detach().clone())

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        groups = {"means": [self.means]}
        if self.learn_widths:
            groups["widths"] = [self.log_widths]  # type: ignore[list-item]
        groups["z"] = [self.z]
        return groups

    def _logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``l_ji = -|x_i - a_j|^2 / 2 s_j^2 - z_j`` ``(M, N)``, ``x - a`` per axis ``(M, N)`` twice, ``1/s^2`` ``(M, 1)``.

        Component-major layout: reductions over the M components then run over contiguous rows,
        which is several times faster in torch than reducing a trailing axis of size 2 or M.
        """
        a, log_s, z = (self._like(t, x) for t in (self.means, self.log_widths, self.z))
        inv_var = torch.exp(-2.0 * log_s)[:, None]  # (M, 1)
        d0 = x[:, 0] - a[:, 0:1]  # (M, N): the strided column is read once, no transposed copy
        d1 = x[:, 1] - a[:, 1:2]  # (M, N)
        logits = (d0 * d0 + d1 * d1) * (-0.5 * inv_var) - z[:, None]
        return logits, d0, d1, inv_var

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        logits, _, _, _ = self._logits(x)
        if torch.is_grad_enabled() and logits.requires_grad:
            return -torch.logsumexp(logits, dim=0)
        return -lse_and_softmax(logits)[0]

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Analytic: ``grad U = sum_j r_j (x - a_j) / s_j^2`` with responsibilities ``r = softmax(l)``."""
        e, g, _ = self.energy_grad_and_param_grad_fn(x)
        return e, g

    def energy_grad_and_param_grad_fn(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, WeightedGradFn]:
        """One pass over the components serves the move (energy, gradient) and the later parameter
        gradient at the same walkers: the returned function keeps ``r`` and ``x - a``."""
        with torch.no_grad():
            logits, d0, d1, inv_var = self._logits(x.detach())
            lse, r = lse_and_softmax(logits)
            rv = r * inv_var  # (M, N)
            g = torch.stack([(rv * d0).sum(0), (rv * d1).sum(0)], dim=1)  # (N, 2)
        return -lse, g, lambda w: self._weighted_param_grad(r, d0, d1, inv_var, w)

    def energy_and_weighted_param_grad(self, x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``U(x)`` and the closed form of ``d/dtheta sum_i w_i U(x_i)`` in one pass."""
        with torch.no_grad():
            logits, d0, d1, inv_var = self._logits(x.detach())
            lse, r = lse_and_softmax(logits)
        return -lse, self._weighted_param_grad(r, d0, d1, inv_var, w)

    def _weighted_param_grad(self, r: torch.Tensor, d0: torch.Tensor, d1: torch.Tensor, inv_var: torch.Tensor,
                             w: torch.Tensor) -> list[torch.Tensor]:
        """``dU/da_j = r_j (a_j - x) / s_j^2``, ``dU/dlog s_j = -r_j |x - a_j|^2 / s_j^2``, ``dU/dz_j = r_j``,
        summed over walkers with weights ``w`` ``(N,)``."""
        with torch.no_grad():
            wr = r * w.to(r.dtype)  # (M, N)
            wrv = wr * inv_var
            ga = -torch.stack([(wrv * d0).sum(1), (wrv * d1).sum(1)], dim=1)  # (M, 2)
            out = [ga.to(self.means.dtype)]
            if self.learn_widths:
                out.append(-(wrv * (d0 * d0 + d1 * d1)).sum(1))
            out.append((wr.sum(1) * self.z_grad_mask).to(self.z.dtype))
        return out

    def log_component_mass(self) -> torch.Tensor:
        """Unnormalised log mass of each component: ``log 2 pi s_j^2 - z_j`` ``(M,)``."""
        return math.log(2.0 * math.pi) + 2.0 * self.log_widths.detach() - self.z.detach()

    def log_z_exact(self) -> float:
        return float(torch.logsumexp(self.log_component_mass(), dim=0))

    def mode_masses(self) -> np.ndarray:
        """Component masses ``softmax(-z + log 2 pi s^2)`` ``(M,)`` (closed form)."""
        return torch.softmax(self.log_component_mass(), dim=0).cpu().numpy()

    def initial_log_z(self) -> float:
        _, log_s, z = self._initial
        return float(torch.logsumexp(math.log(2.0 * math.pi) + 2.0 * log_s - z, dim=0))

    def sample(self, n: int, generator: torch.Generator, stratified: bool = False) -> torch.Tensor:
        """``(n, 2)`` exact samples of the current mixture (``stratified``: deterministic counts per component)."""
        return self._sample(n, generator, stratified, self.means.detach(), self.log_widths.detach(),
                            self.z.detach())

    def initial_samples(self, n: int, generator: torch.Generator, stratified: bool = False) -> torch.Tensor:
        return self._sample(n, generator, stratified, *self._initial)

    def _sample(self, n: int, generator: torch.Generator, stratified: bool, a: torch.Tensor,
                log_s: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        logm = math.log(2.0 * math.pi) + 2.0 * log_s - z
        probs = torch.softmax(logm, dim=0)
        if stratified:
            counts = torch.as_tensor(stratified_counts(n, probs.cpu().numpy()), device=a.device)
            comp = torch.repeat_interleave(torch.arange(len(counts), device=a.device), counts)
        else:
            comp = torch.multinomial(probs, n, replacement=True, generator=generator)  # (n,)
        noise = torch.randn((n, 2), generator=generator, device=a.device, dtype=a.dtype)
        return a[comp] + torch.exp(log_s)[comp, None] * noise


class MLPModel(MLPEnergy, TrainableEnergy):
    """The :class:`~ebm_explorer.core.landscapes.mlp.MLPEnergy` sized from a box, with what training needs.

    ``U(x) = MLP((x - c) / L) + |x - c|^2 / (2 sigma^2)``: ``c`` is the box centre, ``L`` half the
    larger box side, and ``sigma`` defaults to a quarter of the smaller box side. The last layer
    starts at zero, so the initial model is exactly ``N(c, sigma^2 I)``: exact samples and
    ``log Z_0 = log 2 pi sigma^2`` (Jarzynski's start). Being an ``MLPEnergy``, a trained model is a
    landscape and saves with :meth:`spec`.
    """

    name = "mlp_model"
    description = "trainable MLP energy with a confining quadratic"

    def __init__(
        self,
        box: Box,
        hidden: Sequence[int] = (64, 64),
        confinement_std: float | None = None,
        generator: torch.Generator | None = None,  # CPU generator for the hidden-layer init (default: seed 0)
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ) -> None:
        sigma = min(box.width, box.height) / 4.0 if confinement_std is None else confinement_std
        centre = ((box.xmin + box.xmax) / 2, (box.ymin + box.ymax) / 2)
        super().__init__(hidden, sigma, centre, box, zero_last=True, input_scale=max(box.width, box.height) / 2.0,
                         generator=generator, dtype=dtype, device=device)

    @property
    def sigma(self) -> float:
        """The confinement std: the initial model is ``N(c, sigma^2 I)``."""
        return self.confinement_std

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"mlp": list(self.layers.parameters())}

    def initial_log_z(self) -> float:
        return self.log_z_confinement()

    def initial_samples(self, n: int, generator: torch.Generator, stratified: bool = False) -> torch.Tensor:
        p = self.layers[0].weight
        c = torch.tensor(self.center_xy, dtype=p.dtype, device=p.device)
        return c + self.sigma * torch.randn((n, 2), generator=generator, device=p.device, dtype=p.dtype)
