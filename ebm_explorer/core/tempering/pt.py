"""Parallel tempering (replica exchange), vectorised over walkers x replicas.

Each of the N walkers is an independent PT chain of R replicas at ``1 = beta_1 > ... > beta_R``.
Every step moves all ``R N`` replicas with MH, MALA or HMC (each replica leaves its own
``exp(-beta_r U)`` on the box invariant); every ``swap_every`` steps, neighbouring replicas ``r, r+1``
of each chain trade configurations with probability ``min(1, exp((beta_r - beta_{r+1}) (U_r - U_{r+1})))``,
which keeps the product of the R tempered densities invariant (Swendsen & Wang 1986; Geyer 1991).

Pairs: ``even-odd`` (default) alternates the pairs (1,2),(3,4),... and (2,3),(4,5),...: every pair is
tried every other round and a configuration can travel the whole ladder without waiting for a lucky
draw (the deterministic even/odd scheme, Okabe et al. 2001; non-reversible PT, Syed et al. 2022).
``random`` tries one uniformly chosen neighbour pair per chain and round.

Round trips: a configuration that has been at the coldest replica, then at the hottest, counts one
round trip when it is back at the coldest. They measure how fast mass flows between wells through
the hot replicas, the thing PT is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.samplers import SamplerParams, SamplerState, validate_params
from ebm_explorer.core.tempering.energies import ReplicaEnergy, inside_box
from ebm_explorer.core.tempering.ladder import check_int, tempered_kernel, validate_ladder
from ebm_explorer.core.types import Box, EnergyFn

__all__ = ["SWAP_SCHEMES", "PTConfig", "PTState", "PTStepInfo", "PTResult", "ParallelTempering", "run_parallel_tempering"]

SWAP_SCHEMES = ("even-odd", "random")

# round-trip phase of a configuration: never at an end yet / last end was the cold one /
# hot after cold (half a round trip) / hot without having been cold
_NONE, _COLD, _HOT_AFTER_COLD, _HOT = 0, 1, 2, 3


@dataclass(frozen=True)
class PTConfig:
    """What a PT run needs besides the landscape. ``betas`` come from :func:`geometric_ladder` or are edited."""

    betas: tuple[float, ...]
    kernel: str = "mala"
    params: SamplerParams = field(default_factory=SamplerParams)
    swap_every: int = 1
    swap_scheme: str = "even-odd"
    scale_steps: bool = True  # replica r moves in sqrt(beta_r)-scaled coordinates (see ReplicaEnergy)

    def validated(self) -> "PTConfig":
        betas = tuple(float(b) for b in validate_ladder(self.betas))
        validate_params(tempered_kernel(self.kernel).name, self.params)
        check_int(self.swap_every, "swap-every", 1)
        if self.swap_scheme not in SWAP_SCHEMES:
            raise UserInputError(f"swap scheme must be one of {', '.join(SWAP_SCHEMES)}, got {self.swap_scheme!r}")
        return PTConfig(betas, self.kernel, self.params, int(self.swap_every), self.swap_scheme, bool(self.scale_steps))


class PTState(NamedTuple):
    walkers: SamplerState  # the sampler's state of all R N replicas, rows replica-major, scaled coordinates
    trip: torch.Tensor  # (R, N) int8 round-trip phase of the configuration in each slot
    steps: int  # kernel steps taken
    swap_rounds: int  # swap rounds done


class PTStepInfo(NamedTuple):
    accepted: torch.Tensor  # (R, N) bool: kernel move accepted
    swap_attempted: torch.Tensor | None  # (R - 1, N) bool: pair (r, r+1) of chain i tried this step; None: no swap round
    swap_accepted: torch.Tensor | None  # (R - 1, N) bool
    round_trips: torch.Tensor  # () long: round trips completed this step


class ParallelTempering:
    """Stateless stepping over :class:`PTState` (the GUI worker drives ``step``; the CLI uses :func:`run_parallel_tempering`)."""

    def __init__(self, energy_fn: EnergyFn, box: Box, config: PTConfig, n_walkers: int,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        self.config = config.validated()
        self.sampler = tempered_kernel(self.config.kernel)
        self.n_walkers = check_int(n_walkers, "number of walkers", 1)
        self.betas = torch.tensor(self.config.betas, device=device, dtype=dtype)  # (R,)
        self.n_replicas = len(self.config.betas)
        self.energy = ReplicaEnergy(energy_fn, box, self.betas, self.n_walkers, self.config.scale_steps)
        self.box = box

    def init(self, x0: torch.Tensor) -> PTState:
        """Start from ``x0``: ``(R, N, 2)``, or ``(N, 2)`` copied to every replica. Points must lie in the box."""
        r, n = self.n_replicas, self.n_walkers
        if tuple(x0.shape) == (n, 2):
            x0 = x0.unsqueeze(0).expand(r, n, 2)
        if tuple(x0.shape) != (r, n, 2):
            raise UserInputError(f"PT start positions must have shape ({r}, {n}, 2) or ({n}, 2), got {tuple(x0.shape)}")
        x = x0.reshape(r * n, 2).to(device=self.betas.device, dtype=self.betas.dtype)
        if not bool(inside_box(x, self.box).all()):
            raise UserInputError("PT walkers must start inside the box (they are confined to it)")
        walkers = self.sampler.init(self.energy.to_z(x), self.energy)
        trip = torch.full((r, n), _NONE, dtype=torch.int8, device=x.device)
        trip[0] = _COLD
        trip[-1] = _HOT
        return PTState(walkers, trip, 0, 0)

    def positions(self, state: PTState) -> torch.Tensor:
        """``(R, N, 2)`` positions; replica 0 is ``beta = 1``."""
        return self.energy.to_x(state.walkers.position).view(self.n_replicas, self.n_walkers, 2)

    def energies(self, state: PTState) -> torch.Tensor:
        """``(R, N)`` untempered energies ``U``."""
        return (state.walkers.energy / self.energy.row_beta).view(self.n_replicas, self.n_walkers)

    def step(self, generator: torch.Generator, state: PTState) -> tuple[PTState, PTStepInfo]:
        """One kernel step of every replica, then a swap round if ``swap_every`` steps have passed."""
        walkers, info = self.sampler.step(generator, state.walkers, self.energy, self.config.params)
        accepted = info.accepted.view(self.n_replicas, self.n_walkers)
        steps = state.steps + 1
        trip = state.trip
        attempted = swapped = None
        trips = torch.zeros((), dtype=torch.long, device=trip.device)
        rounds = state.swap_rounds
        if steps % self.config.swap_every == 0:
            walkers, trip, attempted, swapped, trips = self._swap_round(generator, walkers, trip, rounds)
            rounds += 1
        return PTState(walkers, trip, steps, rounds), PTStepInfo(accepted, attempted, swapped, trips)

    def _pairs(self, generator: torch.Generator, round_index: int, device: torch.device) -> torch.Tensor:
        """``(R - 1, N)`` bool: which neighbour pairs each chain tries this round (never overlapping)."""
        r, n = self.n_replicas, self.n_walkers
        lower = torch.arange(r - 1, device=device)[:, None]  # (R - 1, 1)
        if self.config.swap_scheme == "even-odd":
            return (lower % 2 == round_index % 2).expand(r - 1, n)
        pick = torch.randint(0, r - 1, (n,), generator=generator, device=device)
        return lower == pick[None, :]

    def _swap_round(self, generator: torch.Generator, walkers: SamplerState, trip: torch.Tensor, round_index: int):
        r, n, e = self.n_replicas, self.n_walkers, self.energy
        x = e.to_x(walkers.position).view(r, n, 2)
        u, g = e.base_terms(walkers.energy, walkers.grad)
        u, g = u.view(r, n), g.view(r, n, 2)
        attempted = self._pairs(generator, round_index, x.device)
        db = (self.betas[:-1] - self.betas[1:])[:, None]  # (R - 1, 1)
        log_ratio = db * (u[:-1] - u[1:])  # (R - 1, N)
        uniform = torch.rand(log_ratio.shape, generator=generator, device=x.device, dtype=x.dtype)
        accepted = attempted & (torch.log(uniform) < log_ratio)
        take_next = F.pad(accepted, (0, 0, 0, 1))  # (R, N): slot r receives slot r+1's configuration
        take_prev = F.pad(accepted, (0, 0, 1, 0))  # slot r+1 receives slot r's

        def exchange(t: torch.Tensor) -> torch.Tensor:
            shape = (r, n) + (1,) * (t.dim() - 2)
            nxt, prv = take_next.view(shape), take_prev.view(shape)
            return torch.where(nxt, t.roll(-1, 0), torch.where(prv, t.roll(1, 0), t))

        x, u, g, trip = exchange(x), exchange(u), exchange(g), exchange(trip)
        trip = trip.clone()
        done = (trip[0] == _HOT_AFTER_COLD).sum()
        trip[0] = _COLD
        trip[-1] = torch.where((trip[-1] == _COLD) | (trip[-1] == _HOT_AFTER_COLD), _HOT_AFTER_COLD, _HOT).to(trip.dtype)
        xf = x.reshape(r * n, 2)
        energy, grad = e.state_terms(xf, u.reshape(r * n), g.reshape(r * n, 2))
        return SamplerState(e.to_z(xf), energy, grad), trip, attempted, accepted, done


class PTResult(NamedTuple):
    positions: np.ndarray  # (R, N, 2) final positions, replica 0 at beta = 1
    energies: np.ndarray  # (R, N) untempered U
    betas: np.ndarray  # (R,)
    acceptance: np.ndarray  # (K, R) kernel acceptance per step and replica
    mean_energy: np.ndarray  # (K, R) mean U per step and replica
    swap_attempts: np.ndarray  # (R - 1,) swaps tried per neighbour pair (over all chains)
    swap_accepts: np.ndarray  # (R - 1,)
    round_trips: int  # over all chains
    trajectory: np.ndarray | None  # (T, N, 2) beta = 1 replica at trajectory_steps, or None
    trajectory_steps: np.ndarray | None
    steps_done: int = -1  # steps taken: fewer than asked when ``should_stop`` ended the run

    @property
    def swap_acceptance(self) -> np.ndarray:
        """``(R - 1,)`` accepted / tried per pair (NaN for a pair never tried)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.swap_attempts > 0, self.swap_accepts / np.maximum(self.swap_attempts, 1), np.nan)


