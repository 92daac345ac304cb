"""Elbow positions, the Cauchy law of -b/w under the gaussian init, dead and always-active units:
exact counts (elbows on data points, w = 0, signed zeros, inf and nan included) that stay cheap in
time and memory on big data."""

import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from reluviz.core import History, Trainer
from reluviz.core.presets import load_preset
from reluviz.core.elbow_stats import (
    activity,
    cauchy_cdf,
    cauchy_counts_curve,
    cauchy_expected_counts,
    cauchy_pdf,
    elbow_histogram,
    elbows,
    expected_init_counts,
    history_elbow_trail,
    param_activity,
    param_elbows,
)
from reluviz.core.init import init_params
from reluviz.core.model import Layout, point_gradients
from reluviz.core.snapshot import active_counts


def test_elbows_handle_zero_slope():
    e = elbows(np.array([2.0, -1.0, 0.0, 0.0]), np.array([-1.0, 3.0, 1.0, 0.0]))
    assert e[0] == 0.5 and e[1] == 3.0
    assert np.isnan(e[2]) and np.isnan(e[3])
    h = elbow_histogram(e, bins=4, range=(0.0, 2.0))
    assert h.counts.tolist() == [0, 1, 0, 0] and h.above == 1 and h.below == 0 and h.no_elbow == 2
    assert h.total == 4


def test_dead_and_always_active_units_on_a_constructed_example():
    x = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    # units: elbow right of the data (w > 0) | active side left of the data (w < 0) | active on all |
    #        w = 0, b < 0 (constant 0) | w = 0, b > 0 (constant) | elbow at 0.5 | elbow at 0.25 (w < 0)
    w = np.array([1.0, -1.0, 1.0, 0.0, 0.0, 2.0, -4.0])
    b = np.array([-2.0, -0.5, 0.5, -1.0, 1.0, -1.0, 1.0])
    act = activity(w, b, x)
    # a point exactly on an elbow is not active (relu'(0) = 0, as in the trainer)
    assert act.active_counts.tolist() == [0, 0, 5, 0, 5, 2, 1]
    assert act.dead.tolist() == [True, True, False, True, False, False, False]
    assert int(act.n_dead) == 3 and int(act.n_always_active) == 2
    # chunking over x gives the same counts
    assert np.array_equal(activity(w, b, x, chunk=8).active_counts, act.active_counts)


def test_activity_counts_match_the_trainer_mask_and_dead_units_get_no_gradient():
    layout = Layout("relu", 5)
    x = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    p = np.zeros(layout.size)
    wb = [(1.0, -2.0), (-1.0, -0.5), (1.0, 0.5), (2.0, -1.0), (-4.0, 1.0)]
    for j, (wj, bj) in enumerate(wb):
        p[2 * j], p[2 * j + 1] = wj, bj
    p[2 * 5 : 3 * 5] = 1.0
    act = param_activity(layout, p, x)
    # unit 3: 2x - 1 > 0 only at 0.75 and 1 (0 at x = 0.5 is not active: relu'(0) = 0)
    # unit 4: 1 - 4x > 0 only at x = 0 (x = 0.25 sits exactly on the elbow)
    assert act.active_counts.tolist() == [0, 0, 5, 2, 1]
    assert act.dead.tolist() == [True, True, False, False, False]
    assert act.always_active.tolist() == [False, False, True, False, False]
    assert int(act.n_dead) == 2 and int(act.n_always_active) == 1
    g = point_gradients(layout, p, x, np.sin(3 * x)).sum(axis=0)
    for j in range(5):
        moved = np.abs(g[[2 * j, 2 * j + 1, 10 + j]]).max() > 0
        assert moved == (not act.dead[j])


def test_activity_is_vectorized_over_runs():
    layout = Layout("relu", 40)
    rng = np.random.default_rng(0)
    params = np.stack([init_params(layout, "gaussian", s, (0.0, 1.0)) for s in range(6)])
    x = rng.uniform(0, 1, 200)
    act = param_activity(layout, params, x)
    assert act.active_counts.shape == (6, 40)
    for r in range(6):
        single = param_activity(layout, params[r], x)
        assert np.array_equal(single.active_counts, act.active_counts[r])
    assert act.n_dead.shape == (6,)
    assert act.n_dead.sum() > 0  # the gaussian init kills units


