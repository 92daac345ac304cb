"""Deep networks and other activations: layout, forward pass, hand-written gradients (issue 12)."""

import numpy as np
import pytest

from reluviz.core import deep
from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.init import init_params
from reluviz.core.model import GradientWorkspace, Layout, mse, point_gradients, predict, unit_outputs
from reluviz.core.optimizers import Updater
from reluviz.core.trainer import Trainer

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")


def _fd_grad(layout, p, x, y, ridge=0.0, h=1e-6):
    f = lambda q: float(mse(layout, q, x, y)) + ridge * float(q @ q)  # the objective, ridge lambda ||q||^2  # noqa: E731
    g = np.empty_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e[i] = h
        g[i] = (f(p + e) - f(p - e)) / (2 * h)
    return g


def _workspace_grad(layout, params, x, y):
    ws = GradientWorkspace(layout, params.shape[0], x.shape[-1])
    ws.xb1[:, :, 0] = x
    ws.yb[:] = y
    grad = np.empty_like(params)
    loss = ws.loss_and_grad(params, grad).copy()
    return loss, grad


def _compose(layout, p, x):
    """f(x) written out layer by layer with plain NumPy (the definition, no shared code)."""
    acts = {"relu": lambda z: np.maximum(z, 0), "leaky_relu": lambda z: np.where(z > 0, z, layout.slope * z),
            "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    act = acts[layout.activation]
    h_ = layout.width
    w, b = p[0 : 2 * h_ : 2], p[1 : 2 * h_ : 2]
    hid = act(np.outer(w, x) + b[:, None])
    at = 2 * h_
    for _ in range(layout.depth - 1):
        mat = p[at : at + h_ * h_].reshape(h_, h_)
        bias = p[at + h_ * h_ : at + h_ * h_ + h_]
        hid = act(mat @ hid + bias[:, None])
        at += h_ * h_ + h_
    return p[at : at + h_] @ hid + p[at + h_]


def _case(depth, activation, width=4, seed=0, n=11):
    rng = np.random.default_rng(seed)
    layout = Layout("relu", width, depth, activation, 0.15)
    return layout, rng.standard_normal(layout.size), rng.uniform(-1, 1, n), rng.standard_normal(n)


# ---------------------------------------------------------------------- layout
@pytest.mark.parametrize("depth", [1, 2, 4])
def test_layout_names_every_flat_entry_once(depth):
    lay = Layout("relu", 5, depth)
    assert lay.size == 3 * 5 + 1 + (depth - 1) * 30
    seen = np.zeros(lay.size, dtype=int)
    for name in lay.names():
        seen[np.arange(lay.size)[lay.index(name)]] += 1
    assert np.all(seen == 1)
    assert len(lay.unit_names()) == lay.size and len(set(lay.unit_names())) == lay.size
    p = np.arange(float(lay.size))
    assert lay.get(p, "v")[0] == lay.output_start and lay.get(p, "c") == lay.size - 1
    if depth > 1:
        w2 = lay.get(np.stack([p, p + 1]), "w2")
        assert w2.shape == (2, 5, 5) and w2[0, 1, 0] == lay.layer_start(2) + 5  # row-major (out, in)
        assert lay.unit_names()[lay.layer_start(2) + 5] == "w2[1,0]"
    assert lay.names()[-2:] == ("v", "c") and lay.names()[:2] == ("w", "b")
    assert np.array_equal(lay.mask("output"), np.arange(lay.size) >= lay.output_start)
    assert np.array_equal(lay.mask("hidden"), np.arange(lay.size) < lay.output_start)


def test_depth_one_relu_layout_is_unchanged():
    lay = Layout.for_config(TrainConfig(width=7))
    assert lay == Layout("relu", 7) and not lay.general and lay.size == 22
    assert lay.names() == ("w", "b", "v", "c") and lay.index("v") == slice(14, 21) and lay.index("c") == 21
    assert Layout.for_config(TrainConfig(width=7, activation="tanh")).general
    assert Layout.for_config(TrainConfig(width=7, depth=2)).general


def test_depth_and_activation_settings_are_checked():
    with pytest.raises(ConfigError, match="depth must be a whole number from 1 to 4"):
        TrainConfig(depth=5).validate()
    with pytest.raises(ConfigError, match="activation must be one of relu, leaky_relu, tanh, sigmoid"):
        TrainConfig().updated({"activation": "gelu"})
    with pytest.raises(ConfigError, match="leaky_slope"):
        TrainConfig().updated({"leaky_slope": 1.0})


# ---------------------------------------------------------------------- forward
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_forward_is_the_composition_of_the_layers(depth, activation):
    layout, p, x, _ = _case(depth, activation, seed=depth)
    np.testing.assert_allclose(predict(layout, p, x), _compose(layout, p, x), rtol=1e-12, atol=1e-12)
    two = np.stack([p, -p])
    np.testing.assert_allclose(predict(layout, two, x)[1], _compose(layout, -p, x), rtol=1e-12, atol=1e-12)
    contrib = unit_outputs(layout, p, x)
    np.testing.assert_allclose(contrib.sum(axis=0) + layout.get(p, "c"), _compose(layout, p, x), rtol=1e-11)


def test_the_general_code_agrees_with_the_depth_one_relu_fast_path():
    """leaky_relu with slope 0 is relu: the general code gives the fast path's numbers."""
    rng = np.random.default_rng(3)
    fast, general = Layout("relu", 6), Layout("relu", 6, 1, "leaky_relu", 0.0)
    assert general.general and not fast.general
    p, x, y = rng.standard_normal(fast.size), rng.uniform(0, 1, 30), rng.standard_normal(30)
    np.testing.assert_allclose(predict(general, p, x), predict(fast, p, x), rtol=1e-14)
    params = np.stack([p, p * 0.5, -p])
    loss_f, grad_f = _workspace_grad(fast, params, np.tile(x, (3, 1)), np.tile(y, (3, 1)))
    loss_g, grad_g = _workspace_grad(general, params, np.tile(x, (3, 1)), np.tile(y, (3, 1)))
    np.testing.assert_allclose(loss_g, loss_f, rtol=1e-14)
    np.testing.assert_allclose(grad_g, grad_f, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(point_gradients(general, p, x, y), point_gradients(fast, p, x, y), rtol=1e-12,
                               atol=1e-15)


# ---------------------------------------------------------------------- gradients
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_matches_finite_differences(depth, activation, seed):
    layout, p, x, y = _case(depth, activation, seed=seed)  # (depth-1 relu: the fast path, checked too)
    loss, grad = _workspace_grad(layout, p[None, :], x, y)
    assert loss[0] == pytest.approx(float(mse(layout, p, x, y)), rel=1e-12)
    np.testing.assert_allclose(grad[0], _fd_grad(layout, p, x, y), rtol=1e-5, atol=1e-7)
    # each point's vote sums to the full-batch gradient
    np.testing.assert_allclose(point_gradients(layout, p, x, y).sum(axis=0), grad[0], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_runs_side_by_side_get_their_own_gradients(activation):
    """R runs in one workspace (different parameters and batches) = each run alone."""
    rng = np.random.default_rng(7)
    layout = Layout("relu", 5, 3, activation, 0.1)
    params = rng.standard_normal((3, layout.size))
    x, y = rng.uniform(0, 1, (3, 9)), rng.standard_normal((3, 9))
    loss, grad = _workspace_grad(layout, params, x, y)
    for r in range(3):
        loss1, grad1 = _workspace_grad(layout, params[r : r + 1], x[r], y[r])
        np.testing.assert_allclose(loss[r], loss1[0], rtol=1e-13)
        np.testing.assert_allclose(grad[r], grad1[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("ridge", [0.0, 0.15])
def test_sgd_step_of_a_deep_net_moves_along_the_regularised_gradient(activation, ridge):
    layout, p, x, y = _case(3, activation, seed=4)
    _, grad = _workspace_grad(layout, p[None, :], x, y)
    cfg = TrainConfig(optimizer="sgd", ridge=ridge, width=4, depth=3, activation=activation)
    up = Updater(cfg, 1, layout.size, layout.mask("all"))
    new = np.empty((1, layout.size))
    up.apply(0, np.array([[0.01]]), p[None, :].copy(), new, grad)
    np.testing.assert_allclose((p - new[0]) / 0.01, _fd_grad(layout, p, x, y, ridge=ridge), rtol=1e-5, atol=1e-7)


def test_a_dead_unit_of_layer_two_gets_zero_gradient_and_passes_none_back():
    layout = Layout("relu", 3, 2)
    rng = np.random.default_rng(5)
    x = np.linspace(0.05, 0.95, 11)
    y = np.sin(3 * x)
    p = rng.standard_normal(layout.size)
    b2 = layout.index("b2")
    p[b2.start + 1] = -50.0  # unit 1 of layer 2: W2 h1 - 50 < 0 on every point: dead
    _, grad = _workspace_grad(layout, p[None, :], x, y)
    g = grad[0]
    assert np.all(layout.get(g, "w2")[1] == 0.0) and layout.get(g, "b2")[1] == 0.0
    assert layout.get(g, "v")[1] == 0.0
    np.testing.assert_allclose(g, _fd_grad(layout, p, x, y), rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------- init and training
def test_init_of_deeper_layers():
    shallow, deep3 = Layout("relu", 16), Layout("relu", 16, 3)
    p1 = init_params(shallow, "uniform_elbows", 4, (0.0, 1.0))
    p3 = init_params(deep3, "uniform_elbows", 4, (0.0, 1.0))
    for name in ("w", "b", "v", "c"):  # the first and output layers start as the depth-1 net's
        assert np.array_equal(deep3.get(p3, name), shallow.get(p1, name))
    for k in (2, 3):
        w_k, b_k = deep3.get(p3, f"w{k}"), deep3.get(p3, f"b{k}")
        assert np.all(np.abs(w_k) <= 0.25) and np.all(np.abs(b_k) <= 0.25) and w_k.std() > 0.1  # U(-1/4, 1/4)
    he = init_params(deep3, "he", 4, (0.0, 1.0))
    assert np.all(deep3.get(he, "b2") == 0) and 0.25 < deep3.get(he, "w2").std() < 0.45  # N(0, 2/16)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_a_deep_net_learns(activation):
    cfg = TrainConfig(target="abs", n_train=80, width=8, depth=3, activation=activation, optimizer="adam",
                      lr=0.01, batch_size=20)
    tr = Trainer(cfg)
    before = float(mse(tr.layout, tr.params[0], tr.dataset.x_train, tr.dataset.y_train))
    tr.run(1500)
    after = float(mse(tr.layout, tr.params[0], tr.dataset.x_train, tr.dataset.y_train))
    assert after < 0.2 * before


def test_activation_derivatives_are_the_slopes_of_the_activations():
    z = np.linspace(-6, 6, 1001)
    for kind in ACTIVATIONS:
        a = deep.activate(kind, 0.2, z)
        num = (deep.activate(kind, 0.2, z + 1e-6) - deep.activate(kind, 0.2, z - 1e-6)) / 2e-6
        away = np.abs(z) > 1e-3  # (the kinks of relu and leaky relu)
        np.testing.assert_allclose(deep.derivative(kind, 0.2, z, a)[away], num[away], rtol=1e-6, atol=1e-9)
    assert deep.derivative("relu", 0.0, np.zeros(1), np.zeros(1))[0] == 0.0  # relu'(0) = 0 as torch
    assert deep.derivative("leaky_relu", 0.2, np.zeros(1), np.zeros(1))[0] == 0.2


# ---------------------------------------------------------------------- the lecture maths on deep nets
def test_the_output_layer_optimum_of_a_deep_net_is_least_squares_on_its_last_layer():
    """train=output: f is linear in (v, c) with the last hidden layer as features: theta* exact."""
    from reluviz.core.data import make_dataset
    from reluviz.core.landscape import OutputQuadratic
    from reluviz.core.optimum import objective, objective_gradient, optimum

    for lam in (0.0, 0.005):
        cfg = TrainConfig(target="sin20", n_train=80, width=6, depth=3, activation="tanh", train="output",
                          ridge=lam)
        ds = make_dataset(cfg)
        layout = Layout.for_config(cfg)
        p = init_params(layout, cfg.init, 0, ds.x_range)
        opt = optimum(cfg, ds, p)
        assert opt.kind == "exact"
        assert np.array_equal(opt.params[: layout.output_start], p[: layout.output_start])
        g = objective_gradient(layout, opt.params, ds.x_train, ds.y_train, lam, layout.mask("output"))
        assert np.linalg.norm(g) < 1e-9
        quad = OutputQuadratic(layout, p, ds.x_train, ds.y_train, lam)
        assert quad.value(opt.params) == pytest.approx(float(objective(layout, opt.params, ds.x_train, ds.y_train, lam,
                                                                       layout.mask("output"))), rel=1e-12)


def test_jacobian_and_votes_of_a_deep_net():
    from reluviz.core.optimum import jacobian
    from reluviz.core.votes import compute_votes

    layout, p, x, y = _case(2, "relu", width=3, seed=9)
    jac = jacobian(layout, p, x)
    for i in range(layout.size):
        e = np.zeros(layout.size)
        e[i] = 1e-6
        np.testing.assert_allclose(jac[:, i], (predict(layout, p + e, x) - predict(layout, p - e, x)) / 2e-6,
                                   atol=1e-7)
    votes = compute_votes(layout, p, x, y, batch=np.array([0, 0, 3]), select=["w[1]", "w2[2,0]", "v", "c"])
    _, grad = _workspace_grad(layout, p[None, :], x, y)
    np.testing.assert_allclose(votes.full_sum, grad[0][votes.columns], rtol=1e-10, atol=1e-14)
    assert votes.names[:2] == ("w[1]", "w2[2,0]")


# ---------------------------------------------------------------------- runs axis, divergence, resume
def test_runs_side_by_side_train_as_each_run_alone():
    cfg = TrainConfig(target="sin20", n_train=60, width=5, depth=3, activation="tanh", batch_size=10,
                      optimizer="momentum", lr=0.05, ridge=0.005)
    seeds = [3, 4, 5]
    together = Trainer(cfg, runs=3, init_seeds=seeds, sample_seeds=seeds)
    together.run(300)
    for r, seed in enumerate(seeds):
        alone = Trainer(cfg.updated({"init_seed": seed, "sample_seed": seed}))
        alone.run(300)
        np.testing.assert_allclose(together.params[r], alone.params[0], rtol=1e-11, atol=1e-14)


def test_a_deep_net_that_blows_up_stops_at_its_last_finite_state():
    cfg = TrainConfig(n_train=60, width=8, depth=3, batch_size=10, optimizer="sgd", lr=50.0)
    tr = Trainer(cfg)
    tr.run(500)
    assert tr.stopped and tr.divergence is not None and "too large" in tr.divergence.reason
    assert np.all(np.isfinite(tr.params))


def test_resuming_a_deep_session_continues_the_same_trajectory():
    from reluviz.core.session import Session

    cfg = TrainConfig(n_train=60, width=5, depth=2, activation="leaky_relu", batch_size=10, optimizer="adam",
                      lr=0.01)
    straight = Session(cfg)
    straight.advance(400)
    resumed = Session(cfg)
    resumed.advance(250)
    assert resumed.resume_from(120) == 120
    resumed.advance(280)
    np.testing.assert_array_equal(resumed.trainer.params, straight.trainer.params)
    assert resumed.frame().structure.depth == 2
