"""Noising paths ``x_t = alpha_t x_0 + sigma_t z`` and their exact densities ``rho_t`` for any landscape.

Three schedules (``t`` runs from the data at 0 to noise at ``t_end``):

* ``vp``: the variance-preserving diffusion (Song et al. 2021), ``beta(t) = beta_min + t (beta_max -
  beta_min)``, ``alpha = exp(-int beta / 2)``, ``sigma = sqrt(1 - alpha^2)``;
* ``interpolant``: the linear stochastic interpolant (Albergo and Vanden-Eijnden), ``alpha = 1 - t``,
  ``sigma = t``; at ``t = 1`` it is pure noise ``N(0, I)``;
* ``ve``: variance exploding, ``alpha = 1``, ``sigma`` geometric from ``sigma_min`` to ``sigma_max``:
  the noise levels of Song and Ermon's annealed Langevin dynamics.

Everything the generators need comes from three exact functions of ``(t, x)``: ``log rho_t``, the score
``s = grad log rho_t`` and the denoiser ``D = E[x_0 | x_t = x]`` (Tweedie: ``s = (alpha D - x) /
sigma^2``). The probability-flow velocity is ``b = alpha' D - sigma' sigma s``, finite at both ends of
every path. A reverse SDE with diffusion ``eps(t)`` (``dx = (b - eps s) dt + sqrt(2 eps) dW`` backwards
in time) has the same marginals for any ``eps``; each schedule fixes the usual one.

Exact densities:

* a :class:`GaussianMixture` stays a mixture: component means ``alpha m_j``, covariances
  ``alpha^2 C_j + sigma^2 I``; closed forms at every ``t`` including ``t = 0``;
* any other landscape (preset, formula, drawn grid): ``rho_0`` is the reference grid's piecewise-constant
  density and ``rho_t`` its exact Gaussian convolution, a separable sum over the cells (per axis an
  ``erf`` difference: exact for a uniform density on each cell, no FFT wrap-around, any ``sigma``) on an
  output grid covering ``alpha box +- 5 sigma``; ``log rho`` and ``D`` are interpolated bilinearly to the
  walkers. A piecewise-constant ``rho_0`` has no usable score at tiny noise, so these paths stop at
  ``t_min``, where ``sigma / alpha`` is two reference cells (``rho_{t_min}`` is what they generate, and
  what they are compared with).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes.base import Landscape
from ebm_explorer.core.landscapes.gmm import GaussianMixture
from ebm_explorer.core.reference import GridReference, compute_reference
from ebm_explorer.core.types import Box

__all__ = ["PATHS", "Schedule", "make_schedule", "NoisedDensity", "MixtureNoised", "GridNoised",
           "noised_density"]

PATHS = ("vp", "interpolant", "ve")


@dataclass(frozen=True)
class Schedule:
    """``alpha_t``, ``sigma_t``, their time derivatives and the reverse-SDE diffusion ``eps(t)``."""

    name: str
    beta_min: float = 0.1  # vp
    beta_max: float = 20.0  # vp
    sigma_min: float = 0.01  # ve
    sigma_max: float = 20.0  # ve
    t_end: float = 1.0

    def alpha(self, t: float) -> float:
        if self.name == "vp":
            return math.exp(-0.5 * (self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t))
        if self.name == "interpolant":
            return 1.0 - t
        return 1.0

    def sigma(self, t: float) -> float:
        if self.name == "vp":
            return math.sqrt(-math.expm1(-(self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t * t)))
        if self.name == "interpolant":
            return t
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def beta(self, t: float) -> float:
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def dalpha(self, t: float) -> float:
        if self.name == "vp":
            return -0.5 * self.beta(t) * self.alpha(t)
        return -1.0 if self.name == "interpolant" else 0.0

    def sigma_dsigma(self, t: float) -> float:
        """``sigma sigma'`` (finite at ``sigma = 0``, unlike ``sigma'`` of the vp path)."""
        if self.name == "vp":
            return 0.5 * self.beta(t) * self.alpha(t) ** 2
        if self.name == "interpolant":
            return t
        return self.sigma(t) ** 2 * math.log(self.sigma_max / self.sigma_min)

    def eps(self, t: float) -> float:
        """Diffusion of the reverse SDE: ``beta / 2`` for vp (the usual reverse SDE), ``sigma sigma'``
        otherwise (for ve the usual reverse SDE; for the interpolant ``eps = t``)."""
        return 0.5 * self.beta(t) if self.name == "vp" else self.sigma_dsigma(t)

    def kappa(self, t: float) -> float:
        """``(eps - sigma sigma') / sigma^2``: the noising drift is ``alpha' D + kappa (alpha D - x)``
        (``beta / 2`` for vp, 0 otherwise), which needs no score at ``t = 0``."""
        return 0.5 * self.beta(t) if self.name == "vp" else 0.0

    def noise_to_signal(self, t: float) -> float:
        a = self.alpha(t)
        return math.inf if a <= 0 else self.sigma(t) / a


def make_schedule(name: str, **params: float) -> Schedule:
    if name not in PATHS:
        raise UserInputError(f"unknown path {name!r}: choose one of {', '.join(PATHS)}")
    s = Schedule(name, **params)
    if name == "vp" and not (0 < s.beta_min < s.beta_max):
        raise UserInputError(f"vp path needs 0 < beta_min < beta_max, got {s.beta_min}, {s.beta_max}")
    if name == "ve" and not (0 < s.sigma_min < s.sigma_max):
        raise UserInputError(f"ve path needs 0 < sigma_min < sigma_max, got {s.sigma_min}, {s.sigma_max}")
    if not 0 < s.t_end <= 1:
        raise UserInputError(f"t_end must be in (0, 1], got {s.t_end}")
    return s


class NoisedDensity:
    """The exact ``rho_t`` of a landscape along a schedule: ``evaluate(t, x) -> (log rho, score, D)``."""

    schedule: Schedule
    target: Landscape
    reference: GridReference  # the target's reference: its basins define the modes
    t_min: float  # generation ends here (0 when rho_0 has a usable score)

    def evaluate(self, t: float, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``log rho_t (N,)``, ``grad log rho_t (N, 2)``, ``E[x_0 | x_t = x] (N, 2)`` in float64."""
        raise NotImplementedError

    def box(self, t: float) -> Box:
        """A box holding essentially all of ``rho_t``: ``alpha box +- 5 sigma`` (the target's box at 0)."""
        a, s, b = self.schedule.alpha(t), self.schedule.sigma(t), self.reference.box
        return Box(a * b.xmin - 5 * s, a * b.xmax + 5 * s, a * b.ymin - 5 * s, a * b.ymax + 5 * s)

    def sample_data(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``(n, 2)`` exact samples of the target (the reference grid's density for a non-mixture), on the CPU."""
        from ebm_explorer.core.training.data import sample_from_reference, sample_mixture

        if isinstance(self.target, GaussianMixture):
            return sample_mixture(self.target, n, generator)
        return sample_from_reference(self.reference, n, generator)

    def sample(self, t: float, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` exact samples of ``rho_t``: ``alpha x_0 + sigma z`` with ``x_0`` exact samples of the target."""
        x0 = self.sample_data(n, generator)
        z = torch.randn((n, 2), generator=generator, dtype=torch.float64)
        return self.schedule.alpha(t) * x0 + self.schedule.sigma(t) * z

    def log_bin_mass(self, t: float, box: Box, bins: int, sub: int = 3) -> np.ndarray:
        """Log probability of each bin of a ``bins x bins`` histogram over ``box`` under ``rho_t``
        (``[by, bx]``; ``sub x sub`` midpoints per bin, normalised over the box)."""
        n = bins * sub
        xs = box.xmin + (np.arange(n) + 0.5) * box.width / n
        ys = box.ymin + (np.arange(n) + 0.5) * box.height / n
        gx, gy = np.meshgrid(xs, ys)
        pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1))
        lp = self.evaluate(t, pts)[0].reshape(n, n).numpy()
        lp = lp.reshape(bins, sub, bins, sub)
        m = np.max(lp)
        lb = np.log(np.exp(lp - m).sum(axis=(1, 3))) + m
        with np.errstate(divide="ignore"):
            return lb - (np.log(np.exp(lb - lb.max()).sum()) + lb.max())

    def mode_weights(self, t: float) -> np.ndarray:
        """Exact mass of ``rho_t`` in each basin of the target (on the reference grid's cells)."""
        ref = self.reference
        gx, gy = np.meshgrid(ref.xs, ref.ys)
        pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1))
        lp = self.evaluate(t, pts)[0].numpy()
        q = np.exp(lp - lp.max())
        lab = ref.basins.ravel()
        out = np.bincount(lab[lab >= 0], weights=q[lab >= 0], minlength=ref.n_modes)
        return out / out.sum()


class MixtureNoised(NoisedDensity):
    """Closed forms for a Gaussian mixture: ``rho_t = sum_j w_j N(alpha m_j, alpha^2 C_j + sigma^2 I)``."""

    def __init__(self, target: GaussianMixture, schedule: Schedule, reference: GridReference | None = None) -> None:
        self.target, self.schedule = target, schedule
        self.reference = reference or compute_reference(target, target.box, 256)
        self.t_min = 0.0
        self._w = torch.as_tensor(target.weights / target.weights.sum())
        self._m = torch.as_tensor(target.means)
        self._c = torch.as_tensor(target.covs)

    def evaluate(self, t: float, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = x.to(torch.float64)
        a, s = self.schedule.alpha(t), self.schedule.sigma(t)
        cov = a * a * self._c + s * s * torch.eye(2, dtype=torch.float64)  # (M, 2, 2)
        prec = torch.linalg.inv(cov)
        d = x[None, :, :] - a * self._m[:, None, :]  # (M, N, 2)
        pd = torch.einsum("mab,mnb->mna", prec, d)  # (M, N, 2)
        logits = (torch.log(self._w) - math.log(2 * math.pi) - 0.5 * torch.logdet(cov))[:, None] \
            - 0.5 * (d * pd).sum(-1)
        log_rho = torch.logsumexp(logits, 0)
        r = torch.softmax(logits, 0)  # (M, N)
        score = -(r[:, :, None] * pd).sum(0)
        # posterior mean per component: m_j + alpha C_j prec_j (x - alpha m_j)
        dj = self._m[:, None, :] + a * torch.einsum("mab,mnb->mna", self._c, pd)
        return log_rho, score, (r[:, :, None] * dj).sum(0)


class GridNoised(NoisedDensity):
    """``rho_t`` of any landscape: the exact convolution of its reference grid density, per time on an
    output grid of ``out_resolution^2`` nodes, interpolated bilinearly (``log rho`` and ``D``)."""

    def __init__(self, target: Landscape, schedule: Schedule, reference: GridReference | None = None,
                 resolution: int = 256, out_resolution: int = 160) -> None:
        self.target, self.schedule = target, schedule
        self.reference = reference or compute_reference(target, target.box, resolution)
        ref = self.reference
        self.out_resolution = int(out_resolution)
        self._mass_t = torch.as_tensor(ref.density * ref.dx * ref.dy, dtype=torch.float64)  # [iy, ix], sums to 1
        tau = 2.0 * max(ref.dx, ref.dy)
        self.t_min = _first_time(schedule, tau)
        if self.t_min >= schedule.t_end:
            raise UserInputError(f"the {schedule.name} path never reaches a noise level of two grid cells "
                                 f"({tau:.3g}) before t_end = {schedule.t_end}")
        self._cache: dict[float, tuple] = {}

    @staticmethod
    def _axis_kernel(centers: torch.Tensor, width: float, out: torch.Tensor, a: float, s: float) -> torch.Tensor:
        """``(R_out, R_in)``: density at ``out`` of ``a u + s z`` with ``u`` uniform on each input cell."""
        lo, hi = centers - width / 2, centers + width / 2
        if a * width > 1e-3 * s:
            return (torch.special.ndtr((out[:, None] - a * lo[None]) / s)
                    - torch.special.ndtr((out[:, None] - a * hi[None]) / s)) / (a * width)
        # the cell is a point at this noise: the Gaussian at its centre
        return torch.exp(-0.5 * ((out[:, None] - a * centers[None]) / s) ** 2) / (s * math.sqrt(2 * math.pi))

    def _grid(self, t: float) -> tuple:
        """``(box, node x, node y, [log rho, D_x, D_y] (3, n, n))`` at time ``t``, cached. Torch, not numpy,
        does the products: it follows the caller's thread setting (numpy's BLAS would take every core)."""
        key = round(float(t), 12)
        if key not in self._cache:
            if len(self._cache) > 4096:
                self._cache.clear()
            ref, sch, n = self.reference, self.schedule, self.out_resolution
            a, s = sch.alpha(t), sch.sigma(t)
            b = self.box(t)
            f64 = torch.float64
            ox = torch.linspace(b.xmin, b.xmax, n, dtype=f64)
            oy = torch.linspace(b.ymin, b.ymax, n, dtype=f64)
            xs, ys = torch.as_tensor(ref.xs, dtype=f64), torch.as_tensor(ref.ys, dtype=f64)
            kx = self._axis_kernel(xs, ref.dx, ox, a, s)  # (n, R)
            ky = self._axis_kernel(ys, ref.dy, oy, a, s)
            mass = self._mass_t
            tmp = mass @ kx.T  # (R_y, n)
            rho = ky @ tmp  # (n_y, n_x)
            num_x = ky @ ((mass * xs[None, :]) @ kx.T)
            num_y = (ky * ys[None, :]) @ tmp
            tiny = rho <= 1e-300
            safe = torch.where(tiny, torch.ones_like(rho), rho)
            mean0 = ref.mean  # far from all mass (underflow) the posterior mean is taken as the prior mean
            dx_ = torch.where(tiny, torch.full_like(rho, float(mean0[0])), num_x / safe)
            dy_ = torch.where(tiny, torch.full_like(rho, float(mean0[1])), num_y / safe)
            log_rho = torch.log(torch.where(tiny, torch.full_like(rho, 1e-300), rho))
            self._cache[key] = (b, ox.numpy(), oy.numpy(), torch.stack([log_rho, dx_, dy_]))
        return self._cache[key]

    def evaluate(self, t: float, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = x.to(torch.float64)
        sch = self.schedule
        a, s = sch.alpha(t), sch.sigma(t)
        b, ox, oy, fields = self._grid(t)
        n = self.out_resolution
        fx = ((x[:, 0] - b.xmin) / (ox[1] - ox[0])).clamp(0, n - 1 - 1e-9)
        fy = ((x[:, 1] - b.ymin) / (oy[1] - oy[0])).clamp(0, n - 1 - 1e-9)
        ix, iy = fx.floor().long(), fy.floor().long()
        ux, uy = (fx - ix)[None], (fy - iy)[None]
        v = (fields[:, iy, ix] * (1 - ux) * (1 - uy) + fields[:, iy, ix + 1] * ux * (1 - uy)
             + fields[:, iy + 1, ix] * (1 - ux) * uy + fields[:, iy + 1, ix + 1] * ux * uy)
        den = v[1:].T  # (N, 2)
        # outside the output grid: the Gaussian tail around the clamped node's posterior mean
        xc = torch.stack([torch.as_tensor(ox)[0] + fx * (ox[1] - ox[0]), torch.as_tensor(oy)[0] + fy * (oy[1] - oy[0])], 1)
        tail = (((x - a * den) ** 2).sum(1) - ((xc - a * den) ** 2).sum(1)) / (2 * s * s)
        log_rho = v[0] - tail
        score = (a * den - x) / (s * s)
        return log_rho, score, den


def _first_time(schedule: Schedule, tau: float) -> float:
    """Smallest ``t`` with ``sigma_t / alpha_t >= tau`` (bisection; the ratio grows with ``t``)."""
    lo, hi = 0.0, schedule.t_end
    if schedule.noise_to_signal(hi) < tau:
        return hi
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if schedule.noise_to_signal(mid) >= tau:
            hi = mid
        else:
            lo = mid
    return hi


def noised_density(target: Landscape, schedule: Schedule, reference: GridReference | None = None,
                   resolution: int = 256) -> NoisedDensity:
    """Closed forms for a Gaussian mixture, the exact grid convolution for anything else."""
    if isinstance(target, GaussianMixture):
        return MixtureNoised(target, schedule, reference)
    return GridNoised(target, schedule, reference, resolution)
