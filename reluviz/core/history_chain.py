"""The history of one app run as core ``History`` segments, and thinned copies of its rows.

Changing the optimizer mid-run changes the width of the recorded state (its slots: momentum
buffer, Adam's moments), and changing the batch size changes the width of a recorded minibatch;
one ``History`` keeps one row shape. ``HistoryChain`` keeps one ``History`` per stretch of
constant shape, oldest first, with the configuration it was recorded under, and reads like one.

``HistoryChain.rows(upto, dense, sparse)`` gives a thinned copy of the recorded parameters
(a ``Trail``) for views that draw the past: every recent step, and a stable even subset of older
ones (the same steps stay selected as the run grows, so values computed per step can be reused).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reluviz.core.config import TrainConfig
from reluviz.core.history import DEFAULT_BUDGET, History
from reluviz.core.snapshot import Snapshot


@dataclass(frozen=True)
class Trail:
    """Recorded steps (K,) and their parameters (K, P) of run 0, oldest first (read-only copies)."""

    steps: np.ndarray
    params: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)

    @staticmethod
    def empty(size: int = 0) -> "Trail":
        return Trail(np.empty(0, dtype=np.int64), np.empty((0, size)))

    def recent(self, k: int) -> np.ndarray:
        """The last ``k`` rows of parameters (k', P)."""
        return self.params[max(len(self.params) - k, 0):]


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def thin_rows(steps: np.ndarray, upto: int, dense: int, sparse: int) -> np.ndarray:
    """Indices of ``steps`` (increasing) to keep up to step ``upto``: the last ``dense`` rows, and
    before them the steps that are multiples of a power-of-two stride leaving about ``sparse``
    (step 0's row always). Falls back to even spacing when the recorded steps are irregular."""
    n = int(np.searchsorted(steps, upto, side="right"))
    if n == 0:
        n = min(1, len(steps))
    head = max(0, n - dense)
    tail = np.arange(head, n)
    if head == 0:
        return tail
    span = max(int(steps[head - 1]) - int(steps[0]), 1)
    stride = 1
    while span // stride > sparse:
        stride *= 2
    old = np.flatnonzero(steps[:head] % stride == 0)
    if len(old) > 2 * sparse:
        old = np.unique(np.linspace(0, head - 1, sparse).astype(np.int64))
    if len(old) == 0 or old[0] != 0:
        old = np.r_[0, old]
    return np.concatenate([old, tail])


class HistoryChain:
    """The history of one run, as core ``History`` segments of constant row shape, oldest first.

    Reads like a ``History`` (``steps``, ``batch_losses``, ``lrs``, ``params``, ``at``, ``latest``,
    ``truncate_after``, ``first_step``, ``last_step``, ``len``). ``segments`` gives the parts with
    the configuration each was recorded under (its optimizer decides the state's width).
    """

    def __init__(self, trainer, budget_bytes: int = DEFAULT_BUDGET):
        self.budget = budget_bytes
        self.layout = trainer.layout
        self.runs = trainer.runs
        self.segments: list[tuple[TrainConfig, History]] = []
        self._starts: list[int] = []  # the step each segment's updates begin at
        self._new_segment(trainer)

    @classmethod
    def of_segments(cls, layout, runs: int, segments: list[tuple[TrainConfig, History]],
                    budget_bytes: int = DEFAULT_BUDGET) -> "HistoryChain":
        """A chain of recorded segments (oldest first, each with its configuration), e.g. read from
        a run file; a trainer that goes on from its last row is attached with ``follow``."""
        if not segments:
            raise ValueError("a history needs at least one segment")
        chain = cls.__new__(cls)
        chain.budget, chain.layout, chain.runs = budget_bytes, layout, runs
        chain.segments = list(segments)
        chain._starts = [int(h.first_step()) for _, h in chain.segments]  # (where each segment's updates begin)
        return chain

    def _new_segment(self, trainer) -> None:
        self.segments.append((trainer.config, History.for_trainer(trainer, self.budget)))
        self._starts.append(int(trainer.step))

    def samples_before(self, step: int) -> int:
        """Training points drawn by the updates before ``step``: each segment's minibatch size
        (all points at full batch) times its updates. (step x the current batch size would jump
        back after a smaller batch size mid-run.)"""
        total = 0
        for i, (_, h) in enumerate(self.segments):
            start = self._starts[i]
            end = step if i + 1 == len(self.segments) else min(step, self._starts[i + 1])
            if end > start:
                total += (end - start) * h.batch_size
        return total

    @property
    def current(self) -> History:
        """The segment being recorded into (``Trainer.run(record=chain.current)``)."""
        return self.segments[-1][1]

    def fits(self, trainer) -> bool:
        h = self.current
        return trainer.state.shape[1] == h.state_size and trainer.batch_size == h.batch_size

    def follow(self, trainer) -> None:
        """Make the current segment fit the trainer's shapes, starting a new one at its step if needed."""
        if self.fits(trainer):
            self.segments[-1] = (trainer.config, self.current)
            return
        self.truncate_after(trainer.step - 1)
        if len(self.current) == 0:
            self.segments.pop()
            self._starts.pop()
        self._new_segment(trainer)

    def record_snapshot(self, snap: Snapshot) -> None:
        self.current.record_snapshot(snap)

    # ------------------------------------------------------------------ History-like reading
    def __len__(self) -> int:
        return sum(len(h) for _, h in self.segments)

    def _filled(self) -> list[History]:
        return [h for _, h in self.segments if len(h)]

    def _cat(self, name: str) -> np.ndarray:
        parts = [getattr(h, name) for h in self._filled()]
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
        filled = self._filled()
        return filled[0].first_step() if filled else 0

    def last_step(self) -> int:
        filled = self._filled()
        return filled[-1].last_step() if filled else 0

    def truncate_after(self, step: int) -> None:
        """Forget every row after ``step``; segments that start later are dropped."""
        while len(self.segments) > 1 and (len(self.segments[-1][1]) == 0 or self.segments[-1][1].first_step() > step):
            self.segments.pop()
            self._starts.pop()
        for _, h in self.segments:
            h.truncate_after(step)

    def rows(self, upto: int, dense: int = 300, sparse: int = 300, run: int = 0) -> Trail:
        """A thinned copy of the recorded parameters up to step ``upto`` (see ``thin_rows``)."""
        return history_rows(self, upto, dense, sparse, run)


def history_rows(history, upto: int, dense: int = 300, sparse: int = 300, run: int = 0) -> Trail:
    """``HistoryChain.rows`` for a plain ``History`` or a chain: a ``Trail`` of copies."""
    segs = history._filled() if isinstance(history, HistoryChain) else (
        [history] if history is not None and len(history) else [])
    if not segs:
        return Trail.empty()
    steps_parts = [h.steps for h in segs]
    offsets = np.cumsum([0] + [len(s) for s in steps_parts])
    steps = np.concatenate(steps_parts) if len(steps_parts) > 1 else steps_parts[0]
    idx = thin_rows(steps, upto, dense, sparse)
    seg_of = np.searchsorted(offsets, idx, side="right") - 1
    params = np.empty((len(idx), segs[0].layout.size))
    for s in np.unique(seg_of):
        sel = seg_of == s
        params[sel] = segs[s].params[idx[sel] - offsets[s], run]
    return Trail(_frozen(np.array(steps[idx], dtype=np.int64)), _frozen(params))
