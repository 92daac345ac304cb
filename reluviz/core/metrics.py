"""The losses a frame reports: mean squared error of one run on each sample of the data set, the
error to the true function, and the objective training minimises; and the MSE of every recorded
row of a run (``row_losses``, the loss columns of a run file).

* ``train``, ``val``, ``test``: MSE on the training, validation and test points (three samples of
  one distribution: notes, Figure 3.1). The validation loss is what hyperparameters are chosen by;
  the test loss is for the final check.
* ``true``: mean of (f(x) - f_true(x))^2 over the true function's grid: the error to the noiseless
  true function, which a student cannot measure in real life (NaN for a CSV: no true function).
  With label noise of std sigma, test MSE ~ true error + sigma^2 on average.
* ``objective_value``: the training MSE plus the ridge term lambda ||theta||^2 over the trained
  parameters, the function the optimizer descends (notes, eq. 3.1).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from reluviz.core.config import TrainConfig
from reluviz.core.data import Dataset
from reluviz.core.model import Layout, compiled_sse, predict
from reluviz.core.optimum import ridge_penalty
from reluviz.core.snapshot import Snapshot

#: point x unit values evaluated at once: the temporaries of a piece stay in the cache and the
#: heap (a whole 1,000-point test set at width 100 at once came fresh from the OS every frame)
PIECE = 50_000
#: row x point x unit values evaluated at once by ``row_losses`` (rows in blocks, all points at
#: once: 2.7x faster than ``model.mse``'s points in blocks over all 200,000 rows of a long run)
ROW_PIECE = 1 << 18

#: The samples a loss is reported on, in the order of ``DataLosses``.
SAMPLES = ("train", "val", "test", "true")


class DataLosses(NamedTuple):
    """MSE of one run on the training, validation and test points and against the true function
    (NaN where a sample is empty or there is no true function)."""

    train: float
    val: float
    test: float
    true: float


def mean_loss(snap: Snapshot, x: np.ndarray, y: np.ndarray, run: int = 0) -> float:
    """MSE of run ``run`` on (x, y) (N,), evaluated in pieces; NaN-safe (a diverged state may be huge)."""
    n = len(x)
    if n == 0:
        return float("nan")
    params = snap.params[run]
    layout = snap.layout
    sse = compiled_sse(layout, params[None], x, y)  # (the app builds each frame's losses this way)
    if sse is not None:
        return float(sse[0]) / n
    chunk = max(64, PIECE // max(layout.width, 1))
    total = 0.0
    with np.errstate(all="ignore"):
        for start in range(0, n, chunk):
            r = predict(snap.layout, params, x[start : start + chunk]) - y[start : start + chunk]
            total += float(np.dot(r, r))
    return total / n


def dataset_losses(snap: Snapshot, ds: Dataset, run: int = 0) -> DataLosses:
    """Train, validation, test MSE and the error to the true function of run ``run``."""
    return DataLosses(*(mean_loss(snap, *ds.sample(which), run) for which in SAMPLES))


def objective_value(snap: Snapshot, config: TrainConfig, train_loss: float, run: int = 0) -> float:
    """What training minimises at ``snap``: ``train_loss`` + ridge ||theta_trained||^2."""
    if not config.ridge:
        return float(train_loss)
    mask = snap.layout.mask(config.train)
    with np.errstate(all="ignore"):
        return float(train_loss) + float(ridge_penalty(snap.params[run], config.ridge, mask))


def row_losses(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray,
               progress=None) -> np.ndarray:
    """MSE on (x, y) (N,) of every row of ``params`` (T, P): (T,). Rows are evaluated in blocks of
    about ``ROW_PIECE`` values; ``progress(rows_done)`` is called after each group of blocks.

    The one-hidden-layer relu network takes a faster path (``_relu_rows``, about 2x): all its
    pre-activations of a block of rows in one matrix product, then one batched product with v."""
    params = np.asarray(params, dtype=float)
    n = len(x)
    out = np.empty(len(params))
    if n == 0:
        out.fill(np.nan)
        return out
    relu = layout.model == "relu" and not layout.general and n <= PIECE  # (one hidden layer of relu units)
    block = max(1, ROW_PIECE // (n * max(layout.width, 1)))
    x1 = np.stack([np.asarray(x, dtype=float), np.ones(n)]) if relu else None  # (2, N): rows [x; 1]
    with np.errstate(all="ignore"):
        for start in range(0, len(params), block):
            rows = params[start : start + block]
            if relu:
                out[start : start + block] = _relu_rows(layout, rows, x1, y)
            else:
                total = 0.0
                for lo in range(0, n, PIECE):  # (one piece unless the data are very large)
                    r = predict(layout, rows, x[lo : lo + PIECE]) - y[lo : lo + PIECE]
                    total = total + np.einsum("tn,tn->t", r, r)
                out[start : start + block] = total
            if progress is not None and (start // block) % 64 == 63:
                progress(min(start + block, len(params)))
    if progress is not None:
        progress(len(params))
    return out / n


def _relu_rows(layout: Layout, rows: np.ndarray, x1: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sum of squared errors of k relu networks ``rows`` (k, P) on points x1 = [x; 1] (2, N): (k,)."""
    k, h = len(rows), layout.width
    wb = np.empty((k, h, 2))
    wb[:, :, 0] = layout.get(rows, "w")
    wb[:, :, 1] = layout.get(rows, "b")
    z = wb.reshape(k * h, 2) @ x1                       # (k H, N) pre-activations
    np.maximum(z, 0.0, out=z)
    f = np.matmul(layout.get(rows, "v")[:, None, :], z.reshape(k, h, -1))[:, 0, :]  # (k, N)
    f += layout.get(rows, "c")[:, None]
    f -= y
    return np.einsum("kn,kn->k", f, f)
