"""What an export draws: the frames' snapshots and the loss panel's data (NumPy only, no Qt).

An ``ExportPlan`` is made once, before drawing starts, and holds copies, so drawing can take its
time while the app goes on training:

* ``plan_training`` (``reluviz export``) trains the configuration, keeping the exact state at
  every chosen step and every step's minibatch loss and learning rate. When the run stops early
  (the loss diverged), the frames are chosen again over the steps that exist, and the plan says so.
* ``plan_history`` (the app) takes the chosen steps from the recorded history; where the history
  was thinned, each frame shows the nearest recorded step (no frame twice) and the plan says so.
* ``plan_recorded`` (``reluviz export --from``) does the same for a run read from a run file, its
  history kept as the training export keeps it, so both draw the same frames.

Train, validation and test loss (and the error to the true function and the objective) are
evaluated at every frame's step and on an even grid of steps (a few hundred), so the loss panel's
curves are as fine as the run whatever frames were chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from reluviz.core.compare import ghost_trainer
from reluviz.core.config import TrainConfig
from reluviz.core.data import Dataset
from reluviz.core.history import DEFAULT_BUDGET, History
from reluviz.core.loss_trace import LossTrace
from reluviz.core.metrics import DataLosses, dataset_losses, objective_value
from reluviz.core.snapshot import Snapshot
from reluviz.core.trainer import Trainer
from reluviz.export.frames import LOSS_POINTS, ExportError, loss_steps, snap_to_recorded

CSV_HEADER = ("frame", "step", "lr", "batch_loss", "train_loss", "val_loss", "test_loss", "true_error", "objective")
TRAIN_CHUNK = 2000          # steps per trainer call (progress and cancel between calls)
LOSS_WORK = 5e8             # about this many point x unit products for the loss curves in all
GHOST_BUDGET = 32 << 20     # the ghost run's history (a quarter of the main run's, as in the app)


class ExportCancelled(ExportError):
    """The user cancelled; nothing was written."""


@dataclass(frozen=True)
class FrameState:
    """One frame: the snapshot it shows (parameters after ``snapshot.step`` updates), its losses
    on the whole training, test and validation sets, its error to the true function (NaN without
    one), the objective (training loss plus the ridge term), and optionally the ghost run's snapshot."""

    snapshot: Snapshot
    train_loss: float
    test_loss: float
    ghost: Snapshot | None = None
    val_loss: float = float("nan")
    true_error: float = float("nan")
    objective: float = float("nan")

    @property
    def step(self) -> int:
        return self.snapshot.step

    def csv_row(self, frame: int) -> tuple:
        s = self.snapshot
        return (frame, s.step, float(s.lr[0]), float(s.batch_loss[0]), self.train_loss, self.val_loss,
                self.test_loss, self.true_error, self.objective)


@dataclass(frozen=True)
class LossColumns:
    """Copies of a history's loss-panel columns, read like a ``History`` by ``TrainingView.show_losses``:
    ``steps`` (T,), ``batch_losses`` and ``lrs`` (T, R)."""

    steps: np.ndarray
    batch_losses: np.ndarray
    lrs: np.ndarray

    @classmethod
    def of(cls, history) -> "LossColumns":
        return cls(np.array(history.steps), np.array(history.batch_losses), np.array(history.lrs))


