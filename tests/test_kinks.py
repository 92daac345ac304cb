"""Kinks and linear regions of deep nets, per-layer dead/saturated units, Figure 4's piecewise-constant
fit, and the Structure a frame carries (issue 12)."""

import numpy as np
import pytest

from reluviz.core.config import TrainConfig
from reluviz.core.frame import frame_from_history
from reluviz.core.kinks import drawing_range, find_kinks
from reluviz.core.layer_stats import layer_stats
from reluviz.core.model import Layout, predict
from reluviz.core.piecewise_constant import piecewise_constant_fit
from reluviz.core.snapshot import Snapshot
from reluviz.core.trainer import Trainer

from helpers import short_run


def _dense_kinks(layout, p, lo, hi, n=400_001):
    """Kinks of f found by sampling: stretches of the grid where the slope changes, as (start, end) x."""
    x = np.linspace(lo, hi, n)
    f = predict(layout, p, x)
    s = np.diff(f) / np.diff(x)
    changed = np.flatnonzero(np.abs(np.diff(s)) > 1e-6 * max(np.abs(s).max(), 1e-12))
    if len(changed) == 0:
        return np.empty((0, 2)), x, f
    groups = np.split(changed, np.flatnonzero(np.diff(changed) > 1) + 1)
    return np.array([[x[g[0]], x[g[-1] + 2]] for g in groups]), x, f


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kinks_are_where_densely_sampled_f_changes_slope(depth, activation, seed):
    rng = np.random.default_rng(seed)
    layout = Layout("relu", 6, depth, activation, 0.2)
    p = rng.standard_normal(layout.size) * 1.3
    k = find_kinks(layout, p, -1.0, 1.0)
    dense, x, f = _dense_kinks(layout, p, -1.0, 1.0)
    # the polyline through the breakpoints is f exactly
    np.testing.assert_allclose(np.interp(x, k.xs, k.fx), f, rtol=0, atol=1e-11 * (1 + np.abs(f).max()))
    # one computed kink inside every stretch where the sampled slope changes, and no other
    assert len(k.x) == len(dense)
    assert np.all((k.x >= dense[:, 0] - 1e-12) & (k.x <= dense[:, 1] + 1e-12))
    np.testing.assert_allclose(k.y, predict(layout, p, k.x), atol=1e-11)
    assert k.regions(-1.0, 1.0) == len(dense) + 1
    # each kink is made by a unit of the layer it names: that unit's pre-activation is 0 there
    for xk, layer, unit in zip(k.x, k.layer, k.unit):
        from reluviz.core import deep
        zs, _ = deep.forward(layout, p, np.array([xk]))
        assert 1 <= layer <= depth
        assert abs(zs[layer - 1][unit, 0]) < 1e-9 * (1 + np.abs(zs[layer - 1]).max())
    assert k.layers.shape == (depth, 6, len(k.xs))


def test_a_crossing_that_does_not_bend_f_is_no_kink():
    """A layer-2 unit with v = 0 crosses 0 but f does not bend there."""
    layout = Layout("relu", 2, 2)
    p = np.zeros(layout.size)
    p[layout.index("w")] = [1.0, 1.0]
    p[layout.index("b")] = [-0.3, 5.0]        # unit 0 bends at 0.3; unit 1 is on everywhere
    layout.get(p, "w2")[...] = [[1.0, 0.0], [0.0, 1.0]]
    p[layout.index("b2")] = [0.0, -5.7]       # layer-2 unit 1: x + 5 - 5.7 = 0 at x = 0.7
    p[layout.index("v")] = [1.0, 0.0]          # ... but it does not reach f
    k = find_kinks(layout, p, 0.0, 1.0)
    assert list(k.crossings) == [1, 1]
    np.testing.assert_allclose(k.x, [0.3])
    assert list(k.layer) == [1] and k.regions(0.0, 1.0) == 2
    p[layout.index("v")] = [1.0, 2.0]
    k = find_kinks(layout, p, 0.0, 1.0)
    np.testing.assert_allclose(k.x, [0.3, 0.7])
    assert list(k.layer) == [1, 2] and list(k.unit) == [0, 1] and k.regions(0.0, 1.0) == 3


def test_composition_makes_more_regions_than_units():
    """The folding construction: two units per layer make a tent map; three layers fold [0, 1] into
    2^3 = 8 linear pieces from 6 units (one hidden layer of 6 units makes at most 7)."""
    layout = Layout("relu", 2, 3)
    p = np.zeros(layout.size)
    p[layout.index("w")] = [1.0, 1.0]
    p[layout.index("b")] = [0.0, -0.5]        # h = relu(x), relu(x - 1/2): tent T = 2 h_0 - 4 h_1 on [0, 1]
    for k in (2, 3):                          # h = relu(T), relu(T - 1/2) of the layer below
        layout.get(p, f"w{k}")[...] = [[2.0, -4.0], [2.0, -4.0]]
        p[layout.index(f"b{k}")] = [0.0, -0.5]
    p[layout.index("v")] = [2.0, -4.0]        # f = T(T(T(x)))
    k = find_kinks(layout, p, 0.0, 1.0)
    assert k.regions(0.0, 1.0) == 8 > layout.depth * layout.width
    np.testing.assert_allclose(k.x, np.arange(1, 8) / 8)
    assert sorted(np.bincount(k.layer)[1:]) == [1, 2, 4]


