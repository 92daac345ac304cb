"""Votes: the worksheet's per-point gradient terms, their sums, and the minibatch gradient."""

import numpy as np
import pytest

from reluviz.core import Trainer, make_dataset
from reluviz.core.presets import load_preset
from reluviz.core.model import Layout, point_gradients
from reluviz.core.optimum import optimum
from reluviz.core.votes import compute_votes, point_errors, same_error_pair, select_columns, votes_at


def _exactish(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=0)


def test_constant_model_votes_are_2_over_n_theta_minus_y():
    cfg = load_preset("constant-model").config
    ds = make_dataset(cfg)
    x, y, n = ds.x_train, ds.y_train, ds.n
    theta = 0.37
    v = compute_votes(Layout("constant", 0), np.array([theta]), x, y)
    assert v.names == ("theta",) and v.votes.shape == (n, 1)
    _exactish(v.votes[:, 0], 2.0 / n * (theta - y))
    _exactish(v.full_sum[0], 2.0 * (theta - np.mean(y)))
    # every point with the same error gets the same vote, whatever its x
    y2 = np.full(n, 1.0)
    v2 = compute_votes(Layout("constant", 0), np.array([theta]), x, y2)
    assert np.all(v2.votes == v2.votes[0])


def test_linear_model_votes_are_2_over_n_error_times_x():
    cfg = load_preset("linear-model").config
    ds = make_dataset(cfg)
    x, y, n = ds.x_train, ds.y_train, ds.n
    theta = -0.8
    v = compute_votes(Layout("linear", 0), np.array([theta]), x, y)
    _exactish(v.votes[:, 0], 2.0 / n * (theta * x - y) * x)
    # same error, bigger x: proportionally bigger vote
    v2 = compute_votes(Layout("linear", 0), np.array([1.0]), np.array([0.5, 1.0]), np.array([0.0, 0.5]))
    assert v2.votes[1, 0] == pytest.approx(2 * v2.votes[0, 0])


@pytest.mark.parametrize("preset", ["constant-model", "linear-model", "dance", "output-only"])
def test_votes_balance_at_the_optimum_and_not_elsewhere(preset):
    cfg = load_preset(preset).config
    tr = Trainer(cfg)
    ds, layout = tr.dataset, tr.layout
    opt = optimum(cfg, ds, tr.params[0].copy())
    trainable = np.flatnonzero(opt.mask)
    at_opt = compute_votes(layout, opt.params, ds.x_train, ds.y_train, select=trainable)
    away = compute_votes(layout, tr.params[0], ds.x_train, ds.y_train, select=trainable)
    scale = np.abs(at_opt.votes).sum(axis=0).max()
    assert np.abs(at_opt.full_sum).max() < 1e-9 * scale
    assert np.abs(away.full_sum).max() > 1e-3
    # ...but a minibatch's votes do not balance there
    batch = np.random.default_rng(1).integers(0, ds.n, cfg.batch_size)
    at_opt_b = compute_votes(layout, opt.params, ds.x_train, ds.y_train, batch=batch, select=trainable)
    assert np.abs(at_opt_b.batch_sum).max() > 1e3 * np.abs(at_opt.full_sum).max()


def test_ridge_votes_balance_with_the_regularisers_vote():
    lam = 0.025
    cfg = load_preset("output-only").config.updated({"ridge": lam})
    tr = Trainer(cfg)
    opt = optimum(cfg, tr.dataset, tr.params[0].copy())
    v = compute_votes(tr.layout, opt.params, tr.dataset.x_train, tr.dataset.y_train, select=["v", "c"],
                      ridge=lam, mask=tr.layout.mask(cfg.train))
    np.testing.assert_allclose(v.decay_term, 2 * lam * opt.params[v.columns], rtol=1e-15)  # its vote: 2 lambda theta
    assert np.abs(v.full_sum).max() > 1e-3  # the data alone does not balance...
    assert np.abs(v.full_gradient).max() < 1e-12  # ...the regulariser's vote closes the sum
    frozen = compute_votes(tr.layout, opt.params, tr.dataset.x_train, tr.dataset.y_train, select=["w"],
                           ridge=lam, mask=tr.layout.mask(cfg.train))
    assert not frozen.decay_term.any()  # the ridge reaches only the trained parameters


