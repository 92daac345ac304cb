"""``Frame``: one drawable moment of a run, immutable, carrying everything any view draws.

A frame is built by reading the session (``Session.frame``) or a plain recorded history
(``frame_from_history``, for scripts and tests); building it changes nothing. Views draw only
what their frame carries: they never read the live history, the trainer or the worker.

Arrays in a frame are copies, flagged read-only, so a frame may cross threads and be kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from reluviz.core.config import TrainConfig
from reluviz.core.data import Dataset
from reluviz.core.history_chain import Trail, history_rows
from reluviz.core.metrics import DataLosses, dataset_losses, objective_value
from reluviz.core.readonly import read_only
from reluviz.core.snapshot import Snapshot
from reluviz.core.structure import Structure, network_structure
from reluviz.core.thinning import thin_index

LOSS_CURVE_POINTS = 3000  # the loss panel's curves are thinned to about this many points


def _no_values() -> np.ndarray:
    return read_only(np.empty(0))


@dataclass(frozen=True)
class LossCurves:
    """What the loss panel draws (thinned copies): the minibatch loss and the learning rate at
    recorded steps (T,), and at the steps where frames were drawn (E,) the full train, test and
    validation loss, the error to the true function and the objective (empty arrays, or NaN,
    where not known). ``best_step``/``best_val``: the evaluated step with the lowest validation
    loss (before thinning; -1 / NaN when there is none): early stopping would keep that state."""

    batch_steps: np.ndarray
    batch_loss: np.ndarray
    lr: np.ndarray
    eval_steps: np.ndarray
    train: np.ndarray
    test: np.ndarray
    val: np.ndarray = dataclasses.field(default_factory=_no_values)
    true: np.ndarray = dataclasses.field(default_factory=_no_values)
    objective: np.ndarray = dataclasses.field(default_factory=_no_values)
    best_step: int = -1
    best_val: float = float("nan")

    @staticmethod
    def of(steps: np.ndarray, batch_loss: np.ndarray, lr: np.ndarray, eval_steps: np.ndarray,
           train: np.ndarray, test: np.ndarray, points: int = LOSS_CURVE_POINTS, *,
           val: np.ndarray | None = None, true: np.ndarray | None = None,
           objective: np.ndarray | None = None) -> "LossCurves":
        """Thinned, read-only copies of the given columns (batch_loss, lr: (T,) of run 0; the
        evaluated columns (E,), NaN-filled when not given)."""
        keep = thin_index(len(steps), points)
        ekeep = thin_index(len(eval_steps), points)
        missing = np.full(len(eval_steps), np.nan)
        val, true, objective = (missing if c is None else np.asarray(c) for c in (val, true, objective))
        best_step, best_val = best_validation(eval_steps, val)
        return LossCurves(read_only(steps[keep]), read_only(batch_loss[keep]), read_only(lr[keep]),
                          read_only(eval_steps[ekeep]), read_only(train[ekeep]), read_only(test[ekeep]),
                          read_only(val[ekeep]), read_only(true[ekeep]), read_only(objective[ekeep]),
                          best_step, best_val)


def best_validation(steps: np.ndarray, val: np.ndarray) -> tuple[int, float]:
    """(step, loss) of the lowest finite validation loss, the first of equals; (-1, NaN) if none."""
    val = np.asarray(val, dtype=float)
    finite = np.isfinite(val)
    if not finite.any():
        return -1, float("nan")
    i = int(np.argmin(np.where(finite, val, np.inf)))
    return int(steps[i]), float(val[i])


@dataclass(frozen=True)
class TrailSpec:
    """How much of the past a frame carries (``Trail``): the last ``dense`` recorded rows and
    about ``sparse`` older ones; with ``ghost``, the ghost run's too (``Frame.ghost_trail``). Views
    ask for one; the window asks the worker for the widest."""

    dense: int = 0
    sparse: int = 0
    ghost: bool = False

    def __bool__(self) -> bool:
        return self.dense > 0 or self.sparse > 0

    def union(self, other: "TrailSpec | None") -> "TrailSpec":
        if not other:
            return self
        return TrailSpec(max(self.dense, other.dense), max(self.sparse, other.sparse), self.ghost or other.ghost)


@dataclass(frozen=True)
class Frame:
    """The state after ``snapshot.step`` updates and what goes with it.

    ``config``: the settings the run is under; ``compare``: the ghost run's settings (empty: no
    ghost) and ``ghost`` its snapshot at the same step. ``train_loss``/``val_loss``/``test_loss``:
    MSE of run 0 on the whole training / validation / test set; ``true_error``: its error to the
    true function (NaN without one); ``objective``: what training minimises, the training MSE plus
    ridge ||theta||^2 over the trained parameters. ``dead`` (H,) bool: units active on no training point
    (all False for the one-parameter models). ``first_step``/``last_step``: what the history holds.
    ``live``: this is the run's newest state (not a look back). ``divergence``: why the run
    stopped, or "". ``trail``: thinned recorded parameters up to this step (empty unless asked for).
    ``run_id``: changes whenever a new run starts (views drop what they computed for the old one).
    ``resume_note``: why training cannot go on from this step ("" when it can; see ``Session.load``).
    ``epoch``: passes over the training data so far (the points the updates drew, over N).
    ``structure``: the network's kinks, regions and per-layer units (``Structure``; None for the
    one-parameter models). For a deep net ``dead`` is its last hidden layer's. ``ghost_trail``: the
    ghost run's thinned past, as ``trail`` (empty unless asked for with ``TrailSpec.ghost``).
    """

    snapshot: Snapshot
    ghost: Snapshot | None
    config: TrainConfig
    compare: Mapping
    dataset: Dataset
    train_loss: float
    test_loss: float
    val_loss: float
    true_error: float
    objective: float
    epoch: float
    dead: np.ndarray
    first_step: int
    last_step: int
    live: bool
    divergence: str
    curves: LossCurves
    trail: Trail
    run_id: int = 0
    resume_note: str = ""
    #: the network's kinks, linear regions, per-layer dead/saturated units and Figure 4's
    #: piecewise-constant fit (``reluviz.core.structure``); None for the constant/linear models
    structure: Structure | None = None
    ghost_trail: Trail = dataclasses.field(default_factory=Trail.empty)

    @property
    def step(self) -> int:
        return self.snapshot.step

    @property
    def batch_loss(self) -> float:
        return float(self.snapshot.batch_loss[0])

    @property
    def lr(self) -> float:
        return float(self.snapshot.lr[0])

    @property
    def width(self) -> int:
        return self.snapshot.layout.width

    @property
    def dead_units(self) -> int:
        return int(np.count_nonzero(self.dead))

    @property
    def stopped(self) -> bool:
        return bool(self.snapshot.diverged.all())


def dead_units(snap: Snapshot, ds: Dataset, structure: Structure | None = None) -> np.ndarray:
    """(H,) bool: units active on no training point (read-only; empty for the small models); for
    a deep net, its last hidden layer's (taken from ``structure`` when given)."""
    if snap.layout.model != "relu":
        return read_only(np.zeros(0, dtype=bool))
    if structure is not None:
        return read_only(structure.stats.dead[-1])
    return read_only(snap.dead_units(ds.x_train))


