"""Loss curves for the loss panel: full-train and test loss sampled at displayed steps.

The minibatch loss of every recorded step lives in the History; the full-train and test losses
cost a pass over the data, so they are computed only for the steps that get drawn (about one per
display frame) and kept here, bounded: past ``capacity`` points every other old point is dropped.
"""

from __future__ import annotations

import numpy as np


class LossTrace:
    """Steps (T,) with train and test loss (T,), increasing in step."""

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._step = np.zeros(capacity, dtype=np.int64)
        self._train = np.zeros(capacity)
        self._test = np.zeros(capacity)
        self._n = 0

    def add(self, step: int, train: float, test: float) -> None:
        """Record losses at ``step``; an earlier or equal step first drops what came after it."""
        if self._n and step <= self._step[self._n - 1]:
            self.truncate_after(step - 1)
        if self._n == self.capacity:
            keep = np.r_[np.arange(0, self._n // 2, 2), np.arange(self._n // 2, self._n)]
            for col in (self._step, self._train, self._test):
                col[: len(keep)] = col[keep]
            self._n = len(keep)
        i = self._n
        self._step[i], self._train[i], self._test[i] = step, train, test
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
