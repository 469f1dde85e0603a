"""Annealed importance sampling / sequential Monte Carlo from a tractable start to the landscape.

Walkers are drawn exactly from a start density ``exp(-U_0) / Z_0`` on the box (uniform or a truncated
Gaussian, ``Z_0`` known) and carried along ``U_t = (1 - t) U_0 + t U`` (for the uniform start, plain
tempering ``t U``) from ``t = 0`` to ``1``. At each level ``t_k -> t_{k+1}`` every walker gains the AIS
(Jarzynski) log weight ``-(t_{k+1} - t_k) (U(x) - U_0(x))`` at its current point, then takes ``M``
MH/MALA/HMC steps that leave ``exp(-U_{t_{k+1}})`` invariant (Neal 2001; ALGORITHMS.md 4.2). Then
``E[e^A] = Z / Z_0``, and the weighted walkers estimate expectations under ``exp(-U) / Z``.

When the effective sample size ``ESS = (sum w)^2 / sum w^2`` of a population falls below
``resample_threshold * N`` it is resampled (systematic or multinomial, ``core.training.resampling``)
and the mean weight is banked, so ``Z`` is estimated by a product of means over the resampling stages
(Del Moral, Doucet & Jasra 2006). Log weights are float64 throughout.

Standard error: the N walkers form ``B`` islands, independent SMC runs that resample only within
themselves. Each island's product-of-means estimate ``Z_b`` is unbiased, so the pooled estimate (their
size-weighted mean) has standard error ``sd(Z_b) / sqrt(B)`` exactly, whatever the resampling did to
correlate walkers within an island; ``log Z`` gets it by the delta method. A per-stage formula built
from the incremental weights alone would assume the kernel mixes fully between levels, which is false
exactly where SMC is needed (walkers cannot cross barriers, so stages share the same errors in
mode proportions).

Schedule: a fixed ``levels = K`` (``t_k = k / K``), an explicit list, or adaptive: each next level is
found by bisection so that the conditional ESS of the increment (Zhou, Johansen & Aston 2016),
``(sum_i W_i w_i)^2 / sum_i W_i w_i^2`` with ``W`` the current normalised weights, equals ``target_ess``.
The adaptive schedule depends (weakly) on the walkers: the estimate stays consistent, with a bias far
below its standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Callable, NamedTuple

import numpy as np
import torch

from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.samplers import SamplerParams, SamplerState, validate_params
from ebm_explorer.core.tempering.energies import START_KINDS, StartDistribution, inside_box
from ebm_explorer.core.tempering.ladder import check_int, tempered_kernel
from ebm_explorer.core.training.jarzynski import log_ess
from ebm_explorer.core.training.resampling import RESAMPLING_SCHEMES, resample_indices
from ebm_explorer.core.types import Box, EnergyFn

__all__ = ["SMCConfig", "SMCLevel", "SMCResult", "run_smc", "island_slices", "exact_path_log_z", "ModeMasses", "smc_mode_masses", "MAX_LEVELS"]

MAX_LEVELS = 10_000
#: smallest level increment the adaptive schedule accepts before it gives up
_MIN_INCREMENT = 1e-9
_BISECTIONS = 60


def _fraction(value: object, name: str, closed_low: bool = False) -> float:
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (0 <= value <= 1 if closed_low else 0 < value < 1)  # type: ignore[operator]
    if not ok:
        raise UserInputError(f"{name} must be a number in {'[0, 1]' if closed_low else '(0, 1)'}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SMCConfig:
    """An SMC run. The schedule is ``betas`` if given, else ``levels`` equal steps, else adaptive at ``target_ess``."""

    kernel: str = "mala"
    params: SamplerParams = field(default_factory=SamplerParams)
    moves: int = 5  # kernel steps per level
    levels: int | None = None
    betas: tuple[float, ...] | None = None
    target_ess: float = 0.95
    resample_threshold: float = 0.5  # resample an island when its ESS / size falls below this
    resampling: str = "systematic"
    start: str = "gaussian"
    islands: int = 16

    def validated(self, n_walkers: int) -> "SMCConfig":
        validate_params(tempered_kernel(self.kernel).name, self.params)
        check_int(self.moves, "moves per level", 1)
        if self.levels is not None:
            check_int(self.levels, "number of levels", 1, MAX_LEVELS)
        if self.betas is not None:
            b = np.asarray(self.betas, dtype=np.float64)
            if b.ndim != 1 or b.size < 2 or b[0] != 0 or b[-1] != 1 or not np.all(np.diff(b) > 0):
                raise UserInputError("an SMC schedule must rise strictly from 0 to 1")
        _fraction(self.target_ess, "target ESS")
        _fraction(self.resample_threshold, "resample threshold", closed_low=True)
        if self.resampling not in RESAMPLING_SCHEMES:
            raise UserInputError(f"resampling must be one of {', '.join(RESAMPLING_SCHEMES)}, got {self.resampling!r}")
        if self.start not in START_KINDS:
            raise UserInputError(f"SMC start must be one of {', '.join(START_KINDS)}, got {self.start!r}")
        check_int(self.islands, "number of islands", 2)
        if n_walkers < 2 * self.islands:
            raise UserInputError(f"SMC needs at least 2 walkers per island: {n_walkers} walkers for "
                                 f"{self.islands} islands (lower --islands or raise --walkers)")
        return self

    def schedule(self) -> np.ndarray | None:
        """The fixed schedule ``(K + 1,)``, or ``None`` when adaptive."""
        if self.betas is not None:
            return np.asarray(self.betas, dtype=np.float64)
        if self.levels is not None:
            return np.linspace(0.0, 1.0, self.levels + 1)
        return None


class SMCLevel(NamedTuple):
    """What the walkers look like after level ``k`` (reweighted, resampled, moved): the GUI's frame."""

    index: int  # k = 1..K
    t: float  # the level reached, in (0, 1]
    positions: torch.Tensor  # (N, 2)
    log_weights: torch.Tensor  # (N,) float64 total log weights
    ess: float  # ESS / N of the pooled weights right after the reweighting
    log_z: float  # estimate of log Z_t so far
    resampled: int  # islands resampled at this level
    acceptance: float  # mean kernel acceptance over the level's moves