@dataclass
class ExportPlan:
    """Frames to draw and what the loss panel shows. ``note`` is a sentence for the user, or ""."""

    dataset: Dataset
    frames: list[FrameState]
    curves: LossColumns | History
    trace: LossTrace
    note: str = ""
    wanted: int = 0  # frames asked for (fewer may exist: thinned history, early stop)
    stop_reason: str = ""
    compare: dict = field(default_factory=dict)  # the ghost run's settings (empty: no ghost)
    #: what a lecture view's frames are built from (``frame_at``): the recorded run, the ghost's
    #: recorded run (None: no ghost) and the settings (a ``HistoryChain`` knows each segment's)
    history: object = None
    ghost_history: object = None
    config: TrainConfig | None = None
    _parts: dict | None = field(default=None, repr=False)    # (``detach``)
    _configs: dict | None = field(default=None, repr=False)

    @property
    def steps(self) -> np.ndarray:
        return np.array([f.step for f in self.frames], dtype=np.int64)

    @property
    def last_step(self) -> int:
        return self.frames[-1].step if self.frames else 0

    def csv_rows(self) -> list[tuple]:
        return [f.csv_row(k) for k, f in enumerate(self.frames)]

    def config_at(self, step: int) -> TrainConfig | None:
        """The settings ``step`` was trained under."""
        if self._configs is not None and step in self._configs:
            return self._configs[step]
        return _history_config(self.history, self.config)(step)

    def frame_at(self, state: FrameState, trail=None):
        """The full ``reluviz.core.frame.Frame`` of one of the plan's frames, as the app's lecture
        views get it, carrying the past ``trail`` (a ``TrailSpec``) of both runs (from the parts
        ``detach`` copied, else read from the histories now)."""
        from reluviz.core.frame import history_parts, make_frame

        parts = self._parts.get(state.step) if self._parts is not None else None
        if parts is None:
            parts = history_parts(state.snapshot, self.history, self.dataset, trail,
                                  self.ghost_history if self.compare else None)
        parts = dict(parts)
        curves = parts.pop("curves")
        return make_frame(state.snapshot, self.dataset, self.config_at(state.step), curves, ghost=state.ghost,
                          compare=self.compare or None, **parts)

    def detach(self, trail=None) -> None:
        """Copy from the histories now what every frame's ``frame_at`` needs (call with a live
        history's lock held); afterwards the plan never reads them again."""
        from reluviz.core.frame import history_parts

        ghost = self.ghost_history if self.compare else None
        self._configs = {f.step: self.config_at(f.step) for f in self.frames}
        self._parts = {f.step: history_parts(f.snapshot, self.history, self.dataset, trail, ghost) for f in self.frames}
        self.history = self.ghost_history = None


def losses(snap: Snapshot, ds: Dataset) -> DataLosses:
    """Train, validation and test MSE and the true error of run 0 (NaN-safe: a diverging run's last
    state can be huge)."""
    with np.errstate(all="ignore"):
        return dataset_losses(snap, ds)


def loss_points(ds: Dataset, layout_size: int) -> int:
    """How many steps get the full losses: ``LOSS_POINTS``, fewer for big data or wide nets."""
    grid = len(ds.true_x) if ds.true_x is not None else 0
    per_eval = (ds.n + ds.n_val + ds.n_test + grid) * max(layout_size, 1)
    return int(np.clip(LOSS_WORK / per_eval, 50, LOSS_POINTS))


def _trace(at: Callable[[int], Snapshot], ds: Dataset, steps: np.ndarray, known: dict[int, FrameState],
           config_at: Callable[[int], TrainConfig | None]) -> LossTrace:
    trace = LossTrace(capacity=max(len(steps) + 1, 16))
    last = -1
    for step in steps:
        frame = known.get(int(step))
        if frame is None:
            snap = at(int(step))
            if snap.step <= last:
                continue
            frame = _frame_from(snap, ds, config_at(snap.step))
        if frame.step > last:
            trace.add(frame.step, frame.train_loss, frame.test_loss, val=frame.val_loss, true=frame.true_error,
                      objective=frame.objective)
            last = frame.step
    return trace


