"""Growing per-run time series of :class:`Metrics` points (what the live panels plot)."""

from __future__ import annotations

import numpy as np

from ebm_explorer.workers.messages import Metrics

__all__ = ["MetricsHistory", "SCALAR_FIELDS"]

SCALAR_FIELDS = (
    "acceptance", "mean_energy", "mean_energy_exact", "ess", "tv", "kl", "fisher",
    "log_z_est", "log_z_exact", "cross_entropy", "cross_entropy_est", "ess_fraction",
)


class MetricsHistory:
    """Arrays that double in capacity as points arrive; :meth:`series` returns views of the filled part."""

    def __init__(self, capacity: int = 512) -> None:
        self.n = 0
        self._steps = np.empty(capacity)
        self._data = {f: np.empty(capacity) for f in SCALAR_FIELDS}
        self._modes = np.empty((capacity, 0))
        self.mode_weights_true = np.zeros(0)
        self.latest: Metrics | None = None

    def append(self, m: Metrics) -> None:
        if self.n == self._steps.shape[0]:
            self._grow()
        i = self.n
        self._steps[i] = m.step
        for f in SCALAR_FIELDS:
            self._data[f][i] = getattr(m, f)
        mw = np.asarray(m.mode_weights, dtype=float)
        if mw.shape[0] != self._modes.shape[1]:
            # the number of modes changed (landscape edited): old rows have no matching modes
            modes = np.full((self._modes.shape[0], mw.shape[0]), np.nan)
            self._modes = modes
        self._modes[i] = mw
        if np.asarray(m.mode_weights_true).size:
            self.mode_weights_true = np.asarray(m.mode_weights_true, dtype=float)
        self.latest = m
        self.n += 1

    def _grow(self) -> None:
        cap = 2 * self._steps.shape[0]
        self._steps = np.resize(self._steps, cap)
        self._data = {f: np.resize(v, cap) for f, v in self._data.items()}
        modes = np.full((cap, self._modes.shape[1]), np.nan)
        modes[: self.n] = self._modes[: self.n]
        self._modes = modes

    def series(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        return self._steps[: self.n], self._data[field][: self.n]

    def mode_series(self) -> tuple[np.ndarray, np.ndarray]:
        """Steps ``(n,)`` and mode weights ``(n, M)``."""
        return self._steps[: self.n], self._modes[: self.n]
