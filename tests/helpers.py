"""Shared test helpers: a small app configuration and short recorded runs (imported as ``helpers``;
pytest puts this folder on the path for ``conftest.py``)."""

from __future__ import annotations

from reluviz.core import History, TrainConfig, Trainer
from reluviz.core.presets import load_preset

#: the notebook setup made small enough for windows in tests to train quickly
SMALL_APP = load_preset("notebook").config.updated({"width": 12, "n_train": 100, "batch_size": 10,
                                                         "steps": 100_000})


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
