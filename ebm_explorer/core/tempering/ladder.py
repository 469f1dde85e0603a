"""Inverse-temperature ladders and the kernels allowed inside tempered samplers."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Sequence

import numpy as np

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.samplers import SAMPLERS, Sampler

__all__ = ["TEMPERED_KERNELS", "MAX_REPLICAS", "geometric_ladder", "validate_ladder", "tempered_kernel", "check_int"]

#: kernels that leave each tempered density exactly invariant (ULA does not: its bias would break
#: both the swap test and the AIS weights)
TEMPERED_KERNELS = ("mh", "mala", "hmc")
MAX_REPLICAS = 64


def check_int(value: object, name: str, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``, or a :class:`UserInputError` naming ``name``."""
    ok = isinstance(value, Integral) and not isinstance(value, bool) and value >= low and (high is None or value <= high)
    if not ok:
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise UserInputError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)  # type: ignore[arg-type]


def tempered_kernel(name: str) -> Sampler:
    """The MH, MALA or HMC sampler; a clear message for anything else."""
    if name not in TEMPERED_KERNELS:
        raise UserInputError(f"kernel must be one of {', '.join(TEMPERED_KERNELS)} (it must leave every "
                             f"tempered density invariant), got {name!r}")
    return SAMPLERS[name]


def geometric_ladder(n_replicas: int, beta_min: float) -> np.ndarray:
    """``beta_r = beta_min ** (r / (R - 1))``: ``1 = beta_1 > ... > beta_R = beta_min`` (float64, (R,)).

    Equal ratios between neighbours give roughly equal swap rates when the heat capacity does not
    change much along the ladder (in 2-D, ``Var(beta U)`` is about 1 in every harmonic well).
    """
    n = check_int(n_replicas, "number of replicas", 2, MAX_REPLICAS)
    if isinstance(beta_min, bool) or not isinstance(beta_min, Real) or not 0 < beta_min < 1:
        raise UserInputError(f"smallest beta must be a number in (0, 1), got {beta_min!r}")
    return float(beta_min) ** (np.arange(n) / (n - 1))


def validate_ladder(betas: Sequence[float] | np.ndarray) -> np.ndarray:
    """An edited ladder: at least two finite betas, ``1 = beta_1 > beta_2 > ... > 0``."""
    try:
        b = np.asarray(betas, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise UserInputError(f"betas must be numbers, got {betas!r}") from None
    if not 2 <= b.size <= MAX_REPLICAS:
        raise UserInputError(f"a ladder needs 2 to {MAX_REPLICAS} betas, got {b.size}")
    if not np.all(np.isfinite(b)) or not math.isclose(b[0], 1.0, abs_tol=1e-12) or not np.all(np.diff(b) < 0) or b[-1] <= 0:
        raise UserInputError(f"betas must start at 1 and decrease strictly to a value > 0, got {b.tolist()}")
    b[0] = 1.0
    return b
