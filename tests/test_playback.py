"""Playback in the window (offscreen, with its real training thread): step, step back, Home/End,
the timeline over the recorded (and thinned) history, Resume from here; and a run that stops: it
pauses with its reason, draws only finite values in every tab, and goes on from the last finite
step with a lower rate.

Every wait is a ``qtbot.waitUntil`` with a timeout; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pyqtgraph as pg
import pytest

from reluviz.core import TrainConfig, Trainer
from reluviz.core.config import OPTIMIZERS, SCHEDULES
from reluviz.core.presets import load_preset
from reluviz.core.session import Session
from reluviz.gui import main_window as main_window_module

from cases import ABSURD_STEPS as STEPS, MODELS, RATES, absurd, bounded_adam
from helpers import SMALL_APP as SMALL, action, thinning_problem, train_to, wait_step


def headless_params(config: TrainConfig, steps: int) -> np.ndarray:
    trainer = Trainer(config)
    trainer.run(steps)
    return trainer.params.copy()


# ---------------------------------------------------------------------- stepping and scrubbing
def test_step_and_step_back(qtbot, make_window):
    w = make_window()
    w.panel.set_speed(1)
    for k in (1, 2, 3):
        action(w, "actionStep").trigger()
        wait_step(qtbot, w, k)
    action(w, "actionStepBack").trigger()
    assert w.displayed_snapshot.step == 2
    assert not w.displayed_frame.live
    action(w, "actionStep").trigger()  # forward through the history, no training
    assert w.displayed_snapshot.step == 3 and w.displayed_frame.live
    w.panel.set_speed(5)
    action(w, "actionStep").trigger()
    wait_step(qtbot, w, 8)
    action(w, "actionHome").trigger()
    assert w.displayed_snapshot.step == 0
    action(w, "actionEnd").trigger()
    assert w.displayed_snapshot.step == 8


def test_scrub_timeline(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 200)
    assert w.timeline.maximum() == 200
    w.timeline.setValue(50)
    assert w.displayed_snapshot.step == 50
    with w.session.locked():
        expected = w.history.at(50).params.copy()
    np.testing.assert_array_equal(w.displayed_snapshot.params, expected)
    assert "of 200" in w.timeline_label.text()


def test_resume_from_here_is_bit_identical_to_an_uninterrupted_run(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 300)
    w.scrub_to(120)
    action(w, "actionResume").trigger()
    assert w.displayed_snapshot.step == 120 and w.history.last_step() == 120
    train_to(qtbot, w, 300)
    np.testing.assert_array_equal(w.displayed_snapshot.params[0], headless_params(SMALL, 300)[0])


@pytest.mark.slow
def test_the_window_scrubs_a_long_thinned_run(qtbot, make_window, monkeypatch):
    """A long run in the window with a small history: the timeline shows the nearest earlier kept
    step anywhere in the run, Home goes back to step 0, the recent past steps back one update at a
    time, and resuming from a step in the thinned part trains on from there."""
    monkeypatch.setattr(main_window_module, "Session", functools.partial(Session, budget_bytes=2 * 2**20))
    w = make_window(load_preset("notebook").config.updated({"width": 100, "steps": 10**7}))
    w.panel.set_speed(0)
    w.play()
    capacity = w.history.current.capacity
    qtbot.waitUntil(lambda: w.session.head_step > 12 * capacity, timeout=60_000)
    w.pause()
    with w.session.locked():
        steps = w.history.steps.copy()
        stride = w.history.current.stride
    assert 8 <= stride <= 8 * steps[-1] / capacity and not thinning_problem(steps, capacity, stride)
    last = int(steps[-1])
    assert w.displayed_snapshot.step == last and w.timeline.maximum() == last
    rng = np.random.default_rng(2)
    for s in rng.integers(0, last + 1, 60):
        w.timeline.setValue(int(s))
        want = int(steps[np.searchsorted(steps, s, side="right") - 1])
        assert w.displayed_snapshot.step == want
        with w.session.locked():
            np.testing.assert_array_equal(w.displayed_snapshot.params, w.history.at(want).params)
    w.go_home()
    assert w.displayed_snapshot.step == 0
    w.go_end()
    w.panel.set_speed(1)
    for k in range(1, 4):
        w.step_back()
        assert w.displayed_snapshot.step == last - k
    old = int(steps[len(steps) // 4])
    w.scrub_to(old)
    w.resume_from_here()
    assert w.history.last_step() == old
    w.step(5)
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == old + 5 and not w.worker.busy, timeout=10_000)
    ref = Trainer(w.config)
    ref.run(old + 5)
    np.testing.assert_array_equal(ref.params, w.displayed_snapshot.params)


# ---------------------------------------------------------------------- a run that stops
def test_divergence_pauses_and_explains(qtbot, make_window):
    w = make_window(None, preset="diverge")
    assert w.config.lr == 3.0
    w.panel.set_speed(0)
    w.play()
    qtbot.waitUntil(lambda: not w.worker.busy and w.session.stopped, timeout=15_000)
    qtbot.waitUntil(lambda: w.notice.isVisible(), timeout=5_000)
    assert not w.playing
    assert "loss became" in w.notice.text()
    assert w.displayed_frame.divergence.startswith("loss became")
    snap = w.displayed_snapshot
    assert np.all(np.isfinite(snap.params))
    for item in (w.view.fit.prediction, w.view.fit.units_pos, w.view.fit.units_neg):
        y = item.yData
        if y is not None and len(y):
            assert not np.any(np.isinf(y))
            assert np.any(np.isfinite(y))
    # lower the rate and go on from an earlier step
    w.panel.widgets["lr"].setValue(0.02)
    w.scrub_to(0)
    action(w, "actionResume").trigger()
    assert not w.session.stopped
    train_to(qtbot, w, 5)


def non_finite_in_plots(window) -> list[str]:
    """Every plot item of every tab: the fit plot's curves must be finite (NaN only as the unit lines'
    separators); elsewhere no infinity may reach a curve, a scatter or a bar."""
    problems = []
    fit = window.view.fit
    for name in ("prediction", "ghost"):
        x, y = getattr(fit, name).getData()
        if x is not None and len(x) and not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            problems.append(f"fit.{name}")
    for name in ("units_pos", "units_neg", "units_dead"):
        x, y = getattr(fit, name).getData()
        if x is not None and len(x):
            body = np.ones(len(x), bool)
            body[3::4] = False
            if not (np.all(np.isfinite(x[body])) and np.all(np.isfinite(y[body]))):
                problems.append(f"fit.{name}")
    pts = fit.elbows.data
    if len(pts) and not (np.all(np.isfinite(pts["x"])) and np.all(np.isfinite(pts["y"]))):
        problems.append("fit.elbows")
    for gv in window.findChildren(pg.GraphicsView):
        for item in gv.scene().items():
            arrays = []
            if isinstance(item, pg.PlotCurveItem):
                arrays = [item.xData, item.yData]
            elif isinstance(item, pg.ScatterPlotItem):
                arrays = [item.data["x"], item.data["y"]]
            elif isinstance(item, pg.BarGraphItem):
                arrays = [item.opts.get(k) for k in ("x", "height", "y0")]
            for a in arrays:
                if a is not None and np.size(a) and np.any(np.isinf(np.asarray(a, dtype=float))):
                    problems.append(f"{type(item).__name__} in {type(gv.parent()).__name__}")
    return problems


@pytest.fixture
def absurd_window(make_window):
    """A window on the absurd-rate setup (at a sane rate to begin with), training as fast as it can."""
    w = make_window(absurd("relu", "sgd", "constant", 0.01))
    w.panel.set_speed(0)
    return w


WINDOW_GRID = [(m, o, SCHEDULES[i % len(SCHEDULES)], lr)
               for i, (m, o, lr) in enumerate(itertools.product(MODELS, OPTIMIZERS, RATES))]


@pytest.mark.slow
def test_window_stops_every_absurd_run_with_a_reason_and_draws_only_finite_values(qtbot, absurd_window):
    w = absurd_window
    for k, (model, optimizer, schedule, lr) in enumerate(WINDOW_GRID):
        cfg = absurd(model, optimizer, schedule, lr, data_seed=k)  # (a new data seed: a new run each time)
        w.apply_config(cfg)
        assert w.config == cfg and w.displayed_snapshot.step == 0
        w.play()
        if bounded_adam(model, optimizer, lr):
            qtbot.waitUntil(lambda: w.session.head_step >= 500, timeout=15_000)
            w.pause()
        else:
            qtbot.waitUntil(lambda: w.session.stopped and not w.worker.busy, timeout=15_000)
            qtbot.waitUntil(lambda: w.notice.isVisible() and "loss became" in w.notice.text(), timeout=5_000)
            assert not w.playing and w.displayed_frame.divergence.startswith("loss became")
            assert "stopped" in w.status.text()
        assert np.all(np.isfinite(w.displayed_snapshot.params))
        for i in range(w.tabs.count()):  # every lecture view draws the stopped run
            w.tabs.setCurrentIndex(i)
            assert not non_finite_in_plots(w), (cfg, non_finite_in_plots(w))
        w.tabs.setCurrentIndex(0)
        w.scrub_to(w.displayed_snapshot.step // 2)  # look back into the run before it blew up
        assert not non_finite_in_plots(w)


@pytest.mark.parametrize("preset", ["constant-model", "linear-model", "dance", "diverge", "notebook"])
def test_worksheet_presets_with_their_ghost_at_an_absurd_rate(qtbot, absurd_window, preset):
    w = absurd_window
    w.load_preset(preset)
    w.apply_config(w.config.updated({"lr": 1e6}))
    assert w.config.lr == 1e6
    w.play()
    qtbot.waitUntil(lambda: w.session.stopped and not w.worker.busy, timeout=15_000)
    qtbot.waitUntil(lambda: "loss became" in w.notice.text(), timeout=5_000)
    if w.session.ghost is not None:
        assert np.all(np.isfinite(w.displayed_frame.ghost.params))
    for i in range(w.tabs.count()):
        w.tabs.setCurrentIndex(i)
        assert not non_finite_in_plots(w)
    # the way out the notice suggests: a lower rate, resume from an earlier step
    w.apply_config(w.config.updated({"lr": 0.01}))
    w.scrub_to(0)
    w.resume_from_here()
    assert not w.session.stopped
    w.step(5)
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == 5 and not w.worker.busy, timeout=10_000)


def test_play_after_a_divergence_goes_on_from_the_last_finite_step_with_the_lower_rate(qtbot, absurd_window):
    """The notice after a change says: 'The run had stopped: press play (or Resume from here) to go
    on from the displayed step with the new setting.' Play did nothing: the displayed row (the last
    finite state) is recorded as stopped, and resuming restored that flag."""
    w = absurd_window
    w.load_preset("diverge")
    w.play()
    # (the window draws the stop when the thread's queued signals arrive: the compiled kernels get
    # there within microseconds of play)
    qtbot.waitUntil(lambda: w.session.stopped and not w.worker.busy and bool(w.displayed_frame.divergence),
                    timeout=15_000)
    last_finite = w.displayed_snapshot.step
    assert last_finite > 0 and w.session.divergence_reason
    w.panel.widgets["lr"].setValue(0.02)
    assert "press Play" in w.notice.text()
    w.step(3)
    assert not w.session.stopped
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == last_finite + 3 and not w.worker.busy, timeout=10_000)
    np.testing.assert_array_equal(w.displayed_snapshot.lr, [0.02])


def test_a_late_stop_signal_draws_the_stopped_state_under_its_notice(qtbot, absurd_window):
    """The stop signal can be queued behind other events (a run that stopped before a reset, or a
    frame not collected yet): the window then draws the stopped state itself, and a signal for a run
    that is no longer stopped says nothing."""
    w = absurd_window
    w.apply_config(absurd("relu", "sgd", "constant", 1e3, data_seed=7))
    w.worker.runStopped.emit("diverged")  # from an earlier run: this one is fresh
    assert not w.notice.isVisible() or "stopped" not in w.notice.text()
    assert w.displayed_frame.divergence == ""
    with w.session.locked():  # the run stops, as in the training thread, with no frame published
        w.session.advance(STEPS)
    assert w.session.stopped and w.displayed_frame.divergence == ""
    w.worker.runStopped.emit("diverged")
    assert w.displayed_frame.divergence.startswith("loss became")
    assert w.displayed_frame.step == w.session.head_step and "loss became" in w.notice.text()