def make_frame(snap: Snapshot, dataset: Dataset, config: TrainConfig, curves: LossCurves, *,
               ghost: Snapshot | None = None, compare: Mapping | None = None, first_step: int = 0,
               last_step: int | None = None, live: bool = True, divergence: str = "",
               trail: Trail | None = None, losses: DataLosses | None = None,
               epoch: float | None = None, run_id: int = 0, resume_note: str = "",
               ghost_trail: Trail | None = None) -> Frame:
    """A ``Frame`` from its parts; the losses, dead units and epoch are computed when not given."""
    lo = losses if losses is not None else dataset_losses(snap, dataset)
    if epoch is None:
        epoch = snap.step * snap.batch.shape[1] / dataset.n
    structure = network_structure(snap, dataset, train_loss=lo.train)
    return Frame(
        snapshot=snap, ghost=ghost, config=config, compare=MappingProxyType(dict(compare or {})),
        dataset=dataset, train_loss=float(lo.train), test_loss=float(lo.test), val_loss=float(lo.val),
        true_error=float(lo.true), objective=objective_value(snap, config, lo.train), epoch=float(epoch),
        dead=dead_units(snap, dataset, structure), first_step=int(first_step),
        last_step=int(snap.step if last_step is None else last_step), live=live, divergence=divergence,
        curves=curves, trail=trail if trail is not None else Trail.empty(snap.layout.size), run_id=run_id,
        resume_note=resume_note, structure=structure,
        ghost_trail=ghost_trail if ghost_trail is not None else Trail.empty(snap.layout.size))


def history_parts(snap: Snapshot, history, dataset: Dataset, trail: TrailSpec | None = TrailSpec(300, 900),
                  ghost_history=None) -> dict:
    """What a frame of ``snap`` takes from a recorded ``history`` (and the ghost's): the loss
    curves up to its step, the recorded range, the epoch and the trails ``trail`` asks for, all
    copies, as keyword arguments of ``make_frame``. Read under the history's lock when it is live
    (the app's export): the frame itself can then be made without it."""
    if history is not None and len(history):
        steps = np.asarray(history.steps)
        upto = int(np.searchsorted(steps, snap.step, side="right"))
        curves = LossCurves.of(steps[:upto], np.asarray(history.batch_losses)[:upto, 0],
                               np.asarray(history.lrs)[:upto, 0], np.empty(0, np.int64), np.empty(0), np.empty(0))
        rows = history_rows(history, snap.step, trail.dense, trail.sparse) if trail else None
        first, last = int(steps[0]), int(steps[-1])
    else:
        curves = LossCurves.of(*(np.empty(0),) * 6)
        rows, first, last = None, snap.step, snap.step
    epoch = history.samples_before(snap.step) / dataset.n if hasattr(history, "samples_before") else None
    ghost_rows = None
    if ghost_history is not None and len(ghost_history) and trail and trail.ghost:
        ghost_rows = history_rows(ghost_history, snap.step, trail.dense, trail.sparse)
    return dict(curves=curves, first_step=first, last_step=last, live=snap.step >= last, trail=rows, epoch=epoch,
                ghost_trail=ghost_rows)


def frame_from_history(snap: Snapshot, history, dataset: Dataset, config: TrainConfig,
                       trail: TrailSpec | None = TrailSpec(300, 900), ghost: Snapshot | None = None,
                       compare: Mapping | None = None, ghost_history=None) -> Frame:
    """A frame of ``snap`` over a recorded ``history`` (a ``History`` or ``HistoryChain``, or None),
    with no loss trace: for scripts, tests and exports that have no app session. ``ghost_history``:
    the ghost run's (its trail when ``trail.ghost``; its snapshot at the step when ``ghost`` is None)."""
    if ghost is None and ghost_history is not None and len(ghost_history):
        ghost = ghost_history.at(snap.step)
    parts = history_parts(snap, history, dataset, trail, ghost_history)
    curves = parts.pop("curves")
    return make_frame(snap, dataset, config, curves, ghost=ghost, compare=compare, **parts)
