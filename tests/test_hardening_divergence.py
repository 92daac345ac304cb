"""Divergence everywhere: absurd learning rates with every optimizer, schedule and model.

Headless (the core trainer, its History, ``record_run`` and the app's Session) and in the window:
the run stops with a reason a student can act on, the state kept is the last finite one, and no
non-finite value reaches a plot item (the fit plot's prediction, units and elbows strictly; no
infinity in any curve, scatter or bar of any tab; NaN is only a gap in a line).

One exception, by design: Adam moves each parameter by about ``lr`` per step, whatever the
gradient, so on the one-parameter worksheet models (constant, linear) at lr = 1e3 it hops around
with an amplitude of ~1e3 (a loss of ~1e6, below the explode limit of 1e10 (1 + mean y^2)) and never
blows up. There the run must simply stay finite.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
import pytest

from reluviz.core.config import OPTIMIZERS, SCHEDULES
from reluviz.gui import MainWindow

from cases import ABSURD_STEPS as STEPS, MODELS, RATES, absurd, bounded_adam

# ---------------------------------------------------------------------- in the window
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
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("RELUVIZ_SETTINGS_DIR", str(tmp_path / "settings"))
    w = MainWindow(absurd("relu", "sgd", "constant", 0.01))
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    w.panel.set_speed(0)
    return w


WINDOW_GRID = [(m, o, SCHEDULES[i % len(SCHEDULES)], lr)
               for i, (m, o, lr) in enumerate(itertools.product(MODELS, OPTIMIZERS, RATES))]


def test_window_stops_every_absurd_run_with_a_reason_and_draws_only_finite_values(qtbot, window):
    w = window
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
def test_worksheet_presets_with_their_ghost_at_an_absurd_rate(qtbot, window, preset):
    w = window
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


def test_play_after_a_divergence_goes_on_from_the_last_finite_step_with_the_lower_rate(qtbot, window):
    """The notice after a change says: 'The run had stopped: press play (or Resume from here) to go
    on from the displayed step with the new setting.' Play did nothing: the displayed row (the last
    finite state) is recorded as stopped, and resuming restored that flag."""
    w = window
    w.load_preset("diverge")
    w.play()
    qtbot.waitUntil(lambda: w.session.stopped and not w.worker.busy, timeout=15_000)
    last_finite = w.displayed_snapshot.step
    assert last_finite > 0 and w.session.divergence_reason
    w.panel.widgets["lr"].setValue(0.02)
    assert "press play" in w.notice.text()
    w.step(3)
    assert not w.session.stopped
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == last_finite + 3 and not w.worker.busy, timeout=10_000)
    np.testing.assert_array_equal(w.displayed_snapshot.lr, [0.02])


def test_a_late_stop_signal_draws_the_stopped_state_under_its_notice(qtbot, window):
    """The stop signal can be queued behind other events (a run that stopped before a reset, or a
    frame not collected yet): the window then draws the stopped state itself, and a signal for a run
    that is no longer stopped says nothing."""
    w = window
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


