"""Hardening of the lecture views and plots: the sequences of states that broke them (found by the
UI fuzzer in test_fuzz_ui.py), each replayed directly on the widget."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import show

from reluviz.core import History, Trainer
from reluviz.core.config import TrainConfig
from reluviz.gui.views.elbows_view import ElbowsView


def _state(config: TrainConfig, steps: int = 3):
    trainer = Trainer(config)
    history = History.for_trainer(trainer)
    trainer.run(steps, on_step=history.record)
    history.record_snapshot(trainer.snapshot())
    return trainer.snapshot(), history, trainer.dataset


@pytest.fixture
def elbows_view(qtbot):
    v = ElbowsView()
    qtbot.addWidget(v)
    return v


@pytest.mark.parametrize("first, second", [("uniform_elbows", "gaussian"), ("he", "gaussian"),
                                           ("gaussian", "uniform_elbows")])
def test_elbows_view_switches_between_stepped_and_smooth_expected_curves(elbows_view, first, second):
    """A run with init uniform_elbows / he draws the expected counts as steps (len(x) = len(y) + 1),
    a gaussian one as a smooth curve; pyqtgraph kept the old stepMode and raised on the switch."""
    for init in (first, second, first):
        cfg = TrainConfig(width=8, n_train=50, batch_size=10, init=init)
        snap, history, ds = _state(cfg)
        show(elbows_view, snap, history, ds, cfg)
        x, y = elbows_view.hist.expected.getData()
        assert x is not None and y is not None
        assert len(x) == len(y) + (1 if init != "gaussian" else 0)
        assert np.all(np.isfinite(y))


# ---------------------------------------------------------------------- views on runs too big to draw
from reluviz.core import optimum as views_base  # noqa: E402
from reluviz.gui.views import votes_view as votes_module  # noqa: E402
from reluviz.gui.views.dance_view import DanceView  # noqa: E402
from reluviz.gui.views.votes_view import VotesView  # noqa: E402


def test_votes_view_says_when_there_are_too_many_votes(qtbot, monkeypatch):
    """N x P votes are computed on every frame: 100,000 points x 601 parameters took 3.7 s a frame."""
    monkeypatch.setattr(votes_module, "VOTES_LIMIT", 1000)
    view = VotesView()
    qtbot.addWidget(view)
    cfg = TrainConfig(width=20, n_train=100, batch_size=10)
    snap, history, ds = _state(cfg)
    show(view, snap, history, ds, cfg)
    assert view.last_votes is None and "Too many votes" in view.summary.text()
    assert "6,100" not in view.summary.text() and "100 training points" in view.summary.text()
    monkeypatch.setattr(votes_module, "VOTES_LIMIT", 10_000)  # a smaller run draws again
    show(view, snap, history, ds, cfg)
    assert view.last_votes is not None and len(view.last_votes.votes) == 100


def test_dance_view_on_a_network_too_wide_for_theta_star(qtbot, monkeypatch):
    """train=output at 4,000 points x 5,000 units froze the window 20 s solving for theta*; a local
    optimum or a dance at that width never came back (and a closing window waited for it)."""
    monkeypatch.setattr(views_base, "EXACT_OPTIMUM_MAX_FLOPS", 1e4)
    monkeypatch.setattr(views_base, "LOCAL_OPTIMUM_MAX_PARAMS", 30)
    view = DanceView()
    qtbot.addWidget(view)
    cfg = TrainConfig(width=20, n_train=100, batch_size=10, train="output")
    snap, history, ds = _state(cfg)
    show(view, snap, history, ds, cfg)
    assert view._mode == "big" and view._opt is None and view.placeholder.isVisible()
    assert "too costly" in view.placeholder.toPlainText()
    assert view.run_dance(steps=50) is None and "Cannot run the dance" in view.dance_panel.status.text()
    full = cfg.updated({"train": "all"})
    snap, history, ds = _state(full)
    show(view, snap, history, ds, full)
    assert view._mode == "full" and not view.local_button.isEnabled()
    view.find_local_optimum()
    assert view.optimum_worker is None and "too costly" in view.landscape_caption.text()
    small = TrainConfig(width=3, n_train=20, batch_size=5, train="output")  # small enough: theta* again
    snap, history, ds = _state(small)
    show(view, snap, history, ds, small)
    assert view._mode == "output" and view._opt is not None


# ---------------------------------------------------------------------- the fit plot of a wide network
from reluviz.core.model import Layout, predict  # noqa: E402
from reluviz.core.polylines import relu_polyline  # noqa: E402


@pytest.mark.parametrize("seed", range(6))
def test_relu_polyline_equals_the_network_at_every_elbow(seed):
    """The fit plot drew f(x) by evaluating the net at each of its H elbows, H^2 work: 0.2 s a frame
    at width 5,000 (a quarter of the 2 s the UI fuzzer allows an action). The O(H log H) polyline
    must be the same curve: same points, same values to rounding."""
    rng = np.random.default_rng(seed)
    h = [1, 7, 600, 3000, 5000, 40][seed]
    w = rng.normal(size=h) * rng.choice([1.0, 0.0, 1e-3], size=h, p=[0.8, 0.1, 0.1])
    b = rng.normal(size=h)
    if seed == 5:
        b[::2] = -w[::2] * 0.25  # many elbows exactly at the same place
    v, c = rng.normal(size=h), float(rng.normal())
    layout = Layout("relu", h)
    params = np.zeros(layout.size)
    for name, value in (("w", w), ("b", b), ("v", v), ("c", c)):
        params[layout.index(name)] = value
    xs, ys = relu_polyline(w, b, v, c, -0.05, 1.05)
    with np.errstate(all="ignore"):
        e = -b / w
    inside = np.sort(e[np.isfinite(e) & (e > -0.05) & (e < 1.05)])
    np.testing.assert_array_equal(xs, np.r_[-0.05, inside, 1.05])
    exact = predict(layout, params, xs)
    scale = np.abs(v).sum() * (np.abs(w).max() + np.abs(b).max()) + abs(c)
    np.testing.assert_allclose(ys, exact, rtol=0, atol=1e-12 * scale)


def test_elbow_view_counts_stay_exact_and_cheap_on_big_data():
    """The elbow view and the fit plot's elbow trail counted activity point by point (N x rows): 0.3 s
    a frame over 100,000 points with a unit selected. The binary-search count gives the same numbers."""
    import time

    from reluviz.core.elbow_stats import activity, elbow_trail
    from reluviz.core.elbow_stats import fast_activity, trail_with_dead

    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, 100_000)
    layout = Layout("relu", 50)
    params = rng.normal(size=(1200, layout.size)) * 0.7
    params[:, 1:100:2] -= 0.5 * params[:, 0:100:2]  # (many elbows inside the data)
    steps = np.arange(1200) * 3
    slow = elbow_trail(layout, params, steps, 7, x=x)
    t0 = time.perf_counter()
    fast = trail_with_dead(layout, params, steps, 7, x=x)
    assert time.perf_counter() - t0 < 0.1
    np.testing.assert_array_equal(fast.dead, slow.dead)
    assert slow.dead.any() and not slow.dead.all()
    np.testing.assert_array_equal(fast.elbow, slow.elbow)
    w, b = layout.get(params[5], "w"), layout.get(params[5], "b")
    np.testing.assert_array_equal(fast_activity(w, b, x).active_counts, activity(w, b, x).active_counts)
