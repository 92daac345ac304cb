"""History: every step until full, then the documented thinning; bounded bytes; scrubbing works."""

import numpy as np
import pytest

from reluviz.core import History, TrainConfig, Trainer


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


def test_block_recording_polls_should_stop_every_64_steps():
    tr = Trainer(TrainConfig(width=5, n_train=30, batch_size=6))
    h = History.for_trainer(tr)
    calls = []
    done = tr.run(1000, record=h, should_stop=lambda: calls.append(tr.step) or len(calls) == 3)
    assert done == 192 and calls == [64, 128, 192] and h.last_step() == 191