class SMCResult(NamedTuple):
    positions: np.ndarray  # (N, 2) at t = 1
    energies: np.ndarray  # (N,) U at the final positions
    log_weights: np.ndarray  # (N,) float64; log Z estimate = log_z_start + logsumexp(log_weights) - log N
    log_z_estimate: float
    log_z_stderr: float
    log_z_start: float  # log Z_0 of the start density
    island_log_z: np.ndarray  # (B,) each island's own estimate
    betas: np.ndarray  # (K + 1,) the schedule actually used, 0 ... 1
    ess_history: np.ndarray  # (K,) ESS / N after each reweighting (before resampling)
    log_z_history: np.ndarray  # (K,) estimate of log Z_{t_k} after each level
    resampled: np.ndarray  # (K,) islands resampled at each level
    acceptance: np.ndarray  # (K,) mean kernel acceptance per level
    islands: int  # B; island b holds the walkers of island_slices(N, B)[b]

    @property
    def ess(self) -> float:
        """ESS of the final weighted walkers (pooled over islands)."""
        return float(torch.exp(log_ess(torch.as_tensor(self.log_weights))))


class _PathEnergy:
    """``U_t = (1 - t) U_0 + t U`` on the box (``+inf`` outside), for the kernel moves at level ``t``."""

    def __init__(self, land: EnergyFn, start: StartDistribution, box: Box, t: float) -> None:
        self.land, self.start, self.box, self.t = land, start, box, float(t)

    def combine(self, x: torch.Tensor, u, g, u0, g0) -> tuple[torch.Tensor, torch.Tensor]:
        t = self.t
        e = (1.0 - t) * u0 + t * u
        return torch.where(inside_box(x, self.box), e, torch.full_like(e, math.inf)), (1.0 - t) * g0 + t * g

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u, g = self.land.energy_and_grad(x)
        return self.combine(x, u, g, *self.start.energy_and_grad(x))

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self.energy_and_grad(x)[0]


