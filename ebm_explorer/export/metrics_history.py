"""One metrics-history type for every run, live or headless: :class:`Metrics` points collected into a
bounded :class:`MetricsHistory`, whose :meth:`~MetricsHistory.columns` are the metric columns every
export writes (the GUI's File > Export and headless ``ebm-explorer run`` write the same ones).

No Qt: workers send ``Metrics`` points in their snapshots, the UI keeps one history per run for the live
panels, the headless runner fills one per run from its records.

A run may go on for hours: the history keeps at most ``capacity`` rows. When it is full, pairs of
neighbouring rows are merged (the later one is kept) and from then on each row stands for twice as
many incoming points; the newest point always overwrites the last row of its block, so the curves
end at the latest value. Memory and drawing cost stay flat however long the run lasts, and the
curves keep their shape (a uniform decimation in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Metrics", "MetricsHistory", "SCALAR_FIELDS", "HISTORY_CAPACITY"]

NAN = float("nan")


@dataclass(frozen=True)
class Metrics:
    """One point of every metric time series of a run (``NaN``: does not apply to this run)."""

    step: int
    acceptance: float = NAN  # mean acceptance since the previous point
    mean_energy: float = NAN  # mean U over the walkers (training: of the *target* landscape)
    mean_energy_exact: float = NAN  # E_p[U] on the grid
    ess: float = NAN  # bulk ESS of the x coordinate over a window of traced chains (sampling)
    tv: float = NAN  # total variation between walker histogram and exact density
    kl: float = NAN  # KL(walker histogram || exact) on the histogram grid (training: exact KL of the model)
    tv_expected: float = NAN  # TV of exact iid samples of the same size: the finite-sample noise floor
    kl_expected: float = NAN  # KL noise floor of exact iid samples of the same size
    fisher: float = NAN  # Fisher divergence data || model (training)
    mode_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,) walkers / model
    mode_weights_true: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,)
    log_z_est: float = NAN  # training (Jarzynski): running estimate from the training walkers (feedback-biased)
    log_z_se: float = NAN  # its standard error (weights and resampling genealogy)
    log_z_est_xfit: float = NAN  # training (Jarzynski): cross-fitted estimate from the held-out walkers
    log_z_se_xfit: float = NAN  # its standard error (also the band of cross_entropy_est_xfit)
    log_z_exact: float = NAN
    cross_entropy: float = NAN  # training: exact cross entropy of data under the model
    cross_entropy_est: float = NAN  # training (Jarzynski): estimate, mean U(data) + log_z_est
    cross_entropy_est_xfit: float = NAN  # training (Jarzynski): mean U(data) + log_z_est_xfit
    ess_fraction: float = NAN  # training (Jarzynski): ESS/N of the walker weights
    resample_count: float = NAN  # training (Jarzynski): resamplings so far
    energy_gap: float = NAN  # training: mean U(data) - weighted mean U(walkers)
    model_energy_data: float = NAN  # training: mean model energy U_theta on the data
    model_energy_walkers: float = NAN  # training: (weighted) mean U_theta on the walkers (negative samples)
    nonfinite_walkers: float = NAN  # walkers dropped from the estimates (NaN/inf)
    outside_fraction: float = NAN  # sampling: walkers outside the box
    cov_xx: float = NAN  # sampling: walker covariance ...
    cov_xy: float = NAN
    cov_yy: float = NAN
    cov_exact_xx: float = NAN  # ... and the exact one (grid)
    cov_exact_xy: float = NAN
    cov_exact_yy: float = NAN
    beta: float = NAN  # a temperature sweep: the inverse temperature of this point


SCALAR_FIELDS = tuple(f for f in Metrics.__dataclass_fields__ if f not in ("step", "mode_weights",
                                                                          "mode_weights_true"))
#: rows kept per run (each row holds every scalar series and the mode weights)
HISTORY_CAPACITY = 2048
#: a mark with the same text as one within this many rows is not repeated (edits come in bursts)
MARK_MERGE_ROWS = 5


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
        self._modes_true = np.empty((capacity, 0))  # per row: a temperature sweep moves the exact weights
        self.mode_weights_true = np.zeros(0)
        self.latest: Metrics | None = None
        #: (step, short text): where the run's settings or landscape changed (step NaN: before its first point)
        self.marks: list[tuple[float, str]] = []

    def mark(self, text: str) -> None:
        """Remember that something changed now (after the newest point): the panels draw a line there."""
        step = float(self._steps[self.n - 1]) if self.n else float("nan")
        if self.marks and self.marks[-1][1] == text:  # a burst of edits (a brush stroke) is one change
            last = self.marks[-1][0]
            if not np.isfinite(last):  # made before the first point: it sits on the first point
                last = float(self._steps[0]) if self.n else last
            recent = self._steps[max(0, self.n - MARK_MERGE_ROWS): self.n]
            if not self.n or (np.isfinite(last) and last >= recent[0]):
                return
        self.marks.append((step, text))

    @classmethod
    def holding(cls, n: int) -> "MetricsHistory":
        """A history that keeps ``n`` points without merging any (headless runs record a known number)."""
        return cls(max(4, n + n % 2))

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
        mt = np.asarray(m.mode_weights_true, dtype=float)
        if mt.size and mt.shape[0] != self._modes_true.shape[1]:
            self._modes_true = np.full((self.capacity, mt.shape[0]), np.nan)
        self._modes_true[i] = mt if mt.size else np.nan
        if mt.size:
            self.mode_weights_true = mt
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
        self._modes_true[:half] = self._modes_true[keep]
        self.n = half
        self.stride *= 2

    def series(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        return self._steps[: self.n], self._data[field][: self.n]

    def mode_series(self) -> tuple[np.ndarray, np.ndarray]:
        """Steps ``(n,)`` and mode weights ``(n, M)``."""
        return self._steps[: self.n], self._modes[: self.n]

    def columns(self) -> dict[str, np.ndarray]:
        """The metric columns of an export, one 1-D array each: ``step``, every scalar series,
        ``mode_weight_j`` and ``mode_weight_exact_j``."""
        steps, modes = self.mode_series()
        out: dict[str, np.ndarray] = {"step": steps.astype(np.int64).copy()}
        for f in SCALAR_FIELDS:
            out[f] = self._data[f][: self.n].copy()
        for j in range(modes.shape[1]):
            out[f"mode_weight_{j}"] = modes[:, j].copy()
        for j in range(self._modes_true.shape[1]):
            out[f"mode_weight_exact_{j}"] = self._modes_true[: self.n, j].copy()
        return out

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (constant: the history never grows past ``capacity`` rows)."""
        return (self._steps.nbytes + sum(v.nbytes for v in self._data.values()) + self._modes.nbytes
                + self._modes_true.nbytes)
