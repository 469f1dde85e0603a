"""Workers in their threads: snapshots arrive, single steps are exact, errors become messages."""

from __future__ import annotations

import numpy as np
import pytest

from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.core.metrics import walker_metrics
from ebm_explorer.core.run_settings import SampleSettings
from ebm_explorer.workers.commands import SetReference, SetSettings, ThumbnailKey
from ebm_explorer.workers.jobs import JobWorker, reference_job
from ebm_explorer.workers.messages import RunSnapshot, WorkerError
from ebm_explorer.workers.sampling_worker import SamplingWorker


@pytest.fixture
def landscape():
    return make_landscape("gmm")


def _collect(worker):
    got: list[RunSnapshot] = []
    errors: list[WorkerError] = []
    worker.message.connect(got.append)
    worker.failed.connect(errors.append)
    return got, errors


def test_single_steps_and_metrics_match_core(qtbot, landscape):
    ref = reference_job(landscape, 0)
    w = SamplingWorker(0, SampleSettings(sampler="mala", step_size=0.1, walkers=300, seed=3), landscape, 0)
    got, errors = _collect(w)
    w.start()
    try:
        w.send(SetReference(ref))
        qtbot.waitUntil(lambda: len(got) >= 1, timeout=20000)
        for k in range(1, 4):
            w.single_step()
            qtbot.waitUntil(lambda k=k: got[-1].step == k and got[-1].metrics is not None
                            and np.isfinite(got[-1].metrics.kl), timeout=20000)
        snap = got[-1]
        assert snap.step == 3 and snap.n_walkers == 300 and not errors
        # all 300 walkers are in the snapshot: the metrics are those of the core on the same points
        wm = walker_metrics(snap.walkers.points.astype(np.float64), snap.walkers.point_energy, ref.reference)
        np.testing.assert_allclose(snap.metrics.mode_weights, wm.mode_weights, atol=2 / 300)
        assert abs(snap.metrics.mean_energy - wm.mean_energy) < 1e-4 * max(1.0, abs(wm.mean_energy))
        assert snap.walkers.hist.shape == (128, 128) and snap.walkers.proposal_to is not None
        # the histogram integrates to the fraction of walkers inside the box
        b = landscape.box
        assert abs(snap.walkers.hist.sum() * b.width * b.height / 128**2 - 1.0) < 1e-3
    finally:
        assert w.stop()


def test_runaway_ula_walkers_are_flagged_and_the_run_continues(qtbot, landscape):
    w = SamplingWorker(1, SampleSettings(sampler="ula", step_size=8.0, walkers=200), landscape, 0)
    got, errors = _collect(w)
    w.start()
    try:
        w.resume()
        # issue 7: blown-up walkers are counted and frozen (the default rule), not an error
        qtbot.waitUntil(lambda: bool(got) and got[-1].n_blowup_events > 0, timeout=30000)
        assert not errors and got[-1].blowup_rule == "freeze" and got[-1].n_flagged > 0
        assert np.isfinite(got[-1].walkers.points).all()
        # a reset with a sane step size runs again
        w.send(SetSettings(SampleSettings(sampler="ula", step_size=0.05, walkers=200)))
        w.reset()
        w.single_step()
        qtbot.waitUntil(lambda: bool(got) and got[-1].step == 1, timeout=20000)
    finally:
        assert w.stop()


def test_hmc_sends_its_leapfrog_path(qtbot, landscape):
    w = SamplingWorker(2, SampleSettings(sampler="hmc", step_size=0.2, leapfrog_steps=7, walkers=50), landscape, 0)
    got, _ = _collect(w)
    w.start()
    try:
        w.single_step()
        qtbot.waitUntil(lambda: bool(got) and got[-1].step == 1, timeout=20000)
        path = got[-1].walkers.hmc_path
        assert path is not None and path.shape == (8, 2)
        np.testing.assert_allclose(path[0], got[-1].walkers.proposal_from, atol=1e-6)
        np.testing.assert_allclose(path[-1], got[-1].walkers.proposal_to, atol=1e-5)
    finally:
        assert w.stop()


def test_job_worker_newest_request_wins(qtbot):
    jobs = JobWorker()
    done = []
    jobs.done.connect(done.append)
    jobs.start()
    try:
        import time

        jobs.submit(ThumbnailKey("slow"), lambda: time.sleep(0.3) or "slow")
        for i in range(5):
            jobs.submit(ThumbnailKey("ref"), lambda i=i: i)
        qtbot.waitUntil(lambda: jobs.idle() and len(done) >= 2, timeout=10000)
        assert [d.result for d in done if d.key == ThumbnailKey("ref")] == [4]
    finally:
        assert jobs.stop()
