"""Optimizers against their equations (torch.optim semantics), written out step by step here."""

import math

import numpy as np
import pytest

from reluviz.core.config import TrainConfig
from reluviz.core.optimizers import Updater, slots
from reluviz.core.schedules import lr_at


def _run(cfg, grads, p0, mask=None, lrs=None):
    size = p0.size
    mask = np.ones(size) if mask is None else mask
    up = Updater(cfg, 1, size, mask)
    state = np.zeros((1, size * (1 + slots(cfg.optimizer))))
    state[0, :size] = p0
    out = []
    for t, g in enumerate(grads):
        lr = cfg.lr if lrs is None else lrs[t]
        new = np.zeros_like(state)
        up.apply(t, np.array([[lr]]), state, new, g[None, :].copy())
        state = new
        out.append(state[0, :size].copy())
    return out


def _reference(cfg, grads, p0):
    """The update rules as in the torch.optim docs, one scalar at a time."""
    p = [float(v) for v in p0]
    buf = [None] * len(p)
    m = [0.0] * len(p)
    s = [0.0] * len(p)
    out = []
    for t, g in enumerate(grads):
        for i in range(len(p)):
            gi = float(g[i]) + 2.0 * cfg.ridge * p[i]  # the gradient of ridge ||p||^2 is 2 ridge p
            if cfg.optimizer == "sgd":
                p[i] -= cfg.lr * gi
            elif cfg.optimizer in ("momentum", "nesterov"):
                buf[i] = gi if buf[i] is None else cfg.momentum * buf[i] + gi
                step = gi + cfg.momentum * buf[i] if cfg.optimizer == "nesterov" else buf[i]
                p[i] -= cfg.lr * step
            else:
                k = t + 1
                m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * gi
                s[i] = cfg.beta2 * s[i] + (1 - cfg.beta2) * gi * gi
                denom = math.sqrt(s[i]) / math.sqrt(1 - cfg.beta2**k) + cfg.eps
                p[i] -= cfg.lr / (1 - cfg.beta1**k) * m[i] / denom
        out.append(np.array(p))
    return out


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("ridge", [0.0, 0.05])
def test_update_rules_match_equations(optimizer, ridge):
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((6, 4))
    p0 = rng.standard_normal(4)
    cfg = TrainConfig(optimizer=optimizer, lr=0.1, momentum=0.8, beta1=0.85, beta2=0.99, ridge=ridge)
    got = _run(cfg, grads, p0)
    want = _reference(cfg, grads, p0)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_adam_first_step_has_size_lr():
    """With bias correction the first Adam step is lr * sign(g) (up to eps)."""
    cfg = TrainConfig(optimizer="adam", lr=0.01)
    got = _run(cfg, [np.array([3.0, -0.001])], np.zeros(2))[0]
    np.testing.assert_allclose(got, [-0.01, 0.01], rtol=1e-4)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_frozen_parameters_do_not_move_even_with_ridge(optimizer):
    cfg = TrainConfig(optimizer=optimizer, ridge=0.25)
    mask = np.array([0.0, 1.0, 0.0])
    grads = np.ones((3, 3))
    p0 = np.array([1.0, 2.0, 3.0])
    last = _run(cfg, grads, p0, mask=mask)[-1]
    assert last[0] == 1.0 and last[2] == 3.0 and last[1] != 2.0


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_each_run_can_have_its_own_ridge(optimizer):
    """A model-selection sweep trains a grid of lambdas as one vectorised updater: run r must move
    exactly as a single run with ridge ridges[r] does."""
    rng = np.random.default_rng(4)
    ridges = np.array([0.0, 0.1, 0.7])
    grads = rng.standard_normal((5, 3, 4))
    p0 = rng.standard_normal((3, 4))
    cfg = TrainConfig(optimizer=optimizer, lr=0.05)
    up = Updater(cfg, 3, 4, np.ones(4), ridges=ridges)
    state = np.zeros((3, 4 * (1 + slots(optimizer))))
    state[:, :4] = p0
    for t, g in enumerate(grads):
        new = np.zeros_like(state)
        up.apply(t, np.full((3, 1), cfg.lr), state, new, g.copy())
        state = new
    for r, lam in enumerate(ridges):
        alone = _run(cfg.updated({"ridge": lam}), grads[:, r], p0[r])[-1]
        np.testing.assert_array_equal(state[r, :4], alone)


def test_schedules_follow_their_formulas():
    base = TrainConfig(lr=0.1, steps=100)
    t = np.array([0, 1, 10, 99, 250])
    np.testing.assert_allclose(lr_at(base, t), 0.1)
    step = base.updated({"schedule": "step", "step_size": 10, "gamma": 0.5})
    np.testing.assert_allclose(lr_at(step, t), 0.1 * 0.5 ** (t // 10))
    expo = base.updated({"schedule": "exponential", "exp_gamma": 0.99})
    np.testing.assert_allclose(lr_at(expo, t), 0.1 * 0.99**t)
    inv = base.updated({"schedule": "inverse", "decay": 0.1})
    np.testing.assert_allclose(lr_at(inv, t), 0.1 / (1 + 0.1 * t))
    cos = base.updated({"schedule": "cosine", "lr_min": 0.01})
    assert lr_at(cos, 0) == pytest.approx(0.1)
    assert lr_at(cos, 50) == pytest.approx(0.055)
    assert lr_at(cos, 100) == pytest.approx(0.01)
    assert lr_at(cos, 250) == pytest.approx(0.01)
