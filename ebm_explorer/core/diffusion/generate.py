"""Generation along a noising path, backwards from noise to data, with optional Jarzynski/SMC weights.

Solvers (``K`` steps on the uniform times ``t_end = t_K > ... > t_0 = t_min``):

* ``sde``: Euler-Maruyama on the reverse SDE ``dx = (b - eps s) dt + sqrt(2 eps) dW`` (backwards);
* ``ode``: Heun on the probability-flow ODE ``dx/dt = b`` (deterministic);
* ``annealed-langevin``: Song and Ermon's annealed Langevin dynamics: ``K`` noise levels (the times
  from ``t_end`` to the last level with ``sigma > 0``), ``T`` ULA steps each targeting ``rho_t`` with
  step ``h = eps sigma_t^2 / sigma_last^2``.

Jarzynski/SMC correction (sde and annealed Langevin). Walkers start from the prior ``N(0, sigma_T^2 I)``
with log-weight ``log rho_T - log prior``; each step from ``x`` (density ``rho_k``) to ``y ~ F_k(. | x)``
(the discretized generating step, density ``rho_{k+1}`` in generation order) adds
``log rho_{k+1}(y) + log B_k(x | y) - log rho_k(x) - log F_k(y | x)``, with ``B_k`` the discretized
*noising* step from ``y`` (Euler-Maruyama of ``dx = (b + eps s) dt + sqrt(2 eps) dW`` forwards). The
product over steps telescopes, so the weighted walkers are an exact importance sample of ``rho_{t_0}``
whatever the step count: the weights remove the discretization error, at the price of a smaller ESS.
For annealed Langevin ``B`` is the same ULA step from ``y``, the increment is the ULA alpha recursion
of the trainer (:func:`~ebm_explorer.core.training.jarzynski.ula_increment`), plus
``log rho_new(x) - log rho_old(x)`` at each level change. When ESS/N falls below the threshold the
walkers are resampled (systematic by default) and the weights reset to zero.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch

from ebm_explorer.core.diffusion.paths import NoisedDensity
from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.metrics import expected_kl
from ebm_explorer.core.training import jarzynski as jz
from ebm_explorer.core.training.resampling import RESAMPLING_SCHEMES, resample_indices

__all__ = ["SOLVERS", "ScoreFn", "GenerateConfig", "GenerateResult", "Generation", "exact_score", "generate", "weighted_kl",
           "genealogy_standard_errors"]

SOLVERS = ("sde", "ode", "annealed-langevin")

#: ``(t, x (N, 2)) -> (score (N, 2), denoiser E[x_0 | x_t = x] (N, 2))``
ScoreFn = Callable[[float, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def exact_score(density: NoisedDensity) -> ScoreFn:
    """The exact score and denoiser of ``density`` (its log-density is dropped)."""
    def fn(t: float, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, s, d = density.evaluate(t, x)
        return s, d
    return fn


@dataclass(frozen=True)
class GenerateConfig:
    solver: str = "sde"
    steps: int = 100  # K: time steps (sde, ode) or noise levels (annealed Langevin)
    walkers: int = 10_000
    jarzynski: bool = False
    resample_threshold: float = 0.5  # resample when ESS/N < this
    resampling: str = "systematic"
    langevin_steps: int = 100  # annealed Langevin: ULA steps per level (Song and Ermon's T)
    langevin_eps: float = 0.1  # annealed Langevin: h = eps sigma_t^2 / sigma_last^2
    kl_bins: int = 40  # histogram bins per axis for the KL against rho_t
    record_every: int = 0  # KL/ESS recorded every this many steps (0: about 100 records per run)
    seed: int = 0

    def validated(self) -> "GenerateConfig":
        if self.solver not in SOLVERS:
            raise UserInputError(f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        if self.resampling not in RESAMPLING_SCHEMES:
            raise UserInputError(f"resampling must be one of {', '.join(RESAMPLING_SCHEMES)}")
        if not isinstance(self.record_every, int) or self.record_every < 0:
            raise UserInputError(f"record every must be an integer >= 0, got {self.record_every!r}")
        for name in ("steps", "walkers", "langevin_steps", "kl_bins"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise UserInputError(f"{name.replace('_', ' ')} must be an integer >= 1, got {v!r}")
        if not (math.isfinite(self.langevin_eps) and self.langevin_eps > 0):
            raise UserInputError(f"langevin eps must be a finite number > 0, got {self.langevin_eps!r}")
        if not 0.0 <= self.resample_threshold <= 1.0:
            raise UserInputError(f"resample threshold must be in [0, 1], got {self.resample_threshold!r}")
        if self.jarzynski and self.solver == "ode":
            raise UserInputError("Jarzynski weights need a stochastic solver (sde or annealed-langevin): "
                                 "an ODE step has no transition density")
        return self


@dataclass
class GenerateResult:
    positions: np.ndarray  # (N, 2) at the last time
    log_weights: np.ndarray  # (N,) zeros without Jarzynski
    times: np.ndarray  # (S + 1,) the time after each recorded step, starting at t_end
    kl_history: np.ndarray  # (S + 1,) KL(weighted walker histogram || rho_t) at each recorded time
    kl_floor: np.ndarray  # (S + 1,) its noise floor for ESS exact samples
    ess_history: np.ndarray  # (S + 1,) ESS / N
    resample_count: int
    mode_weights: np.ndarray  # (M,) weighted walker mass in each target basin
    mode_weights_se: np.ndarray  # (M,) from the weights and the resampling genealogy (binomial when unweighted)
    mode_weights_se_ess: np.ndarray  # (M,) sqrt(p (1 - p) / ESS), ESS the smallest of the run
    mode_weights_exact: np.ndarray  # (M,) exact basin masses of rho at the last time
    final_time: float
    seconds: float
    extra: dict = field(default_factory=dict)
    steps_done: int = -1  # solver steps (annealed Langevin: levels) taken; fewer than asked when stopped


def weighted_kl(density: NoisedDensity, t: float, x: torch.Tensor, log_w: torch.Tensor,
                bins: int) -> tuple[float, float]:
    """KL(weighted histogram of ``x`` || ``rho_t``) on ``bins^2`` bins over ``density.box(t)`` and its noise
    floor for ``ESS`` exact samples (walkers outside the box are left out)."""
    box = density.box(t)
    lp = density.log_bin_mass(t, box, bins)
    p = np.exp(lp)
    xn = x.detach().cpu().double().numpy()
    w = torch.softmax(log_w.double(), 0).cpu().numpy()
    bx = np.floor((xn[:, 0] - box.xmin) / box.width * bins)
    by = np.floor((xn[:, 1] - box.ymin) / box.height * bins)
    inside = (bx >= 0) & (bx < bins) & (by >= 0) & (by < bins) & np.isfinite(bx + by)
    if not inside.any():
        return math.inf, math.nan
    flat = (by[inside] * bins + bx[inside]).astype(np.int64)
    q = np.bincount(flat, weights=w[inside], minlength=bins * bins).reshape(bins, bins)
    q = q / q.sum()
    occ = q > 0
    kl = float(np.sum(q[occ] * (np.log(q[occ]) - lp[occ])))
    ess = max(1, int(round(1.0 / float((w[inside] / w[inside].sum()) @ (w[inside] / w[inside].sum())))))
    return kl, expected_kl(p, ess)


def _log_normal(x: torch.Tensor, mean: torch.Tensor, var: float) -> torch.Tensor:
    """``log N(x; mean, var I)`` in 2-D, per walker (float64)."""
    d = x - mean
    return -0.5 * (d * d).sum(1) / var - math.log(2 * math.pi * var)


class _Walkers:
    """Positions, log-weights and the bookkeeping shared by the solvers."""

    def __init__(self, density: NoisedDensity, cfg: GenerateConfig, generator: torch.Generator,
                 device: torch.device) -> None:
        self.density, self.cfg, self.gen, self.device = density, cfg, generator, device
        sch = density.schedule
        t = sch.t_end
        s_t = sch.sigma(t)
        self.x = s_t * torch.randn((cfg.walkers, 2), generator=generator, device=device, dtype=torch.float64)
        self.log_w = torch.zeros(cfg.walkers, dtype=torch.float64, device=device)
        if cfg.jarzynski:  # the prior is not exactly rho_T (vp: alpha_T > 0): start weighted
            self.log_w = self.log_rho(t, self.x) - _log_normal(self.x, torch.zeros_like(self.x), s_t * s_t)
        self.resample_count = 0
        self.ancestors = torch.arange(cfg.walkers, device=device)  # initial walker each one descends from
        self.every = cfg.record_every or max(1, cfg.steps // 100)
        self.step = 0
        self.t = t  # the time the walkers are at now
        self.min_ess = 1.0  # smallest ESS/N seen, before any resampling (for the standard errors)
        self.times: list[float] = []
        self.kls: list[float] = []
        self.floors: list[float] = []
        self.ess: list[float] = []
        self.record(t)

    def log_rho(self, t: float, x: torch.Tensor) -> torch.Tensor:
        return self.density.evaluate(t, x.cpu())[0].to(self.device)

    def record(self, t: float, last: bool = False) -> None:
        """Count a step; every ``every`` steps (and at the last) record the KL against ``rho_t`` and ESS."""
        if self.times and not last and self.step % self.every:
            return
        kl, floor = weighted_kl(self.density, t, self.x, self.log_w, self.cfg.kl_bins)
        self.times.append(t)
        self.kls.append(kl)
        self.floors.append(floor)
        self.ess.append(jz.ess_fraction(self.log_w))

    def stop_here(self) -> None:
        """End the run early with the walkers at ``self.t`` (recorded there once)."""
        if not self.times or self.times[-1] != self.t:
            self.record(self.t, last=True)

    def add(self, inc: torch.Tensor) -> None:
        ok = torch.isfinite(self.x).all(1)
        self.log_w = jz.sanitize_log_weights(self.log_w + inc, ok)
        if not bool(torch.isfinite(self.log_w).any()):
            raise NumericalError("every walker's Jarzynski weight is zero or NaN: use more steps")

    def maybe_resample(self, *carried: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Resample when ESS/N is below the threshold; returns ``carried`` re-indexed the same way."""
        if not self.cfg.jarzynski:
            return carried
        ess = jz.ess_fraction(self.log_w)
        self.min_ess = min(self.min_ess, ess)
        if ess >= self.cfg.resample_threshold:
            return carried
        idx = resample_indices(self.cfg.resampling, self.log_w, self.gen)
        self.x = self.x[idx]
        self.ancestors = self.ancestors[idx]
        self.log_w = torch.zeros_like(self.log_w)
        self.resample_count += 1
        return tuple(c[idx] for c in carried)


