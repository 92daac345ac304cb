"""History: every step until full, then the documented thinning; bounded bytes; scrubbing works,
also over long runs.

The full measurement (10^6 steps at width 100 in the default 128 MiB history) is
``benchmarks/bench_long_run.py``; here a smaller history budget lets 200,000 steps go through the
same thinning (dozens of times) in a few seconds. Documented bound (reluviz/core/history.py,
benchmarks/README.md): the resident memory of a run is at most the memory before it + the history
budget + 64 MiB, and it does not grow once the history is full (at most 8 MiB over the last 90% of
the run).
"""

import time
import tracemalloc

import numpy as np
import pytest

from reluviz.core import History, TrainConfig, Trainer
from reluviz.core.presets import load_preset
from reluviz.core.session import Session

from helpers import head_frame, rss_mib, thinning_problem

SLACK_MIB = 64
GROWTH_MIB = 8
NOTEBOOK_100 = load_preset("notebook").config.updated({"width": 100})


def _history(budget_rows):
    tr = Trainer(TrainConfig(width=4, n_train=20, batch_size=5))
    h = History.for_trainer(tr)
    h = History(tr.layout, 1, tr.state.shape[1], tr.batch_size, budget_bytes=0, min_rows=budget_rows)
    return tr, h


def test_keeps_every_step_until_full():
    tr, h = _history(100)
    tr.run(100, on_step=h.record)
    assert list(h.steps) == list(range(100)) and h.stride == 1


def test_thinning_keeps_recent_dense_and_old_on_stride():
    tr, h = _history(100)
    tr.run(1000, on_step=h.record)
    steps = h.steps
    assert len(h) <= h.capacity == 100
    assert steps[0] == 0 and steps[-1] == 999
    assert np.all(np.diff(steps) > 0)
    # the newest stretch is every step
    tail = steps[-30:]
    assert np.all(np.diff(tail) == 1)
    # older rows sit on multiples of a power-of-two stride
    gaps = np.diff(steps)
    assert gaps.max() <= h.stride and h.stride >= 2 and (h.stride & (h.stride - 1)) == 0


def test_rows_are_the_trainer_states_and_scrub_to_nearest_earlier():
    tr, h = _history(50)
    ref = Trainer(tr.config)
    tr.run(400, on_step=h.record)
    for i in range(len(h)):
        s = h.row(i)
        ref2 = Trainer(tr.config)
        ref2.run(s.step)
        np.testing.assert_array_equal(ref2.state, s.state)
        if i > 5:
            break
    missing = next(t for t in range(400) if t not in set(h.steps))
    assert h.at(missing).step == max(s for s in h.steps if s <= missing)


def test_truncate_after_discards_the_future():
    tr, h = _history(100)
    tr.run(50, on_step=h.record)
    snap = h.at(20)
    h.truncate_after(20)
    assert h.last_step() == 20
    tr.restore(snap)
    tr.run(10, on_step=h.record)
    assert list(h.steps) == list(range(30))


def test_memory_is_bounded_by_budget():
    tr = Trainer(TrainConfig(width=100))
    h = History.for_trainer(tr, budget_bytes=8 * 2**20)
    assert h.nbytes <= 8 * 2**20 + 4096
    tr.run(3 * h.capacity, on_step=h.record)
    assert len(h) <= h.capacity


def _rows(h):
    return (h.steps.copy(), h.params.copy(), h.batches.copy(), h.batch_losses.copy(), h.lrs.copy())


def _assert_same_history(a, b):
    for x, y in zip(_rows(a), _rows(b)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("changes", [{}, {"optimizer": "adam", "lr": 0.01}, {"batch_size": 0},
                                     {"schedule": "inverse", "decay": 0.01}])
def test_block_recording_equals_step_by_step_recording(changes):
    cfg = TrainConfig(width=5, n_train=30, batch_size=6).updated(changes)
    a, b = Trainer(cfg), Trainer(cfg)
    ha = History(a.layout, 1, a.state.shape[1], a.batch_size, budget_bytes=0, min_rows=200)
    hb = History(b.layout, 1, b.state.shape[1], b.batch_size, budget_bytes=0, min_rows=200)
    for n in (1, 7, 1500, 3):  # crosses sampling blocks and several thinnings
        assert a.run(n, on_step=ha.record) == b.run(n, record=hb) == n
    assert np.array_equal(a.state, b.state)
    _assert_same_history(ha, hb)
    assert ha.stride == hb.stride > 1


def test_block_recording_stops_on_divergence_like_step_recording():
    cfg = TrainConfig(width=5, n_train=30, batch_size=6, lr=50.0)
    a, b = Trainer(cfg), Trainer(cfg)
    ha, hb = History.for_trainer(a), History.for_trainer(b)
    na, nb = a.run(1000, on_step=ha.record), b.run(1000, record=hb)
    assert na == nb == a.step == b.step == a.divergence.step - 1  # run() returns how far the run moved
    _assert_same_history(ha, hb)
    assert hb.last_step() == b.step


def test_block_recording_polls_should_stop_every_poll_steps(backend):
    """The NumPy path polls every POLL_STEPS steps; the compiled kernels after each call, which
    covers a span of sampling blocks (aligned to it)."""
    from reluviz.core.sampling import BLOCK
    from reluviz.core.trainer import POLL_STEPS

    tr = Trainer(TrainConfig(width=5, n_train=30, batch_size=6))
    k = tr._span * BLOCK if backend == "numba" else POLL_STEPS
    h = History.for_trainer(tr)
    calls = []
    done = tr.run(10 * k, record=h, should_stop=lambda: calls.append(tr.step) or len(calls) == 3)
    assert done == 3 * k and calls == [k, 2 * k, 3 * k] and h.last_step() == 3 * k - 1


# ---------------------------------------------------------------------- long runs
def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux: write 5 to /proc/self/clear_refs); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


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


@pytest.mark.slow
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
    assert seconds < 20  # a hang guard (2.7 s here); the speed is benchmarks/bench_long_run.py's business
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


@pytest.mark.parametrize("budget", [64 * 50, 1 << 16, 1 << 18])
def test_thinning_moves_every_column_with_its_step(budget):
    """Thinning gathers the kept old rows and moves the recent half down in slices: each kept row
    still holds its own state, batch, loss and rate (here all made of the step's number)."""
    tr = Trainer(TrainConfig(width=3, n_train=30, batch_size=4))
    h = History.for_trainer(tr, budget_bytes=budget)
    for t in range(20_000):
        h.record(t, np.full((1, h.state_size), float(t)), np.full((1, 4), t), np.array([1.0 * t]),
                 np.array([2.0 * t]), np.array([t % 3 == 0]))
    steps = h.steps
    assert h.stride > 1 and steps[0] == 0 and steps[-1] == 19_999 and np.all(np.diff(steps) > 0)
    assert np.array_equal(h._state[: len(h), 0], np.repeat(steps[:, None], h.state_size, 1).astype(float))
    assert np.array_equal(h.batches[:, 0], np.repeat(steps[:, None], 4, 1))
    assert np.array_equal(h.batch_losses[:, 0], 1.0 * steps) and np.array_equal(h.lrs[:, 0], 2.0 * steps)
    assert np.array_equal(h._diverged[: len(h), 0], steps % 3 == 0)
