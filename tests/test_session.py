"""The app's core without Qt: ``Session`` (a run, its ghost, the history chain across settings
changes), the immutable ``Frame`` it publishes, and the thinned past a frame carries. A run that
blows up stops with its reason, and every frame shows only finite, recorded states."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reluviz.core import History, TrainConfig, Trainer
from reluviz.core.config import OPTIMIZERS, SCHEDULES
from reluviz.core.history_chain import history_rows
from reluviz.core.presets import load_preset
from reluviz.core.session import Session
from reluviz.core.step_cache import StepCache

from cases import ABSURD_STEPS, MODELS, RATES, absurd, bounded_adam
from helpers import SMALL_APP, SMALL_NOTEBOOK, head_frame, short_run

#: minibatches of 6: the history's rows change shape when the batch size changes
SESSION = SMALL_NOTEBOOK.updated({"batch_size": 6})


# ---------------------------------------------------------------------- runs, frames, the history chain
def test_session_chain_across_optimizer_and_batch_changes():
    s = Session(SESSION)
    s.advance(30)
    head_frame(s)
    s.apply_config(SESSION.updated({"optimizer": "adam"}))
    s.advance(10)
    s.apply_config(SESSION.updated({"optimizer": "adam", "batch_size": 0}))
    s.advance(10)
    head_frame(s)
    h = s.history
    assert len(h.segments) == 3
    assert h.first_step() == 0 and h.last_step() == 50 and len(h) == 51
    np.testing.assert_array_equal(h.steps, np.arange(51))
    assert h.params.shape == (51, 1, SESSION.width * 3 + 1)
    assert h.at(35).batch.shape == (1, 6) and h.at(45).batch.shape == (1, SESSION.n_train)
    # back into the first (SGD) segment, on with the current settings (Adam, full batch)
    assert s.resume_from(20) == 20
    assert len(h.segments) == 2 and h.last_step() == 20
    s.advance(5)
    t = Trainer(SESSION)
    t.run(20)
    t.reconfigure(s.config)
    t.run(5)
    np.testing.assert_array_equal(s.trainer.params, t.params)


def test_frames_carry_losses_and_thinned_curves():
    s = Session(SESSION)
    for _ in range(5):
        s.advance(2000)
        frame = head_frame(s)
    assert frame.step == 10_000 and frame.live
    assert len(frame.curves.batch_steps) <= 3001 and frame.curves.batch_steps[-1] == 10_000
    assert len(frame.curves.eval_steps) == 5  # one train/test loss per drawn frame
    assert frame.train_loss == pytest.approx(float(frame.snapshot.loss(s.dataset.x_train, s.dataset.y_train)[0]))
    back = s.frame(5000)
    assert back.step == 5000 and not back.live
    assert 0 <= frame.dead_units <= SESSION.width


def test_a_new_run_evaluates_its_first_minibatch_once(monkeypatch):
    """Session.reset recorded the head (a pass over the minibatch: the whole data at full batch,
    0.2-1.3 s at the live limit) and the window's first frame recorded it again."""
    calls = []
    original = Trainer.snapshot
    monkeypatch.setattr(Trainer, "snapshot", lambda self: calls.append(self.step) or original(self))
    s = Session(SMALL_APP)
    head_frame(s)
    assert calls == [0]
    s.reset(SMALL_APP.updated({"data_seed": 3}))
    head_frame(s)
    assert calls == [0, 0]
    s.advance(5)
    head_frame(s)
    head_frame(s)
    assert calls == [0, 0, 5]
    s.apply_config(SMALL_APP.updated({"data_seed": 3, "lr": 0.05}))
    frame = head_frame(s)
    assert calls == [0, 0, 5, 5] and frame.lr == 0.05


def test_history_rows_thin_stably_and_cache_reuses_rows():
    cfg = load_preset("constant-model").config
    tr, hist, snap = short_run(cfg, 2000)
    trail = history_rows(hist, snap.step, dense=50, sparse=40)
    steps, params = trail.steps, trail.params
    assert steps[0] == 0 and steps[-1] == snap.step
    assert np.all(np.diff(steps) > 0) and len(steps) <= 50 + 2 * 40 + 1
    assert np.array_equal(params, hist.params[np.searchsorted(hist.steps, steps), 0])
    steps2 = history_rows(hist, snap.step - 10, dense=50, sparse=40).steps
    assert set(steps2[:-50]).issubset(set(steps))  # the thinned part stays on the same grid
    cache = StepCache()
    calls = []
    f = lambda rows: (calls.append(len(rows)), rows[:, :1] * 2)[1]  # noqa: E731
    a = cache.get(steps, params, f)
    b = cache.get(steps, params, f)
    assert np.array_equal(a, b) and calls == [len(steps)]
    changed = params.copy()
    changed[-1] += 1.0  # a resumed run: same step, new parameters -> recomputed
    c = cache.get(steps, changed, f)
    assert calls[-1] == 1 and c[-1, 0] == 2 * changed[-1, 0]


# ---------------------------------------------------------------------- a run that blows up
GRID = list(itertools.product(MODELS, OPTIMIZERS, SCHEDULES, RATES))


@pytest.mark.parametrize("model, optimizer, schedule, lr", GRID[::3], ids=["-".join(map(str, g)) for g in GRID[::3]])
def test_session_frames_after_divergence_are_finite(model, optimizer, schedule, lr):
    s = Session(absurd(model, optimizer, schedule, lr), budget_bytes=1 << 20)
    while not s.stopped and s.head_step < ABSURD_STEPS:
        s.advance(100)
        frame = head_frame(s)  # what the worker publishes, also mid-divergence
        assert np.all(np.isfinite(frame.snapshot.params)) and np.isfinite(frame.train_loss)
        assert np.all(np.isfinite(frame.curves.batch_loss)) and np.all(np.isfinite(frame.curves.train))
    if not bounded_adam(model, optimizer, lr):
        assert s.stopped and frame.divergence.startswith("loss became")