def island_slices(n: int, b: int) -> list[slice]:
    edges = [i * n // b for i in range(b + 1)]
    return [slice(edges[i], edges[i + 1]) for i in range(b)]


def _conditional_ess(log_w: torch.Tensor, du: torch.Tensor, delta: float) -> float:
    """``(sum W w)^2 / sum W w^2`` for increments ``w = exp(delta du)`` and ``W = softmax(log_w)``."""
    log_p = log_w - torch.logsumexp(log_w, 0)
    inc = delta * du
    return float(torch.exp(2 * torch.logsumexp(log_p + inc, 0) - torch.logsumexp(log_p + 2 * inc, 0)))


def _next_level(t: float, log_w: torch.Tensor, du: torch.Tensor, target: float) -> float:
    """The next ``t`` keeping the conditional ESS at ``target`` (bisection; 1 if reachable at once)."""
    span = 1.0 - t
    if _conditional_ess(log_w, du, span) >= target:
        return 1.0
    lo, hi = 0.0, span
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if _conditional_ess(log_w, du, mid) >= target:
            lo = mid
        else:
            hi = mid
    if lo < _MIN_INCREMENT:
        raise NumericalError(f"adaptive SMC schedule stalled at t = {t:.6g}: the weights collapse for any "
                             "step (energies infinite where walkers are?); use a fixed number of levels")
    return t + lo


def _logsumexp_mean(a: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(a, 0) - math.log(a.numel())


OnLevel = Callable[[SMCLevel], None]


def run_smc(
    energy_fn: EnergyFn,
    box: Box,
    n_walkers: int,
    config: SMCConfig,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    on_level: OnLevel | None = None,
) -> SMCResult:
    """Anneal ``n_walkers`` walkers from the start density to ``exp(-U)`` on ``box``; see the module docstring."""
    n = check_int(n_walkers, "number of walkers", 1)
    cfg = config.validated(n)
    sampler = tempered_kernel(cfg.kernel)
    fixed = cfg.schedule()
    start = StartDistribution(cfg.start, box)
    islands = island_slices(n, cfg.islands)

    x = start.sample(n, generator, device, dtype)
    banked = torch.zeros(n, dtype=torch.float64, device=x.device)  # log mean weight banked by the walker's island
    log_a = torch.zeros(n, dtype=torch.float64, device=x.device)  # log weight since the island's last resampling
    t, betas = 0.0, [0.0]
    ess_hist: list[float] = []
    logz_hist: list[float] = []
    resampled_hist: list[int] = []
    acc_hist: list[float] = []
    while t < 1.0:
        if len(betas) > MAX_LEVELS:
            raise NumericalError(f"SMC needed more than {MAX_LEVELS} levels; lower the target ESS")
        u, g = energy_fn.energy_and_grad(x)
        u0, g0 = start.energy_and_grad(x)
        du = (u0.double() - u.double())  # d(log weight)/dt
        du = torch.where(torch.isfinite(du), du, torch.full_like(du, -math.inf))
        t_next = float(fixed[len(betas)]) if fixed is not None else _next_level(t, banked + log_a, du, cfg.target_ess)
        log_a = log_a + torch.where(du == -math.inf, du, (t_next - t) * du)  # 0 * -inf would be NaN
        total = banked + log_a
        if not bool(torch.isfinite(total).any()):
            raise NumericalError(f"every SMC walker has zero weight at t = {t_next:.6g} (energy NaN or inf)")
        ess_hist.append(float(torch.exp(log_ess(total))) / n)
        logz_hist.append(start.log_z + float(_logsumexp_mean(total)))

        n_resampled = 0
        for sl in islands:
            a = log_a[sl]
            if not bool(torch.isfinite(a).any()):
                continue  # a dead island keeps zero weight; its Z_b = 0 enters the mean honestly
            if float(torch.exp(log_ess(a))) < cfg.resample_threshold * a.numel() and t_next < 1.0:
                idx = resample_indices(cfg.resampling, a, generator) + sl.start
                banked[sl] = banked[sl] + _logsumexp_mean(a)
                log_a[sl] = 0.0
                x[sl], u[sl], g[sl], u0[sl], g0[sl] = x[idx], u[idx], g[idx], u0[idx], g0[idx]
                n_resampled += 1
        resampled_hist.append(n_resampled)

        t = t_next
        betas.append(t)
        path = _PathEnergy(energy_fn, start, box, t)
        state = SamplerState(x, *path.combine(x, u, g, u0, g0))
        acc = torch.zeros((), device=x.device, dtype=dtype)
        for _ in range(cfg.moves):
            state, info = sampler.step(generator, state, path, cfg.params)
            acc = acc + info.accepted.to(dtype).mean()
        x = state.position.clone()
        acc_hist.append(float(acc) / cfg.moves)
        if on_level is not None:
            on_level(SMCLevel(len(betas) - 1, t, x, banked + log_a, ess_hist[-1], logz_hist[-1],
                              n_resampled, acc_hist[-1]))

    total = banked + log_a
    island_log_z = np.array([start.log_z + float(_logsumexp_mean(total[sl])) for sl in islands])
    log_z = start.log_z + float(_logsumexp_mean(total))
    sizes = np.array([sl.stop - sl.start for sl in islands], dtype=np.float64)
    ratio = np.exp(island_log_z - log_z)  # Z_b / Z
    rel_var = float(np.sum(sizes * (ratio - 1.0) ** 2) / ((len(islands) - 1) * n))
    return SMCResult(
        positions=x.cpu().numpy(),
        energies=energy_fn.energy(x).cpu().numpy(),
        log_weights=total.cpu().numpy(),
        log_z_estimate=log_z,
        log_z_stderr=math.sqrt(rel_var),
        log_z_start=start.log_z,
        island_log_z=island_log_z,
        betas=np.asarray(betas),
        ess_history=np.asarray(ess_hist),
        log_z_history=np.asarray(logz_hist),
        resampled=np.asarray(resampled_hist, dtype=np.int64),
        acceptance=np.asarray(acc_hist),
        islands=cfg.islands,
    )


def exact_path_log_z(grid_energy: np.ndarray, xs: np.ndarray, ys: np.ndarray, start: StartDistribution,
                     ts: np.ndarray) -> np.ndarray:
    """Exact ``log Z_t`` of ``U_t = (1 - t) U_0 + t U`` on the box at each ``t`` ``(K,)``, by the same midpoint
    rule as the grid reference (``grid_energy[iy, ix] = U(xs[ix], ys[iy])``, e.g. ``GridReference.energy``)."""
    gx, gy = np.meshgrid(xs, ys)
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float64)
    u0 = start.energy_and_grad(pts)[0].numpy()
    u = np.asarray(grid_energy, dtype=np.float64).ravel()
    cell = math.log((xs[1] - xs[0]) * (ys[1] - ys[0]))
    out = []
    for t in np.asarray(ts, dtype=np.float64):
        a = -((1.0 - t) * u0 + (t * u if t > 0 else 0.0))  # 0 * inf would be NaN
        m = a.max()
        out.append(float(m + np.log(np.exp(a - m).sum()) + cell))
    return np.asarray(out)


class ModeMasses(NamedTuple):
    masses: np.ndarray  # (M,) weighted fraction of the walkers in each mode
    se_ess: np.ndarray  # (M,) sqrt(m (1 - m) / ESS): the usual formula, blind to shared ancestry
    se_islands: np.ndarray  # (M,) from the spread of the islands' own estimates (honest after resampling)
    ess: float


def smc_mode_masses(result: SMCResult, labels: np.ndarray, n_modes: int) -> ModeMasses:
    """Weighted mode masses of the final walkers with two standard errors.

    ``labels`` are the walkers' basins (``-1``: in no mode; their weight still counts in the total).
    Walkers resampled from a few ancestors are not independent, so the ESS formula understates the
    error when resampling happened late; the island formula is the delta-method error of the ratio
    ``sum_b n_b Z_b m_b / sum_b n_b Z_b`` over independent islands.
    """
    lw = np.asarray(result.log_weights, dtype=np.float64)
    lab = np.asarray(labels)
    onehot = np.zeros((lw.size, n_modes))
    keep = lab >= 0
    onehot[np.flatnonzero(keep), lab[keep]] = 1.0
    w = np.exp(lw - lw.max())
    p = w / w.sum()
    ess = float(1.0 / np.sum(p * p))
    m = p @ onehot
    se_ess = np.sqrt(np.clip(m * (1 - m), 0.0, None) / ess)
    slices = island_slices(lw.size, result.islands)
    resid = np.stack([w[sl] @ (onehot[sl] - m) for sl in slices]) / w.sum()  # (B, M)
    b = len(slices)
    se_islands = np.sqrt(b / (b - 1) * np.sum(resid**2, axis=0))
    return ModeMasses(m, se_ess, se_islands, ess)
