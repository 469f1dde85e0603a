"""``run_chain``: the plain loop used by the CLI (the GUI worker calls ``sampler.step`` itself).

Per-step statistics stay on the device in preallocated tensors and come back to the host once at
the end, so the loop does not synchronise with a GPU at every step.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.samplers.base import Sampler, SamplerParams, SamplerState, StepInfo
from ebm_explorer.core.samplers.compiled import compiled_sampler
from ebm_explorer.core.samplers.proposal import finite_rows
from ebm_explorer.core.samplers.registry import validate_params
from ebm_explorer.core.types import EnergyFn

__all__ = ["ChainResult", "run_chain", "finite_walkers"]

OnStep = Callable[[int, SamplerState, StepInfo], None]


class ChainResult(NamedTuple):
    state: SamplerState  # final state, on the run's device
    acceptance: np.ndarray  # (K,) mean acceptance per step (1.0 for ULA)
    mean_energy: np.ndarray  # (K,) mean energy per step over the walkers that are still finite
    trajectory: np.ndarray | None  # (T, N, 2) positions at trajectory_steps, or None
    trajectory_steps: np.ndarray | None  # (T,) step index of each frame (0 = start)
    nonfinite_walkers: int  # walkers whose position or energy is NaN/inf at the end
    first_nonfinite_step: int | None  # first step (1-based) after which some walker was NaN/inf
    compile_fallback: str | None = None  # compile=True but torch.compile failed: why (the run went on eagerly)
    steps_done: int | None = None  # steps actually taken (fewer than asked when should_stop fired)


def finite_walkers(state: SamplerState) -> torch.Tensor:
    """``(N,)`` bool: walkers whose position and energy are finite."""
    return finite_rows(state.position, state.energy)


def run_chain(
    sampler: Sampler,
    energy_fn: EnergyFn,
    position: torch.Tensor,
    params: SamplerParams,
    n_steps: int,
    generator: torch.Generator,
    record_every: int | None = None,
    on_step: OnStep | None = None,
    compile: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> ChainResult:
    """Run ``n_steps`` steps of ``sampler`` from ``position`` ``(N, 2)``.

    ``record_every = M`` keeps a CPU copy of all positions at steps 0, M, 2M, ... (T = 1 + K // M
    frames). ``on_step(k, state, info)`` is called after step k (1-based). Walkers that become NaN/inf
    (ULA with too large a step, an energy that is NaN somewhere) are counted, not raised.
    ``compile=True`` fuses each step with ``torch.compile`` (see ``compiled.py``): same noise, same
    answer up to float rounding, faster for long runs; if compiling fails the run goes on eagerly.
    ``should_stop()`` is asked before every step; when it returns True the run ends there and the
    result holds the steps taken so far (``steps_done``; an interrupted command line run saves them).
    """
    validate_params(sampler.name, params)
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 0:
        raise UserInputError(f"number of steps must be an integer >= 0, got {n_steps!r}")
    if record_every is not None and (isinstance(record_every, bool) or not isinstance(record_every, int) or record_every < 1):
        raise UserInputError(f"record-every must be an integer >= 1, got {record_every!r}")

    if compile:
        sampler = compiled_sampler(sampler)
    state = sampler.init(position, energy_fn)
    dev, dtype = position.device, position.dtype
    acceptance = torch.empty(n_steps, device=dev, dtype=dtype)  # (K,)
    mean_energy = torch.empty(n_steps, device=dev, dtype=dtype)  # (K,)
    n_nonfinite = torch.empty(n_steps, device=dev, dtype=torch.long)  # (K,)
    trajectory = frames = None
    if record_every is not None:
        frames = np.arange(0, n_steps + 1, record_every)
        trajectory = torch.empty((len(frames), *position.shape), dtype=dtype)  # (T, N, 2) on the host
        trajectory[0] = position.detach().cpu()

    done = n_steps
    for k in range(n_steps):
        if should_stop is not None and should_stop():
            done = k
            break
        state, info = sampler.step(generator, state, energy_fn, params)
        ok = finite_walkers(state)  # (N,)
        n_ok = ok.sum()
        acceptance[k] = info.accepted.to(dtype).mean()
        mean_energy[k] = torch.where(ok, state.energy, 0.0).sum() / n_ok.clamp(min=1)
        n_nonfinite[k] = ok.numel() - n_ok
        if record_every is not None and (k + 1) % record_every == 0:
            trajectory[(k + 1) // record_every] = state.position.cpu()
        if on_step is not None:
            on_step(k + 1, state, info)

    bad = n_nonfinite[:done].cpu().numpy()
    hit = np.flatnonzero(bad > 0)
    if frames is not None and done < n_steps:
        keep = int(np.searchsorted(frames, done, side="right"))
        frames, trajectory = frames[:keep], trajectory[:keep]  # type: ignore[index]
    return ChainResult(
        state=state,
        acceptance=acceptance[:done].cpu().numpy(),
        mean_energy=mean_energy[:done].cpu().numpy(),
        trajectory=None if trajectory is None else trajectory.numpy(),
        trajectory_steps=frames,
        nonfinite_walkers=int(bad[-1]) if done else int((~finite_walkers(state)).sum()),
        first_nonfinite_step=int(hit[0]) + 1 if hit.size else None,
        compile_fallback=getattr(sampler.step, "fallback_reason", None),
        steps_done=done,
    )