def test_a_frame_never_shows_the_state_that_blew_up():
    """One step at lr 100 with Adam blows the loss up to 3.5e10. The worker published that state
    (step 1) and the history dropped it a moment later; the UI fuzzer saw the step on screen missing
    from the history. The head frame now shows the last finite state and the reason at once."""
    s = Session(TrainConfig(width=40, init="gaussian", optimizer="adam", lr=100.0, batch_size=0, data_seed=6))
    assert s.advance(1) == 1 and not s.stopped
    frame = head_frame(s)
    assert s.stopped and frame.step == 0 and frame.divergence.startswith("loss became")
    assert list(s.history.steps) == [0] and np.all(np.isfinite(frame.snapshot.batch_loss))


@pytest.mark.parametrize("change", [{"batch_size": 65}, {"optimizer": "adam"}, {"batch_size": 0}, {}],
                         ids=["batch", "optimizer", "full-batch", "rate-only"])
def test_a_blow_up_right_after_a_settings_change_keeps_the_history_whole(change):
    """Found by the UI fuzzer: a new batch size (a new history segment) and an absurd rate; the first
    update blew up, the head frame stepped the trainer back into the previous segment's shape and
    the worker thread died on 'history rows must keep one shape'."""
    cfg = TrainConfig(lr=0.02, batch_size=40)
    s = Session(cfg)
    s.advance(10)
    head_frame(s)
    s.apply_config(cfg.updated({**change, "lr": 1e6}))
    assert s.advance(1) == 1
    frame = head_frame(s)
    assert s.stopped and frame.step == 10 and frame.divergence
    assert list(s.history.steps) == list(range(11)) and s.history.at(10).params.tobytes() == frame.snapshot.params.tobytes()
    s.apply_config(s.config.updated({"lr": 0.01}))
    assert s.resume_from(10) == 10 and s.advance(5) == 5
    assert list(s.history.steps) == list(range(15))
    assert not s.stopped and np.all(np.isfinite(head_frame(s).snapshot.params))


@pytest.mark.parametrize("chunk", [1, 100])
def test_the_stopped_frame_keeps_the_rate_and_minibatch_of_the_update_that_blew_up(chunk):
    """The stopped trainer reports lr 0 (no update follows); the frame and the history's last row
    keep the rate, minibatch and loss recorded for the update that blew up (the loss panel's
    learning-rate line reaches the last step; the status says 'stopped')."""
    cfg = absurd("relu", "sgd", "constant", 1e3)
    session = Session(cfg)
    while not session.stopped:
        session.advance(chunk)
        frame = head_frame(session)
    reference = Trainer(cfg)
    history = History.for_trainer(reference, budget_bytes=1 << 20)
    reference.run(ABSURD_STEPS, on_step=history.record)  # (stops where the session stopped)
    row = history.at(reference.step)
    assert frame.step == reference.step == session.history.last_step()
    assert frame.lr == 1e3 and session.history.lrs[-1, 0] == 1e3 and frame.snapshot.diverged.all()
    np.testing.assert_array_equal(frame.snapshot.batch, row.batch)
    assert frame.batch_loss == float(row.batch_loss[0])
    np.testing.assert_array_equal(frame.snapshot.state, reference.state)


def test_the_epoch_counts_the_points_drawn_across_batch_size_changes():
    s = Session(SMALL_APP)  # 100 points, B = 10
    n = s.dataset.n
    s.advance(100)
    assert head_frame(s).epoch == pytest.approx(100 * 10 / n)
    s.apply_config(s.config.updated({"batch_size": 4}))
    s.advance(50)
    at_150 = head_frame(s).epoch
    assert at_150 == pytest.approx((100 * 10 + 50 * 4) / n)  # not 150 * 4 / n: never goes back
    s.apply_config(s.config.updated({"batch_size": 0}))  # full batch: every point per step
    s.advance(10)
    assert head_frame(s).epoch == pytest.approx(at_150 + 10)
    assert s.frame(120).epoch == pytest.approx((100 * 10 + 20 * 4) / n)  # a look back counts the same way
    s.resume_from(120)  # the later segments are gone, and so are their points
    assert head_frame(s).epoch == pytest.approx((100 * 10 + 20 * 4) / n)


def test_a_run_that_cannot_start_blames_the_data_scale_not_the_rate(tmp_path):
    path = tmp_path / "huge.csv"
    xs = np.linspace(-1e6, 1e6, 50)
    path.write_text("x,y\n" + "\n".join(f"{x:.6g},{np.sin(x):.6g}" for x in xs))
    s = Session(SMALL_APP.updated({"target": "csv", "csv_path": str(path), "batch_size": 0, "width": 20}))
    frame = head_frame(s)
    assert frame.stopped and frame.step == 0
    reason = frame.divergence
    assert "at step 0, before any update" in reason and "data's scale is the cause, not the learning rate" in reason
    assert "Rescale x and y" in reason and "x reaches 1e+06" in reason
    # a rate that is too large still gets the blame when the start was fine
    s = Session(SMALL_APP.updated({"lr": 1e4, "batch_size": 0}))
    s.advance(50)
    assert s.stopped and s.trainer.divergence.step > 0 and "learning rate (10000" in s.divergence_reason
