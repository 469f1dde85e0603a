"""Annealed importance sampling / sequential Monte Carlo from a tractable start to the landscape.

Walkers are drawn exactly from a start density ``exp(-U_0) / Z_0`` on the box (uniform or a truncated
Gaussian, ``Z_0`` known) and carried along ``U_t = (1 - t) U_0 + t U`` (for the uniform start, plain
tempering ``t U``) from ``t = 0`` to ``1``. At each level ``t_k -> t_{k+1}`` every walker gains the AIS
(Jarzynski) log weight ``-(t_{k+1} - t_k) (U(x) - U_0(x))`` at its current point, then takes ``M``
MH/MALA/HMC steps that leave ``exp(-U_{t_{k+1}})`` invariant (Neal 2001; docs/algorithms.md §4.7). Then
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

__all__ = ["SMCConfig", "SMCLevel", "SMCResult", "SMCState", "AnnealedSMC", "run_smc", "island_slices", "exact_path_log_z", "path_grid_energy", "ModeMasses", "smc_mode_masses", "MAX_LEVELS"]

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


class SMCState(NamedTuple):
    position: torch.Tensor  # (N, 2) walkers, all inside the box
    banked: torch.Tensor  # (N,) float64: log mean weights banked by the walker's island at its resamplings
    log_a: torch.Tensor  # (N,) float64: AIS log weight since the island's last resampling
    t: float  # the level reached, 0 .. 1
    level: int  # levels done


class AnnealedSMC:
    """Level-by-level stepping over :class:`SMCState` (a GUI worker calls ``step``; :func:`run_smc` loops it)."""

    def __init__(self, energy_fn: EnergyFn, box: Box, n_walkers: int, config: SMCConfig,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        self.n = check_int(n_walkers, "number of walkers", 1)
        self.config = config.validated(self.n)
        self.sampler = tempered_kernel(self.config.kernel)
        self.fixed = self.config.schedule()
        self.start = StartDistribution(self.config.start, box)
        self.islands = island_slices(self.n, self.config.islands)
        self.energy_fn, self.box, self.device, self.dtype = energy_fn, box, device, dtype

    def init(self, generator: torch.Generator) -> SMCState:
        """Exact draws from the start density, all weights 1."""
        x = self.start.sample(self.n, generator, self.device, self.dtype)
        zeros = torch.zeros(self.n, dtype=torch.float64, device=x.device)
        return SMCState(x, zeros, zeros.clone(), 0.0, 0)

    def path_energy(self, t: float) -> "_PathEnergy":
        """``U_t`` on the box, e.g. to draw the intermediate density."""
        return _PathEnergy(self.energy_fn, self.start, self.box, t)

    def log_z(self, state: SMCState) -> float:
        """The current estimate of ``log Z_t``."""
        return self.start.log_z + float(_logsumexp_mean(state.banked + state.log_a))

    def step(self, generator: torch.Generator, state: SMCState) -> tuple[SMCState, SMCLevel]:
        """One level: pick the next ``t``, reweight, resample the islands whose ESS fell, move ``moves`` steps."""
        if state.t >= 1.0:
            raise UserInputError("this SMC run has already reached t = 1")
        if state.level >= MAX_LEVELS:
            raise NumericalError(f"SMC needed more than {MAX_LEVELS} levels; lower the target ESS")
        cfg, t = self.config, state.t
        x = state.position.clone()
        u, g = self.energy_fn.energy_and_grad(x)
        u0, g0 = self.start.energy_and_grad(x)
        du = u0.double() - u.double()  # d(log weight)/dt
        du = torch.where(torch.isfinite(du), du, torch.full_like(du, -math.inf))
        banked, log_a = state.banked.clone(), state.log_a
        if self.fixed is not None:
            t_next = float(self.fixed[state.level + 1])
        else:
            t_next = _next_level(t, banked + log_a, du, cfg.target_ess)
        log_a = log_a + torch.where(du == -math.inf, du, (t_next - t) * du)  # 0 * -inf would be NaN
        total = banked + log_a
        if not bool(torch.isfinite(total).any()):
            raise NumericalError(f"every SMC walker has zero weight at t = {t_next:.6g} (energy NaN or inf)")
        ess = float(torch.exp(log_ess(total))) / self.n
        log_z = self.start.log_z + float(_logsumexp_mean(total))

        n_resampled = 0
        for sl in self.islands:
            a = log_a[sl]
            if not bool(torch.isfinite(a).any()):
                continue  # a dead island keeps zero weight; its Z_b = 0 enters the mean honestly
            if float(torch.exp(log_ess(a))) < cfg.resample_threshold * a.numel() and t_next < 1.0:
                idx = resample_indices(cfg.resampling, a, generator) + sl.start
                banked[sl] = banked[sl] + _logsumexp_mean(a)
                log_a[sl] = 0.0
                x[sl], u[sl], g[sl], u0[sl], g0[sl] = x[idx], u[idx], g[idx], u0[idx], g0[idx]
                n_resampled += 1

        path = self.path_energy(t_next)
        walkers = SamplerState(x, *path.combine(x, u, g, u0, g0))
        acc = torch.zeros((), device=x.device, dtype=x.dtype)
        for _ in range(cfg.moves):
            walkers, info = self.sampler.step(generator, walkers, path, cfg.params)
            acc = acc + info.accepted.to(x.dtype).mean()
        new = SMCState(walkers.position, banked, log_a, t_next, state.level + 1)
        level = SMCLevel(new.level, t_next, new.position, banked + log_a, ess, log_z, n_resampled, float(acc) / cfg.moves)
        return new, level

    def result(self, state: SMCState, levels: list[SMCLevel]) -> SMCResult:
        """The weighted walkers, log Z with its island standard error, and the histories of ``levels``."""
        total = state.banked + state.log_a
        island_log_z = np.array([self.start.log_z + float(_logsumexp_mean(total[sl])) for sl in self.islands])
        log_z = self.log_z(state)
        sizes = np.array([sl.stop - sl.start for sl in self.islands], dtype=np.float64)
        ratio = np.exp(island_log_z - log_z)  # Z_b / Z
        rel_var = float(np.sum(sizes * (ratio - 1.0) ** 2) / ((len(self.islands) - 1) * self.n))
        return SMCResult(
            positions=state.position.cpu().numpy(),
            energies=self.energy_fn.energy(state.position).cpu().numpy(),
            log_weights=total.cpu().numpy(),
            log_z_estimate=log_z,
            log_z_stderr=math.sqrt(rel_var),
            log_z_start=self.start.log_z,
            island_log_z=island_log_z,
            betas=np.asarray([0.0] + [lv.t for lv in levels]),
            ess_history=np.asarray([lv.ess for lv in levels]),
            log_z_history=np.asarray([lv.log_z for lv in levels]),
            resampled=np.asarray([lv.resampled for lv in levels], dtype=np.int64),
            acceptance=np.asarray([lv.acceptance for lv in levels]),
            islands=self.config.islands,
        )


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
    should_stop: Callable[[], bool] | None = None,
) -> SMCResult:
    """Anneal ``n_walkers`` walkers from the start density to ``exp(-U)`` on ``box``; see the module docstring.

    ``should_stop()`` is asked before every level; once True the run ends there: the result is that of
    the last level reached (``betas[-1] < 1``: walkers and log Z belong to ``U_t`` at that ``t``)."""
    smc = AnnealedSMC(energy_fn, box, n_walkers, config, device, dtype)
    state = smc.init(generator)
    levels: list[SMCLevel] = []
    while state.t < 1.0 and not (should_stop is not None and should_stop()):
        state, level = smc.step(generator, state)
        levels.append(level)
        if on_level is not None:
            on_level(level)
    return smc.result(state, levels)


def path_grid_energy(grid_energy: np.ndarray, xs: np.ndarray, ys: np.ndarray, start: StartDistribution,
                     t: float) -> np.ndarray:
    """``U_t = (1 - t) U_0 + t U`` on the reference grid ``[iy, ix]`` (``grid_energy`` is ``GridReference.energy``),
    e.g. to draw the intermediate density behind the walkers."""
    gx, gy = np.meshgrid(xs, ys)
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float64)
    u0 = start.energy_and_grad(pts)[0].numpy().reshape(gx.shape)
    u = np.asarray(grid_energy, dtype=np.float64)
    return (1.0 - t) * u0 + (t * u if t > 0 else 0.0)  # 0 * inf would be NaN


def exact_path_log_z(grid_energy: np.ndarray, xs: np.ndarray, ys: np.ndarray, start: StartDistribution,
                     ts: np.ndarray) -> np.ndarray:
    """Exact ``log Z_t`` of ``U_t`` on the box at each ``t`` ``(K,)``, by the grid reference's midpoint rule."""
    cell = math.log((xs[1] - xs[0]) * (ys[1] - ys[0]))
    out = []
    for t in np.asarray(ts, dtype=np.float64):
        a = -path_grid_energy(grid_energy, xs, ys, start, float(t))
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
