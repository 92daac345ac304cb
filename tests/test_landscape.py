"""Loss landscapes equal direct MSE evaluation; the 2-D grid is cheap at width 100."""

import time

import numpy as np
import pytest

from reluviz.core import TrainConfig, Trainer, make_dataset
from reluviz.core.landscape import (
    OutputQuadratic,
    default_output_axes,
    loss_curve,
    output_axes,
    output_loss_grid,
    project_trail,
)
from reluviz.core.model import Layout, mse
from reluviz.core.optimum import optimum


@pytest.mark.parametrize("model", ["constant", "linear"])
@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_loss_curve_equals_direct_mse(model, lam):
    cfg = TrainConfig(model=model, target="abs", n_train=40, noise=0.1, ridge=lam)
    ds = make_dataset(cfg)
    layout = Layout(model, 0)
    x, y = ds.x_train, ds.y_train
    batch = np.array([1, 5, 5, 17])
    curve = loss_curve(layout, x, y, batch=batch, around=[3.0], ridge=lam)
    assert curve.theta[0] < 3.0 < curve.theta[-1]  # the window reaches theta = 3
    for k in (0, 37, 100, 200):
        t = curve.theta[k]
        direct = float(mse(layout, np.array([t]), x, y)) + lam * t * t
        assert curve.loss[k] == pytest.approx(direct, rel=1e-11)
        direct_b = float(mse(layout, np.array([t]), x[batch], y[batch])) + lam * t * t
        assert curve.batch_loss[k] == pytest.approx(direct_b, rel=1e-11)
    # the curve's minimiser is the closed-form optimum, and the minibatch's differs from it
    opt = optimum(cfg, ds, np.zeros(1))
    assert curve.theta_star == pytest.approx(opt.params[0], rel=1e-12)
    assert curve.loss_star == pytest.approx(opt.objective, rel=1e-12)
    assert abs(curve.batch_theta_star - curve.theta_star) > 1e-3
    assert curve.loss.min() >= curve.loss_star - 1e-15


#: random features: a relu net training only its output layer (a convex least-squares bowl in v, c)
RANDOM_FEATURES = TrainConfig(target="sin20", n_train=200, noise=0.1, model="relu", width=20, init="uniform_elbows",
                              train="output", optimizer="sgd", lr=0.05, batch_size=5, steps=20000)


def _dance(width=20, lam=0.0):
    cfg = RANDOM_FEATURES.updated({"width": width, "ridge": lam})
    tr = Trainer(cfg)
    opt = optimum(cfg, tr.dataset, tr.params[0].copy())
    quad = OutputQuadratic(tr.layout, opt.params, tr.dataset.x_train, tr.dataset.y_train, lam)
    return cfg, tr, opt, quad


@pytest.mark.parametrize("lam", [0.0, 0.005])
def test_output_grid_equals_direct_mse(lam):
    cfg, tr, opt, quad = _dance(lam=lam)
    lay, x, y = tr.layout, tr.dataset.x_train, tr.dataset.y_train
    axes = output_axes(lay, ["v[3]", "c"])
    grid = output_loss_grid(quad, opt.params, axes, points=(31, 23), half_width=(0.5, 0.2))
    assert grid.loss.shape == (23, 31) and grid.names == ("v[3]", "c")
    rng = np.random.default_rng(0)
    for _ in range(12):
        l, k = rng.integers(31), rng.integers(23)
        p = opt.params.copy()
        p[axes[0]], p[axes[1]] = grid.a[l], grid.b[k]
        mask = lay.mask("output")
        direct = float(mse(lay, p, x, y)) + lam * float(np.sum((p * mask) ** 2))
        assert grid.loss[k, l] == pytest.approx(direct, rel=1e-9)
    # theta* is the minimum of the slice through it (centre of an odd grid)
    assert np.unravel_index(np.argmin(grid.loss), grid.loss.shape) == (11, 15)


def test_quadratic_value_and_gradient_at_any_iterate():
    cfg, tr, opt, quad = _dance()
    tr.run(50)
    p = tr.params[0].copy()
    lay, x, y = tr.layout, tr.dataset.x_train, tr.dataset.y_train
    assert quad.value(p) == pytest.approx(float(mse(lay, p, x, y)), rel=1e-12)
    from reluviz.core.model import point_gradients

    ref = point_gradients(lay, p, x, y).sum(axis=0)[quad.out]
    np.testing.assert_allclose(quad.gradient(p), ref, rtol=1e-10, atol=1e-14)
    q = p.copy()
    q[0] += 1.0  # different hidden weights: the quadratic does not apply
    with pytest.raises(ValueError):
        quad.value(q)


def test_grid_60x60_at_width_100_is_fast():
    cfg, tr, opt, quad = _dance(width=100)
    lay, x, y = tr.layout, tr.dataset.x_train, tr.dataset.y_train
    best = np.inf
    for _ in range(5):
        t = time.perf_counter()
        q = OutputQuadratic(lay, opt.params, x, y)
        grid = output_loss_grid(q, opt.params, default_output_axes(q))
        best = min(best, time.perf_counter() - t)
    assert grid.loss.shape == (60, 60)
    assert best < 1.0  # a hang guard: 0.3 ms here (the app redraws the contour on every frame)


def test_trail_projection_and_window():
    cfg, tr, opt, quad = _dance()
    from reluviz.core import History

    h = History.for_trainer(tr)
    tr.run(30, on_step=h.record)
    axes = default_output_axes(quad)
    trail = project_trail(h.params, axes)
    assert trail.shape == (30, 2)
    assert np.array_equal(trail[:, 0], h.params[:, 0, axes[0]])
    grid = output_loss_grid(quad, opt.params, axes, trail=h.params[:, 0])
    assert grid.a[0] <= trail[:, 0].min() and trail[:, 0].max() <= grid.a[-1]
    assert grid.b[0] <= trail[:, 1].min() and trail[:, 1].max() <= grid.b[-1]
    with pytest.raises(ValueError):
        output_axes(tr.layout, ["w[0]", "c"])


@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_affine_grid_is_the_whole_loss_over_a_and_b(lam):
    """For y = a x + b the (a, b) plane is the whole parameter space: every grid value is the
    objective of that line, computed directly, and the grid's minimum sits at theta*."""
    cfg = TrainConfig(model="affine", target="line", n_train=50, noise=0.5, ridge=lam)
    ds = make_dataset(cfg)
    lay = Layout("affine", 0)
    opt = optimum(cfg, ds, np.zeros(2))
    quad = OutputQuadratic(lay, opt.params, ds.x_train, ds.y_train, lam)
    assert default_output_axes(quad) == (0, 1)
    grid = output_loss_grid(quad, opt.params, (0, 1), points=(41, 31), half_width=(1.5, 0.8))
    assert grid.names == ("a", "b") and grid.loss.shape == (31, 41)
    for k, l in ((0, 0), (30, 40), (15, 20), (7, 33)):
        p = np.array([grid.a[l], grid.b[k]])
        direct = float(mse(lay, p, ds.x_train, ds.y_train)) + lam * float(p @ p)
        assert grid.loss[k, l] == pytest.approx(direct, rel=1e-11)
    assert np.unravel_index(np.argmin(grid.loss), grid.loss.shape) == (15, 20)  # the centre: theta*
    assert quad.value(np.array([[0.3, 0.2]]))[0] == pytest.approx(
        float(mse(lay, np.array([0.3, 0.2]), ds.x_train, ds.y_train)) + lam * 0.13, rel=1e-12)
