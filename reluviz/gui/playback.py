"""Playback: which step of the run is on screen, and whether the run is training.

States (one at a time):

* **live**: the newest state is shown; playing trains the run and draws each frame the training
  thread publishes (``TrainingWorker``), pausing stops it at the last trained step.
* **looking back**: a recorded earlier step is shown (scrubbing, Left, Home); nothing trains.
  Right steps forward through the history; Resume from here trains on from this step, discarding
  the history after it.
* **replaying**: play pressed while looking back walks the history forward (``speed`` recorded
  steps per tick) and, on reaching the newest state, goes live and trains on.
* **stopped**: the run diverged; the last finite state is shown with the reason. Play or Step
  resume from the displayed state with the current settings (with the same rate it stops again
  at once, and says why).

``paused()`` is the one way to do something with training stopped and resume it afterwards.
Frames reach the window through the ``show`` callback (on the GUI thread), never otherwise.
"""

from __future__ import annotations

import contextlib
from typing import Callable

from PySide6 import QtCore

from reluviz.core.frame import Frame, TrailSpec
from reluviz.core.session import Session
from reluviz.gui.worker import TrainingWorker

REPLAY_INTERVAL_MS = 16


class Playback(QtCore.QObject):
    """Drives ``worker`` over ``session`` and hands every frame to ``show``.

    Signals: ``playingChanged(bool)``; ``runStopped(str)`` after the training thread stopped by
    itself ("diverged", "horizon", "steps") and its last frame was shown; ``refused(str)``: training
    cannot go on from the displayed step (``Frame.resume_note``), in a sentence.
    """

    playingChanged = QtCore.Signal(bool)
    runStopped = QtCore.Signal(str)
    refused = QtCore.Signal(str)

    def __init__(self, session: Session, worker: TrainingWorker, show: Callable[[Frame], None],
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.worker = worker
        self._show = show
        self.frame: Frame | None = None  # the frame on screen
        self.speed = 1
        self.trail = TrailSpec()
        self._replay = QtCore.QTimer(self)
        self._replay.setInterval(REPLAY_INTERVAL_MS)
        self._replay.timeout.connect(self._replay_tick)
        worker.frameReady.connect(self._on_frame_ready)
        worker.runStopped.connect(self._on_run_stopped)

    # ------------------------------------------------------------------ state
    @property
    def playing(self) -> bool:
        """Training, or replaying the history."""
        return self.worker.playing or self._replay.isActive()

    @property
    def looking_back(self) -> bool:
        return self.frame is not None and not self.frame.live

    def set_speed(self, speed: int) -> None:
        """Updates per frame (0: as fast as the machine goes)."""
        self.speed = int(speed)
        self.worker.set_speed(speed)

    def set_trail(self, spec: TrailSpec) -> None:
        """How much of the past frames carry (what the visible views draw)."""
        self.trail = spec
        self.worker.set_trail(spec)

    def show(self, frame: Frame) -> None:
        self.frame = frame
        self._show(frame)

    # ------------------------------------------------------------------ training on and off
    def play(self) -> None:
        """Train (or replay the history from a step looked back at, then train on)."""
        frame = self.frame
        self._replay.stop()
        if self.session.stopped:
            if self._refuse(frame):
                return
            self._resume(frame.step if frame else self.session.head_step)
        elif frame is not None and not frame.live and self.speed > 0:
            self._replay.start()
            self.playingChanged.emit(True)
            return
        self._start_training()

    def pause(self) -> None:
        """Stop training (or replaying); the last trained step is drawn."""
        self._replay.stop()
        self.worker.pause(wait=True)
        self._draw_pending()
        self.playingChanged.emit(False)

    def close(self) -> None:
        """Stop replaying (the window closes; the training thread is stopped by its owner)."""
        self._replay.stop()

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    @contextlib.contextmanager
    def paused(self, resume: bool = True):
        """Training stopped, and its last frame drawn, inside the block; afterwards it plays again
        if it was playing (and ``resume``, and the run has not stopped)."""
        was_playing = self.playing
        self.pause()
        try:
            yield was_playing
        finally:
            if was_playing and resume and not self.session.stopped and not self.playing:
                self.play()

    def _start_training(self) -> None:
        head = self.session.head_step
        steps = self.session.config.steps
        self.worker.play(steps if head < steps else None)
        self.playingChanged.emit(True)

    def _draw_pending(self) -> None:
        frame = self.worker.take_frame()
        if frame is not None and frame.run_id == self.session.run_id:  # (not one of a run replaced since)
            self.show(frame)

    def _on_frame_ready(self) -> None:
        self._draw_pending()

    def _on_run_stopped(self, reason: str) -> None:
        self._draw_pending()
        if self.session.stopped:
            # The signal may be late (from a run before a reset, queued behind other events) or
            # early (its frame not collected yet): either way the stopped state is what is drawn,
            # unless the user is looking back at an earlier step.
            frame = self.frame
            if frame is None or (frame.live and not frame.divergence):
                self.show(self.frame_at(None))
        self.playingChanged.emit(self.playing)
        self.runStopped.emit(reason)

    # ------------------------------------------------------------------ moving through the run
    def frame_at(self, step: int | None) -> Frame:
        """A frame of the recorded state at (or just before) ``step``; None: the newest."""
        with self.session.locked():
            return self.session.frame(step, trail=self.trail)

    def redraw(self) -> None:
        """Show the displayed step again (e.g. the visible views now need more of the past)."""
        if self.frame is not None:
            self.show(self.frame_at(self.frame.step if not self.frame.live else None))

    def step(self, n: int | None = None) -> None:
        """Forward ``n`` updates (default: the speed; 1 at max): through the recorded history when
        looking back, else by training."""
        with self.paused(resume=False):
            n = n or max(1, self.speed)
            frame = self.frame
            if frame is not None and not frame.live:
                self._show_step(frame.step + n, forward=True)
                return
            if self.session.stopped:
                # as play does: go on from the displayed (last finite) state with the current settings
                if self._refuse(frame):
                    return
                self._resume(frame.step if frame is not None else self.session.head_step)
            self.worker.step(n)

    def step_back(self, n: int | None = None) -> None:
        """Back ``n`` updates through the recorded history (default: the speed setting)."""
        with self.paused(resume=False):
            if self.frame is not None:
                self._show_step(max(self.frame.step - (n or max(1, self.speed)), 0))

    def scrub_to(self, step: int) -> None:
        """Show the recorded state at (or just before) ``step``; training pauses."""
        with self.paused(resume=False):
            self._show_step(step)

    def go_end(self) -> None:
        with self.paused(resume=False):
            self.show(self.frame_at(None))

    def _show_step(self, step: int, forward: bool = False) -> None:
        with self.session.locked():
            frame = self.session.frame(step, trail=self.trail)
            current = self.frame.step if self.frame else -1
            if forward and frame.step <= current:  # thinned history: go to the next kept step
                steps = self.session.history.steps
                later = steps[steps > current]
                if len(later):
                    frame = self.session.frame(int(later[0]), trail=self.trail)
        self.show(frame)

    def _replay_tick(self) -> None:
        frame = self.frame
        if frame is None or frame.live:
            self._replay.stop()
            self._start_training()
            return
        self._show_step(frame.step + max(1, self.speed), forward=True)

    def resume_from_here(self) -> int | None:
        """Continue from the displayed step with the current settings, discarding the later
        history; returns that step (None when nothing is shown)."""
        if self.frame is None or self._refuse(self.frame):
            return None
        with self.paused():
            return self._resume(self.frame.step)

    def _refuse(self, frame: Frame | None) -> bool:
        """True (and ``refused`` says why) when training cannot go on from ``frame``'s step."""
        if frame is None or not frame.resume_note:
            return False
        self.refused.emit(f"Cannot resume from step {frame.step:,}: {frame.resume_note}.")
        return True

    def _resume(self, step: int) -> int:
        with self.session.locked():
            at = self.session.resume_from(step)
            frame = self.session.frame(trail=self.trail)
        self.show(frame)
        return at