def plan_training(config: TrainConfig, choose: Callable[[int], np.ndarray] | np.ndarray, steps: int | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, compare: dict | None = None) -> ExportPlan:
    """Train ``config`` for ``steps`` updates (default ``config.steps``) and keep the frames.

    ``choose(last_step)`` gives the frame steps (so they can be chosen again when the run stops
    early); a plain array of steps is also accepted (then an early stop keeps the steps before
    it and adds the stop). ``progress(done, total)`` gets trained steps; ``should_stop()`` cancels.
    ``compare``: settings of a ghost run (``core.compare.ghost_trainer``: the same data, init and
    batch order, as the app's ghost) trained step for step beside it; each frame carries its state
    at the frame's step (its last finite state once it has stopped).
    """
    last = config.steps if steps is None else int(steps)
    if last < 0:
        raise ExportError(f"--steps must be >= 0, got {last}")
    if callable(choose):
        chooser = choose
    else:
        fixed = np.asarray(choose, dtype=np.int64)
        chooser = lambda stop: np.unique(np.r_[fixed[fixed <= stop], stop]) if stop < fixed[-1] else fixed  # noqa: E731
        last = int(fixed[-1]) if len(fixed) else 0
    wanted = np.asarray(chooser(last), dtype=np.int64)
    if len(wanted) == 0:
        raise ExportError("no frames chosen")
    trainer = Trainer(config)
    ds = trainer.dataset
    history = History.for_trainer(trainer)
    ghost = _Ghost(config, compare, ds) if compare else None
    captured: dict[int, FrameState] = {}
    end = int(wanted[-1])
    for step in wanted:
        step = int(step)
        while trainer.step < step and not trainer.stopped:
            moved = trainer.run(min(step - trainer.step, TRAIN_CHUNK), record=history, should_stop=should_stop)
            if ghost is not None:
                ghost.run(moved)
            if progress:
                progress(trainer.step, end)
            if should_stop is not None and should_stop():
                raise ExportCancelled("export cancelled; nothing was written")
            if moved == 0:
                break
        if trainer.step != step:
            break  # the run stopped before this step
        snap = trainer.snapshot()
        captured[step] = _frame_from(snap, ds, config, ghost.at(step) if ghost else None)
    if trainer.stopped or trainer.step < end:
        head = trainer.snapshot()
    else:
        head = captured[end].snapshot
    if len(history) == 0 or history.last_step() != head.step:
        history.record_snapshot(head)  # the last state is a row too (the loss panel ends there)
    if ghost is not None:
        ghost.record_head()  # (and the ghost's: a lecture view draws its trail up to the last frame)
    # (after a divergence the history's own row of the last finite step is kept: it holds the rate
    # and minibatch of the update that blew up, where the stopped trainer's snapshot says lr 0)
    stop_reason = ""
    if int(head.step) < end:
        div = trainer.divergence
        stop_reason = div.reason if div is not None else f"training stopped at step {head.step}"
        wanted = snap_to_recorded(np.asarray(chooser(int(head.step)), dtype=np.int64), history.steps)
    frames = [captured.get(int(s)) or _frame_from(history.at(int(s)), ds, config, ghost.at(int(s)) if ghost else None)
              for s in wanted]
    if stop_reason and frames[-1].step in captured:  # (the same: prefer the recorded row, see above)
        frames[-1] = _frame_from(history.at(frames[-1].step), ds, config, frames[-1].ghost)
    if progress:
        progress(end, end)
    grid = loss_steps(0, frames[-1].step, [f.step for f in frames], loss_points(ds, trainer.layout.size))
    trace = _trace(history.at, ds, grid, {f.step: f for f in frames}, lambda _step: config)
    note = ""
    if stop_reason:
        note = (f"training stopped at step {head.step:,} ({stop_reason}); the {len(frames)} frames "
                f"are chosen over steps 0..{head.step:,}")
    return ExportPlan(ds, frames, history, trace, note=note, wanted=len(wanted), stop_reason=stop_reason,
                      compare=dict(compare or {}), history=history,
                      ghost_history=ghost.history if ghost is not None else None, config=config)


class _Ghost:
    """The ghost run of an export: trained as far as the main run, recorded to look back at."""

    def __init__(self, config: TrainConfig, compare: dict, dataset: Dataset):
        self.trainer = ghost_trainer(config, compare, dataset)  # ConfigError for bad settings
        self.history = History.for_trainer(self.trainer, budget_bytes=GHOST_BUDGET)

    def run(self, n: int) -> None:
        if n > 0:
            self.trainer.run(n, record=self.history)

    def record_head(self) -> None:
        """Its current state as a row too (the recording keeps the states before each update)."""
        t, h = self.trainer, self.history
        if not t.stopped and (len(h) == 0 or h.last_step() != t.step):
            h.record_snapshot(t.snapshot())

    def at(self, step: int) -> Snapshot:
        """Its state after ``step`` updates, or its last finite one if it stopped before."""
        t = self.trainer
        if (t.step == step and not t.stopped) or len(self.history) == 0:
            return t.snapshot()
        return self.history.at(step)


