"""Where a network bends: the exact kinks of f and its linear regions (notes, Figures 4 and 8).

With relu or leaky relu units f is piecewise linear in x. Every kink of f sits where some unit of
some layer crosses 0, and the crossings are found exactly by walking the layers: on every stretch
between the breakpoints found so far, all earlier layers are linear in x, so the next layer's
pre-activations z_k = W_k h_(k-1) + b_k are linear there too and each unit's zero on that stretch
is found by linear interpolation. After the last layer every unit of every layer keeps one side
of 0 between consecutive breakpoints, f is linear there, and its slope on each stretch follows
from the chain rule (forward mode: dz_1/dx = w, dz_k/dx = W_k (act'(z_(k-1)) dz_(k-1)/dx)). A
crossing is a kink of f when the slope changes across it (a unit can cross 0 where every unit
reading it is off: then f does not bend there).

The number of linear regions of f on [x_min, x_max] is one more than its kinks inside. One hidden
layer of H units makes at most H + 1 regions; each further layer can bend every piece below it,
so a deep net can make more regions than it has units.

Smooth activations (tanh, sigmoid) have no kinks: f is evaluated on an even grid instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reluviz.core import deep
from reluviz.core.model import Layout
from reluviz.core.polylines import relu_polyline
from reluviz.core.readonly import read_only

#: The fit plot shows the data's x range widened by this fraction on each side.
PAD = 0.05
#: Points of the grid a smooth network is drawn on.
CURVE_POINTS = 400
#: Slope changes below this fraction of the largest slope of f are rounding, not kinks.
SLOPE_TOL = 1e-9
#: Layer values (depth x width x breakpoints) carried at most (a frame carries them for drawing).
LAYER_VALUES_LIMIT = 1_000_000


def drawing_range(x_range: tuple[float, float]) -> tuple[float, float]:
    """The x interval the fit plot draws: the data's range padded by ``PAD`` on each side."""
    x0, x1 = x_range
    pad = PAD * (x1 - x0)
    return x0 - pad, x1 + pad


def _frozen(a):
    return None if a is None else read_only(a)


@dataclass(frozen=True, eq=False)
class Kinks:
    """f and its layers over [lo, hi] (read-only arrays).

    ``xs`` (M,): the ends and every breakpoint (every zero crossing of a unit of any layer), sorted;
    for a smooth network an even grid. ``fx`` (M,): f at ``xs``, an exact polyline of f when
    ``piecewise``. ``layers`` (L, H, M): each layer's activations h_k,j at ``xs`` (None when that
    is more than ``LAYER_VALUES_LIMIT`` values). ``x``, ``y``, ``layer``, ``unit`` (K,): the kinks
    of f (where its slope changes), sorted by x, with f there and the layer (1..L) and unit whose
    crossing makes each. ``crossings`` (L,): zero crossings per layer on [lo, hi], bending f or not.
    """

    lo: float
    hi: float
    piecewise: bool
    xs: np.ndarray
    fx: np.ndarray
    layers: np.ndarray | None
    x: np.ndarray
    y: np.ndarray
    layer: np.ndarray
    unit: np.ndarray
    crossings: np.ndarray

    def regions(self, x_min: float, x_max: float) -> int:
        """Linear regions of f on [x_min, x_max]: one more than its kinks strictly inside (0 if smooth)."""
        if not self.piecewise:
            return 0
        return 1 + int(np.count_nonzero((self.x > x_min) & (self.x < x_max)))

    def inside(self, x_min: float, x_max: float) -> np.ndarray:
        """The kinks' x strictly inside (x_min, x_max), sorted."""
        return self.x[(self.x > x_min) & (self.x < x_max)]


def find_kinks(layout: Layout, params: np.ndarray, lo: float, hi: float) -> Kinks:
    """The kinks of the network ``params`` (P,) on [lo, hi] (see the module notes)."""
    params = np.asarray(params, dtype=float)
    if layout.model != "relu":
        raise ValueError("kinks are for relu networks (model relu)")
    if not layout.piecewise_linear:
        xs = np.linspace(lo, hi, CURVE_POINTS)
        fx = deep.predict(layout, params, xs)
        empty = np.empty(0)
        return _make(lo, hi, False, xs, fx, _layer_values(layout, params, xs), empty, empty,
                     np.empty(0, np.int64), np.empty(0, np.int64), np.zeros(layout.depth, np.int64))
    if layout.depth == 1:
        return _one_layer(layout, params, lo, hi)
    return _walk(layout, params, lo, hi)


def _layer_values(layout: Layout, params: np.ndarray, xs: np.ndarray) -> np.ndarray | None:
    if layout.depth * layout.width * len(xs) > LAYER_VALUES_LIMIT:
        return None
    return np.stack(deep.forward(layout, params, xs)[1])


def _make(lo, hi, piecewise, xs, fx, layers, kx, ky, kl, ku, crossings) -> Kinks:
    return Kinks(float(lo), float(hi), piecewise, _frozen(xs), _frozen(fx), _frozen(layers), _frozen(kx),
                 _frozen(ky), _frozen(kl), _frozen(ku), _frozen(crossings))