def test_depth_one_kinks_are_the_elbows_and_wide_nets_stay_fast():
    rng = np.random.default_rng(4)
    layout = Layout("relu", 3000)
    p = rng.standard_normal(layout.size)
    k = find_kinks(layout, p, 0.0, 1.0)
    e = -layout.get(p, "b") / layout.get(p, "w")
    np.testing.assert_allclose(k.x, np.sort(e[(e > 0) & (e < 1)]))
    assert k.layers is None  # 3000 x 3000 values are not carried
    xs = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(np.interp(xs, k.xs, k.fx), predict(layout, p, xs), atol=1e-9)


def test_smooth_networks_have_no_kinks():
    layout = Layout("relu", 5, 2, "tanh")
    p = np.random.default_rng(0).standard_normal(layout.size)
    k = find_kinks(layout, p, 0.0, 1.0)
    assert not k.piecewise and len(k.x) == 0 and k.regions(0.0, 1.0) == 0
    np.testing.assert_allclose(k.fx, predict(layout, p, k.xs))


def test_layer_stats_find_dead_and_saturated_units_per_layer():
    x = np.linspace(0.0, 1.0, 50)
    layout = Layout("relu", 3, 2)
    p = np.random.default_rng(1).standard_normal(layout.size)
    p[layout.index("w")] = [1.0, -1.0, 1.0]
    p[layout.index("b")] = [0.5, -3.0, 0.1]   # layer-1 unit 1: -x - 3 < 0: dead
    p[layout.index("b2").start + 2] = -100.0  # layer-2 unit 2: dead
    stats = layer_stats(layout, p, x)
    assert stats.dead_counts() == [1, 1] and stats.dead[0, 1] and stats.dead[1, 2]
    assert stats.saturated_counts() == [0, 0]
    tanh = Layout("relu", 3, 2, "tanh")
    q = p.copy()
    q[tanh.index("b")] = [0.0, 10.0, -0.2]     # layer-1 unit 1: tanh(-x + 10) flat on [0, 1]
    s = layer_stats(tanh, q, x)
    assert s.saturated[0].tolist() == [False, True, False] and s.dead_counts() == [0, 0]
    zs = np.outer(q[tanh.index("w")], x) + q[tanh.index("b")][:, None]
    np.testing.assert_allclose(s.mean_derivative[0], np.mean(1 - np.tanh(zs) ** 2))
    sig = layer_stats(Layout("relu", 3, 2, "sigmoid"), q, x)
    assert np.all(sig.mean_derivative <= 0.25) and np.all(s.mean_derivative <= 1.0)


def test_piecewise_constant_fit_is_the_mean_on_each_piece():
    x = np.array([0.1, 0.2, 0.6, 0.7, 0.8])
    y = np.array([1.0, 3.0, 0.0, 3.0, 6.0])
    fit = piecewise_constant_fit([0.0, 0.5, 0.9, 1.0], x, y, np.array([0.15, 0.95]), np.array([2.0, 0.0]))
    np.testing.assert_allclose(fit.values[:2], [2.0, 3.0])
    assert np.isnan(fit.values[2]) and list(fit.counts) == [2, 3, 0]
    assert fit.mse == pytest.approx((1 + 1 + 9 + 0 + 9) / 5)
    assert fit.test_mse == pytest.approx(0.0)  # (the empty piece's point is left out)
    xs, ys = fit.polyline()
    assert list(xs[:4]) == [0.0, 0.5, 0.5, 0.9] and list(ys[:4]) == [2.0, 2.0, 3.0, 3.0]
    # least squares: moving any piece's value raises the training error
    for j in range(2):
        for d in (-1e-3, 1e-3):
            v = np.array(fit.values)
            v[j] += d
            idx = np.searchsorted([0.0, 0.5, 0.9, 1.0], x, side="right") - 1
            assert np.mean((y - v[idx]) ** 2) > fit.mse


def test_a_frame_carries_the_structure_of_a_deep_net():
    cfg = TrainConfig(target="sin20", n_train=60, width=5, depth=3, batch_size=10, steps=200, lr=0.05)
    tr, hist, snap = short_run(cfg, 200)
    frame = frame_from_history(snap, hist, tr.dataset, cfg)
    st = frame.structure
    assert st.depth == 3 and st.units == 15
    lo, hi = drawing_range(tr.dataset.x_range)
    assert (st.kinks.lo, st.kinks.hi) == (lo, hi)
    direct = find_kinks(snap.layout, snap.params[0], lo, hi)
    np.testing.assert_array_equal(st.kinks.x, direct.x)
    assert st.regions == direct.regions(*tr.dataset.x_range)
    assert st.constant_fit.pieces == st.regions
    assert frame.dead.shape == (5,) and np.array_equal(frame.dead, st.stats.dead[-1])
    assert not st.kinks.x.flags.writeable and not st.stats.dead.flags.writeable


def test_depth_one_frames_keep_their_dead_units():
    cfg = TrainConfig(width=30, init="gaussian", n_train=50, batch_size=10)
    tr = Trainer(cfg)
    snap = tr.snapshot()
    frame = frame_from_history(snap, None, tr.dataset, cfg)
    assert np.array_equal(frame.dead, snap.active_counts(tr.dataset.x_train) == 0)
    assert frame.dead.any()  # (gaussian init: some elbows miss the data)
    assert frame.structure.regions == 1 + len(frame.structure.kinks.inside(*tr.dataset.x_range))
    assert isinstance(frame.snapshot, Snapshot)
