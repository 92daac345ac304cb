"""Run files: reading one (``read_run``) and making it ready for a session (``load_run``).

``reluviz.core.recording`` says what a run file holds and writes it. ``read_run`` checks a file and
gives a ``RecordedRun``: the settings, the data, the recorded rows of the run (and of its ghost),
which become the history segments, the loss trace and a trainer standing at the last row, so a
``Session`` can show the run (``Session.load``) and an export can draw it without training.

Every problem is one sentence in a ``RunFileError`` (a ``ConfigError``): not a run file, another
format (older or newer), or damaged. Reading changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reluviz import __version__
from reluviz.core.compare import ghost_config, ghost_trainer
from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.data import Dataset
from reluviz.core.history import History
from reluviz.core.history_chain import HistoryChain
from reluviz.core.loss_trace import LossTrace
from reluviz.core.model import Layout
from reluviz.core.optimizers import slots
from reluviz.core.recording import GHOST, RUN_FORMAT
from reluviz.core.sampling import BLOCK, block_indices
from reluviz.core.thinning import thin_index
from reluviz.core.trainer import Divergence, Trainer

ROWS_AT_ONCE = 4096  # rows copied into a history at a time (bounds the temporaries of a long file)


class RunFileError(ConfigError):
    """A run file cannot be read; the message is one sentence naming the file."""


# ---------------------------------------------------------------------- recorded rows
@dataclass(frozen=True, eq=False)
class RecordedRows:
    """The recorded rows of one run (the main run or its ghost), oldest first.

    ``segments``: (first step, settings) of each stretch of rows of one shape; ``steps`` (T,);
    ``params`` (T, P); ``slots`` (K, S) the optimizer state at ``slots_step`` (K,) (None: the
    optimizer keeps none); ``lr``, ``batch_loss`` (T,), ``diverged`` (T,) bool; ``batches``
    (T, B) or None (drawn again from the settings).
    """

    layout: Layout
    segments: tuple[tuple[int, TrainConfig], ...]
    steps: np.ndarray
    params: np.ndarray
    slots: np.ndarray | None
    slots_step: np.ndarray
    lr: np.ndarray
    batch_loss: np.ndarray
    diverged: np.ndarray
    batches: np.ndarray | None

    def __len__(self) -> int:
        return len(self.steps)

    def _bounds(self) -> np.ndarray:
        starts = np.searchsorted(self.steps, [first for first, _ in self.segments])
        return np.r_[starts, len(self.steps)]

    def _states(self, a: int, b: int, width: int) -> np.ndarray:
        """(b - a, width) states of rows a..b: parameters, then the kept optimizer slots (NaN where
        the file does not keep them)."""
        size = self.layout.size
        out = np.full((b - a, width), np.nan)
        out[:, :size] = self.params[a:b]
        if width > size and self.slots is not None:
            where = np.searchsorted(self.slots_step, self.steps[a:b])
            where = np.minimum(where, max(len(self.slots_step) - 1, 0))
            kept = (self.slots_step[where] == self.steps[a:b]) if len(self.slots_step) else np.zeros(b - a, bool)
            out[kept, size:] = self.slots[where[kept], : width - size]
        return out

    def _batches(self, config: TrainConfig, n: int, a: int, b: int) -> np.ndarray:
        """(b - a, B) minibatch indices of rows a..b under ``config`` (B: its batch for n points)."""
        width = config.effective_batch(n)
        if width == n and config.batch_size == 0:
            return np.broadcast_to(np.arange(n), (b - a, n))
        if self.batches is not None:
            return self.batches[a:b, :width].astype(np.int64)
        steps = self.steps[a:b]
        out = np.empty((b - a, width), dtype=np.int64)
        for block in np.unique(steps // BLOCK):
            sel = steps // BLOCK == block
            rows = block_indices(config.sampling, config.sample_seed, n, width, int(block))
            out[sel] = rows[steps[sel] % BLOCK]
        return out

    def chain(self, n_points: int, budget: int) -> HistoryChain:
        """The rows as history segments (each a ``History`` of ``budget`` bytes, thinned as the app's)."""
        bounds = self._bounds()
        segments = []
        for k, (_first, config) in enumerate(self.segments):
            width = self.layout.size * (1 + slots(config.optimizer))
            history = History(self.layout, 1, width, config.effective_batch(n_points), budget)
            for a in range(int(bounds[k]), int(bounds[k + 1]), ROWS_AT_ONCE):
                b = min(a + ROWS_AT_ONCE, int(bounds[k + 1]))
                history.extend(self.steps[a:b], self._states(a, b, width)[:, None],
                               self._batches(config, n_points, a, b)[:, None], self.batch_loss[a:b, None],
                               self.lr[a:b, None], self.diverged[a:b, None])
            segments.append((config, history))
        return HistoryChain.of_segments(self.layout, 1, segments, budget)


def _rows_of(arrays: dict, prefix: str, layout: Layout, dataset: Dataset, what: str) -> RecordedRows:
    """The rows named ``prefix``... in ``arrays``, checked (``RunFileError`` via ``_Damaged``)."""
    def get(name: str) -> np.ndarray:
        if prefix + name not in arrays:
            raise _Damaged(f"it lacks the {what}'s '{prefix + name}'")
        return arrays[prefix + name]

    steps = get("step")
    if steps.ndim != 1 or not len(steps) or steps.dtype.kind not in "iu":
        raise _Damaged(f"its '{prefix}step' is not a list of steps")
    steps = steps.astype(np.int64)
    if steps[0] < 0 or np.any(np.diff(steps) <= 0):
        raise _Damaged(f"its '{prefix}step' does not increase")
    t = len(steps)
    params = np.empty((t, layout.size))
    for name in layout.names():
        column = _float(get(name), prefix + name)
        if column.shape[0] != t or column.shape[1:] != np.shape(layout.get(params[0], name)):
            raise _Damaged(f"'{prefix + name}' has shape {column.shape}, not that of {t:,} rows of the network")
        params[:, layout.index(name)] = column.reshape(params[:, layout.index(name)].shape)  # (w2: (T, H, H))
    if not np.all(np.isfinite(params)):
        raise _Damaged(f"the {what}'s parameters hold values that are not finite")
    columns = {name: _float(get(name), prefix + name) for name in ("lr", "batch_loss")}
    diverged = get("diverged").astype(bool) if prefix + "diverged" in arrays else np.zeros(t, bool)
    for name, column in (*columns.items(), ("diverged", diverged)):
        if column.shape != (t,):
            raise _Damaged(f"'{prefix + name}' has {column.shape[0] if column.ndim else 0:,} rows, '{prefix}step' {t:,}")
    segments = _segments(get("segment_step"), get("segment_config"), steps, layout, prefix)
    need = max(slots(cfg.optimizer) for _, cfg in segments) * layout.size
    slot_values, slot_steps = None, np.empty(0, dtype=np.int64)
    if need:
        slot_values = _float(get("slots"), prefix + "slots")
        slot_steps = get("slots_step").astype(np.int64)
        if slot_values.ndim != 2 or slot_values.shape[1] < need or slot_steps.shape != (len(slot_values),) \
                or not np.all(np.isin(slot_steps, steps)) or np.any(np.diff(slot_steps) <= 0):
            raise _Damaged(f"its optimizer state ('{prefix}slots') does not match its rows")
        if slots(segments[-1][1].optimizer) and (not len(slot_steps) or slot_steps[-1] != steps[-1]):
            raise _Damaged(f"it lacks the {what}'s optimizer state at its last step, where training goes on")
    batches = None
    if prefix + "batch" in arrays:
        batches = arrays[prefix + "batch"]
        widths = [cfg.effective_batch(dataset.n) for _, cfg in segments if cfg.batch_size]
        if batches.ndim != 2 or len(batches) != t or batches.dtype.kind not in "iu" \
                or (widths and batches.shape[1] < max(widths)) or batches.size and batches.max() >= dataset.n:
            raise _Damaged(f"its minibatches ('{prefix}batch') do not match its rows and data")
        starts = np.r_[np.searchsorted(steps, [f for f, _ in segments]), t]
        for k, (_f, cfg) in enumerate(segments):
            rows = batches[starts[k] : starts[k + 1], : cfg.effective_batch(dataset.n)]
            if cfg.batch_size and rows.size and rows.min() < 0:
                raise _Damaged(f"its minibatches ('{prefix}batch') have gaps")
    return RecordedRows(layout, segments, steps, params, slot_values, slot_steps, columns["lr"],
                        columns["batch_loss"], diverged, batches)


def _segments(first: np.ndarray, configs: np.ndarray, steps: np.ndarray, layout: Layout,
              prefix: str) -> tuple[tuple[int, TrainConfig], ...]:
    first = np.atleast_1d(first)
    configs = np.atleast_1d(configs)
    if first.ndim != 1 or configs.shape != first.shape or not len(first) or first[0] != steps[0] \
            or np.any(np.diff(first) <= 0) or first.dtype.kind not in "iu":
        raise _Damaged(f"its '{prefix}segment_step' does not fit its rows")
    out = []
    for step, text in zip(first, configs):
        config = _config(str(text), f"'{prefix}segment_config'")
        if Layout.for_config(config) != layout:
            raise _Damaged(f"'{prefix}segment_config' changes the network mid-run")
        out.append((int(step), config))
    return tuple(out)


def _float(a: np.ndarray, name: str) -> np.ndarray:
    if a.dtype.kind not in "fiu":
        raise _Damaged(f"'{name}' does not hold numbers")
    return a.astype(float, copy=False)


def _config(text: str, what: str) -> TrainConfig:
    try:
        values = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise _Damaged(f"its {what} is not valid JSON") from None
    if not isinstance(values, dict):
        raise _Damaged(f"its {what} is not a set of settings")
    try:
        return TrainConfig.from_dict(values)
    except ConfigError as exc:
        raise _Damaged(f"its {what} cannot be used here ({exc})") from None


class _Damaged(Exception):
    """What is wrong inside a file (``read_run`` makes it one sentence naming the file)."""


# ---------------------------------------------------------------------- a recorded run
@dataclass(frozen=True, eq=False)
class RecordedRun:
    """A run read from ``path``: written by reluviz ``version``; ``config`` the settings in force at
    the last step; ``compare`` the ghost run's settings ({}: none); ``rows`` and ``ghost_rows``
    (None: the ghost is trained again from its settings); ``arrays`` every array of the file (the
    loss columns ``train_loss`` and ``test_loss`` among them); ``stop_reason``: why it stopped ("")."""

    path: Path
    version: str
    config: TrainConfig
    compare: dict
    dataset: Dataset
    rows: RecordedRows
    ghost_rows: RecordedRows | None
    arrays: dict
    stop_reason: str
    diverged_at: int

    @property
    def layout(self) -> Layout:
        return self.rows.layout

    @property
    def first_step(self) -> int:
        return int(self.rows.steps[0])

    @property
    def last_step(self) -> int:
        return int(self.rows.steps[-1])

    @property
    def resumable_steps(self) -> int:
        """How many recorded steps training can go on from (those whose optimizer state is kept)."""
        rows = self.rows
        if rows.slots is None:
            return len(rows)
        bounds = rows._bounds()
        free = sum(int(bounds[k + 1] - bounds[k]) for k, (_f, cfg) in enumerate(rows.segments)
                   if not slots(cfg.optimizer))
        return free + len(rows.slots_step)

    def history(self, budget: int) -> HistoryChain:
        return self.rows.chain(self.dataset.n, budget)

    def trace(self, capacity: int = 20_000) -> LossTrace:
        """The losses at the recorded steps (an even subset when there are many): train and test, and
        validation, the true error and the objective where the file has them (NaN before they were)."""
        trace = LossTrace(capacity)
        keep = thin_index(len(self.rows), capacity // 2)
        train, test = self.arrays["train_loss"], self.arrays["test_loss"]
        missing = np.full(len(train), np.nan)
        val, true = (self.arrays.get(k, missing) for k in ("val_loss", "true_error"))
        objective = self.arrays.get("objective", train)
        for i in keep:
            trace.add(int(self.rows.steps[i]), float(train[i]), float(test[i]), val=float(val[i]),
                      true=float(true[i]), objective=float(objective[i]))
        return trace

    def trainer(self, history: HistoryChain) -> Trainer:
        """A trainer standing at the last recorded row of ``history`` (this run's), stopped if the
        run had stopped, that goes on with ``config``."""
        trainer = Trainer(self.config, dataset=self.dataset)
        trainer.restore(history.latest())
        if trainer.stopped and self.stop_reason:
            trainer.divergence = Divergence(max(self.diverged_at, 0), float("nan"), self.stop_reason)
        return trainer

    def ghost(self, budget: int, history_budget: int | None = None) -> tuple[Trainer | None, HistoryChain | None]:
        """The ghost run (its trainer at the last step and its history), or (None, None)."""
        if not self.compare:
            return None, None
        if self.ghost_rows is not None:
            history = self.ghost_rows.chain(self.dataset.n, budget)
            trainer = ghost_trainer(self.config, self.compare, self.dataset)
            trainer.restore(history.latest())
            return trainer, history
        return train_ghost(self.rows.segments, self.compare, self.dataset, self.last_step, budget)


@dataclass(frozen=True, eq=False)
class LoadedRun:
    """A recorded run made ready for a ``Session`` (``Session.load``): its history, a trainer at the
    last row, the ghost's trainer and history (None: no ghost) and the loss trace."""

    run: RecordedRun
    history: HistoryChain
    trainer: Trainer
    ghost: Trainer | None
    ghost_history: HistoryChain | None
    trace: LossTrace


def load_run(run: RecordedRun, budget: int) -> LoadedRun:
    """Build what a session shows of ``run`` (the slow part of opening a file: a window does it off
    its GUI thread); ``budget``: the main history's bytes (the ghost's: a quarter)."""
    history = run.history(budget)
    trainer = run.trainer(history)
    ghost, ghost_history = run.ghost(max(budget // 4, 1 << 20))
    return LoadedRun(run, history, trainer, ghost, ghost_history, run.trace())


def train_ghost(segments, compare: dict, dataset: Dataset, last_step: int, budget: int):
    """The ghost run trained again from step 0 to ``last_step`` under each stretch's settings with
    ``compare`` over them (the same data, init and minibatches): (trainer, history)."""
    trainer = ghost_trainer(segments[0][1], compare, dataset)
    history = HistoryChain(trainer, budget)
    for k, (_first, config) in enumerate(segments):
        if k:
            trainer.reconfigure(ghost_config(config, compare))
            history.follow(trainer)
        end = segments[k + 1][0] if k + 1 < len(segments) else last_step
        while trainer.step < end and not trainer.stopped:
            if trainer.run(end - trainer.step, record=history.current) == 0:
                break
    if not trainer.stopped:  # (a stopped run keeps its recorded row: the rate of the update that blew up)
        history.record_snapshot(trainer.snapshot())
    return trainer, history


def read_run(path: str | Path) -> RecordedRun:
    """Read and check the run file ``path``; ``RunFileError`` (one sentence) when it cannot be used."""
    path = Path(path)
    name = path.name
    loaded = None
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise RunFileError(f"{name} is not a reluviz run file (a single array, not an .npz of a run)")
        keys = set(loaded.files)
        if "format" not in keys:
            if {"step", "config"} <= keys:
                raise RunFileError(f"{name} was written by an older reluviz, before run files had a format "
                                   f"number; this reluviz ({__version__}) reads format {RUN_FORMAT}: record it "
                                   "again with `reluviz train`")
            raise RunFileError(f"{name} is not a reluviz run file (it has no 'format' entry)")
        fmt, version = _format_of(loaded, name)
        if fmt != RUN_FORMAT:
            raise RunFileError(
                f"{name} is a run file of format {fmt} (written by reluviz {version}); this reluviz "
                f"({__version__}) reads format {RUN_FORMAT}: " + (
                    "update reluviz to open it" if fmt > RUN_FORMAT else
                    f"open it with reluviz {version}, or record it again with `reluviz train`"))
        arrays = {key: loaded[key] for key in loaded.files}
    except RunFileError:
        raise
    except FileNotFoundError:
        raise RunFileError(f"cannot open {path}: no such file") from None
    except IsADirectoryError:
        raise RunFileError(f"cannot open {path}: it is a folder, not a run file") from None
    except PermissionError:
        raise RunFileError(f"cannot open {path}: permission denied") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError) as exc:
        if not _starts_like_zip(path):
            raise RunFileError(f"{name} is not a reluviz run file (not an .npz archive)") from None
        detail = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        raise RunFileError(f"{name} is damaged ({detail}); nothing was opened") from None
    finally:
        if isinstance(loaded, np.lib.npyio.NpzFile):
            loaded.close()
    try:
        return _checked(path, arrays, version)
    except _Damaged as exc:
        raise RunFileError(f"{name} is damaged: {exc}; nothing was opened") from None


def _starts_like_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _format_of(npz, name: str) -> tuple[int, str]:
    try:
        fmt = int(npz["format"])
    except (TypeError, ValueError):
        raise RunFileError(f"{name} is not a reluviz run file (its 'format' entry is not a number)") from None
    version = str(npz["reluviz_version"]) if "reluviz_version" in npz.files else "of unknown version"
    return fmt, version


def _checked(path: Path, arrays: dict, version: str) -> RecordedRun:
    for key in ("config", "x_train", "y_train", "x_test", "y_test", "train_loss", "test_loss"):
        if key not in arrays:
            raise _Damaged(f"it lacks '{key}'")
    config = _config(str(arrays["config"]), "settings ('config')")
    layout = Layout.for_config(config)
    dataset = _dataset(arrays, config)
    compare = _compare(arrays, config)
    rows = _rows_of(arrays, "", layout, dataset, "run")
    if (slots(rows.segments[-1][1].optimizer), rows.segments[-1][1].effective_batch(dataset.n)) != \
            (slots(config.optimizer), config.effective_batch(dataset.n)):
        raise _Damaged("its last stretch of rows does not match its settings")
    for key in ("train_loss", "test_loss", *(k for k in ("val_loss", "true_error", "objective") if k in arrays)):
        if np.shape(arrays[key]) != (len(rows),):
            raise _Damaged(f"'{key}' has {np.shape(arrays[key])[0] if np.ndim(arrays[key]) else 0:,} rows, "
                           f"'step' {len(rows):,}")
    ghost_rows = _rows_of(arrays, GHOST, layout, dataset, "ghost run") if GHOST + "step" in arrays and compare else None
    if ghost_rows is not None:
        last = ghost_rows.segments[-1][1]
        want = ghost_config(config, compare)
        if (slots(last.optimizer), last.effective_batch(dataset.n)) != (slots(want.optimizer), want.effective_batch(dataset.n)):
            raise _Damaged("its ghost run's last rows do not match its ghost settings")
    stop = str(arrays.get("stop_reason", ""))
    diverged_at = int(arrays["diverged_at"]) if "diverged_at" in arrays and np.ndim(arrays["diverged_at"]) == 0 else -1
    return RecordedRun(path, version, config, compare, dataset, rows, ghost_rows, arrays, stop, diverged_at)


def _dataset(arrays: dict, config: TrainConfig) -> Dataset:
    """The data the run was trained on (stored in the file, so a CSV run opens without its CSV)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Dataset):
        if f.name == "name":
            values["name"] = Path(config.csv_path).name if config.target == "csv" else config.target
            continue
        a = arrays.get(f.name)
        if a is None and f.name in ("x_val", "y_val"):
            a = np.empty(0)  # (a file from before validation sets: none)
        if a is not None and (a.ndim != 1 or a.dtype.kind not in "fiu" or not np.all(np.isfinite(a))):
            raise _Damaged(f"its data '{f.name}' is not a list of finite numbers")
        values[f.name] = None if a is None else a.astype(float)
    ds = Dataset(**values)
    pairs = [(ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)]
    if ds.true_x is not None or ds.true_y is not None:
        pairs.append((ds.true_x, ds.true_y))
    if any(x is None or y is None or len(x) != len(y) for x, y in pairs) or ds.n < 2:
        raise _Damaged("its data arrays do not pair up")
    return ds


def _compare(arrays: dict, config: TrainConfig) -> dict:
    if "compare" not in arrays:
        return {}
    try:
        compare = json.loads(str(arrays["compare"]))
    except (json.JSONDecodeError, RecursionError):
        raise _Damaged("its ghost settings ('compare') are not valid JSON") from None
    if not isinstance(compare, dict):
        raise _Damaged("its ghost settings ('compare') are not a set of settings")
    try:
        ghost_config(config, compare)
    except ConfigError as exc:
        raise _Damaged(f"its ghost settings cannot be used here ({exc})") from None
    return compare


def describe(run: RecordedRun) -> str:
    """One line about a recorded run: its steps, settings and who wrote it."""
    cfg = run.config
    model = f"{cfg.model} width {cfg.width}" if cfg.model == "relu" else cfg.model
    if cfg.model == "relu" and (cfg.depth > 1 or cfg.activation != "relu"):
        model += f", {cfg.depth} layers of {cfg.activation}"
    text = (f"{len(run.rows):,} recorded steps of {run.first_step:,}..{run.last_step:,}, {model}, "
            f"{cfg.optimizer} lr {cfg.lr:g}, written by reluviz {run.version}")
    return text + (f"; it stopped: {run.stop_reason}" if run.stop_reason else "")


__all__ = ["LoadedRun", "RecordedRows", "RecordedRun", "RunFileError", "describe", "load_run", "read_run",
           "train_ghost"]
