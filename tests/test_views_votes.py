"""The votes view draws the core's per-point votes and both sums, and says so when there are too
many votes to draw live."""

import numpy as np
import pytest

from reluviz.core.config import TrainConfig
from reluviz.core.optimum import optimum
from reluviz.core.presets import load_preset
from reluviz.core.votes import compute_votes, votes_at
from reluviz.plots import votes_canvas as votes_module
from reluviz.gui.views import VotesView

from helpers import short_run, show

VIEW_CLASS = VotesView  # the ``view`` fixture (conftest.py) makes one


def bars(item):
    return np.asarray(item.opts["x"], float), np.asarray(item.opts["height"], float)


def test_constant_model_bar_heights_are_2_over_n_theta_minus_y(view):
    cfg = load_preset("constant-model").config
    tr, hist, snap = short_run(cfg, 37)
    show(view, snap, hist, tr.dataset, cfg)
    ds = tr.dataset
    theta, n = float(snap.params[0, 0]), ds.n
    x, h = bars(view.votes_plot.bars)
    np.testing.assert_array_equal(x, ds.x_train)
    np.testing.assert_allclose(h, 2.0 / n * (theta - ds.y_train), rtol=1e-14, atol=0)
    # the minibatch's points are highlighted, with their own votes
    bx, bh = bars(view.votes_plot.batch_bars)
    in_batch = np.unique(snap.batch[0])
    np.testing.assert_array_equal(np.sort(bx), np.sort(ds.x_train[in_batch]))
    core = votes_at(snap, ds.x_train, ds.y_train)
    full, batch = view.sums_plot.values
    assert full == pytest.approx(core.full_sum[0], rel=1e-12)
    assert batch == pytest.approx(core.batch_sum[0], rel=1e-12)
    assert view.parameter() == "theta" and view.kind_combo.isHidden()
    assert "Minibatch gradient" in view.summary.text()


def test_at_the_optimum_the_votes_balance_but_the_minibatch_does_not(view):
    cfg = load_preset("linear-model").config
    tr, hist, snap = short_run(cfg, 20)
    show(view, snap, hist, tr.dataset, cfg)
    view.at_optimum.setChecked(True)
    full, batch = view.sums_plot.values
    assert abs(full) < 1e-12
    assert abs(batch) > 1e-3
    star = optimum(cfg, tr.dataset, snap.params[0]).params
    ds = tr.dataset
    _, h = bars(view.votes_plot.bars)
    np.testing.assert_allclose(h, 2.0 / ds.n * (star[0] * ds.x_train - ds.y_train) * ds.x_train, rtol=1e-12)
    assert view.sums_plot.labels[0].toPlainText() == "≈ 0"


def test_with_a_ridge_the_regularisers_vote_balances_the_data_at_the_ridge_optimum(view):
    """theta* = sum xy / (sum x^2 + N lambda): there the data's votes sum to -2 lambda theta*, the
    regulariser's own vote, and the full-batch gradient of the objective vanishes."""
    cfg = load_preset("linear-model").config.updated({"ridge": 0.5})
    tr, hist, snap = short_run(cfg, 20)
    show(view, snap, hist, tr.dataset, cfg)
    view.at_optimum.setChecked(True)
    ds = tr.dataset
    star = (ds.x_train @ ds.y_train) / (ds.x_train @ ds.x_train + 0.5 * ds.n)
    _, h = bars(view.votes_plot.bars)
    assert h.sum() == pytest.approx(-2 * 0.5 * star, rel=1e-12)  # the data's votes...
    assert view.sums_plot.ridge_value == pytest.approx(2 * 0.5 * star, rel=1e-12)  # ...against the ridge's
    heights = list(view.sums_plot.bars.opts["height"])
    assert heights[:2] == pytest.approx([-star, star], rel=1e-12) and abs(heights[2]) < 1e-12
    assert [t for _x, t in view.sums_plot.plot.getAxis("bottom")._tickLevels[0]] == ["Σ votes", "2λθ", "full", "batch"]
    assert "the ridge's vote 2λθ" in view.summary.text()


def test_relu_parameter_choice_and_unit_selection(view):
    cfg = load_preset("notebook").config.updated({"width": 12})
    tr, hist, snap = short_run(cfg, 50)
    show(view, snap, hist, tr.dataset, cfg)
    assert not view.kind_combo.isHidden()
    ds = tr.dataset
    for name in ("v[3]", "w[7]", "b[0]", "c"):
        view.set_parameter(name)
        assert view.parameter() == name
        core = compute_votes(snap.layout, snap.params[0], ds.x_train, ds.y_train, batch=snap.batch[0], select=[name])
        _, h = bars(view.votes_plot.bars)
        np.testing.assert_allclose(h, core.votes[:, 0], rtol=1e-12, atol=1e-300)
        assert view.sums_plot.values[1] == pytest.approx(core.batch_sum[0], rel=1e-12, abs=1e-300)
    view.select_unit(5)
    assert view.parameter() == "v[5]"
    assert not view.at_optimum.isEnabled()  # no closed-form theta* when the hidden layer trains