def _one_layer(layout: Layout, params: np.ndarray, lo: float, hi: float) -> Kinks:
    """Depth 1: the kinks are the elbows -b_j / w_j where v_j w_j != 0; O(H log H) for any width.

    leaky_relu(z) = (1 - a) relu(z) + a z, so f is a relu net with output weights (1 - a) v plus
    the line a (sum v_j w_j x + sum v_j b_j)."""
    w, b, v, c = (layout.get(params, k) for k in ("w", "b", "v", "c"))
    a = layout.slope if layout.activation == "leaky_relu" else 0.0
    xs, fx = relu_polyline(w, b, (1.0 - a) * v, float(c), lo, hi)
    if a:
        fx = fx + a * (float(v @ w) * xs + float(v @ b))
    with np.errstate(divide="ignore", invalid="ignore"):
        e = -b / w
    inside = np.flatnonzero(np.isfinite(e) & (e > lo) & (e < hi))
    order = inside[np.argsort(e[inside], kind="stable")]
    bends = order[(1.0 - a) * v[order] * w[order] != 0.0]
    bends = bends[np.sort(np.unique(e[bends], return_index=True)[1])]  # (units sharing an elbow: one kink)
    ky = np.interp(e[bends], xs, fx)
    return _make(lo, hi, True, xs, fx, _layer_values(layout, params, xs), e[bends], ky,
                 np.ones(len(bends), np.int64), bends.astype(np.int64), np.array([len(inside)]))


def _crossings(z: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Zero crossings of units whose values at ``xs`` (M,) are ``z`` (H, M), linear between points.

    Returns (unit, piece, t, at_point): a crossing of ``unit`` inside stretch ``piece`` at fraction
    ``t`` of it, or exactly on a point (``at_point``, t = 0) where the sign flips across it."""
    s = np.sign(z)
    left, right = s[:, :-1], s[:, 1:]
    unit, piece = np.nonzero(left * right < 0)
    zl, zr = z[unit, piece], z[unit, piece + 1]
    t = zl / (zl - zr)
    u0, p0 = np.nonzero((s[:, 1:-1] == 0) & (s[:, :-2] * s[:, 2:] < 0))
    at = np.r_[np.zeros(len(unit), bool), np.ones(len(u0), bool)]
    return np.r_[unit, u0], np.r_[piece, p0 + 1], np.r_[t, np.zeros(len(u0))], at


def _walk(layout: Layout, params: np.ndarray, lo: float, hi: float) -> Kinks:
    """Depth >= 2: the layer walk of the module notes."""
    w, b, mats, biases, v, c = deep._weights(layout, params)
    kind, slope, depth = layout.activation, layout.slope, layout.depth
    xs = np.array([lo, hi], dtype=float)
    rec_x, rec_layer, rec_unit = [], [], []
    crossings = np.zeros(depth, np.int64)
    h_prev = None  # h_(k-1) at xs, (H, M)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(depth):
            z = np.outer(w, xs) + b[:, None] if k == 0 else mats[k - 1] @ h_prev + biases[k - 1][:, None]
            unit, piece, t, at = _crossings(z, xs)
            crossings[k] = len(unit)
            new = ~at
            xc = xs[piece] + t * (xs[np.minimum(piece + 1, len(xs) - 1)] - xs[piece])
            rec_x.append(xc)
            rec_layer.append(np.full(len(unit), k + 1))
            rec_unit.append(unit)
            # every layer so far is linear on each stretch: values at new points by interpolation
            pn, tn = piece[new], t[new]
            z_new = z[:, pn] + tn * (z[:, pn + 1] - z[:, pn])
            z_new[unit[new], np.arange(len(pn))] = 0.0  # (the crossing unit is exactly 0 there)
            xs = np.r_[xs, xc[new]]
            z = np.concatenate([z, z_new], axis=1)
            order = np.argsort(xs, kind="stable")
            xs, z = xs[order], z[:, order]
            h_prev = deep.activate(kind, slope, z)
    # one exact forward pass at the final breakpoints: f there, and each stretch's slope
    xs = np.unique(xs)
    zs, hs = deep.forward(layout, params, xs)
    fx = v @ hs[-1] + float(c)
    with np.errstate(over="ignore", invalid="ignore"):
        mid = [0.5 * (z_[:, :-1] + z_[:, 1:]) for z_ in zs]
        dz = np.repeat(w[:, None], len(xs) - 1, axis=1)
        for k in range(depth):
            if k:
                dz = mats[k - 1] @ dz
            dz = deep.derivative(kind, slope, mid[k], None, None) * dz
        slopes = v @ dz
    change = np.abs(np.diff(slopes))
    scale = float(np.max(np.abs(slopes))) if len(slopes) else 0.0
    bends = xs[1:-1][change > SLOPE_TOL * scale] if scale > 0 else np.empty(0)
    # each kink of f with the (first) layer and unit whose crossing lies there
    cx, cl, cu = np.concatenate(rec_x), np.concatenate(rec_layer), np.concatenate(rec_unit)
    order = np.lexsort((cl, cx))
    cx, cl, cu = cx[order], cl[order], cu[order]
    pos = np.clip(np.searchsorted(cx, bends), 0, max(len(cx) - 1, 0))
    if len(cx):
        nearer = np.clip(pos - 1, 0, None)
        pos = np.where(np.abs(cx[nearer] - bends) < np.abs(cx[pos] - bends), nearer, pos)
        # (same-x crossings: the first of them, i.e. the lowest layer)
        pos = np.searchsorted(cx, cx[pos], side="left")
    ky = np.interp(bends, xs, fx)
    layers = np.stack(hs) if depth * layout.width * len(xs) <= LAYER_VALUES_LIMIT else None
    return _make(lo, hi, True, xs, fx, layers, bends, ky, cl[pos] if len(cx) else np.empty(0, np.int64),
                 cu[pos] if len(cx) else np.empty(0, np.int64), crossings)
