"""The losses a frame reports: mean squared error of one run on the whole training and test sets,
and the same for every recorded row of a run (``row_losses``, the loss columns of a run file)."""

from __future__ import annotations

import numpy as np

from reluviz.core.data import Dataset
from reluviz.core.model import Layout, predict
from reluviz.core.snapshot import Snapshot

#: point x unit values evaluated at once: the temporaries of a piece stay in the cache and the
#: heap (a whole 1,000-point test set at width 100 at once came fresh from the OS every frame)
PIECE = 50_000
#: row x point x unit values evaluated at once by ``row_losses`` (rows in blocks, all points at
#: once: 2.7x faster than ``model.mse``'s points in blocks over all 200,000 rows of a long run)
ROW_PIECE = 1 << 18


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


def row_losses(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray,
               progress=None) -> np.ndarray:
    """MSE on (x, y) (N,) of every row of ``params`` (T, P): (T,). Rows are evaluated in blocks of
    about ``ROW_PIECE`` values; ``progress(rows_done)`` is called after each group of blocks."""
    params = np.asarray(params, dtype=float)
    n = len(x)
    out = np.empty(len(params))
    if n == 0:
        out.fill(np.nan)
        return out
    block = max(1, ROW_PIECE // (n * max(layout.width, 1)))
    with np.errstate(all="ignore"):
        for start in range(0, len(params), block):
            for lo in range(0, n, PIECE):  # (one point block unless the data are very large)
                r = predict(layout, params[start : start + block], x[lo : lo + PIECE]) - y[lo : lo + PIECE]
                part = np.einsum("tn,tn->t", r, r)
                out[start : start + block] = part if lo == 0 else out[start : start + block] + part
            if progress is not None and (start // block) % 64 == 63:
                progress(min(start + block, len(params)))
    if progress is not None:
        progress(len(params))
    return out / n
