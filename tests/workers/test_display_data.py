"""Data the workers send for drawing: the walker histogram (binning is done in the worker) and the
noise floor of the histogram divergences; the batch sizing that keeps the worker's pace off the draw rate."""

from __future__ import annotations

import numpy as np
import torch

from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.core.types import Box
from ebm_explorer.workers.base import BATCH_S, MAX_BATCH, LoopWorker, compute_threads
from ebm_explorer.workers.display import walker_histogram
from ebm_explorer.workers.jobs import reference_job
from ebm_explorer.core.run_settings import SampleSettings
from ebm_explorer.workers.sampling_worker import SamplingWorker


def test_walker_histogram_equals_numpy_histogram2d():
    box = Box(-3.0, 2.0, -1.0, 4.0)
    g = torch.Generator().manual_seed(0)
    pos = torch.randn((50_000, 2), generator=g, dtype=torch.float64) * 2.0 + torch.tensor([0.0, 1.5], dtype=torch.float64)
    pos[:5] = torch.tensor([[np.nan, 0.0], [10.0, 1.0], [-3.0, -1.0], [2.0, 1.0], [0.0, 4.0]], dtype=torch.float64)
    bins = 40
    hist = walker_histogram(pos, box, bins=bins)
    assert hist.dtype == np.float32 and hist.flags.c_contiguous and hist.shape == (bins, bins)
    p = pos.numpy()
    ok = np.isfinite(p).all(axis=1)
    counts, _, _ = np.histogram2d(p[ok, 1], p[ok, 0], bins=bins, range=[[box.ymin, box.ymax], [box.xmin, box.xmax]])
    # numpy closes the last bin on the right; the worker's bins are half-open [lo, hi): drop edge points
    on_edge = (p[ok, 0] == box.xmax) | (p[ok, 1] == box.ymax)
    counts[-1, :] -= np.histogram(p[ok][on_edge & (p[ok, 1] == box.ymax), 0], bins=bins, range=(box.xmin, box.xmax))[0]
    counts[:, -1] -= np.histogram(p[ok][on_edge & (p[ok, 0] == box.xmax) & (p[ok, 1] != box.ymax), 1], bins=bins,
                                  range=(box.ymin, box.ymax))[0]
    cell = (box.width / bins) * (box.height / bins)
    np.testing.assert_allclose(hist, counts / (len(p) * cell), rtol=1e-6, atol=1e-9)


def test_metrics_carry_the_iid_noise_floor():
    land = make_landscape("gmm")
    w = SamplingWorker(0, SampleSettings(sampler="mala", step_size=0.1, walkers=2000, seed=1), land)
    w.setup()
    w.reference = reference_job(land, 0)
    w.advance(3)
    m = w._metrics()
    assert np.isfinite(m.tv_expected) and np.isfinite(m.kl_expected)
    assert 0 < m.tv_expected < 1 and 0 < m.kl_expected
    from ebm_explorer.core.metrics import walker_metrics  # the floors are the core's, passed on unchanged

    wm = walker_metrics(w._state.position.numpy(), w._state.energy.numpy(), w.reference.reference)
    assert m.tv_expected == wm.tv_expected and m.kl_expected == wm.kl_expected


class _Counter(LoopWorker):
    def setup(self) -> None: ...
    def advance(self, n: int) -> None: ...
    def make_snapshot(self): return None
    def apply(self, key, value) -> None: ...


def test_batches_grow_when_steps_are_fast_and_not_when_speed_is_limited():
    w = _Counter(0)
    w.steps_per_batch = 2
    assert w._batch_size() == 2  # nothing measured yet
    w._step_s = 1e-4
    assert w._batch_size() == int(BATCH_S / 1e-4)
    w._step_s = 1e-9
    assert w._batch_size() == MAX_BATCH
    w._step_s = 1.0
    assert w._batch_size() == 2  # slow steps: the user's steps per frame
    w._step_s = 1e-4
    w.max_steps_per_s = 10.0
    assert w._batch_size() == 2  # a speed limit keeps batches small


def test_compute_threads_leaves_a_core_to_the_ui():
    import os

    n = compute_threads()
    assert n >= 1 and (n < os.cpu_count() or os.cpu_count() == 1)
