"""The drawing side: the landscape fills its plot, histories stay bounded, the live panels show the
noise floor and say when a panel only applies to training, the draw loop counts served ticks."""

from __future__ import annotations

import numpy as np
import pytest

from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.ui.draw_loop import DrawLoop
from ebm_explorer.export.metrics_history import MetricsHistory
from ebm_explorer.ui.landscape_view import LandscapeView, PointCloud
from ebm_explorer.ui.metrics_panel import MetricsPanel
from ebm_explorer.workers.jobs import reference_job
from ebm_explorer.workers.messages import Metrics


@pytest.fixture(scope="module")
def reference():
    return reference_job(make_landscape("gmm"), 0)


@pytest.mark.parametrize("size", [(420, 800), (900, 360)])
def test_view_range_is_the_box_and_not_much_more(qtbot, reference, size):
    v = LandscapeView()
    qtbot.addWidget(v)
    v.resize(*size)
    v.show()
    v.set_reference(reference)
    qtbot.wait(200)
    b = reference.reference.box
    (x0, x1), (y0, y1) = v.plot.vb.viewRange()
    assert x0 <= b.xmin and x1 >= b.xmax and y0 <= b.ymin and y1 >= b.ymax
    assert (x1 - x0) < 1.1 * b.width and (y1 - y0) < 1.1 * b.height  # the box fills the plot
    s = v.plot.vb.size()
    assert s.width() / s.height() == pytest.approx(b.width / b.height, rel=0.05)  # aspect kept 1:1


def test_point_cloud_draws_what_it_is_given(qtbot):
    p = PointCloud(3, "#ffffff")
    pts = np.array([[0.0, 1.0], [np.nan, 2.0], [2.0, -1.0]])
    p.setData(pos=pts)
    np.testing.assert_array_equal(p.points(), pts[[0, 2]])
    assert p.dataBounds(0) == [0.0, 2.0] and p.dataBounds(1) == [-1.0, 1.0]
    p.setData(pos=np.zeros((0, 2)))
    assert p.dataBounds(0) is None


def test_point_cloud_bounds_never_raise_without_a_pixel_size(qtbot):
    """Qt asks for the bounding rectangle while painting a view that is being re-laid out (no size,
    or no view yet); pyqtgraph then has no pixel size. Raising there crashed the app (SIGSEGV in
    PySide's override error report) when switching scenes under load."""
    from PySide6 import QtWidgets
    import pyqtgraph as pg

    scene = QtWidgets.QGraphicsScene()
    box = pg.ViewBox()
    scene.addItem(box)  # in a view box, but no widget shows the scene: no pixel size
    p = PointCloud(3, "#ffffff")
    box.addItem(p)
    p.setData(pos=np.array([[0.0, 1.0], [2.0, -1.0]]))
    assert p.pixelSize() == (None, None)
    r = p.boundingRect()
    assert (r.left(), r.right(), r.top(), r.bottom()) == (0.0, 2.0, -1.0, 1.0)


def _metrics(step: int, **kw) -> Metrics:
    return Metrics(step=step, mode_weights=np.array([0.3, 0.7]), mode_weights_true=np.array([0.25, 0.75]), **kw)


def test_history_is_bounded_and_keeps_the_newest_point():
    h = MetricsHistory(capacity=64)
    h.append(_metrics(-1))
    nbytes = h.nbytes  # fixed from the first point on (the mode columns are sized then)
    for i in range(10_000):
        h.append(_metrics(i, kl=float(i)))
    steps, kl = h.series("kl")
    assert h.n <= 64 and h.nbytes == nbytes
    assert steps[-1] == 9999 and kl[-1] == 9999.0  # the curve ends at the latest value
    assert np.all(np.diff(steps) > 0) and steps[0] < 300  # still spans the whole run, in order
    gaps = np.diff(steps[:-1])
    assert gaps.max() == gaps.min()  # uniform decimation
    assert h.mode_series()[1].shape == (h.n, 2)


def test_panels_show_the_noise_floor_and_training_only_notes(qtbot):
    m = MetricsPanel()
    qtbot.addWidget(m)
    m.show()
    h = MetricsHistory()
    for i in range(20):
        h.append(_metrics(10 * i, kl=0.5 - 0.01 * i, tv=0.4, kl_expected=0.2, tv_expected=0.15, acceptance=0.9))
    m.set_histories([h], ["run"])
    m.flush()
    x, y = m.series("kl_expected")
    np.testing.assert_array_equal(y, np.full(20, 0.2))
    assert m.floor_labels["kl_expected"].isVisible() and m.floor_labels["tv_expected"].isVisible()
    assert m.notes["logz"].isVisible() and m.notes["cross_entropy"].isVisible()  # sampling: training only
    assert m.plots["logz"].getAxis("left").opacity() == 0.0  # drawn invisibly: the layout stays put
    h.append(_metrics(200, log_z_est=1.0, log_z_exact=1.1, cross_entropy=2.0))
    m.flush()
    assert not m.notes["logz"].isVisible() and m.plots["logz"].getAxis("left").opacity() == 1.0
    assert not m.notes["cross_entropy"].isVisible()


def test_estimate_panels_draw_both_estimates_with_bands_and_name_them(qtbot):
    m = MetricsPanel()
    qtbot.addWidget(m)
    m.show()
    h = MetricsHistory()
    for i in range(10):
        h.append(_metrics(i, log_z_est=1.0 - 0.01 * i, log_z_se=0.02, log_z_est_xfit=1.1, log_z_se_xfit=0.03,
                          log_z_exact=1.1, cross_entropy=2.0, cross_entropy_est=1.9, cross_entropy_est_xfit=2.0))
    m.set_histories([h], ["run"])
    m.flush()
    assert not m.notes["logz"].isVisible() and m.plots["logz"].legend.isVisible()
    x, lo, hi = m.band("log_z_est_xfit")
    np.testing.assert_allclose(lo, 1.1 - 2 * 0.03) and np.testing.assert_allclose(hi, 1.1 + 2 * 0.03)
    x, lo, hi = m.band("log_z_est")
    np.testing.assert_allclose(hi - lo, 4 * 0.02) and np.testing.assert_array_equal(x, np.arange(10))
    _, lo, hi = m.band("cross_entropy_est_xfit")  # the cross-entropy shares log Z's standard error
    np.testing.assert_allclose(hi - lo, 4 * 0.03)
    for key in ("logz", "cross_entropy"):
        names = [label.text for _sample, label in m.plots[key].legend.items]
        assert "plain (training walkers)" in names and "cross-fitted (held-out walkers)" in names
        assert "exact" in names


def test_a_refresh_is_spread_over_frames(qtbot):
    m = MetricsPanel()
    qtbot.addWidget(m)
    h = MetricsHistory()
    for i in range(5):
        h.append(_metrics(i, kl=1.0, acceptance=0.5))
    m.set_histories([h], ["run"])
    frames = 0
    while m.draw():
        frames += 1
    assert frames > 1 and len(m.series("kl")[0]) == 5
    assert not m.draw()  # nothing new: no work


def test_draw_loop_counts_served_ticks_apart_from_frames_with_new_data(qtbot):
    loop = DrawLoop(fps=100)

    class View:
        n = 0

        def draw(self) -> bool:
            self.n += 1
            return self.n % 2 == 0

    v = View()
    loop.add(v)
    for _ in range(6):
        loop.tick()
    assert loop.ticks == 6 and loop.frames == 3
