"""The parameter-space view: loss curve / contour with the iterate, distances, the side-by-side dance;
a network too wide for theta* gets a sentence instead of a frozen window."""

import numpy as np
import pytest

from reluviz.core import optimum as optimum_module
from reluviz.core.config import TrainConfig
from reluviz.core.landscape import loss_curve
from reluviz.core.optimum import distance_to_optimum, optimum
from reluviz.core.presets import load_preset
from reluviz.gui.views import DanceView

from helpers import short_run, show

VIEW_CLASS = DanceView  # the ``view`` fixture (conftest.py) makes one


def finite_xy(item):
    x, y = item.getData()
    assert x is not None and len(x) > 0
    return np.asarray(x, float), np.asarray(y, float)


def test_constant_model_parabola_iterate_and_distance(view):
    p = load_preset("constant-model")
    tr, hist, snap = short_run(p.config, 150)
    show(view, snap, hist, tr.dataset, p.config, compare=p.compare)
    x, y = finite_xy(view.curve_plot.full_curve)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    bx, by = finite_xy(view.curve_plot.batch_curve)  # the minibatch's own parabola
    assert np.all(np.isfinite(by))
    theta = float(snap.params[0, 0])
    ix, iy = view.curve_plot.iterate.getData()
    assert ix[0] == pytest.approx(theta)
    ref = loss_curve(snap.layout, tr.dataset.x_train, tr.dataset.y_train, theta_range=(theta, theta), points=1)
    assert iy[0] == pytest.approx(ref.loss[0])
    assert view.curve_plot.star_line.value() == pytest.approx(np.mean(tr.dataset.y_train))
    steps, dist = finite_xy(view.distance_plot.distance)  # log mode: y is log10
    opt = optimum(p.config, tr.dataset, snap.params[0])
    i = int(np.searchsorted(hist.steps, steps[-1]))
    assert 10 ** dist[-1] == pytest.approx(float(distance_to_optimum(hist.params[i, 0], opt)), rel=1e-9)
    assert view.local_button.isHidden() and view.axis_a.isHidden()


def test_output_layer_contour_and_axis_choice(view, qtbot):
    cfg = load_preset("output-only").config.updated({"width": 20})
    tr, hist, snap = short_run(cfg, 300)
    show(view, snap, hist, tr.dataset, cfg)
    img = view.contour_plot.image.image
    assert img is not None and img.shape == (81, 81) and np.isfinite(img).all()
    tx, ty = finite_xy(view.contour_plot.trail)
    assert np.isfinite(tx).all() and np.isfinite(ty).all()
    sx, sy = view.contour_plot.star.getData()
    a, b = view.output_axes()
    opt = optimum(cfg, tr.dataset, snap.params[0])
    assert (sx[0], sy[0]) == pytest.approx((opt.params[a], opt.params[b]))
    view.axis_a.setCurrentIndex(0)
    view.axis_b.setCurrentIndex(cfg.width)  # c
    assert view.output_axes() == (2 * cfg.width, 3 * cfg.width)
    assert view.contour_item.getAxis("left").labelText == "c"
    _, ex = finite_xy(view.distance_plot.excess)
    assert np.isfinite(ex).all()


def test_full_network_local_optimum_on_demand(view, qtbot):
    cfg = load_preset("notebook").config.updated({"width": 10})
    tr, hist, snap = short_run(cfg, 200)
    show(view, snap, hist, tr.dataset, cfg)
    assert not view.local_button.isHidden()
    assert view.distance_plot.distance.getData()[0] is None or len(view.distance_plot.distance.getData()[0]) == 0
    view.find_local_optimum()
    with qtbot.waitSignal(view.optimum_worker.finished_ok, timeout=10000):
        pass
    qtbot.waitUntil(lambda: view._local is not None, timeout=2000)
    x, d = finite_xy(view.distance_plot.distance)
    assert np.isfinite(d).all()
    assert "local optimum" in view.landscape_caption.text()
    local = view._local[0]  # measured to the local optimum found from the displayed step
    assert local.kind == "local" and view._local[1] == snap.step == x[-1]
    assert 10 ** d[-1] == pytest.approx(float(distance_to_optimum(snap.params[0], local)), rel=1e-9)


def _run_dance(view, qtbot, start, steps):
    partials = []
    worker = view.run_dance(start=start, steps=steps)
    worker.partial.connect(partials.append)
    with qtbot.waitSignal(worker.finished_ok, timeout=20000):
        pass
    qtbot.waitUntil(lambda: view.dance_result is not None, timeout=2000)
    return view.dance_result, partials