def _frame_from(snap: Snapshot, ds: Dataset, config: TrainConfig | None, ghost: Snapshot | None = None) -> FrameState:
    """The frame of ``snap`` with its losses; the objective under ``config``'s ridge (None: the
    training loss, as without a ridge)."""
    lo = losses(snap, ds)
    objective = objective_value(snap, config, lo.train) if config is not None else lo.train
    return FrameState(snap, lo.train, lo.test, ghost=ghost, val_loss=lo.val, true_error=lo.true, objective=objective)


def _history_config(history, config: TrainConfig | None) -> Callable[[int], TrainConfig | None]:
    """The settings a step of ``history`` was recorded under (a ``HistoryChain`` knows each
    segment's; else ``config``)."""
    if hasattr(history, "segment_at"):
        return lambda step: history.segment_at(step)[0]
    return lambda _step: config


def plan_history(history, dataset: Dataset, wanted: np.ndarray, ghost_history=None,
                 trace_points: int | None = None, compare: dict | None = None,
                 config: TrainConfig | None = None) -> ExportPlan:
    """Frames at ``wanted`` steps from a recorded ``history`` (a ``History`` or anything that reads
    like one: ``steps``, ``batch_losses``, ``lrs``, ``at``), copied. Call with the history's lock held.
    ``ghost_history``: the ghost run's, recorded beside it with the settings ``compare``.
    ``config``: the settings of a plain ``History`` (its objective's ridge; a ``HistoryChain`` knows
    its own)."""
    config_at = _history_config(history, config)
    wanted = np.asarray(wanted, dtype=np.int64)
    recorded = np.array(history.steps)
    steps = snap_to_recorded(wanted, recorded)
    frames = []
    for s in steps:
        snap = history.at(int(s))
        ghost = ghost_history.at(snap.step) if ghost_history is not None else None
        frames.append(_frame_from(snap, dataset, config_at(snap.step), ghost))
    note = ""
    missing = np.setdiff1d(wanted, recorded)
    if len(missing):
        note = (f"{len(missing):,} of the {len(wanted):,} chosen steps are not in the recorded history "
                f"(older steps are thinned to bound memory): those frames show the nearest recorded step"
                + (f", {len(wanted) - len(frames):,} fewer frames" if len(frames) < len(wanted) else ""))
    points = trace_points or loss_points(dataset, int(np.asarray(frames[0].snapshot.params).shape[1]))
    inside = recorded[(recorded >= recorded[0]) & (recorded <= frames[-1].step)]
    grid = snap_to_recorded(loss_steps(int(inside[0]), frames[-1].step, steps, points), inside)
    trace = _trace(history.at, dataset, grid, {f.step: f for f in frames}, config_at)
    return ExportPlan(dataset, frames, LossColumns.of(history), trace, note=note, wanted=len(wanted),
                      compare=dict(compare or {}) if ghost_history is not None else {}, history=history,
                      ghost_history=ghost_history, config=config)


def plan_recorded(run, wanted: np.ndarray, ghost: bool = True) -> ExportPlan:
    """Frames at ``wanted`` steps of a recorded run (``reluviz.core.runfile.RecordedRun``), without
    training: its rows are kept in a history of the budget ``plan_training`` uses (so a long run is
    thinned alike) and its ghost, unless ``ghost`` is False, comes from the file or is trained again.
    When the run stopped before the last chosen step, the plan says so."""
    history = run.history(DEFAULT_BUDGET)
    ghost_history = run.ghost(GHOST_BUDGET)[1] if ghost and run.compare else None
    plan = plan_history(history, run.dataset, wanted, ghost_history=ghost_history,
                        compare=run.compare if ghost_history is not None else None, config=run.config)
    if run.stop_reason:
        plan.stop_reason = run.stop_reason
        stop = f"the recorded run stopped at step {run.last_step:,} ({run.stop_reason})"
        plan.note = f"{stop}; {plan.note}" if plan.note else stop
    return plan
