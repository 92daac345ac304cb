"""The training thread: advances a ``Session`` as fast as asked and hands frames to the window.

The thread never touches a widget. It trains in chunks of a few milliseconds under
``session.lock`` (stepping aside whenever the GUI thread waits for the lock) and publishes at most
one ``Frame`` that has not been taken yet: a newer frame replaces an untaken one (latest wins), and
the frame of the step where a run stops is always published. ``frameReady`` tells the window a
frame is waiting; the window collects it with ``take_frame()``.

Speed: ``speed`` N > 0 means N updates per drawn frame (paced: the thread waits until the window
took the last frame and one display interval passed); ``speed`` 0 means as fast as the machine
goes, publishing the newest state up to 60 times a second (less often when frames are expensive
to build or to draw: ``FRAME_SHARE``, ``DRAW_SHARE``); with the compiled kernels it trains until
the next frame is due in one chunk.

Back-pressure at speed 0 (one mechanism): when training holds the GIL (the NumPy backend), after
publishing the thread waits (``DRAW_WAIT`` at most) until the window calls ``frame_drawn()``.
Drawing a frame is Python (pyqtgraph) that needs the GIL, which a training thread running NumPy on
small arrays takes back at every chance: both threads then hand the GIL over thousands of times a
second. Waiting costs training little, since it could not have run while the window held the GIL
anyway. The compiled kernels train without the GIL, so with them the thread does not wait.
"""

from __future__ import annotations

import threading
import time

from PySide6 import QtCore

from reluviz.core.frame import Frame, TrailSpec
from reluviz.core.session import Session

FRAME_INTERVAL = 1.0 / 60.0      # paced playback (speed N): at most 60 frames a second
MAX_SPEED_INTERVAL = 1.0 / 60.0  # speed "max": 60 frames a second (the compiled kernels train off
                                 # the GIL; with NumPy the frame rate falls to what drawing leaves)
CHUNK_SECONDS = 0.004            # training time per lock hold
MAX_CHUNK_STEPS = 100_000        # (16 ms of the fastest kernels at width 10)
EARLY = 0.002                    # speed "max": a frame may go out this much before it is due (a
                                 # chunk timed to end at the due time ends a little before or after)
FRAME_SHARE = 1 / 4              # speed "max": building frames takes at most this share of the
                                 # training thread (a wide or deep net's frame costs 5-10 ms) ...
DRAW_SHARE = 1 / 2               # ... and drawing them at most this share of the GUI thread: Qt's
                                 # painting holds the GIL, and a kernel that returns meanwhile waits
SLOWEST_INTERVAL = 1 / 15        # (however expensive: a first paint or a resize can take a second,
                                 # which must not hold the frame rate down for long)
DRAW_WAIT = 0.05                 # speed "max": the longest the thread waits for ``frame_drawn()``
RATE_WINDOW = 0.5                # seconds over which ``steps_per_second`` is measured