def _drift_terms(density: NoisedDensity, score: ScoreFn, t: float, x: torch.Tensor):
    """``(s, D, b)`` at ``(t, x)``; ``b = alpha' D - sigma sigma' s`` (``D = x``, ``s`` unused at sigma 0)."""
    sch = density.schedule
    if sch.sigma(t) == 0.0:
        return torch.zeros_like(x), x, sch.dalpha(t) * x
    s, d = score(t, x)
    return s, d, sch.dalpha(t) * d - sch.sigma_dsigma(t) * s


def _sde(w: _Walkers, score: ScoreFn, ts: np.ndarray) -> Iterator[None]:
    sch, dens, jzk = w.density.schedule, w.density, w.cfg.jarzynski
    s, d, b = _drift_terms(dens, score, float(ts[0]), w.x)
    for k in range(1, len(ts)):
        t, t_new = float(ts[k - 1]), float(ts[k])
        dt = t - t_new
        eps = sch.eps(t)
        var = 2 * eps * dt
        mean_f = w.x - dt * (b - eps * s)
        y = mean_f + math.sqrt(var) * torch.randn(w.x.shape, generator=w.gen, device=w.device, dtype=w.x.dtype)
        s_y, d_y, b_y = _drift_terms(dens, score, t_new, y)
        if jzk:
            # noising step from y at t_new to x at t: drift alpha' D + kappa (alpha D - x), variance 2 eps(t) dt
            a_new = sch.alpha(t_new)
            mean_b = y + dt * (sch.dalpha(t_new) * d_y + sch.kappa(t_new) * (a_new * d_y - y))
            inc = (w.log_rho(t_new, y) + _log_normal(w.x, mean_b, var)
                   - w.log_rho(t, w.x) - _log_normal(y, mean_f, var))
            w.x = y
            w.add(inc)
            s, d, b = w.maybe_resample(s_y, d_y, b_y)
        else:
            w.x, s, d, b = y, s_y, d_y, b_y
        w.step += 1
        w.t = t_new
        w.record(t_new, last=k == len(ts) - 1)
        yield


