"""Shared test helpers (imported as ``helpers``; pytest puts this folder on the path for ``conftest.py``):
the small configurations every test file uses, short recorded runs, drawing a state in a lecture
view, driving a window, and reading what the process and the history hold."""

from __future__ import annotations

import csv

import numpy as np

from reluviz.core import History, TrainConfig, Trainer
from reluviz.core.presets import load_preset

#: a small net on the default data: the core's tests (trainer, seed bands)
SMALL = TrainConfig(width=8, n_train=50, batch_size=10, steps=300)

#: the notebook setup made small (width 8, 60 points, 300 steps): exports, plots and sessions headless
SMALL_NOTEBOOK = load_preset("notebook").config.updated({"width": 8, "n_train": 60, "batch_size": 10, "steps": 300})

#: the notebook setup made small enough for windows in tests to train quickly
SMALL_APP = load_preset("notebook").config.updated({"width": 12, "n_train": 100, "batch_size": 10,
                                                         "steps": 100_000})


# ---------------------------------------------------------------------- runs and frames
def short_run(config: TrainConfig, steps: int):
    """Train ``steps`` updates recording every step: (trainer, history with the head row, head snapshot)."""
    tr = Trainer(config)
    hist = History.for_trainer(tr, budget_bytes=8 * 2**20)
    tr.run(steps, on_step=hist.record)
    snap = tr.snapshot()
    hist.record_snapshot(snap)
    return tr, hist, snap


def head_frame(session):
    """What the app's training thread publishes: the head recorded (``checkpoint``), then its frame."""
    session.checkpoint()
    return session.frame()


def show(view, snap, history, dataset, config, compare=None, trail=None):
    """Draw ``snap`` over ``history`` in a lecture ``view``, as the window would (a core ``Frame``)."""
    from reluviz.core.frame import frame_from_history

    kwargs = {} if trail is None else {"trail": trail}
    frame = frame_from_history(snap, history, dataset, config, compare=compare, **kwargs)
    view.show_frame(frame)
    return frame


# ---------------------------------------------------------------------- the window
def action(window, name: str):
    """The window's ``QAction`` called ``name`` (it must exist)."""
    from PySide6 import QtGui

    found = window.findChild(QtGui.QAction, name)
    assert found is not None, name
    return found


def wait_step(qtbot, window, step: int, timeout: int = 10_000) -> None:
    """Wait until the window shows ``step`` and its training thread is idle."""
    qtbot.waitUntil(lambda: window.displayed_snapshot.step == step and not window.worker.busy, timeout=timeout)


def train_to(qtbot, window, step: int) -> None:
    """Train (or step through the history) from the displayed step to ``step``, and wait for it."""
    window.step(step - window.displayed_snapshot.step)
    wait_step(qtbot, window, step)


# ---------------------------------------------------------------------- files, memory, history
def read_csv_rows(path) -> list[dict]:
    """The rows of a ``frames.csv`` (or any CSV with a header) as dicts of strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident memory (or another /proc/self/status field, e.g. VmHWM) in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(field)


def thinning_problem(steps: np.ndarray, capacity: int, stride: int) -> str:
    """'' if ``steps`` follow the documented rule: step 0, the old part on multiples of the stride
    with no gap wider than it, then a dense stretch of at least half the store."""
    n = len(steps)
    if n > capacity:
        return f"{n} rows over the capacity {capacity}"
    if n == 0 or steps[0] != 0:
        return "step 0 was dropped"
    gaps = np.diff(steps)
    if np.any(gaps <= 0):
        return "steps do not increase"
    dense_from = n - 1 - (np.flatnonzero(gaps[::-1] != 1)[0] if np.any(gaps != 1) else n - 1)
    if stride > 1 and n - dense_from < capacity // 2:
        return f"only {n - dense_from} newest rows are dense"
    if np.any(steps[:dense_from] % stride):
        return f"old steps off the stride {stride}"
    if stride > 1 and np.any(np.diff(steps[: dense_from + 1]) > stride):
        return "a gap in the old part wider than the stride"
    return ""


def gif_frames(path) -> list[tuple[np.ndarray, int | None]]:
    """Every frame of a GIF decoded to RGB (H, W, 3) uint8, with its duration in ms."""
    from PIL import Image

    out = []
    with Image.open(path) as im:
        for k in range(im.n_frames):
            im.seek(k)
            out.append((np.asarray(im.convert("RGB")).copy(), im.info.get("duration")))
    return out