def test_cauchy_density_matches_gaussian_init_elbows():
    """w, b ~ N(0, 1) independent: -b/w is standard Cauchy. Bin counts agree within noise."""
    layout = Layout("relu", 20000)
    e = np.concatenate([param_elbows(layout, init_params(layout, "gaussian", s, (0.0, 1.0))) for s in range(5)])
    units = e.size
    hist = elbow_histogram(e, bins=40, range=(-5.0, 5.0))
    expected = cauchy_expected_counts(hist.edges, units)
    z = (hist.counts - expected) / np.sqrt(expected)
    assert np.abs(z).max() < 5.0
    chi2 = float(np.sum(z**2))
    assert chi2 < 40 + 5 * np.sqrt(80)  # chi-square with ~40 dof
    # the tails: expected outside [-5, 5] is units * 2 * (1 - F(5))
    tail = units * 2 * (1 - cauchy_cdf(5.0))
    assert abs(hist.below + hist.above - tail) < 5 * np.sqrt(tail)
    # ... and a uniform law on [0, 1] would be a terrible fit
    wrong = expected_init_counts("uniform_elbows", hist.edges, units)
    assert np.sum((hist.counts - wrong) ** 2) > 100 * np.sum((hist.counts - expected) ** 2)


def test_cauchy_density_integrates_to_the_histogram_scale():
    units, lo, hi, bins = 40, -3.0, 4.0, 35
    edges = np.linspace(lo, hi, bins + 1)
    bw = edges[1] - edges[0]
    xs = np.linspace(lo, hi, 20001)
    curve = cauchy_counts_curve(xs, units, bw)
    # area under the counts curve / bin width = expected number of elbows in the window
    area = np.trapezoid(curve, xs) / bw
    assert area == pytest.approx(units * (cauchy_cdf(hi) - cauchy_cdf(lo)), rel=1e-6)
    assert area == pytest.approx(cauchy_expected_counts(edges, units).sum(), rel=1e-6)
    assert np.trapezoid(cauchy_pdf(np.linspace(-1e4, 1e4, 2_000_001)), dx=0.01) == pytest.approx(1.0, abs=1e-4)
    assert cauchy_pdf(0.0) == pytest.approx(1 / np.pi)


def test_expected_init_counts():
    edges = np.linspace(-1.0, 2.0, 13)
    u = expected_init_counts("uniform_elbows", edges, 20, (0.0, 1.0))
    assert u.sum() == pytest.approx(20.0)
    assert np.all(u[:4] == 0) and np.all(u[8:] == 0)
    he = expected_init_counts("he", edges, 20)
    assert he.sum() == 20 and he[4] == 20
    g = expected_init_counts("gaussian", edges, 20)
    assert g.sum() == pytest.approx(20 * (cauchy_cdf(2.0) - cauchy_cdf(-1.0)))


def test_elbow_trail_over_history():
    cfg = load_preset("dead-relus").config.updated({"steps": 300})
    tr = Trainer(cfg)
    h = History.for_trainer(tr)
    tr.run(300, on_step=h.record)
    x = tr.dataset.x_train
    act0 = param_activity(tr.layout, h.params[0, 0], x)
    dead = np.flatnonzero(act0.dead)
    live = np.flatnonzero(~act0.dead & ~act0.always_active)
    assert len(dead) and len(live)
    t = history_elbow_trail(h, int(dead[0]), x=x)
    assert t.steps.shape == (300,) and np.array_equal(t.steps, h.steps)
    assert np.all(t.dead)
    assert np.all(t.w == t.w[0]) and np.all(t.b == t.b[0]) and np.all(t.v == t.v[0])  # stuck
    t2 = history_elbow_trail(h, int(live[0]), x=x)
    w_i, b_i = tr.layout.index("w"), tr.layout.index("b")
    np.testing.assert_array_equal(t2.elbow, -h.params[:, 0, b_i][:, live[0]] / h.params[:, 0, w_i][:, live[0]])
    assert np.ptp(t2.elbow) > 0  # a live elbow moves
    with pytest.raises(IndexError):
        history_elbow_trail(h, 40)