class TrainingWorker(QtCore.QThread):
    """QThread that owns the training loop of ``session``.

    Signals (queued to the GUI thread):
      ``frameReady()``: a frame waits in ``take_frame()``.
      ``runStopped(str)``: training stopped by itself: ``"diverged"``, ``"horizon"`` (the run
      reached its horizon) or ``"steps"`` (the requested single steps are done).
    ``steps_per_second``: the training speed measured over the last half second of a burst.
    """

    frameReady = QtCore.Signal()
    runStopped = QtCore.Signal(str)

    def __init__(self, session: Session, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self._cond = threading.Condition()
        self._quit = False
        self._playing = False
        self._pending = 0           # single steps requested
        self._speed = 0
        self._horizon: int | None = None
        self._trail = TrailSpec()
        self._busy = False          # inside a training burst
        self._frame: Frame | None = None
        self._frame_taken = True
        self._last_publish = 0.0
        self._next_due = 0.0
        self._frame_cost = 0.0      # seconds a frame takes to build (smoothed) ...
        self._draw_cost = 0.0       # ... and from take_frame() to frame_drawn() (smoothed)
        self._taken_at = 0.0
        self._chunk = 1             # steps per lock hold (grows to CHUNK_SECONDS of work, see _account)
        self._per_step = 0.0        # seconds a step took in the last chunk, and its steps
        self._last_done = 0
        self._generation = -1
        self._rate_t0 = time.perf_counter()
        self._rate_steps = 0
        self.steps_per_second = 0.0
        self.steps_trained = 0
        self._drawn = threading.Event()  # the window drew the last frame (speed "max")
        self._drawn.set()

    # ------------------------------------------------------------------ control (GUI thread)
    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def busy(self) -> bool:
        """Training, or about to (play or steps requested)."""
        return self._playing or self._pending > 0 or self._busy

    def set_speed(self, speed: int) -> None:
        """Updates per frame (0: as fast as possible)."""
        with self._cond:
            self._speed = max(0, int(speed))
            self._cond.notify_all()

    def set_trail(self, spec: TrailSpec) -> None:
        """How much of the past the published frames carry (what the visible views draw)."""
        with self._cond:
            self._trail = spec

    def play(self, horizon: int | None = None) -> None:
        """Train until paused, diverged, or (if given) step ``horizon`` is reached."""
        with self._cond:
            self._horizon = horizon
            self._playing = True
            self._pending = 0
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        """Train ``n`` updates, then stop (with a frame of the last one)."""
        with self._cond:
            self._playing = False
            self._horizon = None  # (the run length stops playing, not single steps: a step past it was stuck)
            self._pending += max(1, int(n))
            self._cond.notify_all()

    def pause(self, wait: bool = True, timeout: float = 5.0) -> bool:
        """Stop training; with ``wait``, return once the thread is idle (True) or after ``timeout``."""
        with self._cond:
            self._playing = False
            self._pending = 0
            self._cond.notify_all()
            self._drawn.set()
            if wait and self.isRunning():
                return self._cond.wait_for(lambda: not self._busy, timeout)
        return True

    def stop(self, timeout_ms: int = 3000) -> bool:
        """End the thread (called when the window closes); True if it finished in time."""
        with self._cond:
            self._quit = True
            self._playing = False
            self._pending = 0
            self._cond.notify_all()
            self._drawn.set()
        return self.wait(timeout_ms) if self.isRunning() else True

    def take_frame(self) -> Frame | None:
        """The newest untaken frame (None if none); lets the thread publish the next."""
        with self._cond:
            frame, self._frame = self._frame, None
            self._frame_taken = True
            if frame is not None:
                self._taken_at = time.perf_counter()
            self._cond.notify_all()
        return frame

    def frame_drawn(self) -> None:
        """The window has drawn the frame it took: the thread may take the GIL back."""
        if self._taken_at:
            took = min(time.perf_counter() - self._taken_at, SLOWEST_INTERVAL)
            self._draw_cost = 0.7 * self._draw_cost + 0.3 * took
            self._taken_at = 0.0
        self._drawn.set()

    # ------------------------------------------------------------------ the loop (worker thread)
    def _should_break(self) -> bool:
        return self._quit or not (self._playing or self._pending > 0) or self.session.someone_waiting

    def run(self) -> None:
        session = self.session
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._quit or self._playing or self._pending > 0)
                if self._quit:
                    return
                self._busy = True
                self._rate_t0, self._rate_steps = time.perf_counter(), 0
                # the settings may have changed since the last burst: measure again
                self._chunk, self._per_step, self._last_done = 1, 0.0, 0
            reason = self._burst(session)
            if reason and not self._quit:
                self.runStopped.emit(reason)

    def _burst(self, session: Session) -> str:
        """Train until asked to stop; returns why it stopped by itself ('' when asked)."""
        frame_steps = 0  # updates since the last frame (paced mode)
        while not self._quit:
            with self._cond:
                playing, pending, speed, horizon = self._playing, self._pending, self._speed, self._horizon
            if not (playing or pending):
                self._publish(session, force=True)
                return ""
            paced = playing and speed > 0
            if paced and frame_steps >= speed:
                # one frame per `speed` updates: wait until the window took the last one
                with self._cond:
                    self._cond.wait_for(lambda: self._quit or not self._playing or self._frame_taken
                                        and time.perf_counter() - self._last_publish >= FRAME_INTERVAL * 0.9,
                                        timeout=FRAME_INTERVAL)
                    ready = self._frame_taken and time.perf_counter() - self._last_publish >= FRAME_INTERVAL * 0.9
                if ready:
                    self._publish(session, force=True)
                    frame_steps = 0
                continue
            if session.generation != self._generation:  # a new run or new settings: measure again
                self._generation = session.generation
                self._chunk, self._per_step, self._last_done = 1, 0.0, 0
            n = self._chunk
            if not paced and playing and session.trains_off_gil and self._per_step > 0:
                # Off the GIL, train until the next frame is due in one call: every return to
                # Python takes the GIL back, and one that lands while the window draws (Qt's
                # painting holds the GIL) waits for it. Frames then come between the draws.
                # (at most one display interval: the GUI thread may wait for the lock that long)
                left = min(max(self._next_due - EARLY / 2 - time.perf_counter(), CHUNK_SECONDS), MAX_SPEED_INTERVAL)
                n = max(1, min(int(left / self._per_step), 2 * max(self._chunk, self._last_done), MAX_CHUNK_STEPS))
            if paced:
                n = min(n, speed - frame_steps)
            if not playing:
                n = min(n, pending)
            reason = ""
            with session.lock:
                if horizon is not None:
                    n = min(n, max(horizon - session.head_step, 0))
                t0 = time.perf_counter()
                done = session.advance(n, should_stop=self._should_break) if n > 0 else 0
                dt = time.perf_counter() - t0
                if session.stopped:
                    reason = "diverged"
                elif playing and horizon is not None and session.head_step >= horizon:
                    reason = "horizon"
            self.steps_trained += done
            frame_steps += done
            self._account(done, dt)
            if not playing:
                with self._cond:
                    self._pending = max(self._pending - done, 0)
                    if self._pending == 0 and not reason:
                        reason = "steps"
            if reason:
                with self._cond:
                    self._playing = False
                    self._pending = 0
                self._publish(session, force=True)
                return reason
            if not paced and self._publish(session, force=False) and not session.trains_off_gil:
                self._drawn.wait(DRAW_WAIT)
            if session.someone_waiting:
                self._yield_to_gui(session)

    def _account(self, done: int, dt: float) -> None:
        if done and dt > 0:
            # at most double per chunk: a step may cost far more than the last estimate said (a
            # bigger batch, a new run), and the trainer checks should_stop only every 64 steps
            per_step = dt / done
            self._per_step, self._last_done = per_step, done
            self._chunk = int(min(max(CHUNK_SECONDS / per_step, 1), 2 * self._chunk, MAX_CHUNK_STEPS))
        self._rate_steps += done
        elapsed = time.perf_counter() - self._rate_t0
        if elapsed >= RATE_WINDOW:
            self.steps_per_second = self._rate_steps / elapsed
            self._rate_t0, self._rate_steps = time.perf_counter(), 0

    @staticmethod
    def _yield_to_gui(session: Session) -> None:
        deadline = time.perf_counter() + 0.05
        while session.someone_waiting and time.perf_counter() < deadline:
            time.sleep(0.0005)

    def _publish(self, session: Session, force: bool) -> bool:
        """Publish the head frame (unless ``force`` is false and it is not due); True if it did."""
        now = time.perf_counter()
        if not force:
            with self._cond:
                if not self._frame_taken or now < self._next_due - EARLY:
                    return False
            # a steady cadence: the next frame is due one interval after this one was due (longer
            # when frames are expensive, so that training keeps most of the thread)
            interval = min(max(MAX_SPEED_INTERVAL, self._frame_cost / FRAME_SHARE, self._draw_cost / DRAW_SHARE),
                           SLOWEST_INTERVAL)
            late = now - self._next_due
            self._next_due = (self._next_due if late < interval else now) + interval
        with self._cond:
            trail = self._trail
        t0 = time.perf_counter()
        with session.lock:
            session.checkpoint()
            frame = session.frame(trail=trail)
        self._frame_cost = 0.7 * self._frame_cost + 0.3 * min(time.perf_counter() - t0, SLOWEST_INTERVAL)
        with self._cond:
            self._frame = frame
            self._frame_taken = False
            self._last_publish = time.perf_counter()
            if self._playing and not self._quit:
                self._drawn.clear()
        self.frameReady.emit()
        return True
