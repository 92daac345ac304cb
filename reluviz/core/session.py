"""The app's run, without Qt: trainer, recorded history, loss trace and an optional ghost run.

Data flows one way::

    Trainer --advance()--> HistoryChain (+ ghost) --checkpoint()--> LossTrace
                                 |                                      |
                                 +------------ frame(step) <------------+   (reads only)
                                                  |
                                               Frame (immutable) --> views

* ``advance(n)`` trains and records every step; ``checkpoint()`` records the head row and adds
  the head's train/validation/test loss (and true error, objective) to the loss trace (the loss panel's full-data curves hold the steps
  that were drawn). Both change the session.
* ``frame(step)`` builds a ``Frame`` from what is recorded and changes nothing.
* ``reset``, ``apply_config`` and ``resume_from`` change the run (see each).

Threads: the app's training thread calls ``advance`` and ``checkpoint`` with ``lock`` held; the
window calls the rest inside ``locked()``, which makes the training thread step aside between
chunks of a few milliseconds (``someone_waiting``).
"""

from __future__ import annotations

import contextlib
import threading
import numpy as np

from reluviz.core import backend
from reluviz.core.compare import ghost_config, ghost_trainer
from reluviz.core.config import ConfigError, TrainConfig, reset_fields_changed
from reluviz.core.frame import Frame, LossCurves, TrailSpec, make_frame
from reluviz.core.history import DEFAULT_BUDGET
from reluviz.core.history_chain import HistoryChain
from reluviz.core.loss_trace import LossTrace
from reluviz.core.metrics import DataLosses, dataset_losses, objective_value
from reluviz.core.snapshot import Snapshot
from reluviz.core.trainer import Trainer

#: data points x hidden units of a run the app draws live (see check_live_size): every point counts,
#: training, validation and test (the bound was 10,000,000 training points x units, while a CSV's
#: 20% test rows were evaluated on every frame too: the same work as 12,500,000 of all points)
LIVE_LIMIT = 12_500_000
MAX_LIVE_BATCH = 1024    # minibatch size in the app (full batch is always there); see check_live_size
MAX_LIVE_WIDTH = 5000    # hidden units in the app: 20,000 drew 1.6 frames/s, 100,000 froze the window
#: data points in the app, whatever the width: a one-parameter model (or width 1) passes LIVE_LIMIT
#: with 10 million points, which took 3-14 s to draw and evaluate (every frame evaluates them all)
MAX_LIVE_POINTS = 2_000_000


def check_live_size(n_points: int, config: TrainConfig, what: str = "") -> None:
    """``ConfigError`` when a run is too big to draw live: every frame evaluates the network on all
    ``n_points`` data points (training, validation and test: their losses, the dead units), N x H
    multiply-adds, so N x H is bounded by ``LIVE_LIMIT`` (a deep net: N x H (1 + (L - 1) H); ``what``
    says how the points split, for the message; the true function's fixed grid is not counted);
    minibatches are at most ``MAX_LIVE_BATCH`` (the sampler draws 1,024 steps' batches at once, in
    the thread the window waits on). ``reluviz train`` has no such limits."""
    width = config.width if config.model == "relu" else 1
    depth = config.depth if config.model == "relu" else 1
    if width > MAX_LIVE_WIDTH:
        raise ConfigError(f"width {width:,} is more than the app's {MAX_LIVE_WIDTH:,} units "
                          "(`reluviz train` has no such limit)")
    if config.batch_size > MAX_LIVE_BATCH:
        raise ConfigError(f"batch size {config.batch_size:,} is more than the app's {MAX_LIVE_BATCH:,}: tick "
                          "'full batch' for gradient descent on all points (`reluviz train` has no such limit)")
    if n_points > MAX_LIVE_POINTS:
        raise ConfigError(f"{n_points:,} {what or 'training points'} are more than the app's {MAX_LIVE_POINTS:,} "
                          "(every frame evaluates the network on all of them; `reluviz train` has no such limit)")
    if depth > 1 and n_points * width * (1 + (depth - 1) * width) > LIVE_LIMIT:
        # (a deep net's cost per point: H for the first layer, H^2 for each further one)
        raise ConfigError(
            f"{n_points:,} {what or 'training points'} through {depth} layers of {width:,} units is too big to draw live "
            f"(points x multiply-adds per point, {width:,} x (1 + {depth - 1} x {width:,}), at most {LIVE_LIMIT:,}): "
            "use fewer points, fewer units or fewer layers (`reluviz train` has no such limit)")
    if n_points * width > LIVE_LIMIT:
        raise ConfigError(
            f"{n_points:,} {what or 'training points'} x {width:,} units is too big to draw live (points x units "
            f"at most {LIVE_LIMIT:,}): use fewer points or fewer units (`reluviz train` has no such limit)")