# ---------------------------------------------------------------------- counting active points fast
def _brute_counts(w, b, x):
    with np.errstate(invalid="ignore", over="ignore"):
        return np.count_nonzero(np.asarray(x)[:, None] * w[None, :] + b[None, :] > 0, axis=0)


special = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 1e300, np.inf, -np.inf, np.nan])
value = st.one_of(st.floats(-10, 10, allow_nan=False), st.floats(allow_nan=True, allow_infinity=True), special)


@settings(max_examples=300, deadline=None)
@given(x=st.lists(st.one_of(st.floats(-2, 2), st.sampled_from([0.0, 0.1, 0.5, 1.0])), max_size=40),
       units=st.lists(st.tuples(value, value), max_size=12), on_data=st.booleans())
def test_active_counts_equal_the_brute_force_count(x, units, on_data):
    """The O((N + H) log N) count equals w x + b > 0 evaluated point by point, elbows on data points,
    w = 0, signed zeros, tiny and huge values, inf and nan included."""
    x = np.array(x, dtype=float)
    w = np.array([u[0] for u in units], dtype=float)
    b = np.array([u[1] for u in units], dtype=float)
    if on_data and len(x) and len(w):
        with np.errstate(all="ignore"):
            b = np.where(np.isfinite(w), -w * x[np.arange(len(w)) % len(x)], b)  # elbows exactly at data points
    np.testing.assert_array_equal(active_counts(w, b, x), _brute_counts(w, b, x))


def test_active_counts_with_non_finite_data_fall_back_to_the_direct_count():
    x = np.array([0.1, np.nan, 0.7, np.inf, -np.inf])
    w = np.array([1.0, -1.0, 0.0, 2.0])
    b = np.array([-0.5, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(active_counts(w, b, x), _brute_counts(w, b, x))


def test_active_counts_on_big_data_are_fast_and_small():
    """800,000 points x 5,000 units: the brute force needs 32 GB of temporaries; this takes
    milliseconds once the data are sorted (the sort is cached per data array)."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 800_000)
    w, b = rng.normal(size=5000), rng.normal(size=5000)
    active_counts(w, b, x)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        counts = active_counts(w, b, x)
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"counting took {peak / 2**20:.0f} MiB of temporaries"  # 0.3 MiB here
    assert seconds < 5.0  # a hang guard (1 ms here)
    sample = rng.choice(5000, 50, replace=False)
    np.testing.assert_array_equal(counts[sample], _brute_counts(w[sample], b[sample], x))


def test_elbow_view_counts_stay_exact_and_cheap_on_big_data():
    """The elbow view and the fit plot's elbow trail counted activity point by point (N x rows): 0.3 s
    a frame over 100,000 points with a unit selected. The binary-search count gives the same numbers."""
    from reluviz.core.elbow_stats import elbow_trail, fast_activity, trail_with_dead

    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, 100_000)
    layout = Layout("relu", 50)
    params = rng.normal(size=(1200, layout.size)) * 0.7
    params[:, 1:100:2] -= 0.5 * params[:, 0:100:2]  # (many elbows inside the data)
    steps = np.arange(1200) * 3
    t0 = time.perf_counter()
    slow = elbow_trail(layout, params, steps, 7, x=x)
    t1 = time.perf_counter()
    fast = trail_with_dead(layout, params, steps, 7, x=x)
    t2 = time.perf_counter()
    # both timed under the same load: the point-by-point count takes 0.75 s here, the fast one 1 ms
    assert t2 - t1 < (t1 - t0) / 10 and t2 - t1 < 2.0, (t1 - t0, t2 - t1)
    np.testing.assert_array_equal(fast.dead, slow.dead)
    assert slow.dead.any() and not slow.dead.all()
    np.testing.assert_array_equal(fast.elbow, slow.elbow)
    w, b = layout.get(params[5], "w"), layout.get(params[5], "b")
    np.testing.assert_array_equal(fast_activity(w, b, x).active_counts, activity(w, b, x).active_counts)