def _ode(w: _Walkers, score: ScoreFn, ts: np.ndarray) -> Iterator[None]:
    dens = w.density
    _, _, b = _drift_terms(dens, score, float(ts[0]), w.x)
    for k in range(1, len(ts)):
        t, t_new = float(ts[k - 1]), float(ts[k])
        dt = t - t_new
        pred = w.x - dt * b
        _, _, b_pred = _drift_terms(dens, score, t_new, pred)
        w.x = w.x - 0.5 * dt * (b + b_pred)
        _, _, b = _drift_terms(dens, score, t_new, w.x)
        w.step += 1
        w.t = t_new
        w.record(t_new, last=k == len(ts) - 1)
        yield


def _annealed_langevin(w: _Walkers, score: ScoreFn, levels: np.ndarray) -> Iterator[None]:
    """One level per step; until a level is finished the walkers are at the previous one (the prior's
    ``t_end`` at first)."""
    sch, cfg = w.density.schedule, w.cfg
    sig_last = sch.sigma(float(levels[-1]))
    prev = float(levels[0])
    for t in (float(v) for v in levels):
        h = cfg.langevin_eps * sch.sigma(t) ** 2 / sig_last**2
        if cfg.jarzynski and t != prev:  # level change: AIS increment at fixed walkers
            w.add(w.log_rho(t, w.x) - w.log_rho(prev, w.x))
            w.maybe_resample()
        prev = t
        s, _ = score(t, w.x)
        lr = w.log_rho(t, w.x) if cfg.jarzynski else None
        for _ in range(cfg.langevin_steps):
            y = w.x + h * s + math.sqrt(2 * h) * torch.randn(w.x.shape, generator=w.gen, device=w.device,
                                                              dtype=w.x.dtype)
            s_y, _ = score(t, y)
            if cfg.jarzynski:
                lr_y = w.log_rho(t, y)
                w.add(jz.ula_increment(w.x, -lr, -s, y, -lr_y, -s_y, h))
                w.x = y
                s, lr = w.maybe_resample(s_y, lr_y)
            else:
                w.x, s = y, s_y
        w.step += 1
        w.t = t
        w.record(t, last=t == float(levels[-1]))
        yield