def test_dance_worker_constant_rate_floor_above_decaying_rate(view, qtbot):
    p = load_preset("dance")
    tr, hist, snap = short_run(p.config, 10)
    show(view, snap, hist, tr.dataset, p.config, compare=p.compare)
    res, partials = _run_dance(view, qtbot, "optimum", 4000)
    assert res.complete and partials
    tr_ = res.trace
    assert tr_.distance.shape == (len(tr_.steps), 2) and np.isfinite(tr_.distance).all()
    assert tr_.distance[0, 0] == pytest.approx(0.0, abs=1e-9)  # both start at theta*
    assert res.floor > tr_.distance[-1, 1]  # constant lr keeps dancing; decaying lr settles closer
    x, y = finite_xy(view.canvas.dance_distance.main)
    x2, y2 = finite_xy(view.canvas.dance_distance.ghost)
    assert len(x) == len(x2) == len(tr_.steps)
    labels = " ".join(view.canvas.dance_legend.labels)
    assert "constant lr" in labels and "decaying lr" in labels


def test_dance_constant_model_default_ghost_scales_with_the_run(view, qtbot):
    p = load_preset("constant-model")
    tr, hist, snap = short_run(p.config, 10)
    show(view, snap, hist, tr.dataset, p.config, compare={})  # no compare settings: the view picks a decay that fits the run's length
    assert view.overrides() == {"schedule": "inverse", "decay": 40.0 / p.config.steps}
    res, _ = _run_dance(view, qtbot, "optimum", p.config.steps)
    assert res.floor > 3 * res.final_ghost


def test_dance_uses_the_presets_compare_settings(view, qtbot):
    p = load_preset("constant-model")
    assert p.compare == {"schedule": "inverse", "decay": 0.1}
    tr, hist, snap = short_run(p.config, 10)
    show(view, snap, hist, tr.dataset, p.config, compare=p.compare)
    assert view.overrides() == p.compare


def test_dance_can_be_cancelled(view, qtbot):
    p = load_preset("dance")
    tr, hist, snap = short_run(p.config, 10)
    show(view, snap, hist, tr.dataset, p.config)
    worker = view.run_dance(start="init", steps=1_000_000)
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=10000)  # (the view, not the worker's signal)
    with qtbot.waitSignal(worker.finished_ok, timeout=10000) as blocker:
        view.cancel_dance()
    assert not blocker.args[0].complete
    assert blocker.args[0].trace.steps[-1] < 1_000_000
    assert view.dance_panel.run_button.isEnabled()


def test_dance_view_on_a_network_too_wide_for_theta_star(view, monkeypatch):
    """train=output at 4,000 points x 5,000 units froze the window 20 s solving for theta*; a local
    optimum or a dance at that width never came back (and a closing window waited for it)."""
    monkeypatch.setattr(optimum_module, "EXACT_OPTIMUM_MAX_FLOPS", 1e4)
    monkeypatch.setattr(optimum_module, "LOCAL_OPTIMUM_MAX_PARAMS", 30)
    cfg = TrainConfig(width=20, n_train=100, batch_size=10, train="output")
    tr, history, snap = short_run(cfg, 3)
    show(view, snap, history, tr.dataset, cfg)
    assert view._mode == "big" and view._opt is None and view.placeholder.isVisible()
    assert "too costly" in view.placeholder.toPlainText()
    assert view.run_dance(steps=50) is None and "Cannot run the dance" in view.dance_panel.status.text()
    full = cfg.updated({"train": "all"})
    tr, history, snap = short_run(full, 3)
    show(view, snap, history, tr.dataset, full)
    assert view._mode == "full" and not view.local_button.isEnabled()
    view.find_local_optimum()
    assert view.optimum_worker is None and "too costly" in view.landscape_caption.text()
    small = TrainConfig(width=3, n_train=20, batch_size=5, train="output")  # small enough: theta* again
    tr, history, snap = short_run(small, 3)
    show(view, snap, history, tr.dataset, small)
    assert view._mode == "output" and view._opt is not None
    assert view._opt.kind == "exact"
    assert view._opt.params == pytest.approx(optimum(small, tr.dataset, snap.params[0]).params)