def _check_sizes(sizes: tuple[int, int, int], config: TrainConfig) -> None:
    """``check_live_size`` for data of (training, validation, test) sizes."""
    n, v, t = sizes
    check_live_size(n + v + t, config, f"points ({n:,} training, {v:,} validation, {t:,} test)")


def needs_reset(old: TrainConfig, new: TrainConfig) -> list[str]:
    """Names of the settings that differ and need a new run: data and model settings, and the
    batch seed (``Trainer.reconfigure`` could switch it mid-run, but one run keeps one minibatch
    order: the ghost run and "resume from here" rely on it)."""
    return reset_fields_changed(old, new, extra=("sample_seed",))


class Session:
    """Trainer + HistoryChain + LossTrace (+ a ghost trainer for a preset's ``compare`` settings).

    ``compare``: settings over ``config`` for a ghost run on the same data, the same init and the
    same minibatches, advanced in lockstep and drawn faintly. Empty: no ghost.
    """

    def __init__(self, config: TrainConfig, compare: dict | None = None, budget_bytes: int = DEFAULT_BUDGET,
                 wait_for_compile: bool = True):
        self.lock = threading.Lock()
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        self.budget = budget_bytes
        #: False (the app): train with NumPy until the compiled kernels are ready (see core/backend.py)
        self.wait_for_compile = wait_for_compile
        self.compare: dict = {}
        #: Bumped whenever the run or its settings change (the cost of a step may have changed).
        self.generation = 0
        #: Bumped when a new run starts (new data, network or ghost): frames carry it as ``run_id``.
        self.run_id = 0
        self._head_key: tuple | None = None
        #: the run the last ``reset`` replaced (``undo_reset`` brings it back); one at most
        self.previous: dict | None = None
        self.reset(config, compare or {})

    # ------------------------------------------------------------------ locking
    @contextlib.contextmanager
    def locked(self):
        """Hold the lock; the training thread sees ``someone_waiting`` and steps aside between chunks."""
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

    # ------------------------------------------------------------------ changing the run
    def reset(self, config: TrainConfig, compare: dict | None = None) -> None:
        """A new run (new data, model and init) with ``config``; ``compare`` None keeps the ghost
        settings. Raises ``ConfigError`` (and changes nothing) for settings that cannot run."""
        compare = self.compare if compare is None else dict(compare)
        if config.target != "csv":
            _check_sizes((config.n_train, config.n_val, config.n_test), config)
        # may raise ConfigError (e.g. an unreadable CSV): nothing changed then
        trainer = Trainer(config, wait_for_compile=self.wait_for_compile)
        ds = trainer.dataset
        _check_sizes((ds.n, ds.n_val, ds.n_test), config)
        ghost = ghost_trainer(config, compare, trainer.dataset) if compare else None
        if ghost is not None:
            ghost.wait_for_compile = self.wait_for_compile
        if hasattr(self, "trainer"):
            self.previous = self._run_parts()  # (the one it replaced before is dropped: memory stays bounded)
        self.generation += 1
        self.run_id += 1
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

    def load(self, loaded) -> None:
        """Show a recorded run (a ``reluviz.core.runfile.LoadedRun``, see ``load_run``): its history,
        loss trace and ghost; playing trains on from its last step. Raises ``ConfigError`` (and
        changes nothing) for a run too big to draw live."""
        run = loaded.run
        check_live_size(run.dataset.n, run.config)
        self.previous = self._run_parts()  # (Ctrl+Z brings back the run the file replaced)
        self.generation += 1
        self.run_id += 1
        self.compare = dict(run.compare) if loaded.ghost is not None else {}
        self.config = run.config
        self.trainer = loaded.trainer
        self.trainer.wait_for_compile = self.wait_for_compile
        if loaded.ghost is not None:
            loaded.ghost.wait_for_compile = self.wait_for_compile
        self.dataset = run.dataset
        self.history = loaded.history
        self.history.follow(self.trainer)
        self.trace = loaded.trace
        self.ghost = loaded.ghost
        self.ghost_history = loaded.ghost_history
        self._record_head()

    _PARTS = ("config", "compare", "trainer", "dataset", "history", "trace", "ghost", "ghost_history")

    def _run_parts(self) -> dict:
        return {name: getattr(self, name) for name in self._PARTS}

    @property
    def can_undo_reset(self) -> bool:
        """Whether a run replaced by ``reset`` can come back (``undo_reset``)."""
        return self.previous is not None

    def undo_reset(self) -> TrainConfig:
        """Swap back to the run the last ``reset`` replaced, as it was (its settings, history and
        step); the run it replaces is kept in turn, so a second call goes back again. Returns the
        settings now in force. ``ConfigError`` when there is no such run."""
        if self.previous is None:
            raise ConfigError("there is no earlier run to go back to")
        current = self._run_parts()
        for name, value in self.previous.items():
            setattr(self, name, value)
        self.previous = current
        self.generation += 1
        self.run_id += 1  # (frames of either run are told apart from frames drawn before)
        self._head_key = None
        return self.config

    def apply_config(self, config: TrainConfig) -> list[str]:
        """Use ``config`` from the next step on. Returns the reset fields that changed (then the
        run was reset); an empty list means the run goes on (``Trainer.reconfigure``)."""
        config.validate()
        changed = needs_reset(self.config, config)
        if changed:
            self.reset(config)
            return changed
        ds = self.dataset
        _check_sizes((ds.n, ds.n_val, ds.n_test), config)
        ghost_cfg = ghost_config(config, self.compare) if self.ghost is not None else None  # may raise
        self.generation += 1
        self.trainer.reconfigure(config)
        self.config = config
        self.history.follow(self.trainer)
        if self.ghost is not None:
            self.ghost.reconfigure(ghost_cfg)
            self.ghost_history.follow(self.ghost)
        self._record_head()  # the next update's rate, batch and loss under the new settings
        return []

    def resume_from(self, step: int) -> int:
        """Continue from the recorded state at (or just before) ``step``, with the current settings,
        forgetting everything recorded after it. Returns the step the run now stands at."""
        self.generation += 1
        snap = self._restore(self.trainer, self.history, step, self.config)
        self.trace.truncate_after(snap.step)
        if self.ghost is not None:
            self._restore(self.ghost, self.ghost_history, snap.step, ghost_config(self.config, self.compare))
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

    @property
    def trains_off_gil(self) -> bool:
        """Whether training runs in the compiled kernels (which release the GIL) right now."""
        return (backend.compiled(wait=False) is not None
                and backend.supports(self.trainer.layout, self.trainer.config.optimizer))

    def advance(self, n: int, should_stop=None) -> int:
        """Train up to ``n`` steps, recording every step; the ghost does as many. Returns steps done."""
        if n <= 0 or self.trainer.stopped:
            return 0
        done = self.trainer.run(n, record=self.history.current, should_stop=should_stop)
        if self.ghost is not None and done:
            self.ghost.run(done, record=self.ghost_history.current)
        return done

    def checkpoint(self) -> int:
        """Record the head (the trainer's newest state, with the next update's minibatch, loss and
        rate) and add its train/test loss to the loss trace; returns the head step. Called before a
        frame of the head is drawn."""
        snap = self._record_head()
        if not (len(self.trace) and self.trace.steps[-1] == snap.step):
            lo = dataset_losses(snap, self.dataset)
            self.trace.add(snap.step, lo.train, lo.test, val=lo.val, true=lo.true,
                           objective=objective_value(snap, self.config, lo.train))
        return snap.step

    def _record_head(self) -> Snapshot:
        """Record the trainer's newest state (its snapshot costs a pass over the minibatch, the
        whole data at full batch); nothing is done when that row is recorded already."""
        if (len(self.history) and self.history.last_step() == self.trainer.step
                and self._head_key == (self.generation, self.trainer.step, self.trainer.stopped)):
            return self.history.latest()
        snap = self.trainer.snapshot()
        if not self.trainer.stopped and not np.all(snap.batch_loss < self.trainer.explode_limit):
            # The last update blew the loss up: the trainer would find out on its next step. Let it
            # now (a step that stops before updating), so the frame shows the last finite state and
            # says why, instead of the blown-up one the history is about to drop.
            self.trainer.run(1, record=self.history.current)
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
        self._head_key = (self.generation, self.trainer.step, self.trainer.stopped)
        return snap

    def _row_of(self, snap: Snapshot) -> Snapshot | None:
        """The recorded row of ``snap``'s very state (same step, parameters and shapes), if any."""
        if not len(self.history) or self.history.last_step() < snap.step:
            return None
        row = self.history.at(snap.step)
        if row.step != snap.step or row.state.shape != snap.state.shape or row.batch.shape != snap.batch.shape:
            return None
        return row if np.array_equal(row.state, snap.state) else None

    # ------------------------------------------------------------------ reading
    def frame(self, step: int | None = None, trail: TrailSpec | None = None) -> Frame:
        """A frame of the recorded state at (or just before) ``step`` (None: the newest recorded
        state); ``trail`` asks for that much of the past. Reads only."""
        history = self.history
        last = history.last_step()
        snap = history.at(last if step is None else step)
        ghost = self.ghost_history.at(snap.step) if self.ghost is not None else None
        trace = self.trace
        if len(trace) and trace.steps[-1] == snap.step:
            losses = DataLosses(float(trace.train[-1]), float(trace.val[-1]), float(trace.test[-1]),
                                float(trace.true[-1]))
        else:
            losses = None
        live = snap.step >= last
        return make_frame(
            snap, self.dataset, self.config, self._curves(), ghost=ghost, compare=self.compare, first_step=history.first_step(), last_step=last,
            live=live, divergence=self.divergence_reason if live else "",
            trail=history.rows(snap.step, trail.dense, trail.sparse) if trail else None,
            losses=losses, run_id=self.run_id, resume_note=self._resume_note(snap, ghost),
            epoch=history.samples_before(snap.step) / self.dataset.n,
            ghost_trail=(self.ghost_history.rows(snap.step, trail.dense, trail.sparse)
                         if trail and trail.ghost and self.ghost is not None else None))

    @staticmethod
    def _resume_note(snap: Snapshot, ghost: Snapshot | None) -> str:
        """Why training cannot go on from ``snap`` ("" when it can): a run file written with
        ``--params-only`` keeps the optimizer's state (momentum buffer, Adam's moments) only at its
        last step, and without it the next update would not be the one the run made."""
        if np.all(np.isfinite(snap.state)) and (ghost is None or np.all(np.isfinite(ghost.state))):
            return ""
        return (f"the run file keeps the optimizer's state (momentum buffer, Adam's moments) only at its last "
                f"step, so training can go on from there but not from step {snap.step:,}")

    def _curves(self) -> LossCurves:
        h, t = self.history, self.trace
        return LossCurves.of(h.steps, h.batch_losses[:, 0], h.lrs[:, 0], t.steps, t.train, t.test,
                             val=t.val, true=t.true, objective=t.objective)


__all__ = ["LIVE_LIMIT", "MAX_LIVE_BATCH", "MAX_LIVE_POINTS", "MAX_LIVE_WIDTH", "Session", "check_live_size",
           "needs_reset"]
