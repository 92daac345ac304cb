"""Figure 4 of the notes: the best piecewise-constant fit on the network's own pieces.

Given the network's K linear regions on [x_min, x_max] (its kinks as breakpoints), the best
piecewise-constant approximation with the same K pieces, in least squares on the training points,
takes on each piece the mean of the labels y_i of the points in it. Both fits have K pieces; the
network's are lines, these are constants, and the training MSE of each says what a slope per piece
buys. A piece with no training point has no least-squares value (NaN: not drawn).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reluviz.core.readonly import read_only


@dataclass(frozen=True, eq=False)
class ConstantFit:
    """``edges`` (K + 1,) the pieces' ends, ``values`` (K,) the constant on each (NaN: no point in
    it), ``counts`` (K,) training points per piece; ``mse`` the training MSE of the fit and
    ``test_mse`` its MSE on the test points (the first / last piece extends beyond the ends)."""

    edges: np.ndarray
    values: np.ndarray
    counts: np.ndarray
    mse: float
    test_mse: float

    @property
    def pieces(self) -> int:
        return len(self.values)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The fit at ``x``: the value of the piece each point falls in."""
        idx = np.clip(np.searchsorted(self.edges, x, side="right") - 1, 0, len(self.values) - 1)
        return self.values[idx]

    def polyline(self) -> tuple[np.ndarray, np.ndarray]:
        """The steps as a polyline (xs, ys), each (2K,): both ends of every piece at its value."""
        xs = np.repeat(self.edges, 2)[1:-1]
        ys = np.repeat(self.values, 2)
        return xs, ys


def piecewise_constant_fit(edges: np.ndarray, x: np.ndarray, y: np.ndarray, x_test: np.ndarray | None = None,
                           y_test: np.ndarray | None = None) -> ConstantFit:
    """Least-squares piecewise-constant fit of (x, y) on the pieces between ``edges`` (sorted)."""
    edges = np.asarray(edges, dtype=float)
    k = len(edges) - 1
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, k - 1)
    counts = np.bincount(idx, minlength=k)
    sums = np.bincount(idx, weights=y, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = sums / counts
    values[counts == 0] = np.nan
    r = y - values[idx]
    mse = float(r @ r / len(y)) if len(y) else float("nan")
    fit = ConstantFit(read_only(edges), read_only(values), read_only(counts), mse, float("nan"))
    if x_test is not None and len(x_test):
        rt = y_test - fit(x_test)
        rt = rt[np.isfinite(rt)]
        fit = ConstantFit(fit.edges, fit.values, fit.counts, mse, float(rt @ rt / len(rt)) if len(rt) else float("nan"))
    return fit


