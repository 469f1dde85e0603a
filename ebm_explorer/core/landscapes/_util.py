"""Small helpers shared by the landscape modules: spec bookkeeping and input coercion."""

from __future__ import annotations

import copy
import math
from typing import Any, Sequence

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes.base import Landscape
from ebm_explorer.core.types import Box


def lse_and_softmax(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``logsumexp`` over the components of ``(M, N)`` logits ``(N,)`` and the ``softmax`` ``(M, N)``.

    One ``exp`` pass serves both: a mixture's energy and its responsibilities (its gradient).
    """
    m = logits.amax(0)  # (N,)
    e = torch.exp(logits - m)
    s = e.sum(0)
    return m + torch.log(s), e / s


class SpecLandscape(Landscape):
    """A landscape whose :meth:`spec` is its own table, or the preset table it was made from.

    :func:`~ebm_explorer.core.landscapes.presets.make_landscape` stores ``{"kind": "preset", ...}``
    in :attr:`preset_spec` so that a preset saves as its name and parameters rather than as the
    generic class it happens to be built on.
    """

    preset_spec: dict[str, Any] | None = None

    def spec(self) -> dict[str, Any]:
        if self.preset_spec is not None:
            return copy.deepcopy(self.preset_spec)
        return self._own_spec()

    def _own_spec(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} cannot be saved as a spec")


def as_box(box: Box | Sequence[float]) -> Box:
    """Accept a :class:`Box` or four numbers ``(xmin, xmax, ymin, ymax)``."""
    if isinstance(box, Box):
        return box
    if isinstance(box, (str, bytes)) or not hasattr(box, "__iter__"):
        raise UserInputError(f"box needs four numbers XMIN XMAX YMIN YMAX, got {box!r}")
    return Box.from_sequence(box)


def box_list(box: Box) -> list[float]:
    return [float(v) for v in box.as_tuple()]


def as_float(value: Any, what: str, *, positive: bool = False) -> float:
    """A finite float (optionally > 0) or a :class:`UserInputError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise UserInputError(f"{what} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise UserInputError(f"{what} must be finite, got {v}")
    if positive and v <= 0:
        raise UserInputError(f"{what} must be > 0, got {v}")
    return v


def as_array(value: Any, what: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """A finite float64 array of the given shape (``None`` = any length) or a UserInputError."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{what} must be numbers, got {value!r}") from exc
    if arr.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, arr.shape)):
        want = "x".join("M" if s is None else str(s) for s in shape)
        raise UserInputError(f"{what} must have shape ({want}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise UserInputError(f"{what} must be finite")
    return arr


def tomlify(value: Any) -> Any:
    """Numpy arrays / tuples / numpy scalars -> plain lists and floats (TOML-writable)."""
    if isinstance(value, dict):
        return {str(k): tomlify(v) for k, v in value.items() if v is not None}
    if isinstance(value, np.ndarray):
        return tomlify(value.tolist())
    if isinstance(value, (list, tuple)):
        return [tomlify(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value
