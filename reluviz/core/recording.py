"""Headless training to arrays and to a history ``.npz`` file (what ``reluviz train`` writes).

File contents (T recorded steps 0, K, 2K, ... up to the last step; one run):

* ``step`` (T,) int; ``w``, ``b``, ``v`` (T, H) and ``c`` (T,) for the relu model, or ``theta`` (T,)
* ``lr`` (T,): the rate of the update that follows each recorded step
* ``batch_loss`` (T,): minibatch MSE at each recorded step, on the batch of the next update
* ``train_loss``, ``test_loss`` (T,): MSE on the whole training set and on the test set
* ``x_train``, ``y_train``, ``x_test``, ``y_test``; ``config`` (JSON text)
* ``batch`` (T-1, B) int, with ``record_batches``: indices of the update from each row to the next
* ``diverged_at`` (int, -1 if never) and ``stop_reason`` (text, empty if the run finished)

The file is written to a temporary name beside the target and renamed, so it appears whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from reluviz.core.atomic import atomic_path
from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.model import mse
from reluviz.core.trainer import Trainer

#: The arrays of one recording are kept in memory (and in the .npz); this bounds them.
RECORD_MAX_BYTES = 4 * 2**30


@dataclass
class Recording:
    """Arrays of one recorded run (see the module docstring for names and shapes)."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    stop_reason: str = ""


def record_run(config: TrainConfig, steps: int | None = None, every: int = 1, record_batches: bool = False,
               progress: Callable[[int, int], None] | None = None, trainer: Trainer | None = None) -> Recording:
    """Train ``steps`` updates (default ``config.steps``) recording every ``every``-th step."""
    steps = config.steps if steps is None else steps
    if steps < 0:
        raise ConfigError(f"--steps must be >= 0, got {steps}")
    if every < 1:
        raise ConfigError(f"--every must be at least 1, got {every}")
    if record_batches and every != 1:
        raise ConfigError("--record-batches needs --every 1 (a batch is the indices of one update)")
    trainer = trainer or Trainer(config)
    rows = steps // every + 1
    size = trainer.layout.size
    need = rows * 8 * (size + 3 + (trainer.batch_size if record_batches else 0))
    if need > RECORD_MAX_BYTES:
        raise ConfigError(f"recording {rows:,} rows of {size:,} parameters needs {need / 2**30:,.1f} GB "
                          f"(at most {RECORD_MAX_BYTES / 2**30:g} GB): record every K-th step with --every K, "
                          "or train fewer --steps")
    rec_step = np.zeros(rows, dtype=np.int64)
    rec_params = np.zeros((rows, size))
    rec_lr = np.zeros(rows)
    rec_loss = np.zeros(rows)
    rec_batch = np.zeros((max(rows - 1, 0), trainer.batch_size), dtype=np.int64) if record_batches else None
    count = 0

    def sink(step, state, batch, batch_loss, lr, diverged):
        nonlocal count
        rec_step[count] = step
        rec_params[count] = state[0, :size]
        rec_lr[count] = lr[0]
        rec_loss[count] = batch_loss[0]
        if rec_batch is not None and count < len(rec_batch):
            rec_batch[count] = batch[0]
        count += 1

    chunk = max(every, 1000 // every * every)
    done = 0
    while done < steps and not trainer.stopped:
        n = trainer.run(min(chunk, steps - done), on_step=sink, every=every)
        done += n
        if progress:
            progress(done, steps)
        if n == 0:
            break
    if not trainer.stopped and trainer.step % every == 0 and (count == 0 or rec_step[count - 1] != trainer.step):
        snap = trainer.snapshot()
        if count < rows:
            sink(snap.step, snap.state, snap.batch, snap.batch_loss, snap.lr, snap.diverged)
    params = rec_params[:count]
    ds, layout = trainer.dataset, trainer.layout
    out: dict[str, np.ndarray] = {"step": rec_step[:count].copy()}
    for name in layout.names():
        out[name] = layout.get(params, name).copy()
    out["lr"] = rec_lr[:count].copy()
    out["batch_loss"] = rec_loss[:count].copy()
    out["train_loss"] = mse(layout, params, ds.x_train, ds.y_train)
    out["test_loss"] = mse(layout, params, ds.x_test, ds.y_test)
    out.update(x_train=ds.x_train, y_train=ds.y_train, x_test=ds.x_test, y_test=ds.y_test)
    out["config"] = np.array(config.to_json())
    if rec_batch is not None:
        out["batch"] = rec_batch[: max(count - 1, 0)].copy()
    div = trainer.divergence
    out["diverged_at"] = np.array(div.step if div else -1)
    out["stop_reason"] = np.array(div.reason if div else "")
    return Recording(out, div.reason if div else "")


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
