"""Hand-written gradients against central finite differences, for every parameter of every model."""

import numpy as np
import pytest

from reluviz.core.config import TrainConfig
from reluviz.core.model import GradientWorkspace, Layout, mse, point_gradients
from reluviz.core.optimizers import Updater


def _loss(layout, p, x, y):
    return float(mse(layout, p, x, y))


def _fd_grad(layout, p, x, y, ridge=0.0, h=1e-6):
    g = np.empty_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e[i] = h
        f = lambda q: _loss(layout, q, x, y) + ridge * float(q @ q)  # the objective, ridge in the notes' form
        g[i] = (f(p + e) - f(p - e)) / (2 * h)
    return g


def _workspace_grad(layout, params, x, y):
    """Gradient of the minibatch MSE from the trainer's workspace, for (R, P) params on one batch."""
    runs = params.shape[0]
    ws = GradientWorkspace(layout, runs, len(x))
    ws.xb1[:, :, 0] = x
    ws.yb[:] = y
    grad = np.empty_like(params)
    loss = ws.loss_and_grad(params, grad).copy()
    return loss, grad


def _random_case(model, width, seed, n=13):
    rng = np.random.default_rng(seed)
    layout = Layout(model, width if model == "relu" else 0)
    x = rng.uniform(-1, 1, n)
    y = rng.standard_normal(n)
    p = rng.standard_normal(layout.size)
    return layout, p, x, y


@pytest.mark.parametrize("model,width", [("relu", 1), ("relu", 7), ("constant", 0), ("linear", 0), ("affine", 0)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_finite_differences(model, width, seed):
    layout, p, x, y = _random_case(model, width, seed)
    loss, grad = _workspace_grad(layout, p[None, :], x, y)
    assert loss[0] == pytest.approx(_loss(layout, p, x, y), rel=1e-12)
    np.testing.assert_allclose(grad[0], _fd_grad(layout, p, x, y), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("model,width", [("relu", 5), ("constant", 0), ("linear", 0), ("affine", 0)])
@pytest.mark.parametrize("ridge", [0.0, 0.3])
def test_sgd_step_moves_along_the_regularised_gradient(model, width, ridge):
    """One SGD update equals p - lr * d/dp [MSE + ridge ||p||^2] (torch's weight_decay = 2 ridge)."""
    layout, p, x, y = _random_case(model, width, 5)
    _, grad = _workspace_grad(layout, p[None, :], x, y)
    cfg = TrainConfig(model=model, optimizer="sgd", ridge=ridge, width=max(width, 1))
    up = Updater(cfg, 1, layout.size, layout.mask("all"))
    new = np.empty((1, layout.size))
    lr = 0.01
    up.apply(0, np.array([[lr]]), p[None, :].copy(), new, grad)
    np.testing.assert_allclose((p - new[0]) / lr, _fd_grad(layout, p, x, y, ridge=ridge), rtol=1e-6, atol=1e-8)


def test_dead_unit_gets_zero_gradient_and_fd_agrees():
    layout = Layout("relu", 3)
    x = np.linspace(0.05, 0.95, 11)
    y = np.sin(3 * x)
    p = np.zeros(layout.size)
    p[layout.index("w")] = [1.0, -2.0, 1.5]
    p[layout.index("b")] = [-0.2, -5.0, -0.7]  # unit 1: -2x - 5 < 0 on [0, 1]: dead
    p[layout.index("v")] = [0.7, 0.9, -0.4]
    p[layout.index("c")] = 0.1
    _, grad = _workspace_grad(layout, p[None, :], x, y)
    for name in ("w", "b", "v"):
        assert layout.get(grad[0], name)[1] == 0.0
    np.testing.assert_allclose(grad[0], _fd_grad(layout, p, x, y), rtol=1e-6, atol=1e-9)


def test_point_on_elbow_uses_zero_derivative():
    """relu'(0) = 0 as in torch: a point exactly at the kink contributes nothing to w, b."""
    layout = Layout("relu", 1)
    p = np.array([2.0, -1.0, 3.0, 0.0])  # elbow at x = 0.5
    x = np.array([0.5])
    y = np.array([1.0])
    _, grad = _workspace_grad(layout, p[None, :], x, y)
    assert grad[0, 0] == 0.0 and grad[0, 1] == 0.0
    assert grad[0, 3] == pytest.approx(2 * (0.0 - 1.0))


def test_many_runs_match_single_runs():
    layout = Layout("relu", 6)
    rng = np.random.default_rng(9)
    x, y = rng.uniform(0, 1, 17), rng.standard_normal(17)
    params = rng.standard_normal((4, layout.size))
    loss, grad = _workspace_grad(layout, params, x, y)
    for r in range(4):
        l1, g1 = _workspace_grad(layout, params[r : r + 1].copy(), x, y)
        np.testing.assert_allclose(grad[r], g1[0], rtol=1e-13, atol=1e-15)
        assert loss[r] == pytest.approx(l1[0], rel=1e-13)


@pytest.mark.parametrize("model,width", [("relu", 8), ("constant", 0), ("linear", 0), ("affine", 0)])
def test_point_gradients_sum_to_full_gradient(model, width):
    layout, p, x, y = _random_case(model, width, 3, n=25)
    votes = point_gradients(layout, p, x, y)
    assert votes.shape == (25, layout.size)
    _, grad = _workspace_grad(layout, p[None, :], x, y)
    np.testing.assert_allclose(votes.sum(axis=0), grad[0], rtol=1e-10, atol=1e-12)


def test_affine_runs_side_by_side_match_one_run_each():
    """R affine runs in one workspace (the seed sweeps' path) give each run's own loss and gradient."""
    layout = Layout("affine", 0)
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 1, 9), rng.standard_normal(9)
    params = rng.standard_normal((3, 2))
    loss, grad = _workspace_grad(layout, params, x, y)
    for r in range(3):
        a, b = params[r]
        res = a * x + b - y
        assert loss[r] == pytest.approx(np.mean(res**2), rel=1e-13)
        np.testing.assert_allclose(grad[r], [2 * np.mean(res * x), 2 * np.mean(res)], rtol=1e-12)
