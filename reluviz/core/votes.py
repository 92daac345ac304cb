"""Each training point's vote: its term in the full-batch gradient (lecture note 2, Figures 1 and 2).

For the training loss L(theta) = (1/N) sum_i (f_theta(x_i) - y_i)^2 the gradient is a sum of N terms,

    vote_i = (2/N) (f_theta(x_i) - y_i) d f_theta(x_i) / d theta          (``Votes.votes[i]``)

e.g. (2/N)(theta - y_i) for the constant model and (2/N)(theta x_i - y_i) x_i for the linear model,
exactly as in the worksheet. A vote has the units of a gradient of the loss: loss per unit of
the parameter (so minus lr times a vote is how far that point alone moves the parameter in one
full-batch step). What is shown:

* ``full_sum = sum_i vote_i``: the full-batch gradient of the MSE. At the optimum the votes
  balance and it is zero (Figure 1). With the ridge regulariser lambda ||theta||^2 the objective's
  gradient has one more term, ``decay_term = 2 lambda theta``: the regulariser's own "vote",
  always pulling toward 0; at the ridge optimum ``full_sum + decay_term`` is zero instead.
* ``batch_sum``: the minibatch gradient the optimizer actually uses for this step,
  (1/B) sum_{b=1..B} 2 (f(x_{i_b}) - y_{i_b}) df/dtheta = (N/B) sum_i count_i vote_i, where
  ``count_i`` is how many times point i is in the batch (sampling with replacement can repeat a
  point). It has the same units as ``full_sum`` and is an unbiased estimate of it when the batch is
  drawn uniformly; near the optimum it does not balance (Figure 2).
* ``batch_votes = (N/B) count_i vote_i``: each batch point's term of ``batch_sum`` (zero off the
  batch), i.e. its vote re-weighted as the minibatch weighs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from reluviz.core.model import Layout, point_gradients, predict


@dataclass(frozen=True, eq=False)
class Votes:
    """Per-point gradient terms for K selected parameters.

    x, y: (N,) training points.  votes: (N, K) (see module notes).  names: K parameter names,
    columns: their flat indices.  full_sum: (K,) full-batch MSE gradient.  decay_term: (K,)
    the ridge regulariser's vote 2 lambda theta (zero for frozen parameters, which it does not reach).  batch_counts: (N,) int, times each point is in the minibatch
    (all zero when no batch was given).  batch_mask: (N,) bool, in the batch at least once.
    batch_size: B (0 when no batch).  batch_sum: (K,) the minibatch gradient (zeros when no batch).
    """

    x: np.ndarray
    y: np.ndarray
    votes: np.ndarray
    names: tuple[str, ...]
    columns: np.ndarray
    full_sum: np.ndarray
    decay_term: np.ndarray
    batch_counts: np.ndarray
    batch_mask: np.ndarray
    batch_size: int
    batch_sum: np.ndarray

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def batch_votes(self) -> np.ndarray:
        """(N, K): (N/B) count_i vote_i, the batch points' terms of ``batch_sum``."""
        if self.batch_size == 0:
            return np.zeros_like(self.votes)
        return (self.n / self.batch_size) * self.batch_counts[:, None] * self.votes

    @property
    def full_gradient(self) -> np.ndarray:
        """(K,) what a full-batch step descends: ``full_sum + decay_term``."""
        return self.full_sum + self.decay_term

    @property
    def batch_gradient(self) -> np.ndarray:
        """(K,) what this minibatch step descends: ``batch_sum + decay_term``."""
        return self.batch_sum + self.decay_term

    def column(self, name: str) -> int:
        """Position of parameter ``name`` (e.g. ``'v[3]'``) among the selected columns."""
        return self.names.index(name)


def select_columns(layout: Layout, select: Sequence[str | int] | str | int | None) -> np.ndarray:
    """Flat indices for ``select``: None (all), names like ``'theta'``, ``'c'``, ``'v[3]'``, group
    names ``'w'``, ``'b'``, ``'v'`` (every unit), or flat integer indices."""
    if select is None:
        return np.arange(layout.size)
    if isinstance(select, (str, int, np.integer)):
        select = [select]
    names = layout.unit_names()
    out: list[int] = []
    for item in select:
        if isinstance(item, (int, np.integer)):
            if not 0 <= int(item) < layout.size:
                raise IndexError(f"parameter index {item} out of range for {layout.size} parameters")
            out.append(int(item))
        elif item in names:
            out.append(names.index(item))
        elif layout.model == "relu" and item in ("w", "b", "v"):
            out.extend(np.arange(layout.size)[layout.index(item)].tolist())
        else:
            raise KeyError(f"unknown parameter {item!r} (e.g. {', '.join(names[:3])}, ...)")
    return np.asarray(out, dtype=np.int64)


