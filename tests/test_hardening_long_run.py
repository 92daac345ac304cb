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
import time
import tracemalloc

import numpy as np
import pytest

from reluviz.core import History, TrainConfig, Trainer
from reluviz.core.presets import load_preset
from reluviz.gui import main_window as main_window_module
from reluviz.core.session import Session
from helpers import head_frame

SLACK_MIB = 64
GROWTH_MIB = 8
NOTEBOOK_100 = load_preset("notebook").config.updated({"width": 100})


def rss_mib(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(field)


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux: write 5 to /proc/self/clear_refs); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def thinning_problem(steps: np.ndarray, capacity: int, stride: int) -> str:
    """'' if ``steps`` follow the documented rule: step 0, the old part on multiples of the stride
    with no gap wider than it, then a dense stretch of at least half the store."""
    n = len(steps)
    if n > capacity:
        return f"{n} rows over the capacity {capacity}"
    if n == 0 or steps[0] != 0:
        return "step 0 was dropped"
    gaps = np.diff(steps)
    if np.any(gaps <= 0):
        return "steps do not increase"
    dense_from = n - 1 - (np.flatnonzero(gaps[::-1] != 1)[0] if np.any(gaps != 1) else n - 1)
    if stride > 1 and n - dense_from < capacity // 2:
        return f"only {n - dense_from} newest rows are dense"
    if np.any(steps[:dense_from] % stride):
        return f"old steps off the stride {stride}"
    if stride > 1 and np.any(np.diff(steps[: dense_from + 1]) > stride):
        return "a gap in the old part wider than the stride"
    return ""


def assert_scrubbing_works(history, last: int, rng, count: int = 500) -> None:
    steps = history.steps
    queries = np.r_[rng.integers(0, last + 1, count), 0, 1, 2, 3, last, last - 1]
    for s in queries:
        want = int(steps[np.searchsorted(steps, s, side="right") - 1])
        assert history.at(int(s)).step == want


@pytest.mark.parametrize("path", ["on_step", "record"])
def test_the_old_part_stays_spread_over_the_whole_run(path):
    """The stride doubled on every thinning, whatever was needed: it grew exponentially with the
    run's length, so after ~60 thinnings only step 0 was left of the old part (the early run could
    not be scrubbed to), then it overflowed int64 and recording raised OverflowError (at step 94,533
    with an 8 MiB store at width 100)."""
    trainer = Trainer(TrainConfig(width=4, n_train=20, batch_size=5))
    capacity = 256
    h = History(trainer.layout, 1, trainer.state.shape[1], trainer.batch_size, budget_bytes=0, min_rows=capacity)
    total = 100 * capacity  # ~400 thinnings
    if path == "on_step":
        trainer.run(total, on_step=h.record)
    else:
        while trainer.step < total:
            trainer.run(min(700, total - trainer.step), record=h)
    steps = h.steps
    assert not thinning_problem(steps, capacity, h.stride)
    assert h.stride <= 8 * total / capacity  # proportional to the run, not exponential
    old = steps[steps < steps[-1] - capacity // 2]
    assert len(old) >= capacity // 8  # the early run is still there, evenly spread
    assert_scrubbing_works(h, total - 1, np.random.default_rng(0))
    for s in (1, total // 3, total - 2):  # kept rows are the states of the run
        ref = Trainer(trainer.config)
        ref.run(h.at(s).step)
        np.testing.assert_array_equal(ref.state, h.at(s).state)


def test_thinning_moves_rows_in_place():
    """Thinning copied every kept row to a temporary first (col[keep]): 87 MB more at each thinning
    at width 100 in the default store, a peak RSS of 327 MiB against 234 MiB when it ran in place."""
    trainer = Trainer(NOTEBOOK_100)
    h = History.for_trainer(trainer, budget_bytes=16 * 2**20)
    trainer.run(h.capacity - 1, record=h)
    trainer.run(1, on_step=h.record)
    assert len(h) == h.capacity
    tracemalloc.start()
    try:
        h.record_snapshot(trainer.snapshot())  # the store is full: this thins it
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(h) < h.capacity and h.stride in (2, 4)
    assert peak < 0.25 * h.nbytes, f"thinning allocated {peak / 2**20:.1f} MiB for a {h.nbytes / 2**20:.0f} MiB store"


def test_200k_steps_at_width_100_stay_within_the_memory_bound_and_scrub(capsys):
    budget = 8 * 2**20
    before = rss_mib()
    peak_resettable = reset_peak_rss()
    session = Session(NOTEBOOK_100.updated({"steps": 200_000}), budget_bytes=budget)
    history = session.history
    capacity = history.current.capacity
    t0 = time.perf_counter()
    rss_tenth = None
    while session.head_step < 200_000:  # as the training thread does: chunks, a frame after each
        session.advance(4000)
        frame = head_frame(session)
        if rss_tenth is None and session.head_step >= 20_000:
            rss_tenth = rss_mib()
    seconds = time.perf_counter() - t0
    after, peak = rss_mib(), rss_mib("VmHWM")
    with capsys.disabled():
        print(f"\nlong run: 200,000 steps at width 100 in {seconds:.1f} s ({200_000 / seconds:,.0f} steps/s), "
              f"history {len(history):,}/{capacity:,} rows, stride {history.current.stride}; RSS before "
              f"{before:.1f} MiB, at 10% {rss_tenth:.1f}, end {after:.1f}, peak "
              f"{peak:.1f} MiB{'' if peak_resettable else ' (of the whole test process)'}; bound "
              f"{before + budget / 2**20 + SLACK_MIB:.1f} MiB")
    assert seconds < 20
    assert after - rss_tenth < GROWTH_MIB
    assert after < before + budget / 2**20 + SLACK_MIB
    if peak_resettable:
        assert peak < before + budget / 2**20 + SLACK_MIB
    assert not thinning_problem(history.steps, capacity, history.current.stride)
    assert history.current.stride >= 64  # dozens of thinnings went by
    assert history.last_step() == frame.step == 200_000
    assert_scrubbing_works(history, 200_000, np.random.default_rng(1))
    assert session.frame(1).step == 0 and session.frame(history.current.stride).step == history.current.stride
    ref = Trainer(session.config)
    ref.run(history.current.stride * 3)
    np.testing.assert_array_equal(ref.params, history.at(history.current.stride * 3).params)


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
