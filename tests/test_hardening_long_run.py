"""Long runs: memory stays bounded, the history is thinned as documented, scrubbing keeps working.

The full measurement (10^6 steps at width 100 in the default 128 MiB history) is
``benchmarks/bench_long_run.py``; here a smaller history budget lets 200,000 steps go through the
same thinning (dozens of times) in a few seconds.

Documented bound (reluviz/core/history.py, benchmarks/README.md): the resident memory of a run is at
most the memory before it + the history budget + 64 MiB, and it does not grow once the history is
full (at most 8 MiB over the last 90% of the run).
"""

from __future__ import annotations

import functools

import numpy as np

from reluviz.core import Trainer
from reluviz.core.presets import load_preset
from reluviz.gui import main_window as main_window_module
from reluviz.core.session import Session
from helpers import thinning_problem

NOTEBOOK_100 = load_preset("notebook").config.updated({"width": 100})


def test_the_window_scrubs_a_long_thinned_run(qtbot, tmp_path, monkeypatch):
    """A long run in the window with a small history: the timeline shows the nearest earlier kept
    step anywhere in the run, Home goes back to step 0, the recent past steps back one update at a
    time, and resuming from a step in the thinned part trains on from there."""
    monkeypatch.setenv("RELUVIZ_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setattr(main_window_module, "Session", functools.partial(Session, budget_bytes=2 * 2**20))
    w = main_window_module.MainWindow(NOTEBOOK_100.updated({"steps": 10**7}))
    qtbot.addWidget(w)
    w.show()
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