def test_votes_view_says_when_there_are_too_many_votes(view, monkeypatch):
    """N x P votes are computed on every frame: 100,000 points x 601 parameters took 3.7 s a frame."""
    monkeypatch.setattr(votes_module, "VOTES_LIMIT", 1000)
    cfg = TrainConfig(width=20, n_train=100, batch_size=10)
    tr, history, snap = short_run(cfg, 3)
    show(view, snap, history, tr.dataset, cfg)
    assert view.last_votes is None and "Too many votes" in view.summary.text()
    assert "6,100" not in view.summary.text() and "100 training points" in view.summary.text()
    monkeypatch.setattr(votes_module, "VOTES_LIMIT", 10_000)  # a smaller run draws again
    show(view, snap, history, tr.dataset, cfg)
    assert view.last_votes is not None and len(view.last_votes.votes) == 100


# ---------------------------------------------------------------------- worksheet 1(b): errors beside votes
def test_linear_model_errors_beside_votes_and_the_same_error_pair(view):
    """The errors panel holds f(x_i) - y_i = theta x_i - y_i; the pair has (nearly) the same error and
    different x, and their votes differ by exactly the ratio of their x (vote = 2/N error x_i)."""
    cfg = load_preset("linear-model").config
    tr, hist, snap = short_run(cfg, 60)
    show(view, snap, hist, tr.dataset, cfg)
    ds = tr.dataset
    theta = float(snap.params[0, 0])
    ex, eh = bars(view.errors_plot.bars)
    np.testing.assert_array_equal(ex, ds.x_train)
    np.testing.assert_allclose(eh, theta * ds.x_train - ds.y_train, rtol=1e-14, atol=1e-15)
    pair = view.canvas.pair
    assert pair is not None
    i, j = pair
    spread = eh.max() - eh.min()
    assert abs(eh[i] - eh[j]) <= 0.03 * spread and ds.x_train[j] - ds.x_train[i] > 0.3
    _, vh = bars(view.votes_plot.bars)
    assert vh[j] / vh[i] == pytest.approx((eh[j] * ds.x_train[j]) / (eh[i] * ds.x_train[i]), rel=1e-12)
    assert abs(vh[j]) > 1.5 * abs(vh[i])  # same error, the point farther out votes harder
    # both panels highlight the same two points, at their own heights
    px, ph = bars(view.votes_plot.pair_bars)
    np.testing.assert_array_equal(px, ds.x_train[[i, j]])
    np.testing.assert_allclose(ph, vh[[i, j]])
    qx, qh = bars(view.errors_plot.pair_bars)
    np.testing.assert_array_equal(qx, ds.x_train[[i, j]])
    np.testing.assert_allclose(qh, eh[[i, j]])
    text = view.summary.text()
    assert "Same error, different x" in text and "2/N × error × xᵢ" in text
    assert f"x = {ds.x_train[i]:.2g}" in text and f"x = {ds.x_train[j]:.2g}" in text
    # the legend lists exactly what is drawn, in a row of its own
    assert view.canvas.legend.labels == ["vote (2/N)(θxᵢ − yᵢ)xᵢ", "in this minibatch", "error f(xᵢ) − yᵢ",
                                         "same error, different x"]
    # the two panels share the x axis
    assert view.canvas.votes_item.vb.viewRange()[0] == pytest.approx(view.canvas.errors_item.vb.viewRange()[0])


def test_constant_model_same_error_same_vote(view):
    cfg = load_preset("constant-model").config
    tr, hist, snap = short_run(cfg, 30)
    show(view, snap, hist, tr.dataset, cfg)
    i, j = view.canvas.pair
    _, eh = bars(view.errors_plot.bars)
    _, vh = bars(view.votes_plot.bars)
    np.testing.assert_allclose(vh, 2.0 / tr.dataset.n * eh, rtol=1e-12)  # vote = (2/N) error, x plays no part
    assert vh[i] == pytest.approx(vh[j], rel=0.1)
    assert "x does not matter" in view.summary.text()


