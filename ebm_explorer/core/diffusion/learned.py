"""A noise-conditional score network trained by denoising score matching across the noise levels of a path.

The MLP takes ``(x / L, t)`` (``L`` the target's spread, plus a few Fourier features of ``t``) and
predicts two things from the same hidden layers: the noise ``eps_hat ~ E[z | x_t]`` (so the score is
``-eps_hat / sigma_t``, the DSM objective ``|eps_hat - z|^2`` of Ho et al.) and the denoiser
``D_hat ~ E[x_0 | x_t]`` (its own regression ``|D_hat - x_0|^2 / L^2``, the same objective with another
weighting). Generators need the score where ``sigma`` is small and the denoiser where ``alpha`` is
small (the interpolant's noise end, where ``D = (x + sigma^2 s) / alpha`` cannot be formed); one head
for each keeps both well conditioned. Training draws ``t`` uniformly on ``[max(t_min, 1e-3), t_end]``.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import torch
from torch import nn

from ebm_explorer.core.diffusion.generate import ScoreFn
from ebm_explorer.core.diffusion.paths import NoisedDensity
from ebm_explorer.core.errors import NumericalError

__all__ = ["NoiseConditionalScore", "ScoreTrainer", "train_score_network"]

_FOURIER = 4


class NoiseConditionalScore(nn.Module):
    """``(x (N, 2), t) -> (eps_hat (N, 2), D_hat (N, 2))``; :meth:`score_fn` adapts it to the generators."""

    def __init__(self, density: NoisedDensity, hidden: tuple[int, ...] = (128, 128), seed: int = 0,
                 device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.schedule = density.schedule
        ref = density.reference
        self.register_buffer("center", torch.as_tensor(ref.mean, dtype=torch.float32))
        self.scale = float(math.sqrt(max(ref.cov[0, 0], ref.cov[1, 1], 1e-6)))
        gen = torch.Generator().manual_seed(seed)
        dims = [2 + 1 + 2 * _FOURIER, *hidden, 4]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            lin = nn.Linear(a, b)
            bound = 1.0 / math.sqrt(a)
            with torch.no_grad():  # seeded init, no draw from the global RNG
                lin.weight.copy_(torch.empty(b, a).uniform_(-bound, bound, generator=gen))
                lin.bias.copy_(torch.empty(b).uniform_(-bound, bound, generator=gen))
            layers += [lin, nn.SiLU()] if i < len(dims) - 2 else [lin]
        self.net = nn.Sequential(*layers)
        self.to(device)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = torch.arange(1, _FOURIER + 1, device=x.device, dtype=x.dtype)
        tt = t.reshape(-1, 1).to(x.dtype).expand(x.shape[0], 1)
        feats = torch.cat([x / self.scale, tt, torch.sin(math.pi * k * tt), torch.cos(math.pi * k * tt)], 1)
        out = self.net(feats)
        return out[:, :2], self.center + self.scale * out[:, 2:]

    def score_fn(self) -> ScoreFn:
        """``(t, x) -> (score, denoiser)`` in float64 on ``x``'s device, without gradients."""
        dev = self.center.device

        @torch.no_grad()
        def fn(t: float, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            eps_hat, d_hat = self(x.to(dev, torch.float32), torch.tensor(float(t), device=dev))
            return (-eps_hat / self.schedule.sigma(t)).to(x.device, x.dtype), d_hat.to(x.device, x.dtype)
        return fn


class ScoreTrainer:
    """Denoising score matching across the path's noise levels, one Adam iteration per :meth:`step` (the
    GUI's worker shows the loss as it goes): fresh exact target samples each iteration, the learning
    rate decayed 10x by cosine over ``iterations``."""

    def __init__(self, density: NoisedDensity, iterations: int, generator: torch.Generator, batch: int = 512,
                 lr: float = 2e-3, hidden: tuple[int, ...] = (128, 128), device: torch.device | str = "cpu",
                 seed: int = 0) -> None:
        self.density, self.iterations, self.generator, self.batch = density, int(iterations), generator, int(batch)
        self.device = torch.device(device)
        self.model = NoiseConditionalScore(density, hidden, seed, self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, max(self.iterations, 1), eta_min=lr / 10)
        sch = density.schedule
        self.t_lo = max(density.t_min, 1e-3 * sch.t_end)
        self.losses: list[float] = []
        self.seconds = 0.0

    @property
    def done(self) -> bool:
        return len(self.losses) >= self.iterations

    def step(self) -> float:
        """One iteration; returns its loss (a NaN/inf loss raises :class:`NumericalError`)."""
        start = time.perf_counter()
        model, dev, sch, batch, gen = self.model, self.device, self.density.schedule, self.batch, self.generator
        x0 = self.density.sample_data(batch, gen).to(dev, torch.float32)
        u = torch.rand(batch, generator=gen, dtype=torch.float64)
        t = self.t_lo + (sch.t_end - self.t_lo) * u
        a = torch.tensor([sch.alpha(float(v)) for v in t], dtype=torch.float32, device=dev)[:, None]
        s = torch.tensor([sch.sigma(float(v)) for v in t], dtype=torch.float32, device=dev)[:, None]
        z = torch.randn((batch, 2), generator=gen, dtype=torch.float64).to(dev, torch.float32)
        eps_hat, d_hat = model(a * x0 + s * z, t.to(dev, torch.float32))
        loss = ((eps_hat - z) ** 2).sum(1).mean() + ((d_hat - x0) ** 2).sum(1).mean() / model.scale**2
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.sched.step()
        self.losses.append(float(loss.detach()))
        self.seconds += time.perf_counter() - start
        if not math.isfinite(self.losses[-1]):
            raise NumericalError("the score network's loss became NaN/inf: lower the learning rate")
        return self.losses[-1]


def train_score_network(density: NoisedDensity, iterations: int, generator: torch.Generator,
                        batch: int = 512, lr: float = 2e-3, hidden: tuple[int, ...] = (128, 128),
                        device: torch.device | str = "cpu", seed: int = 0,
                        should_stop: Callable[[], bool] | None = None) -> tuple[NoiseConditionalScore, dict]:
    """Train a :class:`ScoreTrainer` for ``iterations``. Returns the network and ``{"loss": [...],
    "seconds": s}``; ``should_stop()``, asked before every iteration, ends the training early (``loss``
    then has fewer entries than ``iterations``)."""
    trainer = ScoreTrainer(density, iterations, generator, batch, lr, hidden, device, seed)
    while not trainer.done:
        if should_stop is not None and should_stop():
            break
        trainer.step()
    return trainer.model, {"loss": trainer.losses, "seconds": trainer.seconds}
