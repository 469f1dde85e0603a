"""A bounded ring buffer of the recent trajectory of a subset of walkers (for File > Export trajectories).

The run's thread appends one record per step on the run's device (a slice copy, cheap for any
number of walkers); another thread (the export job) takes a numpy copy under the same lock. The
buffer holds the first ``walkers`` walkers over the last ``capacity`` steps, so its memory is fixed.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from ebm_explorer.export.trajectories import TrajectoryData

__all__ = ["RecentTrajectory", "RECENT_WALKERS", "RECENT_STEPS"]

#: walkers kept per run (the first ones: their initial positions are random, so a fair subset)
RECENT_WALKERS = 256
#: steps kept (the most recent ones)
RECENT_STEPS = 1000


class RecentTrajectory:
    """``add`` from the run's thread every step; ``copy`` from any thread."""

    def __init__(self, n_walkers: int, device: torch.device, dtype: torch.dtype,
                 walkers: int = RECENT_WALKERS, capacity: int = RECENT_STEPS) -> None:
        self.w = max(1, min(int(walkers), int(n_walkers)))
        self.capacity = int(capacity)
        self._pos = torch.zeros((self.capacity, self.w, 2), device=device, dtype=dtype)
        self._energy = torch.zeros((self.capacity, self.w), device=device, dtype=dtype)
        self._accepted = torch.ones((self.capacity, self.w), device=device, dtype=torch.bool)
        self._logw = torch.zeros((self.capacity, self.w), device=device, dtype=torch.float64)
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self.count = 0
        self._lock = threading.Lock()

    def add(self, step: int, position: torch.Tensor, energy: torch.Tensor, accepted: torch.Tensor | None = None,
            log_weight: torch.Tensor | None = None) -> None:
        """Record the first walkers at ``step`` (``accepted``: the move that led here; None = all)."""
        w = self.w
        with self._lock:
            i = self.count % self.capacity
            self._pos[i] = position[:w].detach()
            self._energy[i] = energy[:w].detach()
            if accepted is None:
                self._accepted[i] = True
            else:
                self._accepted[i] = accepted[:w]
            if log_weight is None:
                self._logw[i] = 0.0
            else:
                self._logw[i] = log_weight[:w].detach()
            self._steps[i] = int(step)
            self.count += 1

    def copy(self) -> TrajectoryData | None:
        """The buffered records, oldest first, as numpy copies (None before the first record)."""
        with self._lock:
            n = min(self.count, self.capacity)
            if n == 0:
                return None
            order = (np.arange(n) + self.count - n) % self.capacity
            idx = torch.as_tensor(order, device=self._pos.device)
            pos = self._pos[idx].cpu().numpy().copy()
            energy = self._energy[idx].cpu().numpy().copy()
            accepted = self._accepted[idx].cpu().numpy().copy()
            logw = self._logw[idx].cpu().numpy().copy()
            steps = self._steps[order].copy()
        return TrajectoryData(steps, np.arange(self.w, dtype=np.int64), pos, energy, accepted, logw)