def test_affine_model_offers_a_and_b(view):
    cfg = load_preset("dance").config
    tr, hist, snap = short_run(cfg, 40)
    show(view, snap, hist, tr.dataset, cfg)
    ds = tr.dataset
    a, b = (float(t) for t in snap.params[0])
    assert view.parameter() == "a" and not view.affine_combo.isHidden() and view.kind_combo.isHidden()
    err = a * ds.x_train + b - ds.y_train
    _, vh = bars(view.votes_plot.bars)
    np.testing.assert_allclose(vh, 2.0 / ds.n * err * ds.x_train, rtol=1e-12, atol=1e-15)
    assert "votes for a, the slope" in view.canvas.caption.text()
    view.set_parameter("b")
    assert view.parameter() == "b" == view.canvas.parameter()
    _, vh = bars(view.votes_plot.bars)
    np.testing.assert_allclose(vh, 2.0 / ds.n * err, rtol=1e-12, atol=1e-15)
    assert "votes for b, the intercept" in view.canvas.caption.text()
    core = compute_votes(snap.layout, snap.params[0], ds.x_train, ds.y_train, select=["b"])
    assert view.sums_plot.values[0] == pytest.approx(core.full_sum[0], rel=1e-12)


def test_relu_net_has_no_error_panel_and_the_canvas_default_is_c(qtbot):
    """Without the app's controls (an export) a relu net's votes are for c, the output bias: each is
    (2/N) times the point's error."""
    from reluviz.plots.votes_canvas import VotesCanvas

    canvas = VotesCanvas()
    qtbot.addWidget(canvas)
    cfg = load_preset("notebook").config.updated({"width": 6, "n_train": 40, "batch_size": 8})
    tr, hist, snap = short_run(cfg, 20)
    show(canvas, snap, hist, tr.dataset, cfg)
    ds = tr.dataset
    assert canvas.parameter() == "c" and not canvas.errors_item.isVisible()
    core = compute_votes(snap.layout, snap.params[0], ds.x_train, ds.y_train, select=["c"])
    _, vh = bars(canvas.votes_plot.bars)
    np.testing.assert_allclose(vh, core.votes[:, 0], rtol=1e-12)
    assert "votes for c, the output bias" in canvas.caption.text()
    assert "error f(xᵢ) − yᵢ" not in " ".join(canvas.legend.labels)
    # back to a linear model: the panel returns
    lin = load_preset("linear-model").config
    tr2, hist2, snap2 = short_run(lin, 5)
    show(canvas, snap2, hist2, tr2.dataset, lin)
    assert canvas.parameter() == "theta" and canvas.errors_item.isVisible() and canvas.pair is not None


def _qualifies(pair, x, e):
    i, j = pair
    spread = e.max() - e.min()
    return (abs(e[i] - e[j]) <= 0.03 * spread and min(abs(e[i]), abs(e[j])) >= 0.25 * np.abs(e).max()
            and abs(x[j] - x[i]) >= 0.5 * np.ptp(x))


def test_the_pair_stays_while_it_qualifies_and_moves_on_when_it_does_not(view):
    """An animation keeps highlighting the same two points while their errors stay (nearly) equal,
    instead of jumping to each frame's farthest pair; once they differ the core's pair is drawn."""
    from reluviz.core.votes import point_errors, same_error_pair

    cfg = load_preset("linear-model").config
    tr, hist, snap = short_run(cfg, 5)  # (early on several pairs qualify)
    ds = tr.dataset
    x, layout = ds.x_train, snap.layout
    show(view, snap, hist, ds, cfg)
    farthest = view.canvas.pair
    e = view.canvas.errors
    # another pair of the same kind, not the farthest: the one the canvas drew before, say
    others = [(a, b) for a in range(ds.n) for b in range(ds.n)
              if x[a] < x[b] and (a, b) != farthest and _qualifies((a, b), x, e)]
    assert others
    held = others[0]
    view.canvas.pair = held
    kept = moved = 0
    for steps in (1, 1, 1, 5, 10, 40, 80, 200):  # (one run, one dataset: as the app's frames)
        tr.run(steps)
        snap2 = tr.snapshot()
        show(view, snap2, None, ds, cfg)
        e = point_errors(layout, snap2.params[0], x, ds.y_train)
        if _qualifies(held, x, e):
            assert view.canvas.pair == held
            kept += 1
        else:
            assert view.canvas.pair == same_error_pair(x, e)
            held = view.canvas.pair
            moved += 1
    assert kept >= 1


def test_the_app_and_the_export_draw_through_the_same_canvases(views):
    from reluviz.plots.canvases import canvas_class

    by_name = {v.view_name: v for v in views}
    assert type(by_name["votes"].canvas) is canvas_class("votes")
    assert type(by_name["elbows"].canvas) is canvas_class("elbows")