OnPTStep = Callable[[int, PTState, PTStepInfo], None]


def run_parallel_tempering(
    energy_fn: EnergyFn,
    box: Box,
    x0: torch.Tensor,
    config: PTConfig,
    n_steps: int,
    generator: torch.Generator,
    record_every: int | None = None,
    on_step: OnPTStep | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PTResult:
    """Run ``n_steps`` PT steps from ``x0`` (``(R, N, 2)`` or ``(N, 2)``); statistics stay on the device until the end.

    ``should_stop()`` is asked before every step; once True the run ends there and the result holds the
    steps taken (``steps_done``; per-step arrays and the trajectory cut to them)."""
    n_steps = check_int(n_steps, "number of steps", 0)
    if record_every is not None:
        check_int(record_every, "record-every", 1)
    n = x0.shape[-2]
    pt = ParallelTempering(energy_fn, box, config, n, x0.device, x0.dtype)
    state = pt.init(x0)
    r, dev, dtype = pt.n_replicas, x0.device, x0.dtype
    acceptance = torch.empty((n_steps, r), device=dev, dtype=dtype)
    mean_energy = torch.empty((n_steps, r), device=dev, dtype=dtype)
    attempts = torch.zeros(r - 1, device=dev, dtype=torch.long)
    accepts = torch.zeros(r - 1, device=dev, dtype=torch.long)
    trips = torch.zeros((), device=dev, dtype=torch.long)
    frames = trajectory = None
    if record_every is not None:
        frames = np.arange(0, n_steps + 1, record_every)
        trajectory = torch.empty((len(frames), n, 2), dtype=dtype)
        trajectory[0] = pt.positions(state)[0].cpu()
    done = n_steps
    for k in range(n_steps):
        if should_stop is not None and should_stop():
            done = k
            break
        state, info = pt.step(generator, state)
        acceptance[k] = info.accepted.to(dtype).mean(1)
        mean_energy[k] = pt.energies(state).mean(1)
        if info.swap_attempted is not None:
            attempts += info.swap_attempted.sum(1)
            accepts += info.swap_accepted.sum(1)
            trips += info.round_trips
        if trajectory is not None and (k + 1) % record_every == 0:
            trajectory[(k + 1) // record_every] = pt.positions(state)[0].cpu()
        if on_step is not None:
            on_step(k + 1, state, info)
    return PTResult(
        positions=pt.positions(state).cpu().numpy(),
        energies=pt.energies(state).cpu().numpy(),
        betas=np.asarray(pt.config.betas),
        acceptance=acceptance[:done].cpu().numpy(),
        mean_energy=mean_energy[:done].cpu().numpy(),
        swap_attempts=attempts.cpu().numpy(),
        swap_accepts=accepts.cpu().numpy(),
        round_trips=int(trips),
        trajectory=None if trajectory is None else trajectory[: done // record_every + 1].numpy(),
        trajectory_steps=None if frames is None else frames[: done // record_every + 1],
        steps_done=done,
    )
