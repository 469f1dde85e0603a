"""Crossing barriers: parallel tempering (replica exchange) and annealed importance sampling / SMC.

Both run MH, MALA or HMC walkers confined to the landscape's box, so that their targets are exactly the
box-conditioned densities the grid reference computes. See ``docs/tempering_smc.md``.
"""

from ebm_explorer.core.tempering.energies import START_KINDS, ReplicaEnergy, StartDistribution, inside_box
from ebm_explorer.core.tempering.ladder import TEMPERED_KERNELS, geometric_ladder, validate_ladder
from ebm_explorer.core.tempering.pt import (
    SWAP_SCHEMES,
    ParallelTempering,
    PTConfig,
    PTResult,
    PTState,
    PTStepInfo,
    run_parallel_tempering,
)
from ebm_explorer.core.tempering.smc import (
    AnnealedSMC,
    ModeMasses,
    SMCConfig,
    SMCLevel,
    SMCResult,
    SMCState,
    exact_path_log_z,
    island_slices,
    path_grid_energy,
    run_smc,
    smc_mode_masses,
)

__all__ = [
    "START_KINDS",
    "ReplicaEnergy",
    "StartDistribution",
    "inside_box",
    "TEMPERED_KERNELS",
    "geometric_ladder",
    "validate_ladder",
    "SWAP_SCHEMES",
    "ParallelTempering",
    "PTConfig",
    "PTResult",
    "PTState",
    "PTStepInfo",
    "run_parallel_tempering",
    "AnnealedSMC",
    "ModeMasses",
    "SMCConfig",
    "SMCLevel",
    "SMCResult",
    "SMCState",
    "exact_path_log_z",
    "island_slices",
    "path_grid_energy",
    "run_smc",
    "smc_mode_masses",
]