def annealed_levels(density: NoisedDensity, steps: int) -> np.ndarray:
    """``steps`` noise levels from ``t_end`` down to the last time with ``sigma > 0`` (for ve with
    sigma from 20 to 1 and 10 levels: Song and Ermon's geometric levels)."""
    sch = density.schedule
    last = density.t_min if sch.sigma(density.t_min) > 0 else sch.t_end / max(steps, 1)
    return np.linspace(sch.t_end, last, steps) if steps > 1 else np.array([last])


class Generation:
    """One generation run advanced a step at a time (:meth:`step`), for callers that show it as it goes
    (the GUI's worker); :func:`generate` runs it to the end. ``walkers`` holds the positions ``x``, the
    log-weights ``log_w``, the time ``t`` and the step count ``step`` after the last step."""

    def __init__(self, density: NoisedDensity, config: GenerateConfig, score: ScoreFn | None = None,
                 generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> None:
        self.density = density
        self.cfg = cfg = config.validated()
        self.device = dev = torch.device(device)
        gen = generator if generator is not None else torch.Generator(device=dev).manual_seed(cfg.seed)
        score_fn = score if score is not None else _on_device(exact_score(density), dev)
        self._start = time.perf_counter()
        self.walkers = w = _Walkers(density, cfg, gen, dev)
        if cfg.solver == "annealed-langevin":
            self.times = annealed_levels(density, cfg.steps)
            self._steps = _annealed_langevin(w, score_fn, self.times)
        else:
            self.times = np.linspace(density.schedule.t_end, density.t_min, cfg.steps + 1)
            self._steps = (_sde if cfg.solver == "sde" else _ode)(w, score_fn, self.times)
        self.total_steps = cfg.steps  # solver steps (annealed Langevin: levels)
        self.done = False

    def step(self) -> bool:
        """One solver step (annealed Langevin: one level); False once the run has ended."""
        if self.done:
            return False
        try:
            next(self._steps)
        except StopIteration:
            self.done = True
            return False
        if self.walkers.step >= self.total_steps:
            self.done = True
        return True

    def stop(self) -> None:
        """End the run where it is (the result then belongs to ``rho`` at the time reached)."""
        self.walkers.stop_here()
        self.done = True

    def result(self) -> GenerateResult:
        """Positions, weights, histories and the mode masses with their standard errors, at the time reached."""
        w, cfg, density = self.walkers, self.cfg, self.density
        final_t = w.t
        ref = density.reference
        labels = ref.basin_of(w.x.detach().cpu().numpy())
        p = torch.softmax(w.log_w.double(), 0).cpu().numpy()
        mw = np.bincount(labels[labels >= 0], weights=p[labels >= 0], minlength=ref.n_modes)
        mw = mw / max(mw.sum(), 1e-300)
        w.min_ess = min(w.min_ess, jz.ess_fraction(w.log_w))
        ess = w.min_ess * cfg.walkers  # after resampling the final ESS overstates the information: the smallest
        exact = density.mode_weights(final_t)
        se_ess = np.sqrt(exact * (1 - exact) / max(ess, 1.0))
        if cfg.jarzynski:
            se = genealogy_standard_errors(p, labels, w.ancestors.cpu().numpy(), ref.n_modes)
        else:
            se = np.sqrt(exact * (1 - exact) / cfg.walkers)
        return GenerateResult(
            positions=w.x.detach().cpu().numpy(),
            log_weights=w.log_w.detach().cpu().numpy(),
            times=np.array(w.times),
            kl_history=np.array(w.kls),
            kl_floor=np.array(w.floors),
            ess_history=np.array(w.ess),
            resample_count=w.resample_count,
            mode_weights=mw,
            mode_weights_se=se,
            mode_weights_se_ess=se_ess,
            mode_weights_exact=exact,
            final_time=final_t,
            seconds=time.perf_counter() - self._start,
            steps_done=w.step,
        )


def generate(density: NoisedDensity, config: GenerateConfig, score: ScoreFn | None = None,
             generator: torch.Generator | None = None, device: torch.device | str = "cpu",
             on_step: Callable[[_Walkers], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> GenerateResult:
    """Run the solver from the prior at ``t_end`` to ``t_min``; ``score`` defaults to the exact one.

    ``should_stop()`` is asked before every step (annealed Langevin: every level); once True the run
    ends there and the result is that of the time reached (``final_time``, ``steps_done``)."""
    run = Generation(density, config, score, generator, device)
    while not run.done:
        if should_stop is not None and should_stop():
            run.stop()
            break
        if run.step() and on_step is not None:
            on_step(run.walkers)
    return run.result()


def genealogy_standard_errors(p: np.ndarray, labels: np.ndarray, ancestors: np.ndarray, n_modes: int) -> np.ndarray:
    """Standard errors of the weighted basin masses ``mu_j = sum_i p_i 1[label_i = j]``: with ``A_k`` the
    walkers descending from initial walker ``k``, ``Var(mu_j) ~ sum_k (sum_{i in A_k} p_i (1[label_i = j] -
    mu_j))^2`` (Chan and Lai 2013, Lee and Whiteley 2018, large-N form; as for the trainer's log Z).
    Without resampling it is the usual ``sum_i p_i^2 (f_i - mu)^2``; walkers that share an ancestor
    after resampling count as one, so resampling's loss of diversity is not hidden."""
    n = p.shape[0]
    out = np.zeros(n_modes)
    for j in range(n_modes):
        f = (labels == j).astype(np.float64)
        mu = float(p @ f)
        per_ancestor = np.bincount(ancestors, weights=p * (f - mu), minlength=n)
        out[j] = math.sqrt(float(per_ancestor @ per_ancestor))
    return out


def _on_device(fn: ScoreFn, device: torch.device) -> ScoreFn:
    """The exact densities are computed on the CPU: move walkers there and the results back."""
    if device.type == "cpu":
        return fn

    def moved(t: float, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, d = fn(t, x.cpu())
        return s.to(device), d.to(device)
    return moved
