"""Headless training to arrays, and the run file that ``reluviz train`` and the app's Save run write.

A run file is an ``.npz`` (format ``RUN_FORMAT``) holding T recorded rows of one run, oldest first:

* ``format`` (int) and ``reluviz_version`` (text): the format and the version that wrote it
* ``step`` (T,) int, increasing: ``reluviz train`` records steps 0, K, 2K, ...; the app's history
  keeps every recent step and an even subset of the older ones
* the parameters by name (``Layout.names()``): ``w``, ``b``, ``v`` (T, H) and ``c`` (T,) for the
  relu model, or ``theta`` (T,)
* ``slots`` (K, S) and ``slots_step`` (K,): the optimizer's state (the momentum buffer, or Adam's
  two moments: S = P x slots) at K of the recorded steps, every one unless ``reluviz train
  --params-only`` kept only the last; absent when the optimizer keeps none. From a step whose state
  is kept the run can be resumed exactly (the minibatches are a function of the seed and the step)
* ``lr`` (T,): the rate of the update that follows each step; ``batch_loss`` (T,): the minibatch
  MSE at each step on that update's batch; ``diverged`` (T,) bool: the run had stopped there
* ``train_loss``, ``val_loss``, ``test_loss`` (T,): MSE on the whole training, validation and test
  sets (three samples of one distribution: fit on the first, choose hyperparameters on the second,
  check once on the third); ``true_error`` (T,): the mean squared distance to the noiseless true
  function on its grid (what a student cannot measure in real life; NaN for CSV data, which has
  none); ``objective`` (T,): what training minimises, ``train_loss`` + ridge ||theta||^2 over the
  trained parameters under the last settings (``train_loss`` when ridge is 0) (``row_metrics``)
* ``batch`` (T, B) int, optional (``--record-batches``, the app's saves): the indices of each row's
  next minibatch (-1 pads a narrower one; a full-batch row is all -1). Without it a reader draws them
  again from the settings
* the data: the ``Dataset`` arrays (``x_train``, ``y_train``, ``x_val``, ``y_val``, ``x_test``,
  ``y_test``, and ``true_x``, ``true_y`` where the true function is known)
* ``config`` (JSON text): the settings in force at the last step; ``segment_step`` (G,) and
  ``segment_config`` (G,): each stretch of rows with the settings it was recorded under (the app
  starts a stretch where a change of optimizer or batch size changes the row's shape)
* ``compare`` (JSON text): the ghost run's settings ("{}": none). The app's saves also hold the
  ghost's rows under the same names prefixed ``ghost_`` (no loss columns); without them a reader
  trains the ghost again from the settings
* ``diverged_at`` (int, -1 if never) and ``stop_reason`` (text, empty if the run finished)

``record_run`` records a run headless (``reluviz train``); ``capture_session`` copies the app's run
and ``write_run`` writes it (File > Save run). Files are written to a temporary name beside the
target and renamed: whole or not at all. ``reluviz.core.runfile`` reads them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from reluviz import __version__
from reluviz.core.atomic import atomic_path
from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.data import Dataset
from reluviz.core.history_chain import HistoryChain
from reluviz.core.metrics import row_losses
from reluviz.core.model import Layout
from reluviz.core.optimizers import slots
from reluviz.core.optimum import ridge_penalty
from reluviz.core.sampling import BLOCK
from reluviz.core.trainer import Trainer

#: The run-file format this version writes and reads (a reader refuses any other).
RUN_FORMAT = 1
#: The arrays of one recording are kept in memory (and in the .npz); this bounds them.
RECORD_MAX_BYTES = 4 * 2**30
GHOST = "ghost_"  # prefix of the ghost run's rows


@dataclass
class Recording:
    """Arrays of one recorded run (see the module docstring for names and shapes)."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    stop_reason: str = ""


@dataclass(frozen=True)
class RowBlock:
    """Consecutive recorded rows of one run under one setting of the row shape: ``steps`` (t,),
    ``states`` (t, S) parameters then optimizer slots (S = P (1 + slots)), ``lr``, ``batch_loss``
    (t,), ``diverged`` (t,) bool, ``batches`` (t, B) or None (drawn again from ``config``)."""

    config: TrainConfig
    steps: np.ndarray
    states: np.ndarray
    lr: np.ndarray
    batch_loss: np.ndarray
    diverged: np.ndarray
    batches: np.ndarray | None = None


