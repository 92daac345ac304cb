"""The fit and loss plots: legends never cover the data (the plots reach high enough above it for
the legend, at any size, and a resize keeps the user's zoom), and the network's curve is exact and
cheap at any width (``reluviz.core.polylines``)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from reluviz.core import Trainer
from reluviz.core.model import Layout, predict
from reluviz.core.polylines import relu_polyline
from reluviz.plots.legend_room import GAP_PX, MAX_FRACTION, top_for_legend

from helpers import SMALL_NOTEBOOK as SMALL


# ---------------------------------------------------------------------- room for the legends


@pytest.mark.parametrize("legend_px, view_px", [(50, 100), (50, 400), (20, 95), (1, 1000)])
def test_top_leaves_the_legend_band_above_the_data(legend_px, view_px):
    bottom, data_top, usual = -2.0, 1.0, 1.5
    top = top_for_legend(bottom, data_top, legend_px, view_px, usual)
    band_px = (top - data_top) / (top - bottom) * view_px  # pixels between the data and the view's top
    assert top >= usual
    assert band_px >= min(legend_px + GAP_PX, MAX_FRACTION * view_px) - 1e-9
    if top > usual:  # no more room than needed
        assert band_px == pytest.approx(min(legend_px + GAP_PX, MAX_FRACTION * view_px))


def test_unknown_sizes_keep_the_usual_headroom():
    assert top_for_legend(0.0, 1.0, 0.0, 300.0, 1.25) == 1.25
    assert top_for_legend(0.0, 1.0, 40.0, 0.0, 1.25) == 1.25


@pytest.mark.parametrize("size", [(640, 360), (800, 450), (1280, 720)])
def test_in_exported_frames_the_legends_are_above_the_data(qapp, size):
    from reluviz.export.render import FrameRenderer

    from reluviz.export.plan import plan_training

    plan = plan_training(SMALL, np.array([0, 300]))
    ds = plan.dataset
    r = FrameRenderer(ds, size, caption=True, final_step=300)
    try:
        r.render(plan.frames[-1].snapshot, plan.curves, plan.trace)
        view = r.view
        fit_vb, loss_vb = view.fit_item.vb, view.loss_item.vb
        top_point = fit_vb.mapViewToScene(QtCore.QPointF(0.5, float(np.max(ds.y_train)))).y()
        fit_legend, loss_legend = (row.legend.sceneBoundingRect() for row in view.legend_rows)  # (rows above)
        assert top_point > fit_legend.bottom() and fit_vb.sceneBoundingRect().top() >= fit_legend.bottom()
        # the loss panel's data reach at most the decade above them; the legend sits above that
        decade_top = np.ceil(view.loss._y_range[1])
        assert loss_vb.mapViewToScene(QtCore.QPointF(0, decade_top)).y() > loss_legend.bottom()
        assert loss_vb.sceneBoundingRect().top() >= loss_legend.bottom()
    finally:
        r.close()


def test_a_resize_keeps_the_users_zoom(qtbot):
    from reluviz.plots.training_view import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.set_dataset(Trainer(SMALL).dataset)
    view.show()
    qtbot.waitExposed(view)
    fit = view.fit
    assert np.allclose(fit.plot.vb.viewRange(), fit.view_range)
    view.resize(700, 400)  # smaller: more headroom, and the view follows
    qtbot.waitUntil(lambda: np.allclose(fit.plot.vb.viewRange(), fit.view_range) and fit.view_range[1][1] > 1.3)
    fit.plot.setRange(xRange=(0.2, 0.4), yRange=(-0.5, 0.5), padding=0)  # the user zooms in
    view.resize(1300, 900)
    qtbot.wait(50)
    assert np.allclose(fit.plot.vb.viewRange(), [[0.2, 0.4], [-0.5, 0.5]])
    fit.reset_view()  # (Ctrl+0) back to the range for the present size
    assert np.allclose(fit.plot.vb.viewRange(), fit.view_range)


# ---------------------------------------------------------------------- the network's curve
@pytest.mark.parametrize("seed", range(6))
def test_relu_polyline_equals_the_network_at_every_elbow(seed):
    """The fit plot drew f(x) by evaluating the net at each of its H elbows, H^2 work: 0.2 s a frame
    at width 5,000 (a quarter of the 2 s the UI fuzzer allows an action). The O(H log H) polyline
    must be the same curve: same points, same values to rounding."""
    rng = np.random.default_rng(seed)
    h = [1, 7, 600, 3000, 5000, 40][seed]
    w = rng.normal(size=h) * rng.choice([1.0, 0.0, 1e-3], size=h, p=[0.8, 0.1, 0.1])
    b = rng.normal(size=h)
    if seed == 5:
        b[::2] = -w[::2] * 0.25  # many elbows exactly at the same place
    v, c = rng.normal(size=h), float(rng.normal())
    layout = Layout("relu", h)
    params = np.zeros(layout.size)
    for name, value in (("w", w), ("b", b), ("v", v), ("c", c)):
        params[layout.index(name)] = value
    xs, ys = relu_polyline(w, b, v, c, -0.05, 1.05)
    with np.errstate(all="ignore"):
        e = -b / w
    inside = np.sort(e[np.isfinite(e) & (e > -0.05) & (e < 1.05)])
    np.testing.assert_array_equal(xs, np.r_[-0.05, inside, 1.05])
    exact = predict(layout, params, xs)
    scale = np.abs(v).sum() * (np.abs(w).max() + np.abs(b).max()) + abs(c)
    np.testing.assert_allclose(ys, exact, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("theta, where", [(-40.0, "below the chart"), (60.0, "above the chart")])
def test_a_curve_off_the_chart_is_said_readably_with_where_it_is(qtbot, theta, where):
    from reluviz.core.config import TrainConfig
    from reluviz.plots.training_view import TrainingView

    view = TrainingView(panels=("main",))
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    trainer = Trainer(TrainConfig(model="constant", n_train=50, batch_size=10))
    trainer.params[:] = theta
    view.set_dataset(trainer.dataset)
    view.show_snapshot(trainer.snapshot())
    qtbot.wait(20)
    fit = view.fit
    note = fit.offscale
    (_, _), (y0, y1) = fit.view_range
    assert note.isVisible()
    text = note.toPlainText()
    assert f"network f(x) is {where}: its values run from {theta:.3g} to {theta:.3g}" in text
    assert f"the chart shows y from {y0:.3g} to {y1:.3g}" in text
    box = note.mapRectToScene(note.boundingRect())
    assert fit.plot.vb.sceneBoundingRect().contains(box)  # inside the plot ...
    legend = fit.legend.mapRectToScene(fit.legend.boundingRect())
    assert not box.intersects(legend) and note.zValue() > fit.legend.zValue()  # ... clear of the legend, on top
    image = view.grab().toImage()
    dpr = image.devicePixelRatio()
    reds = 0
    for x in range(int(box.left()) + 2, int(box.right()) - 2, 2):
        for y in range(int(box.top()) + 2, int(box.bottom()) - 2, 2):
            c = image.pixelColor(int(x * dpr), int(y * dpr))
            reds += c.red() > 150 and c.green() < 120 and c.blue() < 120
    assert reds > 40  # dark red text on its white box, not a faint line under the legend
    trainer.params[:] = float(np.mean(trainer.dataset.y_train))  # back on the chart: the note goes
    view.show_snapshot(trainer.snapshot())
    assert not note.isVisible()


def test_axes_show_the_data_values_not_si_scaled_ones(qtbot):
    from reluviz.core.data import Dataset
    from reluviz.plots.training_view import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    x = np.linspace(0.2e-3, 0.5e-3, 40)  # pyqtgraph would label these 200-500 with "x (x0.001)"
    ds = Dataset(x, 1e-3 * x, x, 1e-3 * x, None, None, "tiny")
    view.set_dataset(ds)
    qtbot.wait(10)
    for name in ("bottom", "left"):
        axis = view.fit.plot.getAxis(name)
        assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString() and "(m" not in axis.labelString()
    assert view.loss.plot.getAxis("right").autoSIPrefixScale == 1.0


def test_the_rate_axis_has_no_ticks_without_a_rate(qtbot):
    from reluviz.plots.training_view import TrainingView

    view = TrainingView(panels=("loss",))
    qtbot.addWidget(view)
    right = view.loss.plot.getAxis("right")
    empty = np.empty(0)
    view.loss.set_data(empty, empty, empty, empty, empty, empty)  # nothing yet (or a run stopped at step 0)
    assert right._tickLevels == [[], []]
    steps = np.arange(10)
    view.loss.set_data(steps, np.ones(10), steps, np.ones(10), np.ones(10), np.full(10, 0.02))
    assert right._tickLevels is None  # the rate's own log ticks
    view.loss.set_data(steps, np.ones(10), steps, np.ones(10), np.ones(10), np.zeros(10))  # a stopped run: rate 0
    assert right._tickLevels == [[], []]