def test_a_dance_for_an_earlier_preset_is_labelled_not_passed_off_as_current(qtbot, make_window):
    from reluviz.gui.views import DanceView

    w = make_window(None, preset="constant-model")
    dance = next(w.tabs.view_at(i) for i in range(w.tabs.count()) if isinstance(w.tabs.view_at(i), DanceView))
    w.tabs.setCurrentWidget(dance)
    worker = dance.run_dance(steps=300)
    with qtbot.waitSignal(worker.finished_ok, timeout=20000):
        pass
    qtbot.waitUntil(lambda: dance.dance_result is not None, timeout=2000)
    panel = dance.dance_panel
    assert "earlier settings" not in panel.status.text() and "300 steps" in panel.status.text()
    w.load_preset("constant-model")  # the same preset again: a new run on the same data and settings
    assert "earlier settings" not in panel.status.text() and "300 steps" in panel.status.text()
    w.load_preset("notebook")
    w.tabs.setCurrentWidget(dance)
    text = panel.status.text()
    assert "These curves are for earlier settings" in text and "model constant → relu" in text, text
    assert "Run dance" in text
    worker = dance.run_dance(steps=50)  # for the current settings: no longer labelled
    with qtbot.waitSignal(worker.finished_ok, timeout=20000):
        pass
    qtbot.waitUntil(lambda: "50 steps" in panel.status.text(), timeout=2000)
    assert "earlier settings" not in panel.status.text()


def test_gd_oscillates_taylor_line_and_step_and_the_zigzag_on_the_parabola(view):
    """The 1-D landscape of full-batch GD near 2/curvature: the Taylor line at the current theta has
    slope L'(theta) (finite differences of the loss), the step along it ends at GD's next iterate,
    and the recent iterates drawn lie on alternate sides of theta*."""
    p = load_preset("gd-oscillates")
    tr, hist, snap = short_run(p.config, 30)
    ds = tr.dataset
    show(view, snap, hist, ds, p.config, compare=p.compare)
    theta = float(snap.params[0, 0])
    loss = lambda t: float(np.mean((t - ds.y_train) ** 2))  # noqa: E731 (the constant model's MSE)
    h = 1e-6
    fd = (loss(theta + h) - loss(theta - h)) / (2 * h)
    tx, ty = finite_xy(view.curve_plot.taylor)
    slope = (ty[-1] - ty[0]) / (tx[-1] - tx[0])
    assert slope == pytest.approx(fd, rel=1e-6)
    assert np.interp(theta, tx, ty) == pytest.approx(loss(theta), rel=1e-9)  # tangent at the current theta
    sx, sy = finite_xy(view.curve_plot.step_arrow)
    assert sx[0] == pytest.approx(theta)
    tr.run(1)  # GD's next iterate: where the step along the line lands
    assert sx[-1] == pytest.approx(float(tr.snapshot().params[0, 0]), rel=1e-12)
    ex, _ = finite_xy(view.curve_plot.step_end)
    assert ex[0] == pytest.approx(sx[-1])
    star = view.curve_plot.star_line.value()
    dx, _ = finite_xy(view.curve_plot.trail)
    side = np.sign(dx - star)
    assert len(dx) >= 20 and np.all(side[1:] == -side[:-1])
    labels = view.canvas.land_legend.labels
    assert "Taylor line at θ" in labels and "GD step −lr·L′(θ)" in labels
    assert "this minibatch's loss" not in labels  # (full batch: no minibatch parabola, none listed)
    assert "−0.998" in view.landscape_caption.text()
    # "Run dance" starts a full-batch run at its initialisation (at theta* it would stand still)
    assert view.dance_panel.start_combo.currentData() == "init"
    p2 = load_preset("dance")
    tr2, hist2, snap2 = short_run(p2.config, 5)
    show(view, snap2, hist2, tr2.dataset, p2.config, compare=p2.compare)
    assert view.dance_panel.start_combo.currentData() == "optimum"


def test_dance_contour_shows_both_runs_recent_iterates_as_clouds(qapp):
    """The dance preset on the (a, b) plane: the run's and the ghost's recent iterates drawn as
    clouds (hundreds of points) inside the plot, the constant rate's cloud wider than the ghost's."""
    from reluviz.export.plan import plan_training
    from reluviz.plots.dance_canvas import TRAIL, DanceCanvas

    p = load_preset("dance")
    plan = plan_training(p.config.updated({"steps": 3000}), np.array([0, 3000]), compare=p.compare)
    c = DanceCanvas(with_dance=False)
    try:
        c.resize(1280, 720)
        c.show_frame(plan.frame_at(plan.frames[-1], TRAIL))
        assert c.mode == "plane" and c.contour_item.isVisible()
        star = np.array(c.opt.params)
        (x0, x1), (y0, y1) = c.contour_item.vb.viewRange()
        spread = {}
        for name, cloud in (("main", c.contour_plot.main), ("ghost", c.contour_plot.ghost)):
            x, y = cloud.dots.getData()
            assert len(x) >= 300, name
            assert np.all((x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1)), name
            d = np.hypot(x - star[0], y - star[1])
            spread[name] = float(np.sqrt(np.mean(d**2)))
            assert np.any(x < star[0]) and np.any(x > star[0]), name  # around theta*, not beside it
        assert spread["main"] > 2 * spread["ghost"], spread
        assert "ghost θ" in c.land_legend.labels
    finally:
        c.close()
