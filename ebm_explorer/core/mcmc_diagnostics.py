"""Rank-normalised split R-hat and bulk/tail ESS (Vehtari, Gelman, Simpson, Carpenter, Bürkner 2021).

The definitions are ArviZ's (``az.rhat(method="rank")``, ``az.ess(method="bulk"|"tail")``), to
floating-point agreement, written in numpy without ArviZ or scipy:

* split every chain in two halves (the middle draw of an odd chain is dropped);
* rank-normalise: ``z = Phi^-1((rank - 3/8) / (S + 1/4))`` with average ranks over all ``S`` draws;
* R-hat: the classic ``sqrt((B / W + n - 1) / n)`` on the z-scores, and on the z-scores of the
  draws folded about their median; the larger of the two;
* ESS: Geyer's initial monotone sequence on the multi-chain autocorrelation (FFT autocovariance).

Input is an array ``(chains, draws)`` (a 1-D array is one chain). Where the statistic is undefined
(NaN draws, constant draws, too few draws or chains) the functions return NaN instead of raising;
unlike ArviZ, which reports ``ess = chains * draws`` for constant draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError


def split_rhat(draws: Any) -> float:
    """Rank-normalised split R-hat, ``max(bulk, folded)``; NaN with < 2 chains or < 4 draws (as ArviZ)."""
    ary = _as_chains(draws)
    if ary.shape[0] < 2 or ary.shape[1] < 4 or not _informative(ary):
        return float("nan")
    split = _split_chains(ary)
    bulk = _rhat(_z_scale(split))
    tail = _rhat(_z_scale(np.abs(split - np.median(split))))
    return float(max(bulk, tail))


def ess_bulk(draws: Any, relative: bool = False) -> float:
    """Bulk effective sample size (rank-normalised split chains); ``relative`` divides by the draw count."""
    ary = _as_chains(draws)
    if ary.shape[1] < 4 or not _informative(ary):
        return float("nan")
    return _ess(_z_scale(_split_chains(ary)), relative)


def ess_tail(draws: Any, prob: tuple[float, float] = (0.05, 0.95), relative: bool = False) -> float:
    """Tail ESS: the smaller ESS of the indicators ``draw <= q`` at the 5 % and 95 % quantiles."""
    ary = _as_chains(draws)
    if ary.shape[1] < 4 or not _informative(ary):
        return float("nan")
    out = []
    for p in prob:
        q = np.quantile(ary, p)  # type 7, as ArviZ
        out.append(_ess(_split_chains((ary <= q).astype(np.float64)), relative))
    return float(min(out))


def _as_chains(draws: Any) -> np.ndarray:
    if isinstance(draws, torch.Tensor):
        draws = draws.detach().cpu().numpy()
    ary = np.asarray(draws, dtype=np.float64)
    if ary.ndim == 1:
        ary = ary[None, :]
    if ary.ndim != 2:
        raise UserInputError(f"draws must have shape (chains, draws), got {ary.shape}")
    return ary


def _informative(ary: np.ndarray) -> bool:
    """No NaN and not constant (R-hat and ESS are undefined otherwise)."""
    if ary.size == 0 or np.isnan(ary).any():
        return False
    return bool(np.max(ary) - np.min(ary) >= np.finfo(np.float64).resolution)


def _split_chains(ary: np.ndarray) -> np.ndarray:
    half = ary.shape[1] // 2
    return np.concatenate((ary[:, :half], ary[:, -half:]), axis=0)


def _average_ranks(a: np.ndarray) -> np.ndarray:
    """1-based ranks of the flattened array with ties averaged (scipy ``rankdata(method="average")``)."""
    flat = a.ravel()
    sorter = np.argsort(flat, kind="mergesort")
    inv = np.empty(sorter.size, dtype=np.intp)
    inv[sorter] = np.arange(sorter.size)
    s = flat[sorter]
    obs = np.concatenate(([True], s[1:] != s[:-1]))
    dense = np.cumsum(obs)[inv]
    count = np.concatenate((np.nonzero(obs)[0], [obs.size]))
    return (0.5 * (count[dense] + count[dense - 1] + 1)).reshape(a.shape)


def _z_scale(ary: np.ndarray) -> np.ndarray:
    ranks = _average_ranks(ary)
    u = (ranks - 3.0 / 8.0) / (ary.size + 0.25)
    return torch.special.ndtri(torch.from_numpy(u)).numpy()


def _rhat(ary: np.ndarray) -> float:
    n = ary.shape[1]
    between = n * np.var(ary.mean(axis=1), ddof=1)
    within = np.mean(np.var(ary, axis=1, ddof=1))
    if within <= 0:
        return float("nan")
    return float(np.sqrt((between / within + n - 1) / n))


def _autocov(ary: np.ndarray) -> np.ndarray:
    """Autocovariance of each chain at every lag (biased, divided by n), by zero-padded FFT."""
    n = ary.shape[1]
    m = 1 << int(np.ceil(np.log2(2 * n)))
    centred = ary - ary.mean(axis=1, keepdims=True)
    f = np.fft.rfft(centred, n=m, axis=1)
    return np.fft.irfft(f * np.conjugate(f), n=m, axis=1)[:, :n] / n


def _ess(ary: np.ndarray, relative: bool) -> float:
    """Multi-chain ESS with Geyer's initial monotone sequence, vectorised but identical to ArviZ."""
    n_chain, n_draw = ary.shape
    total = n_chain * n_draw
    if np.max(ary) - np.min(ary) < np.finfo(np.float64).resolution:
        return float(1.0 if relative else total)  # ArviZ's convention for a constant indicator
    acov = _autocov(ary)
    mean_var = np.mean(acov[:, 0]) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += np.var(ary.mean(axis=1), ddof=1)
    rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # pair sums P_k = rho[2k] + rho[2k+1]; Geyer's positive sequence runs while the previous pair is
    # positive, over at most k_lim pairs (ArviZ's loop bound t < n_draw - 3)
    k_lim = max(0, (n_draw - 3) // 2)
    pairs = rho[0 : 2 * k_lim + 1 : 2][: k_lim + 1] + rho[1 : 2 * k_lim + 2 : 2][: k_lim + 1]
    nonpos = np.flatnonzero(pairs <= 0)
    n_pairs = min(k_lim, int(nonpos[0])) if nonpos.size else k_lim
    monotone = np.minimum.accumulate(pairs[:n_pairs])
    last = rho[2 * n_pairs]
    if not (n_pairs < pairs.size and pairs[n_pairs] >= 0) and last <= 0:
        last = 0.0
    tau = -1.0 + 2.0 * monotone.sum() + last
    tau = max(tau, 1.0 / np.log10(total))
    if not np.isfinite(tau):
        return float("nan")
    return float((1.0 if relative else total) / tau)
