"""Loss curves for the loss panel: full train, validation and test loss (and the error to the
true function and the objective) sampled at displayed steps.

The minibatch loss of every recorded step lives in the History; the full losses cost a pass over
the data, so they are computed only for the steps that get drawn (about one per display frame) and
kept here, bounded: past ``capacity`` points every other old point is dropped.
"""

from __future__ import annotations

import numpy as np


class LossTrace:
    """Steps (T,) with train, test, validation loss, the error to the true function and the
    objective (T,) each, increasing in step (NaN where not given)."""

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._step = np.zeros(capacity, dtype=np.int64)
        self._train = np.zeros(capacity)
        self._test = np.zeros(capacity)
        self._val = np.zeros(capacity)
        self._true = np.zeros(capacity)
        self._objective = np.zeros(capacity)
        self._n = 0

    def add(self, step: int, train: float, test: float, *, val: float = np.nan, true: float = np.nan,
            objective: float = np.nan) -> None:
        """Record losses at ``step``; an earlier or equal step first drops what came after it."""
        if self._n and step <= self._step[self._n - 1]:
            self.truncate_after(step - 1)
        columns = (self._step, self._train, self._test, self._val, self._true, self._objective)
        if self._n == self.capacity:
            keep = np.r_[np.arange(0, self._n // 2, 2), np.arange(self._n // 2, self._n)]
            for col in columns:
                col[: len(keep)] = col[keep]
            self._n = len(keep)
        i = self._n
        for col, value in zip(columns, (step, train, test, val, true, objective)):
            col[i] = value
        self._n += 1

    def truncate_after(self, step: int) -> None:
        self._n = int(np.searchsorted(self._step[: self._n], step, side="right"))

    def clear(self) -> None:
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def steps(self) -> np.ndarray:
        return self._step[: self._n]

    @property
    def train(self) -> np.ndarray:
        return self._train[: self._n]

    @property
    def test(self) -> np.ndarray:
        return self._test[: self._n]

    @property
    def val(self) -> np.ndarray:
        return self._val[: self._n]

    @property
    def true(self) -> np.ndarray:
        return self._true[: self._n]

    @property
    def objective(self) -> np.ndarray:
        return self._objective[: self._n]