def test_batch_sum_is_the_minibatch_gradient_with_repeats():
    rng = np.random.default_rng(0)
    layout = Layout("relu", 5)
    x, y = rng.uniform(0, 1, 30), rng.standard_normal(30)
    p = rng.standard_normal(layout.size)
    batch = np.array([3, 7, 7, 12, 29, 3, 3, 0])
    v = compute_votes(layout, p, x, y, batch=batch)
    ref = point_gradients(layout, p, x[batch], y[batch]).sum(axis=0)  # mean-loss gradient over the batch
    np.testing.assert_allclose(v.batch_sum, ref, rtol=1e-12, atol=1e-15)
    assert v.batch_counts[3] == 3 and v.batch_counts[7] == 2 and v.batch_counts.sum() == 8
    assert v.batch_mask.sum() == 5
    np.testing.assert_allclose(v.batch_votes.sum(axis=0), v.batch_sum, rtol=1e-12, atol=1e-15)
    assert np.all(v.batch_votes[~v.batch_mask] == 0)
    # averaged over all N single-point batches, the minibatch gradient is the full gradient
    singles = np.mean([compute_votes(layout, p, x, y, batch=[i]).batch_sum for i in range(30)], axis=0)
    np.testing.assert_allclose(singles, v.full_sum, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("preset", ["linear-model", "dance", "output-only"])
def test_batch_gradient_is_what_the_sgd_step_uses(preset):
    cfg = load_preset(preset).config.updated({"ridge": 0.005})
    tr = Trainer(cfg)
    tr.run(7)
    snap = tr.snapshot()
    v = votes_at(snap, tr.dataset.x_train, tr.dataset.y_train, ridge=cfg.ridge, mask=tr.layout.mask(cfg.train))
    before = tr.params[0].copy()
    tr.run(1)
    step = tr.params[0] - before
    mask = tr.layout.mask(cfg.train)
    np.testing.assert_allclose(step, -snap.lr[0] * v.batch_gradient * mask, rtol=1e-10, atol=1e-15)


def test_full_batch_snapshot_batch_sum_equals_full_sum():
    cfg = load_preset("linear-model").config.updated({"batch_size": 0})
    tr = Trainer(cfg)
    v = votes_at(tr.snapshot(), tr.dataset.x_train, tr.dataset.y_train)
    assert v.batch_size == tr.dataset.n
    np.testing.assert_allclose(v.batch_sum, v.full_sum, rtol=1e-13)


def test_select_columns_by_name():
    layout = Layout("relu", 3)
    assert select_columns(layout, "v[2]").tolist() == [8]
    assert select_columns(layout, ["w", "c"]).tolist() == [0, 2, 4, 9]
    assert select_columns(layout, None).tolist() == list(range(10))
    with pytest.raises(KeyError):
        select_columns(layout, "theta")
    v = compute_votes(layout, np.ones(10), np.linspace(0, 1, 4), np.zeros(4), select=["b[1]", "c"])
    assert v.names == ("b[1]", "c") and v.column("c") == 1


def test_affine_votes_for_a_and_b_are_the_error_times_x_and_the_error():
    cfg = load_preset("dance").config
    ds = make_dataset(cfg)
    x, y, n = ds.x_train, ds.y_train, ds.n
    p = np.array([0.7, -0.2])
    v = compute_votes(Layout("affine", 0), p, x, y, select=["a", "b"])
    assert v.names == ("a", "b")
    err = 0.7 * x - 0.2 - y
    _exactish(v.votes[:, 0], 2.0 / n * err * x)
    _exactish(v.votes[:, 1], 2.0 / n * err)
    _exactish(point_errors(Layout("affine", 0), p, x, y), err)


def test_worksheet_1b_pair_has_the_same_error_and_different_x():
    """Two points with (nearly) the same error theta x_i - y_i far apart in x: under the linear
    model their votes differ by the ratio of their x (worksheet 1(b)); under the constant model
    (error theta - y_i) the same errors give the same votes (1(a))."""
    cfg = load_preset("linear-model").config
    ds = make_dataset(cfg)
    x, y = ds.x_train, ds.y_train
    theta = np.array([0.1])
    err = point_errors(Layout("linear", 0), theta, x, y)
    _exactish(err, 0.1 * x - y)
    i, j = same_error_pair(x, err)
    spread = err.max() - err.min()
    assert abs(err[i] - err[j]) <= 0.03 * spread and x[j] - x[i] > 0.3
    assert min(abs(err[i]), abs(err[j])) >= 0.25 * np.abs(err).max()
    v = compute_votes(Layout("linear", 0), theta, x, y).votes[:, 0]
    assert v[j] / v[i] == pytest.approx((x[j] / x[i]) * (err[j] / err[i]), rel=1e-12)
    assert abs(v[j]) > 1.3 * abs(v[i])
    # no pair: all errors zero, or a single point
    assert same_error_pair(x, np.zeros_like(x)) is None and same_error_pair(x[:1], err[:1]) is None
