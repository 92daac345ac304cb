"""The training thread (``gui/worker.py``) under the window: frames flow while playing and none is
left behind after a pause; pause and reset stay quick when a single step is expensive."""

from __future__ import annotations

import time

import numpy as np

from helpers import SMALL_APP as SMALL, action


def test_play_draws_frames_then_pause_stops(qtbot, make_window):
    # (a run long enough to be playing when it is paused: the compiled kernels train the default
    # 100,000 steps in ~0.3 s, about 8 frames)
    w = make_window(SMALL.updated({"steps": 10**9}))
    w.panel.set_speed(0)
    action(w, "actionPlayPause").trigger()
    assert w.playing
    start = w.frames_drawn
    qtbot.waitUntil(lambda: w.frames_drawn >= start + 5, timeout=10_000)
    action(w, "actionPlayPause").trigger()
    assert not w.playing and not w.worker.busy
    step = w.displayed_snapshot.step
    assert step > 0
    assert step == w.session.head_step  # the final frame is the state training stopped at
    assert w.worker.take_frame() is None
    assert "step" in w.status.text() and "dead units" in w.status.text()


def test_pause_and_reset_stay_quick_when_a_step_is_expensive(qtbot, make_window):
    """Full batch over 100,000 points x 200 units was ~0.15 s a step. The worker started every
    burst with 64-step chunks under the session lock (and the trainer looks at should_stop every 64
    steps): a reset while playing waited 10.9 s. Chunks now start at one step and at most double,
    and start over when the run or its settings change. (Near the live limit: 101,100 points, of
    them 100,000 training, x 100 units.)"""
    w = make_window(SMALL.updated({"n_train": 100_000, "width": 100, "batch_size": 0}))
    assert w.config.n_train == 100_000 and w.config.width == 100  # (not refused at start)
    w.panel.set_speed(0)
    w.play()
    qtbot.waitUntil(lambda: w.worker.steps_trained >= 2, timeout=20_000)
    t0 = time.perf_counter()
    w.panel.widgets["noise"].setValue(0.5)  # a new run while playing: pause, reset, play again
    assert time.perf_counter() - t0 < 8.0  # a hang guard: 0.2-0.5 s here; it was 10.9 s
    assert w.config.noise == 0.5 and w.playing
    qtbot.waitUntil(lambda: w.worker.steps_trained >= 4, timeout=20_000)
    t0 = time.perf_counter()
    w.pause()
    assert time.perf_counter() - t0 < 8.0 and not w.worker.busy  # a hang guard (0.04 s here)


def test_off_the_gil_the_worker_trains_between_frames_in_one_call(qtbot, make_window):
    """With the compiled kernels at speed "max", the thread trains until the next frame is due in
    one ``advance`` (each return to Python takes the GIL back, and waits while the window draws):
    about one call per published frame, not one every 4 ms (four a frame) as before."""
    from reluviz.core import backend

    if backend.compiled(wait=True) is None:
        import pytest

        pytest.skip("numba is not available")
    w = make_window(SMALL.updated({"width": 100, "steps": 10**9}))
    calls, frames = [], []
    advance = w.session.advance
    w.session.advance = lambda n, should_stop=None: calls.append(n) or advance(n, should_stop)
    w.worker.frameReady.connect(lambda: frames.append(len(calls)))
    w.panel.set_speed(0)
    w.play()
    qtbot.waitUntil(lambda: len(frames) >= 40, timeout=20_000)
    w.pause()
    assert w.session.trains_off_gil
    per_frame = np.diff(frames[10:])  # (after the chunk size has settled)
    assert np.mean(per_frame) <= 2.5, per_frame
    assert np.median(calls[len(calls) // 2 :]) > 1000  # steps a call: ~16 ms of training, not a few steps


def test_when_drawing_is_slow_the_worker_publishes_fewer_frames(qtbot):
    """At speed "max" a frame is due every 1/60 s, or later when the window's drawing (take_frame
    to frame_drawn) would take more than DRAW_SHARE of the GUI thread: Qt's painting holds the GIL
    and training waits for it. A window that draws for 25 ms gets ~20 frames a second, not 40."""
    from reluviz.core.session import Session
    from reluviz.gui.worker import DRAW_SHARE, TrainingWorker

    worker = TrainingWorker(Session(SMALL.updated({"steps": 10**9})))
    drawn = []

    def draw():
        if worker.take_frame() is not None:
            time.sleep(0.025)  # (drawing: the GUI thread holds the GIL)
            drawn.append(time.perf_counter())
            worker.frame_drawn()

    worker.frameReady.connect(draw)
    worker.set_speed(0)
    worker.start()
    try:
        worker.play()
        qtbot.waitUntil(lambda: len(drawn) >= 30, timeout=20_000)
    finally:
        worker.stop()
    rate = (len(drawn) - 11) / (drawn[-1] - drawn[10])
    assert 0.4 / (0.025 / DRAW_SHARE) < rate < 1.25 / (0.025 / DRAW_SHARE), rate  # ~20 a second
    assert worker.steps_trained > 0
