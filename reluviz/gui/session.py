"""The app's training session: trainer, recorded history, loss trace and ghost run, without Qt.

Everything the app computes lives here, and it is plain Python + NumPy over ``reluviz.core``:
the worker thread advances the session and builds ``Frame`` records; widgets only draw frames.
Every method that reads or writes the trainer or the history must be called with ``lock`` held
(``Session.locked()`` is the polite way for the GUI thread: the worker yields to it between
chunks of a few milliseconds).

Changing optimizer settings changes the shape of the recorded state (optimizer slots) or of the
minibatch, which one core ``History`` cannot hold; ``HistoryChain`` keeps one ``History`` per
stretch of constant shape and reads like a single history.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import numpy as np

from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.history import DEFAULT_BUDGET, History
from reluviz.core.loss_trace import LossTrace
from reluviz.core.snapshot import Snapshot
from reluviz.core.trainer import RESET_FIELDS, Trainer

#: Settings whose change starts a new run. ``Trainer.reconfigure`` could switch the batch seed
#: mid-run, but the app starts a new run for it: one run, one minibatch order (what the ghost
#: run and "resume from here" rely on when they promise the same batches).
APP_RESET_FIELDS = RESET_FIELDS + ("sample_seed",)

LOSS_CURVE_POINTS = 3000  # the loss panel's curves are thinned to about this many points
LIVE_LIMIT = 10_000_000  # training points x hidden units of a run the app draws live (see check_live_size)
MAX_LIVE_BATCH = 1024    # minibatch size in the app (full batch is always there); see check_live_size


def check_live_size(n_points: int, config: TrainConfig) -> None:
    """``ConfigError`` when a run is too big to draw live: every frame evaluates the network on all
    training points (the train loss, the dead units), N x H multiply-adds, so N x H is bounded by
    ``LIVE_LIMIT`` (a frame then costs well under 0.1 s); minibatches are at most ``MAX_LIVE_BATCH``.
    ``reluviz train`` has no such limits."""
    width = config.width if config.model == "relu" else 1
    if config.batch_size > MAX_LIVE_BATCH:
        # the sampler draws the batches of 1,024 steps at once, in the thread the GUI waits on:
        # 1,024 x B indices (386 MB and 2 s at B = 47,194), and for 'shuffle' time growing as B^2
        raise ConfigError(f"batch size {config.batch_size:,} is more than the app's {MAX_LIVE_BATCH:,}: tick "
                          "'full batch' for gradient descent on all points (`reluviz train` has no such limit)")
    if n_points * width > LIVE_LIMIT:
        raise ConfigError(
            f"{n_points:,} training points x {width:,} units is too big to draw live (points x units at most "
            f"{LIVE_LIMIT:,}): use fewer points or fewer units (`reluviz train` has no such limit)")


def needs_reset(old: TrainConfig, new: TrainConfig) -> list[str]:
    """Names of the settings that differ and need a new run."""
    return [f for f in APP_RESET_FIELDS if getattr(old, f) != getattr(new, f)]


def _thin_index(n: int, limit: int = LOSS_CURVE_POINTS) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    stride = int(np.ceil(n / limit))
    return np.r_[np.arange(0, n - 1, stride), n - 1]


def _mean_loss(snap: Snapshot, x: np.ndarray, y: np.ndarray) -> float:
    """``snap.loss(x, y)[0]``, taken in pieces of at most ~50,000 point x unit values: each frame
    evaluates the network on every test point, and the temporaries of the whole set at once (1,000
    x 100 values, 800 KB each) came fresh from the OS every frame: 0.57 ms, against 0.25 ms in
    pieces that stay in the heap and the cache. (Two thirds of the worker's cost of a frame.)"""
    n = len(x)
    chunk = max(64, 50_000 // max(snap.layout.width, 1))
    if n <= chunk:
        return float(snap.loss(x, y)[0])
    total = 0.0
    for start in range(0, n, chunk):
        total += float(snap.loss(x[start : start + chunk], y[start : start + chunk])[0]) * len(x[start : start + chunk])
    return total / n


class HistoryChain:
    """The history of one run, as core ``History`` segments of constant row shape, oldest first.

    Reads like a ``History`` (``steps``, ``batch_losses``, ``lrs``, ``params``, ``at``, ``latest``,
    ``truncate_after``, ``first_step``, ``last_step``, ``len``). ``segments`` gives the parts with
    the configuration each was recorded under (its optimizer decides the state's width).
    """

    def __init__(self, trainer: Trainer, budget_bytes: int = DEFAULT_BUDGET):
        self.budget = budget_bytes
        self.layout = trainer.layout
        self.runs = trainer.runs
        self.segments: list[tuple[TrainConfig, History]] = []
        self._new_segment(trainer)

    def _new_segment(self, trainer: Trainer) -> None:
        self.segments.append((trainer.config, History.for_trainer(trainer, self.budget)))
        self._params_cache = None

    @property
    def current(self) -> History:
        """The segment being recorded into (the trainer's ``on_step`` sink is its ``record``)."""
        return self.segments[-1][1]

    def fits(self, trainer: Trainer) -> bool:
        h = self.current
        return trainer.state.shape[1] == h.state_size and trainer.batch_size == h.batch_size

    def follow(self, trainer: Trainer) -> None:
        """Make the current segment fit the trainer's shapes, starting a new one at its step if needed."""
        if self.fits(trainer):
            self.segments[-1] = (trainer.config, self.current)
            return
        self.truncate_after(trainer.step - 1)
        if len(self.current) == 0:
            self.segments.pop()
        self._new_segment(trainer)

    def record_snapshot(self, snap: Snapshot) -> None:
        self.current.record_snapshot(snap)
        self._params_cache = None

    # ------------------------------------------------------------------ History-like reading
    def __len__(self) -> int:
        return sum(len(h) for _, h in self.segments)

    def _cat(self, name: str) -> np.ndarray:
        parts = [getattr(h, name) for _, h in self.segments if len(h)]
        if not parts:
            return getattr(self.current, name)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    @property
    def steps(self) -> np.ndarray:
        return self._cat("steps")

    @property
    def batch_losses(self) -> np.ndarray:
        return self._cat("batch_losses")

    @property
    def lrs(self) -> np.ndarray:
        return self._cat("lrs")

    @property
    def params(self) -> np.ndarray:
        """(T, R, P) parameters of every recorded step (a copy when there are several segments)."""
        return self._cat("params")

    def segment_at(self, step: int) -> tuple[TrainConfig, History]:
        """The segment holding the nearest recorded step at or before ``step``."""
        found = None
        for cfg, h in self.segments:
            if len(h) and (found is None or h.first_step() <= step):
                found = (cfg, h)
        if found is None:
            raise IndexError("history is empty")
        return found

    def at(self, step: int) -> Snapshot:
        return self.segment_at(step)[1].at(step)

    def latest(self) -> Snapshot:
        return self.segment_at(self.last_step())[1].latest()

    def first_step(self) -> int:
        for _, h in self.segments:
            if len(h):
                return h.first_step()
        return 0

    def last_step(self) -> int:
        for _, h in reversed(self.segments):
            if len(h):
                return h.last_step()
        return 0

    def truncate_after(self, step: int) -> None:
        """Forget every row after ``step``; segments that start later are dropped."""
        while len(self.segments) > 1 and (len(self.segments[-1][1]) == 0 or self.segments[-1][1].first_step() > step):
            self.segments.pop()
        for _, h in self.segments:
            h.truncate_after(step)
        self._params_cache = None


@dataclass(frozen=True)
class LossCurves:
    """What the loss panel draws: thinned copies, safe to hand to another thread."""

    batch_steps: np.ndarray
    batch_loss: np.ndarray
    lr: np.ndarray
    eval_steps: np.ndarray
    train: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class Frame:
    """One drawable moment of the run; built by the session (worker thread), drawn by the window."""

    snapshot: Snapshot
    ghost: Snapshot | None
    train_loss: float
    test_loss: float
    epoch: float
    dead_units: int
    width: int
    first_step: int
    last_step: int
    live: bool            # the newest state of the run (not a look back into the history)
    steps_per_second: float
    divergence: str       # the core's reason when the run stopped on a bad loss, else ""
    curves: LossCurves

    @property
    def step(self) -> int:
        return self.snapshot.step

    @property
    def batch_loss(self) -> float:
        return float(self.snapshot.batch_loss[0])

    @property
    def lr(self) -> float:
        return float(self.snapshot.lr[0])


class Session:
    """Trainer + HistoryChain + LossTrace (+ a ghost trainer for a preset's ``compare`` settings).

    ``compare``: settings over ``config`` for a ghost run on the same data, the same init and the
    same minibatches, advanced in lockstep and drawn faintly. Empty: no ghost.
    """

    def __init__(self, config: TrainConfig, compare: dict | None = None, budget_bytes: int = DEFAULT_BUDGET):
        self.lock = threading.Lock()
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        self.budget = budget_bytes
        self.compare: dict = {}
        self.steps_per_second = 0.0
        #: Bumped whenever the run or its settings change (the cost of a step may have changed).
        self.generation = 0
        self._head: tuple[tuple, Snapshot] | None = None
        self.reset(config, compare or {})

    # ------------------------------------------------------------------ locking
    @contextlib.contextmanager
    def locked(self):
        """Hold the lock; the worker sees ``someone_waiting`` and steps aside between chunks."""
        with self._waiting_lock:
            self._waiting += 1
        try:
            with self.lock:
                yield self
        finally:
            with self._waiting_lock:
                self._waiting -= 1

    @property
    def someone_waiting(self) -> bool:
        return self._waiting > 0

    # ------------------------------------------------------------------ building
    def reset(self, config: TrainConfig, compare: dict | None = None) -> None:
        """A new run (new data, model and init) with ``config``; ``compare`` None keeps the ghost settings."""
        compare = self.compare if compare is None else dict(compare)
        if config.target != "csv":
            check_live_size(config.n_train, config)
        trainer = Trainer(config)  # may raise ConfigError (e.g. an unreadable CSV): nothing changed then
        check_live_size(trainer.dataset.n, config)
        self.generation += 1
        ghost = Trainer(config.updated(compare), dataset=trainer.dataset) if compare else None
        self.compare = compare
        self.config = config
        self.trainer = trainer
        self.dataset = trainer.dataset
        self.history = HistoryChain(trainer, self.budget)
        self.trace = LossTrace()
        self.ghost: Trainer | None = ghost
        self.ghost_history: HistoryChain | None = None
        if ghost is not None:
            self.ghost_history = HistoryChain(ghost, max(self.budget // 4, 1 << 20))
        self._record_head()

    def ghost_config(self, config: TrainConfig) -> TrainConfig:
        return config.updated(self.compare)

    def _record_head(self, reuse: bool = False) -> Snapshot:
        """Record the trainer's newest state (its snapshot costs a pass over the minibatch, the whole
        data at full batch); ``reuse``: the one recorded last, if the trainer has not moved since."""
        cached = self._head
        key = (self.generation, self.trainer.step, self.trainer.stopped)
        if reuse and cached is not None and cached[0] == key and self.history.last_step() == cached[1].step:
            return cached[1]
        snap = self._take_head()
        self._head = ((self.generation, self.trainer.step, self.trainer.stopped), snap)
        return snap

    def _take_head(self) -> Snapshot:
        snap = self.trainer.snapshot()
        if not self.trainer.stopped and not np.all(snap.batch_loss < self.trainer.explode_limit):
            # The last update blew the loss up: the trainer would find out on its next step. Let it
            # now (a step that stops before updating), so the frame shows the last finite state and
            # says why, instead of the blown-up one the history is about to drop.
            self.trainer.run(1, on_step=self.history.current.record)
            snap = self.trainer.snapshot()
            row = self._row_of(snap)
            # (the trainer went back a step, maybe to before the segment of its present shape began)
            self.history.truncate_after(snap.step - 1)
            self.history.follow(self.trainer)
        else:
            row = self._row_of(snap) if self.trainer.stopped else None
        if row is not None:
            # The stopped trainer reports lr 0 (no update follows); the row recorded at this state
            # holds the rate, minibatch and loss of the update that blew up: the frame shows those
            snap = Snapshot.create(snap.step, snap.layout, snap.state, row.batch, row.batch_loss, row.lr, snap.diverged)
        self.history.record_snapshot(snap)
        if self.ghost is not None:
            self.ghost_history.record_snapshot(self.ghost.snapshot())
        return snap

    def _row_of(self, snap: Snapshot) -> Snapshot | None:
        """The recorded row of ``snap``'s very state (same step, parameters and shapes), if any."""
        if not len(self.history) or self.history.last_step() < snap.step:
            return None
        row = self.history.at(snap.step)
        if row.step != snap.step or row.state.shape != snap.state.shape or row.batch.shape != snap.batch.shape:
            return None
        return row if np.array_equal(row.state, snap.state) else None

    def apply_config(self, config: TrainConfig) -> list[str]:
        """Use ``config`` from the next step on. Returns the reset fields that changed (then the
        run was reset); an empty list means the run goes on (``Trainer.reconfigure``)."""
        config.validate()
        changed = needs_reset(self.config, config)
        if changed:
            self.reset(config)
            return changed
        check_live_size(self.dataset.n, config)
        self.generation += 1
        ghost_cfg = self.ghost_config(config) if self.ghost is not None else None  # may raise ConfigError
        self.trainer.reconfigure(config)
        self.config = config
        self.history.follow(self.trainer)
        if self.ghost is not None:
            self.ghost.reconfigure(ghost_cfg)
            self.ghost_history.follow(self.ghost)
        self._record_head()  # the next update's rate, batch and loss under the new settings
        return []

    # ------------------------------------------------------------------ training
    @property
    def head_step(self) -> int:
        return self.trainer.step

    @property
    def stopped(self) -> bool:
        return self.trainer.stopped

    @property
    def divergence_reason(self) -> str:
        d = self.trainer.divergence
        return d.reason if d is not None else ""

    def advance(self, n: int, should_stop=None) -> int:
        """Train up to ``n`` steps, recording every step; the ghost does as many. Returns steps done."""
        if n <= 0 or self.trainer.stopped:
            return 0
        # (the head row, recorded for the last frame, is simply recorded again: History.record
        # replaces rows at or after the step it is given)
        done = self.trainer.run(n, record=self.history.current, should_stop=should_stop)
        if self.ghost is not None and done:
            self.ghost.run(done, record=self.ghost_history.current)
        return done

    def resume_from(self, step: int) -> int:
        """Continue from the recorded state at (or just before) ``step``, with the current settings,
        forgetting everything recorded after it. Returns the step the run now stands at."""
        self.generation += 1
        snap = self._restore(self.trainer, self.history, step, self.config)
        self.trace.truncate_after(snap.step)
        if self.ghost is not None:
            self._restore(self.ghost, self.ghost_history, snap.step, self.ghost_config(self.config))
        self._record_head()
        return snap.step

    @staticmethod
    def _restore(trainer: Trainer, history: HistoryChain, step: int, config: TrainConfig) -> Snapshot:
        seg_config, seg = history.segment_at(step)
        snap = seg.at(step)
        history.truncate_after(snap.step)
        if snap.state.shape != trainer.state.shape:
            trainer.reconfigure(seg_config)  # the optimizer the row was recorded with (its slots)
            trainer.restore(snap)
            trainer.reconfigure(config)
        else:
            trainer.restore(snap)
        # Resuming is asked for to go on: the row where a run stopped (its last finite state) is
        # recorded as stopped, and restoring it faithfully would leave the run stopped for good.
        trainer.diverged = np.zeros_like(trainer.diverged)
        history.follow(trainer)
        return snap

    # ------------------------------------------------------------------ frames
    def head_frame(self) -> Frame:
        """The run's newest state as a frame; its train/test losses join the loss trace."""
        snap = self._record_head(reuse=True)
        train, test = self._losses(snap)
        self.trace.add(snap.step, train, test)
        ghost = self.ghost_history.latest() if self.ghost is not None else None
        return self._frame(snap, ghost, train, test, live=True)

    def frame_at(self, step: int) -> Frame:
        """A frame of the recorded state at (or just before) ``step``, for scrubbing."""
        snap = self.history.at(step)
        ghost = self.ghost_history.at(snap.step) if self.ghost is not None else None
        train, test = self._losses(snap)
        return self._frame(snap, ghost, train, test, live=snap.step >= self.history.last_step())

    def _losses(self, snap: Snapshot) -> tuple[float, float]:
        ds = self.dataset
        with np.errstate(all="ignore"):
            return _mean_loss(snap, ds.x_train, ds.y_train), _mean_loss(snap, ds.x_test, ds.y_test)

    def _frame(self, snap: Snapshot, ghost: Snapshot | None, train: float, test: float, live: bool) -> Frame:
        ds = self.dataset
        dead = int(np.count_nonzero(snap.dead_units(ds.x_train))) if snap.layout.model == "relu" else 0
        steps = self.history.steps
        keep = _thin_index(len(steps))
        t_steps = self.trace.steps
        tkeep = _thin_index(len(t_steps))
        curves = LossCurves(
            batch_steps=steps[keep].copy(),
            batch_loss=self.history.batch_losses[keep, 0].copy(),
            lr=self.history.lrs[keep, 0].copy(),
            eval_steps=t_steps[tkeep].copy(),
            train=self.trace.train[tkeep].copy(),
            test=self.trace.test[tkeep].copy(),
        )
        batch = snap.batch.shape[1]
        return Frame(
            snapshot=snap, ghost=ghost, train_loss=train, test_loss=test,
            epoch=snap.step * batch / ds.n, dead_units=dead, width=snap.layout.width,
            first_step=self.history.first_step(), last_step=self.history.last_step(), live=live,
            steps_per_second=self.steps_per_second,
            divergence=self.divergence_reason if live else "",
            curves=curves,
        )


__all__ = ["APP_RESET_FIELDS", "ConfigError", "LIVE_LIMIT", "MAX_LIVE_BATCH", "check_live_size", "Frame", "HistoryChain", "LossCurves", "Session", "needs_reset"]
