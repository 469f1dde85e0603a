"""Walkers: MH, ULA, MALA and HMC as blackjax-style ``init`` / ``step`` pairs, vectorised over walkers.

``SAMPLERS[name].step(generator, state, energy_fn, params) -> (state, info)``; see ``base.py`` for the
contract and ``run.py`` for the plain loop used by the CLI.
"""

from ebm_explorer.core.samplers.base import Sampler, SamplerParams, SamplerState, StepInfo, init_state
from ebm_explorer.core.samplers.compiled import compiled_sampler
from ebm_explorer.core.samplers.registry import (
    INIT_KINDS,
    MAX_LEAPFROG_STEPS,
    SAMPLERS,
    get_sampler,
    initial_positions,
    validate_params,
)
from ebm_explorer.core.samplers.run import ChainResult, finite_walkers, run_chain

__all__ = [
    "Sampler",
    "SamplerParams",
    "SamplerState",
    "StepInfo",
    "init_state",
    "SAMPLERS",
    "INIT_KINDS",
    "MAX_LEAPFROG_STEPS",
    "get_sampler",
    "initial_positions",
    "validate_params",
    "ChainResult",
    "finite_walkers",
    "run_chain",
    "compiled_sampler",
]
