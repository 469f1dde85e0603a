"""Everything that crosses from the UI thread into a worker thread: frozen, typed command messages.

The mirror image of ``messages.py`` (what comes out). A run's thread takes them from its queue between
batches of steps; a typo is a type error where it is written, not a string nobody matches. Job results
carry typed keys (:class:`ReferenceKey`, :class:`ThumbnailKey`, :class:`CurveKey`, :class:`OverlayKey`): a newer job with an
equal key replaces a pending older one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from ebm_explorer.core.run_settings import SampleSettings, TrainSettings

__all__ = [
    "Run", "Pause", "Step", "Reset", "Stop", "Capture", "Restore",
    "SetSettings", "SetLandscape", "SetReference", "SetSpeed", "Command", "SettingCommand",
    "ReferenceKey", "ThumbnailKey", "CurveKey", "OverlayKey", "JobKey",
]


@dataclass(frozen=True)
class Run:
    """Start (or keep) stepping."""


@dataclass(frozen=True)
class Pause:
    """Stop after the current batch and send a snapshot."""


@dataclass(frozen=True)
class Step:
    """Take ``n`` steps, then pause."""

    n: int = 1


@dataclass(frozen=True)
class Reset:
    """Rebuild the run from its settings (step 0)."""


@dataclass(frozen=True)
class Stop:
    """End the loop; the thread finishes."""


@dataclass(frozen=True)
class Capture:
    """Answer with a copy of the run's state on ``captured`` (autosave)."""


@dataclass(frozen=True)
class Restore:
    """Load a saved state (``scenes.state.SavedRun``) into the run."""

    saved: Any


@dataclass(frozen=True)
class SetSettings:
    """New run settings, of the run's kind (applied without a restart where possible)."""

    settings: SampleSettings | TrainSettings


@dataclass(frozen=True)
class SetLandscape:
    """A new landscape (and its version: later references are matched against it)."""

    landscape: Any
    version: int


@dataclass(frozen=True)
class SetReference:
    """The exact grid reference (``ReferenceReady``) of a landscape version."""

    reference: Any


@dataclass(frozen=True)
class SetSpeed:
    """Cap the pace at ``steps_per_s`` (0: as fast as possible)."""

    steps_per_s: float


SettingCommand = Union[SetSettings, SetLandscape, SetReference, SetSpeed]
Command = Union[Run, Pause, Step, Reset, Stop, Capture, Restore, SettingCommand]


# ---- job keys -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReferenceKey:
    """The exact reference of the current landscape."""


@dataclass(frozen=True)
class ThumbnailKey:
    """The gallery thumbnail of preset ``name``."""

    name: str


@dataclass(frozen=True)
class CurveKey:
    """Exact KL / Fisher over a mode weight: the whole sweep curve, or one point (``point=True``)."""

    point: bool = False


@dataclass(frozen=True)
class OverlayKey:
    """The exact curves drawn over the landscape for scene number ``generation`` (ULA-bias ellipses)."""

    generation: int


JobKey = Union[ReferenceKey, ThumbnailKey, CurveKey, OverlayKey]