def compute_votes(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray,
                  batch: np.ndarray | None = None, select: Sequence[str | int] | str | int | None = None,
                  ridge: float = 0.0, mask: np.ndarray | None = None) -> Votes:
    """Votes of every training point at ``params`` (P,) for the ``select``-ed parameters.

    ``batch``: the minibatch's indices into x (B,), repeats allowed; None for no minibatch.
    ``ridge``: the lambda of the objective; ``mask`` (P,): the trained parameters (the ridge term
    reaches only those; None: all).
    """
    params = np.asarray(params, dtype=float)
    cols = select_columns(layout, select)
    names = layout.unit_names()
    votes = point_gradients(layout, params, x, y)[:, cols]
    n = len(x)
    counts = np.zeros(n, dtype=np.int64)
    bsize = 0
    if batch is not None:
        batch = np.asarray(batch, dtype=np.int64).ravel()
        bsize = len(batch)
        counts = np.bincount(batch, minlength=n)
        if len(counts) > n:
            raise IndexError("batch index out of range")
    if bsize:
        batch_sum = (n / bsize) * (counts @ votes)
    else:
        batch_sum = np.zeros(len(cols))
    return Votes(
        x=np.asarray(x), y=np.asarray(y), votes=votes, names=tuple(names[c] for c in cols), columns=cols,
        full_sum=votes.sum(axis=0), decay_term=2.0 * ridge * params[cols] * (1.0 if mask is None else mask[cols]),
        batch_counts=counts,
        batch_mask=counts > 0, batch_size=bsize, batch_sum=batch_sum,
    )


def votes_at(snapshot, x: np.ndarray, y: np.ndarray, run: int = 0,
             select: Sequence[str | int] | str | int | None = None, ridge: float = 0.0,
             mask: np.ndarray | None = None) -> Votes:
    """Votes at a ``Snapshot`` (its parameters and the minibatch of its next update), one run."""
    return compute_votes(snapshot.layout, snapshot.params[run], x, y, batch=snapshot.batch[run],
                         select=select, ridge=ridge, mask=mask)


# ---------------------------------------------------------------------- worksheet 1(b): same error, different vote
def point_errors(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each training point's error f(x_i) - y_i (N,): theta - y_i for the constant model, theta x_i - y_i
    for the linear one. A vote is (2/N) times it times df(x_i)/dtheta (1, or x_i)."""
    return predict(layout, np.asarray(params, dtype=float), np.asarray(x, dtype=float)) - np.asarray(y, dtype=float)


def same_error_pair(x: np.ndarray, errors: np.ndarray, tolerance: float = 0.03,
                    max_points: int = 2000) -> tuple[int, int] | None:
    """Two points (i, j) with (nearly) the same error and x far apart, the worksheet's 1(b) case: the
    constant model gives them the same vote, the linear model votes in proportion to x_i.

    Among pairs whose errors differ by at most ``tolerance`` times the spread of the errors, and
    whose errors are at least a quarter of the largest (a visible vote), the pair farthest apart in
    x; i has the smaller x. None when no pair qualifies (fewer than 2 points, all errors ~0).
    Above ``max_points`` points an even subset is searched (the pairs are O(N^2)).
    """
    x, e = np.asarray(x, dtype=float), np.asarray(errors, dtype=float)
    n = len(x)
    if n < 2:
        return None
    idx = np.arange(n) if n <= max_points else np.linspace(0, n - 1, max_points).round().astype(int)
    xs, es = x[idx], e[idx]
    big = np.abs(es).max()
    spread = es.max() - es.min()
    if not np.isfinite(big) or big <= 0 or spread <= 0:
        return None
    ok = np.abs(es) >= 0.25 * big
    cand = np.flatnonzero(ok)
    if len(cand) < 2:
        return None
    de = np.abs(es[cand, None] - es[None, cand])
    dx = np.abs(xs[cand, None] - xs[None, cand])
    close = de <= tolerance * spread
    np.fill_diagonal(close, False)
    if not close.any():
        return None
    score = np.where(close, dx, -1.0)
    k, m = np.unravel_index(int(np.argmax(score)), score.shape)
    i, j = int(idx[cand[k]]), int(idx[cand[m]])
    return (i, j) if x[i] <= x[j] else (j, i)