def dataset_arrays(ds: Dataset) -> dict[str, np.ndarray]:
    """The data's arrays by their ``Dataset`` field names (the ones that exist)."""
    return {f.name: np.asarray(getattr(ds, f.name)) for f in dataclasses.fields(ds)
            if isinstance(getattr(ds, f.name), np.ndarray)}


def row_metrics(layout: Layout, params: np.ndarray, ds: Dataset,
                progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """The loss columns of a run file for parameters (T, P): MSE on the whole training, validation
    and test sets and the error to the true function (NaN without one). ``progress(done, total)``
    counts rows (T in all), each set's share by its size."""
    t = len(params)
    sets = {"train_loss": ds.sample("train"), "val_loss": ds.sample("val"), "test_loss": ds.sample("test"),
            "true_error": ds.sample("true")}
    points = sum(len(x) for x, _ in sets.values()) or 1
    out, before = {}, 0.0
    for name, (x, y) in sets.items():
        share = len(x) / points
        done = (lambda k, b=before, f=share: progress(int(b + f * k), t)) if progress else None
        out[name] = row_losses(layout, params, x, y, done)
        before += share * t
    return out


def rows_arrays(layout: Layout, blocks: Sequence[RowBlock], prefix: str = "", slots_kept: str = "all") -> dict:
    """The row arrays of a run file (``step``, parameters, ``slots``, ``lr``, ... see the module
    docstring) for ``blocks`` of rows, names prefixed with ``prefix``. ``slots_kept``: "all", or
    "last" for the optimizer state of the last row only."""
    size = layout.size
    steps = np.concatenate([b.steps for b in blocks]).astype(np.int64)
    params = np.concatenate([b.states[:, :size] for b in blocks])
    out: dict[str, np.ndarray] = {"step": steps}
    for name in layout.names():
        out[name] = np.ascontiguousarray(layout.get(params, name))
    out["lr"] = np.concatenate([b.lr for b in blocks]).astype(float)
    out["batch_loss"] = np.concatenate([b.batch_loss for b in blocks]).astype(float)
    out["diverged"] = np.concatenate([b.diverged for b in blocks]).astype(bool)
    width = max(b.states.shape[1] - size for b in blocks)
    if width:
        kept_steps, kept = [], []
        for k, b in enumerate(blocks):
            w = b.states.shape[1] - size
            if w == 0:
                continue
            rows = slice(None) if slots_kept == "all" else slice(-1, None) if k == len(blocks) - 1 else slice(0, 0)
            part = np.full((len(b.steps[rows]), width), np.nan)
            part[:, :w] = b.states[rows, size:]
            kept_steps.append(b.steps[rows])
            kept.append(part)
        out["slots_step"] = np.concatenate(kept_steps).astype(np.int64)
        out["slots"] = np.concatenate(kept)
    if any(b.batches is not None and not _full(b) for b in blocks):  # (a full batch is every point: not stored)
        bwidth = max(b.batches.shape[1] for b in blocks if b.batches is not None and not _full(b))
        batch = np.full((len(steps), bwidth), -1, dtype=np.int32 if _fits_int32(blocks) else np.int64)
        row = 0
        for b in blocks:
            if b.batches is not None and not _full(b):
                batch[row : row + len(b.steps), : b.batches.shape[1]] = b.batches
            row += len(b.steps)
        out["batch"] = batch
    out["segment_step"] = np.array([int(b.steps[0]) for b in blocks], dtype=np.int64)
    out["segment_config"] = np.array([b.config.to_json() for b in blocks])
    return {prefix + k: v for k, v in out.items()}


def _full(block: RowBlock) -> bool:
    return block.config.batch_size == 0


def _fits_int32(blocks: Sequence[RowBlock]) -> bool:
    return all(b.batches is None or not b.batches.size or int(b.batches.max()) < 2**31 - 1 for b in blocks)


def run_arrays(config: TrainConfig, dataset: Dataset, blocks: Sequence[RowBlock], compare: dict | None = None,
               ghost_blocks: Sequence[RowBlock] | None = None, stop_reason: str = "", diverged_at: int = -1,
               slots_kept: str = "all", progress: Callable[[int, int], None] | None = None) -> dict:
    """Everything a run file holds (see the module docstring); ``progress`` counts the rows whose
    losses are evaluated (``row_metrics``: the slow part of a long run)."""
    layout = Layout.for_config(config)
    out = {"format": np.array(RUN_FORMAT), "reluviz_version": np.array(__version__)}
    out.update(rows_arrays(layout, blocks, slots_kept=slots_kept))
    params = np.concatenate([b.states[:, : layout.size] for b in blocks])
    out.update(row_metrics(layout, params, dataset, progress))
    with np.errstate(over="ignore", invalid="ignore"):  # (a diverged run's last rows may be huge)
        out["objective"] = out["train_loss"] + ridge_penalty(params, config.ridge, layout.mask(config.train))
    out.update(dataset_arrays(dataset))
    out["config"] = np.array(config.to_json())
    out["compare"] = np.array(json.dumps(dict(compare or {}), sort_keys=True))
    if ghost_blocks:
        out.update(rows_arrays(layout, ghost_blocks, prefix=GHOST))
    out["diverged_at"] = np.array(int(diverged_at))
    out["stop_reason"] = np.array(stop_reason)
    return out


class _EveryKth:
    """Rows of the steps divisible by ``every``, for ``Trainer.run(record=...)`` (one run): the trainer
    writes each stretch of steps into a scratch block (``reserve``) and ``commit`` keeps every K-th row,
    a block copy (no Python per step, whichever backend trains)."""

    def __init__(self, every: int, rows: int, width: int, kept: int, batch: int, record_batches: bool):
        self.every, self.width, self.batch_size, self.count = every, width, batch, 0
        self.step = np.zeros(rows, dtype=np.int64)
        self.state = np.zeros((rows, kept))
        self.lr = np.zeros(rows)
        self.loss = np.zeros(rows)
        self.diverged = np.zeros(rows, dtype=bool)
        self.batch = np.zeros((rows, batch), dtype=np.int64) if record_batches else None
        self._state = np.empty((BLOCK, 1, width))
        self._loss = np.empty((BLOCK, 1))

    def check_shape(self, state_size: int, batch: int) -> None:
        if state_size != self.width or batch != self.batch_size:
            raise ValueError("a recording keeps one row shape")

    def reserve(self, step: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, BLOCK)
        return self._state[:k], self._loss[:k]

    def commit(self, step: int, k: int, batch: np.ndarray, lr: np.ndarray, diverged: np.ndarray) -> None:
        sel = np.flatnonzero(np.arange(step, step + k) % self.every == 0)
        n, c = len(sel), self.count
        self.step[c : c + n] = step + sel
        self.state[c : c + n] = self._state[sel, 0, : self.state.shape[1]]
        self.lr[c : c + n] = lr[sel, 0]
        self.loss[c : c + n] = self._loss[sel, 0]
        self.diverged[c : c + n] = diverged[0]
        if self.batch is not None:
            self.batch[c : c + n] = batch[sel, 0]
        self.count = c + n

    def add(self, step: int, state: np.ndarray, batch: np.ndarray, loss: float, lr: float, diverged: bool) -> None:
        """One more row (the last state, when it is not a multiple of every)."""
        c = self.count
        self.step[c], self.state[c], self.lr[c], self.loss[c], self.diverged[c] = (
            step, state[: self.state.shape[1]], lr, loss, diverged)
        if self.batch is not None:
            self.batch[c] = batch
        self.count = c + 1


def record_run(config: TrainConfig, steps: int | None = None, every: int = 1, record_batches: bool = False,
               progress: Callable[..., None] | None = None, trainer: Trainer | None = None,
               compare: dict | None = None, params_only: bool = False,
               eval_progress: Callable[[int, int], None] | None = None) -> Recording:
    """Train ``steps`` updates (default ``config.steps``) recording every ``every``-th step.

    ``progress(done, total, loss)`` gets the steps trained and the mean minibatch loss of the
    steps recorded since the last call; ``eval_progress(done, total)`` the rows whose train/test
    loss is evaluated after training. ``compare``: the ghost run's settings, written to the file
    (a reader trains the ghost again). ``params_only``: keep the optimizer state of the last row
    only (a smaller file that can be resumed from its last step only).
    """
    steps = config.steps if steps is None else steps
    if steps < 0:
        raise ConfigError(f"--steps must be >= 0, got {steps}")
    if every < 1:
        raise ConfigError(f"--every must be at least 1, got {every}")
    if record_batches and every != 1:
        raise ConfigError("--record-batches needs --every 1 (a batch is the indices of one update)")
    trainer = trainer or Trainer(config)
    rows = steps // every + 2  # (+ the last step, when it is not a multiple of every)
    size = trainer.layout.size
    width = size * (1 + slots(config.optimizer))
    kept = size if params_only else width
    need = rows * 8 * (kept + 4 + (trainer.batch_size if record_batches else 0))
    if need > RECORD_MAX_BYTES:
        raise ConfigError(f"recording {rows:,} rows of {kept:,} values needs {need / 2**30:,.1f} GB "
                          f"(at most {RECORD_MAX_BYTES / 2**30:g} GB): record every K-th step with --every K, "
                          "or train fewer --steps" + ("" if params_only or kept == size else ", or --params-only"))
    rec = _EveryKth(every, rows, width, size if params_only else width, trainer.batch_size, record_batches)
    chunk = max(every, 1000 // every * every)
    done = reported = 0
    while done < steps and not trainer.stopped:
        n = trainer.run(min(chunk, steps - done), record=rec)
        done += n
        if progress:
            loss = float(np.mean(rec.loss[reported : rec.count])) if rec.count > reported else None
            reported = rec.count
            progress(done, steps, loss)
        if n == 0:
            break
    snap = trainer.snapshot()  # the last state is always a row (after a divergence, the last finite one)
    count = rec.count
    if count and rec.step[count - 1] == snap.step:
        rec.diverged[count - 1] = trainer.stopped  # (recorded with the rate and batch of the update that blew up)
    else:
        rec.add(snap.step, snap.state[0], snap.batch[0], snap.batch_loss[0], snap.lr[0], snap.diverged[0])
    count = rec.count
    rec_step, rec_state, rec_lr, rec_loss, rec_div, rec_batch = (rec.step, rec.state, rec.lr, rec.loss, rec.diverged,
                                                                 rec.batch)
    last_state = trainer.state[0].copy()
    states = rec_state[:count]
    if params_only and width > size:  # the last row's optimizer state, for a run that goes on from it
        states = np.zeros((count, width))
        states[:, :size] = rec_state[:count]
        states[-1, size:] = last_state[size:]
    block = RowBlock(config, rec_step[:count].copy(), states, rec_lr[:count].copy(), rec_loss[:count].copy(),
                     rec_div[:count].copy(), rec_batch[:count].copy() if rec_batch is not None else None)
    div = trainer.divergence
    reason = div.reason if div else ""
    arrays = run_arrays(config, trainer.dataset, [block], compare=compare,
                        stop_reason=reason, diverged_at=div.step if div else -1,
                        slots_kept="last" if params_only else "all", progress=eval_progress)
    return Recording(arrays, reason)


# ---------------------------------------------------------------------- the app's run, to a file
@dataclass(frozen=True, eq=False)
class CapturedRun:
    """Copies of everything a running ``Session`` shows, to be written without the session's lock."""

    config: TrainConfig
    compare: dict
    dataset: Dataset
    blocks: list[RowBlock]
    ghost_blocks: list[RowBlock] | None
    stop_reason: str
    diverged_at: int

    @property
    def rows(self) -> int:
        return sum(len(b.steps) for b in self.blocks)

    @property
    def last_step(self) -> int:
        return int(self.blocks[-1].steps[-1])


def _blocks(chain: HistoryChain) -> list[RowBlock]:
    out = []
    for config, h in chain.segments:
        if len(h):
            out.append(RowBlock(config, np.array(h.steps), np.array(h.states[:, 0]), np.array(h.lrs[:, 0]),
                                np.array(h.batch_losses[:, 0]), np.array(h.diverged[:, 0]),
                                None if config.batch_size == 0 else np.array(h.batches[:, 0])))
    return out


def capture_session(session) -> CapturedRun:
    """Copy ``session``'s run (its recorded rows, its ghost's, the settings); call with its lock held."""
    session.checkpoint()  # (the head is a row)
    div = session.trainer.divergence
    ghost = _blocks(session.ghost_history) if session.ghost is not None else None
    return CapturedRun(session.config, dict(session.compare), session.dataset, _blocks(session.history), ghost,
                       div.reason if div else "", div.step if div else -1)


def write_run(path: str | Path, run: CapturedRun, progress: Callable[[int, int], None] | None = None) -> None:
    """Write a captured run as a run file, atomically (``ConfigError`` with the reason on failure);
    ``progress(done, total)`` counts the rows whose losses are evaluated."""
    arrays = run_arrays(run.config, run.dataset, run.blocks, compare=run.compare, ghost_blocks=run.ghost_blocks,
                        stop_reason=run.stop_reason, diverged_at=run.diverged_at, progress=progress)
    write_npz(path, arrays)


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically; ``ConfigError`` with a clear reason on failure."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ConfigError(f"--out must end in .npz, got {path.name}")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigError(f"folder {directory} does not exist")
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
