"""The votes view draws the core's per-point votes and both sums, and says so when there are too
many votes to draw live."""

import numpy as np
import pytest

from reluviz.core.config import TrainConfig
from reluviz.core.optimum import optimum
from reluviz.core.presets import load_preset
from reluviz.core.votes import compute_votes, votes_at
from reluviz.gui.views import votes_view as votes_module
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
