"""Closed-form optima (worksheet formulas, least squares, ridge) and the local optimum of a full net."""

import numpy as np
import pytest

from reluviz.core import TrainConfig, Trainer, make_dataset
from reluviz.core.presets import load_preset
from reluviz.core.model import Layout, point_gradients
from reluviz.core.optimum import (
    distance_to_optimum,
    excess_objective,
    objective,
    objective_gradient,
    optimum,
    output_features,
)


def _full_gradient(layout, params, x, y, lam=0.0, mask=None):
    """Gradient of MSE + lam |theta|^2 from the per-point votes (an independent code path)."""
    g = point_gradients(layout, params, x, y).sum(axis=0) + 2.0 * lam * params
    return g if mask is None else g * mask


def _fd_objective_grad(layout, p, x, y, lam, mask, h=1e-6):
    g = np.zeros_like(p)
    for i in np.flatnonzero(mask):
        e = np.zeros_like(p)
        e[i] = h
        g[i] = (objective(layout, p + e, x, y, lam, mask) - objective(layout, p - e, x, y, lam, mask)) / (2 * h)
    return g


@pytest.mark.parametrize("model", ["constant", "linear"])
def test_full_batch_gd_with_ridge_half_ends_at_the_notes_closed_form(model):
    """The issue's headless check, in the notes' convention (objective MSE + lambda theta^2): with
    ridge = 0.5 full-batch GD ends at y_bar / 1.5 (constant) and sum xy / (sum x^2 + 0.5 N) (linear),
    not at torch's 2 y_bar / (2 + 0.5) that weight_decay = 0.5 would give."""
    cfg = load_preset(f"{model}-model").config.updated({"ridge": 0.5, "batch_size": 0, "lr": 0.2, "steps": 2000})
    tr = Trainer(cfg)
    x, y = tr.dataset.x_train, tr.dataset.y_train
    tr.run(cfg.steps)
    want = y.mean() / 1.5 if model == "constant" else (x @ y) / (x @ x + 0.5 * len(x))
    assert tr.params[0, 0] == pytest.approx(want, rel=1e-12)
    assert optimum(cfg, tr.dataset, np.zeros(1)).params[0] == pytest.approx(want, rel=1e-13)
    if model == "constant":
        assert want == pytest.approx(0.2329, abs=5e-5)  # the number (torch's weight_decay 0.5: 0.2794)
        assert abs(tr.params[0, 0] - 2 * y.mean() / 2.5) > 0.04


def test_constant_model_optimum_is_mean_y():
    cfg = load_preset("constant-model").config
    ds = make_dataset(cfg)
    opt = optimum(cfg, ds, np.array([5.0]))
    assert opt.kind == "exact"
    assert opt.params[0] == pytest.approx(np.mean(ds.y_train), rel=1e-14)
    # independent solve: least squares on a column of ones
    lstsq = np.linalg.lstsq(np.ones((ds.n, 1)), ds.y_train, rcond=None)[0][0]
    assert opt.params[0] == pytest.approx(lstsq, rel=1e-12)
    # the worksheet's gradient (2/N) sum (theta - y_i) vanishes there, and nowhere else nearby
    layout = Layout("constant", 0)
    assert abs(_full_gradient(layout, opt.params, ds.x_train, ds.y_train)[0]) < 1e-13
    assert abs(_full_gradient(layout, opt.params + 0.01, ds.x_train, ds.y_train)[0]) == pytest.approx(0.02)


def test_linear_model_optimum_is_sum_xy_over_sum_x2():
    cfg = load_preset("linear-model").config
    ds = make_dataset(cfg)
    x, y = ds.x_train, ds.y_train
    opt = optimum(cfg, ds, np.array([-3.0]))
    assert opt.params[0] == pytest.approx(np.sum(x * y) / np.sum(x * x), rel=1e-13)
    assert opt.params[0] == pytest.approx(np.linalg.lstsq(x[:, None], y, rcond=None)[0][0], rel=1e-12)
    g = _full_gradient(Layout("linear", 0), opt.params, x, y)
    assert abs(g[0]) < 1e-13
    assert opt.grad_norm < 1e-13


@pytest.mark.parametrize("model", ["constant", "linear"])
def test_ridge_optimum_of_small_models_matches_ridge_regression_and_trainer(model):
    lam = 0.15
    cfg = TrainConfig(model=model, target="abs", n_train=30, noise=0.1, ridge=lam, batch_size=0, lr=0.1,
                      optimizer="sgd")
    ds = make_dataset(cfg)
    x, y = ds.x_train, ds.y_train
    feat = np.ones((ds.n, 1)) if model == "constant" else x[:, None]
    opt = optimum(cfg, ds, np.zeros(1))
    # independent: augmented least squares for (1/N)|X t - y|^2 + lam t^2 = (1/N)(|X t - y|^2 + N lam t^2)
    aug = np.vstack([feat, np.sqrt(ds.n * lam) * np.eye(1)])
    ref = np.linalg.lstsq(aug, np.concatenate([y, [0.0]]), rcond=None)[0]
    assert opt.params == pytest.approx(ref, rel=1e-12)
    layout = Layout(model, 0)
    assert abs(_full_gradient(layout, opt.params, x, y, lam)[0]) < 1e-13
    # The trainer (torch's weight_decay = 2 lam added to the gradient) converges to the same point.
    tr = Trainer(cfg)
    tr.run(3000)
    assert tr.params[0] == pytest.approx(opt.params, abs=1e-10)
    # ... which is NOT the unregularised optimum
    plain = optimum(cfg.updated({"ridge": 0.0}), ds, np.zeros(1))
    assert abs(plain.params[0] - opt.params[0]) > 1e-3


