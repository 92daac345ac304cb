"""The losses a frame reports: mean squared error of one run on the whole training and test sets."""

from __future__ import annotations

import numpy as np

from reluviz.core.data import Dataset
from reluviz.core.model import predict
from reluviz.core.snapshot import Snapshot

#: point x unit values evaluated at once: the temporaries of a piece stay in the cache and the
#: heap (a whole 1,000-point test set at width 100 at once came fresh from the OS every frame)
PIECE = 50_000


def mean_loss(snap: Snapshot, x: np.ndarray, y: np.ndarray, run: int = 0) -> float:
    """MSE of run ``run`` on (x, y) (N,), evaluated in pieces; NaN-safe (a diverged state may be huge)."""
    n = len(x)
    if n == 0:
        return float("nan")
    chunk = max(64, PIECE // max(snap.layout.width, 1))
    params = snap.params[run]
    total = 0.0
    with np.errstate(all="ignore"):
        for start in range(0, n, chunk):
            r = predict(snap.layout, params, x[start : start + chunk]) - y[start : start + chunk]
            total += float(np.dot(r, r))
    return total / n


def dataset_losses(snap: Snapshot, ds: Dataset, run: int = 0) -> tuple[float, float]:
    """(train MSE, test MSE) of run ``run``."""
    return mean_loss(snap, ds.x_train, ds.y_train, run), mean_loss(snap, ds.x_test, ds.y_test, run)
