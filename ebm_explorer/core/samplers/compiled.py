"""Fused sampler steps: ``torch.compile`` of a sampler's ``step`` (the ``--compile`` option).

Why: on the built-in landscapes a step is a dozen element-wise passes over ``(M, N)`` arrays, each
reading and writing all of memory; inductor fuses them into a few loops (C++/OpenMP on the CPU,
Triton on a GPU), 2-6x faster on CPU at 1e5 walkers. Random draws keep the caller's explicit
generator: torch.compile does not trace them, so each draw is a graph break and the noise stream is
the eager path's. A compiled run from a seed therefore equals the eager run up to float rounding.

Compilation specialises on the landscape object, the walker count and the parameter values (a new
landscape or step size recompiles, in seconds), so this suits long runs with fixed settings (the CLI,
benchmarks), not an interactive session whose sliders move.
"""

from __future__ import annotations

from typing import Callable

import torch

from ebm_explorer.core.samplers.base import Sampler, SamplerParams, SamplerState, StepInfo
from ebm_explorer.core.types import EnergyFn

__all__ = ["CompiledStep", "compiled_sampler"]

StepFn = Callable[[torch.Generator, SamplerState, EnergyFn, SamplerParams], tuple[SamplerState, StepInfo]]


class CompiledStep:
    """A sampler step compiled on first use; if compiling fails it runs eagerly from then on.

    ``fallback_reason`` is ``None`` while the compiled step is in use, else the compiler's complaint
    (no C++ compiler on the CPU, no Triton for the GPU, an unsupported energy function).
    """

    def __init__(self, step: StepFn) -> None:
        self.eager = step
        self.compiled: StepFn = torch.compile(step, dynamic=False)
        self.fallback_reason: str | None = None

    def __call__(
        self, generator: torch.Generator, state: SamplerState, energy_fn: EnergyFn, params: SamplerParams
    ) -> tuple[SamplerState, StepInfo]:
        if self.fallback_reason is None:
            rng_state = generator.get_state()
            try:
                return self.compiled(generator, state, energy_fn, params)
            except Exception as exc:  # the compiler's errors have no common base class
                if isinstance(exc, (KeyboardInterrupt, MemoryError, torch.OutOfMemoryError)):
                    raise
                lines = str(exc).strip().splitlines() or [""]
                self.fallback_reason = f"{type(exc).__name__}: {lines[0][:200]}"
                generator.set_state(rng_state)  # the failed attempt may have drawn: replay the same noise
        return self.eager(generator, state, energy_fn, params)


_COMPILED: dict[str, Sampler] = {}

#: compiled variants kept per step function (torch's default, 8, is reached by a session that tries
#: eight step sizes or landscapes; past it torch silently runs that step uncompiled)
RECOMPILE_LIMIT = 64


def compiled_sampler(sampler: Sampler) -> Sampler:
    """``sampler`` with a compiled ``step`` (one per sampler and process; ``init`` runs once, eagerly)."""
    if sampler.name not in _COMPILED:
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, RECOMPILE_LIMIT)
        _COMPILED[sampler.name] = sampler._replace(step=CompiledStep(sampler.step))
    return _COMPILED[sampler.name]