def _relu_output_case(lam=0.0, width=6, seed=3):
    cfg = TrainConfig(model="relu", width=width, train="output", target="abs", n_train=40, noise=0.05,
                      ridge=lam, init_seed=seed, batch_size=0, optimizer="sgd", lr=0.3)
    ds = make_dataset(cfg)
    tr = Trainer(cfg)
    return cfg, ds, tr


def test_relu_output_optimum_is_least_squares_and_gradient_vanishes():
    cfg, ds, tr = _relu_output_case()
    p0 = tr.params[0].copy()
    opt = optimum(cfg, ds, p0)
    assert opt.kind == "exact"
    layout = tr.layout
    x, y = ds.x_train, ds.y_train
    # frozen hidden weights untouched
    assert np.array_equal(opt.params[: 2 * cfg.width], p0[: 2 * cfg.width])
    mask = layout.mask("output")
    g = _full_gradient(layout, opt.params, x, y, 0.0, mask)
    assert np.linalg.norm(g) < 1e-10
    # independent solve: normal equations with the full-rank feature matrix
    phi = output_features(layout, p0, x)
    assert np.linalg.matrix_rank(phi) == phi.shape[1]
    ref = np.linalg.solve(phi.T @ phi, phi.T @ y)
    assert opt.params[2 * cfg.width :] == pytest.approx(ref, rel=1e-7, abs=1e-9)
    # it beats every nearby perturbation
    rng = np.random.default_rng(0)
    f_star = objective(layout, opt.params, x, y)
    for _ in range(20):
        q = opt.params + 1e-3 * rng.standard_normal(opt.params.size) * mask
        assert objective(layout, q, x, y) > f_star


def test_relu_output_ridge_optimum():
    lam = 0.005
    cfg, ds, tr = _relu_output_case(lam=lam)
    p0 = tr.params[0].copy()
    opt = optimum(cfg, ds, p0)
    layout, x, y = tr.layout, ds.x_train, ds.y_train
    mask = layout.mask("output")
    assert np.linalg.norm(_full_gradient(layout, opt.params, x, y, lam, mask)) < 1e-12
    assert np.linalg.norm(_fd_objective_grad(layout, opt.params, x, y, lam, mask)) < 1e-7
    phi = output_features(layout, p0, x)
    aug = np.vstack([phi, np.sqrt(len(x) * lam) * np.eye(phi.shape[1])])
    ref = np.linalg.lstsq(aug, np.concatenate([y, np.zeros(phi.shape[1])]), rcond=None)[0]
    assert opt.params[2 * cfg.width :] == pytest.approx(ref, rel=1e-9, abs=1e-12)
    # full-batch GD with the ridge (torch's weight_decay = 2 lam) converges there
    tr.run(20000)
    assert distance_to_optimum(tr.params[0], opt) < 1e-6


def test_rank_deficient_output_optimum_is_the_one_gradient_descent_reaches():
    """A dead unit's v never moves under GD; the optimum we return keeps it where it was."""
    cfg, ds, tr = _relu_output_case(width=4, seed=5)
    layout = tr.layout
    p = tr.params[0]
    # make unit 1 dead (active on no point of [0, 1]) and units 2, 3 duplicates
    w, b = layout.index("w"), layout.index("b")
    p[w.start + 2 * 1] = 1.0
    p[b.start + 2 * 1] = -5.0
    p[w.start + 2 * 3] = p[w.start + 2 * 2]
    p[b.start + 2 * 3] = p[b.start + 2 * 2]
    p0 = p.copy()
    opt = optimum(cfg, ds, p0)
    v = layout.index("v")
    assert opt.params[v][1] == pytest.approx(p0[v][1], abs=1e-12)  # a dead unit's v stays put
    phi = output_features(layout, p0, ds.x_train)
    assert np.linalg.matrix_rank(phi) == 3
    # the move theta* - theta0 lies in the row space of Phi (nothing in its null space)
    delta = (opt.params - p0)[2 * cfg.width :]
    proj = np.linalg.pinv(phi) @ (phi @ delta)
    assert proj == pytest.approx(delta, abs=1e-9)
    assert opt.grad_norm < 1e-10
    tr.run(30000)  # full-batch GD from p0
    assert distance_to_optimum(tr.params[0], opt) < 1e-5


