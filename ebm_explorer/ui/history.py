"""Per-run time series of :class:`Metrics` points (what the live panels plot), bounded in memory.

A run may go on for hours: the history keeps at most ``capacity`` rows. When it is full, pairs of
neighbouring rows are merged (the later one is kept) and from then on each row stands for twice as
many incoming points; the newest point always overwrites the last row of its block, so the curves
end at the latest value. Memory and drawing cost stay flat however long the run lasts, and the
curves keep their shape (a uniform decimation in step).
"""

from __future__ import annotations

import numpy as np

from ebm_explorer.workers.messages import Metrics

__all__ = ["MetricsHistory", "SCALAR_FIELDS", "HISTORY_CAPACITY"]

SCALAR_FIELDS = (
    "acceptance", "mean_energy", "mean_energy_exact", "ess", "tv", "kl", "tv_expected", "kl_expected", "fisher",
    "log_z_est", "log_z_exact", "cross_entropy", "cross_entropy_est", "ess_fraction",
    "log_z_se", "log_z_est_xfit", "log_z_se_xfit", "cross_entropy_est_xfit",
)
#: rows kept per run (each row holds every scalar series and the mode weights)
HISTORY_CAPACITY = 2048


class MetricsHistory:
    """Fixed-size arrays; :meth:`series` returns views of the filled part (oldest first)."""

    def __init__(self, capacity: int = HISTORY_CAPACITY) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError(f"capacity must be an even number >= 4, got {capacity}")
        self.capacity = capacity
        self.n = 0  # rows filled
        self.received = 0  # points appended in total
        self.stride = 1  # incoming points per row
        self._steps = np.empty(capacity)
        self._data = {f: np.empty(capacity) for f in SCALAR_FIELDS}
        self._modes = np.empty((capacity, 0))
        self.mode_weights_true = np.zeros(0)
        self.latest: Metrics | None = None

    def append(self, m: Metrics) -> None:
        new_row = self.received % self.stride == 0
        if new_row and self.n == self.capacity:
            self._halve()
            new_row = self.received % self.stride == 0
        if new_row or self.n == 0:
            self.n += 1
        i = self.n - 1  # a point inside a block replaces the block's previous (older) point
        self._steps[i] = m.step
        for f in SCALAR_FIELDS:
            self._data[f][i] = getattr(m, f, np.nan)
        mw = np.asarray(m.mode_weights, dtype=float)
        if mw.shape[0] != self._modes.shape[1]:
            # the number of modes changed (landscape edited): old rows have no matching modes
            self._modes = np.full((self.capacity, mw.shape[0]), np.nan)
        self._modes[i] = mw
        if np.asarray(m.mode_weights_true).size:
            self.mode_weights_true = np.asarray(m.mode_weights_true, dtype=float)
        self.latest = m
        self.received += 1

    def _halve(self) -> None:
        """Merge neighbouring rows (keep the later of each pair); each row now spans twice the points."""
        keep = slice(1, self.n, 2)
        half = self.n // 2
        self._steps[:half] = self._steps[keep]
        for v in self._data.values():
            v[:half] = v[keep]
        self._modes[:half] = self._modes[keep]
        self.n = half
        self.stride *= 2

    def series(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        return self._steps[: self.n], self._data[field][: self.n]

    def mode_series(self) -> tuple[np.ndarray, np.ndarray]:
        """Steps ``(n,)`` and mode weights ``(n, M)``."""
        return self._steps[: self.n], self._modes[: self.n]

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (constant: the history never grows past ``capacity`` rows)."""
        return self._steps.nbytes + sum(v.nbytes for v in self._data.values()) + self._modes.nbytes
