"""Exact polylines of a 1-D ReLU network and of its units, for drawing (NumPy only).

f(x) = sum_j v_j relu(w_j x + b_j) + c is linear between its elbows e_j = -b_j / w_j, so the ends
of the range and the elbows inside it draw it exactly; likewise each unit.
"""

from __future__ import annotations

import numpy as np


def relu_polyline(w: np.ndarray, b: np.ndarray, v: np.ndarray, c: float, x0: float, x1: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """f on [x0, x1] as the exact polyline (xs, ys), each (K + 2,): the ends and the K elbows inside,
    in order; ``w``, ``b``, ``v`` (H,). O(H log H) (evaluating f at H elbows directly costs H^2).

    Between two elbows f = A x + B with A, B the sums of v w and v b over the active units;
    crossing an elbow switches one unit on (w > 0) or off (w < 0)."""
    w, b, v = (np.asarray(a, dtype=float) for a in (w, b, v))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = -b / w
        inside = np.flatnonzero(np.isfinite(e) & (e > x0) & (e < x1))
        ks = inside[np.argsort(e[inside], kind="stable")]
        es = e[ks]
        first = float(es[0]) if len(es) else x1
        mid = x0 + 0.5 * (first - x0)                  # inside the first stretch: no unit switches there
        active = w * mid + b > 0
        a0 = float(np.sum(v[active] * w[active]))
        b0 = float(np.sum(v[active] * b[active])) + float(c)
        sign = np.where(w[ks] > 0, 1.0, -1.0)          # switched on, or off, at its elbow
        slope = a0 + np.cumsum(sign * v[ks] * w[ks])   # on the stretch right of each elbow
        offset = b0 + np.cumsum(sign * v[ks] * b[ks])
        xs = np.concatenate([[x0], es, [x1]])
        ys = np.concatenate([[a0 * x0 + b0], slope * es + offset,
                             [(slope[-1] if len(es) else a0) * x1 + (offset[-1] if len(es) else b0)]])
    return xs, ys


def kink_polylines(x0: float, x1: float, ends: np.ndarray, elbows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact polylines of K ReLU units over [x0, x1] as one NaN-separated line (xs, ys), each (4 K,):
    per unit its value at x0, at its elbow (0; at x0 again when the elbow is outside the range), at
    x1, then NaN. ``ends`` (K, 2): each unit's values at x0 and x1; ``elbows`` (K,): -b/w."""
    k = len(elbows)
    if k == 0:
        return np.empty(0), np.empty(0)
    inside = np.isfinite(elbows) & (elbows > x0) & (elbows < x1)
    xs = np.empty((k, 4))
    ys = np.empty((k, 4))
    xs[:, 0], xs[:, 1], xs[:, 2], xs[:, 3] = x0, np.where(inside, elbows, x0), x1, np.nan
    ys[:, 0], ys[:, 1], ys[:, 2], ys[:, 3] = ends[:, 0], np.where(inside, 0.0, ends[:, 0]), ends[:, 1], np.nan
    return xs.ravel(), ys.ravel()