def test_local_optimum_of_full_net_descends_and_keeps_frozen_parameters():
    cfg = TrainConfig(model="relu", width=8, target="abs", n_train=60, noise=0.02, train="hidden")
    ds = make_dataset(cfg)
    tr = Trainer(cfg)
    p0 = tr.params[0].copy()
    opt = optimum(cfg, ds, p0, time_budget=2.0)
    assert opt.kind == "local" and "local" in opt.label
    layout = tr.layout
    f0 = objective(layout, p0, ds.x_train, ds.y_train)
    assert opt.objective < 0.5 * f0
    # v and c were frozen and stay exactly put
    assert np.array_equal(opt.params[2 * cfg.width :], p0[2 * cfg.width :])
    g0 = np.linalg.norm(objective_gradient(layout, p0, ds.x_train, ds.y_train, mask=layout.mask("hidden")))
    assert opt.grad_norm < 1e-3 * g0

    cfg_all = cfg.updated({"train": "all"})
    opt_all = optimum(cfg_all, ds, p0, time_budget=2.0)
    assert opt_all.kind == "local"
    assert opt_all.objective < opt.objective  # more freedom, lower loss
    assert excess_objective(cfg_all, ds, p0, opt_all) > 0


def test_local_optimum_respects_time_budget(monkeypatch):
    import time

    from reluviz.core import optimum as optimum_module

    cfg = TrainConfig(model="relu", width=40, target="sin20", n_train=2000)
    ds = make_dataset(cfg)
    tr = Trainer(cfg)
    t = time.perf_counter()
    opt = optimum(cfg, ds, tr.params[0].copy(), time_budget=0.2)
    assert time.perf_counter() - t < 5.0  # a hang guard (0.2 s here); the fake clock below checks the budget
    assert opt.kind == "local"
    if not opt.converged:
        assert "stopped after" in opt.label

    class Clock:  # every reading of the clock is 50 ms later: the budget of 0.2 s lasts a few steps
        now = 0.0

        def perf_counter(self):
            self.now += 0.05
            return self.now

    monkeypatch.setattr(optimum_module, "time", Clock())
    opt = optimum(cfg, ds, tr.params[0].copy(), time_budget=0.2)
    assert not opt.converged and 1 <= opt.iterations <= 4
    assert f"stopped after {opt.iterations} steps" in opt.label


def test_distance_shapes_and_mask():
    cfg, ds, tr = _relu_output_case()
    opt = optimum(cfg, ds, tr.params[0].copy())
    p = np.broadcast_to(opt.params, (5, 3, opt.params.size)).copy()
    p[..., 0] += 100.0  # a frozen parameter: ignored by the distance
    p[2, 1, -1] += 3.0  # c of one entry
    d = distance_to_optimum(p, opt)
    assert d.shape == (5, 3)
    assert d[2, 1] == pytest.approx(3.0)
    assert np.count_nonzero(d) == 1
    assert distance_to_optimum(p[0, 0], opt).shape == ()
    full = distance_to_optimum(p[0, 0], opt, mask=np.ones(opt.params.size))
    assert full == pytest.approx(100.0)


@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_affine_optimum_is_the_regression_line_and_full_batch_gd_ends_there(lam):
    """y = a x + b: theta* = (cov(x, y) / var(x), ybar - a* xbar) without a ridge (the textbook
    regression line), the augmented least squares of the notes' objective with one; full-batch GD
    converges to it and its gradient (through the votes, an independent code path) vanishes."""
    cfg = TrainConfig(model="affine", target="line", n_train=40, noise=0.3, ridge=lam, batch_size=0, lr=0.5)
    ds = make_dataset(cfg)
    x, y = ds.x_train, ds.y_train
    opt = optimum(cfg, ds, np.array([5.0, -7.0]))
    assert opt.kind == "exact" and opt.params.shape == (2,)
    if lam == 0:
        a = np.mean((x - x.mean()) * (y - y.mean())) / np.var(x)
        assert opt.params == pytest.approx([a, y.mean() - a * x.mean()], rel=1e-12)
    feat = np.column_stack([x, np.ones_like(x)])
    aug = np.vstack([feat, np.sqrt(ds.n * lam) * np.eye(2)])
    ref = np.linalg.lstsq(aug, np.concatenate([y, [0.0, 0.0]]), rcond=None)[0]
    assert opt.params == pytest.approx(ref, rel=1e-11)
    assert np.abs(_full_gradient(Layout("affine", 0), opt.params, x, y, lam)).max() < 1e-13
    tr = Trainer(cfg)
    tr.run(4000)
    assert tr.params[0] == pytest.approx(opt.params, abs=1e-10)
    np.testing.assert_allclose(_fd_objective_grad(Layout("affine", 0), opt.params + 0.1, x, y, lam, np.ones(2)),
                               objective_gradient(Layout("affine", 0), opt.params + 0.1, x, y, lam), rtol=1e-6)
