"""Loss landscapes for the lecture views: exact, vectorized, using that the losses are quadratic.

* Constant and linear models (one parameter theta): the objective
  F(theta) = (1/N) sum_i (f_theta(x_i) - y_i)^2 + lambda theta^2 (the ridge lambda) is a parabola
  F(theta) = F(theta*) + a (theta - theta*)^2 with a = 1 + lambda (constant) or mean(x^2) + lambda
  (linear). ``loss_curve`` draws it on a grid for the full batch and, optionally, for one
  minibatch (whose own parabola has its own minimum: the point that step pulls toward).
* ReLU net with ``train=output``: f = Phi theta with Phi = [relu(w x + b), 1] and theta = (v, c), so
  F(theta0 + d) = F(theta0) + 2 g.d + d^T (G + lambda I) d with G = Phi^T Phi / N and
  g = Phi^T (Phi theta0 - y) / N + lambda theta0. ``OutputQuadratic`` precomputes G once (N K^2 for
  K = H + 1 columns) and then any 2-D slice through any base point costs O(N K) plus O(grid).
  ``output_loss_grid`` gives the loss over two chosen output weights (v_i, v_j, or v_i and c)
  around theta*, the other parameters held at theta*.
* The affine model y = a x + b is the same quadratic with Phi = [x, 1] and theta = (a, b): its
  ``OutputQuadratic`` covers the whole parameter space, so ``output_loss_grid`` over (a, b) is the
  loss itself, not a slice, and an iterate on it is the iterate (no shadow).
* Trails: ``project_trail`` takes recorded iterates to the two axes of a slice. The other
  parameters of an iterate are not those of the slice, so a trail point is the iterate's shadow on
  the slice plane; ``OutputQuadratic.value`` gives the iterate's true full-batch loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from reluviz.core.model import Layout, mse
from reluviz.core.optimum import output_features, output_slice


# ---------------------------------------------------------------------- 1-D: constant and linear models
@dataclass(frozen=True, eq=False)
class LossCurve:
    """F on a grid of theta: ``loss`` (G,) for the full batch, ``batch_loss`` (G,) or None for the
    minibatch (its mean squared error plus the same ridge term); their minimisers."""

    theta: np.ndarray
    loss: np.ndarray
    theta_star: float
    loss_star: float
    curvature: float
    batch_loss: np.ndarray | None = None
    batch_theta_star: float | None = None


def parabola(layout: Layout, x: np.ndarray, y: np.ndarray, ridge: float = 0.0) -> tuple[float, float, float]:
    """(theta*, F(theta*), a) with F(theta) = F(theta*) + a (theta - theta*)^2 on (x, y), where
    F = MSE + ridge theta^2."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lam = float(ridge)
    if layout.model == "constant":
        a = 1.0 + lam
        lin = float(np.mean(y))
    elif layout.model == "linear":
        a = float(np.mean(x * x)) + lam
        lin = float(np.mean(x * y))
    else:
        raise ValueError("loss_curve is for the one-parameter models (constant, linear)")
    theta_star = lin / a if a > 0 else 0.0
    p = np.array([theta_star])
    f_star = float(mse(layout, p, x, y)) + lam * theta_star**2
    return theta_star, f_star, a


def loss_curve(layout: Layout, x: np.ndarray, y: np.ndarray, *, batch: np.ndarray | None = None,
               theta_range: tuple[float, float] | None = None, around: Sequence[float] = (),
               points: int = 201, ridge: float = 0.0) -> LossCurve:
    """The full-batch (and minibatch ``batch`` indices, repeats counted) loss over ``points`` thetas.

    ``theta_range`` defaults to a window centred on theta* wide enough to show every value in
    ``around`` (e.g. the current theta and recent iterates) and the minibatch's minimiser.
    """
    t_star, f_star, a = parabola(layout, x, y, ridge)
    batch_star = None
    bx = by = None
    if batch is not None:
        idx = np.asarray(batch, dtype=np.int64).ravel()
        bx, by = np.asarray(x)[idx], np.asarray(y)[idx]
        batch_star, bf_star, ba = parabola(layout, bx, by, ridge)
    if theta_range is None:
        reach = [abs(float(t) - t_star) for t in around]
        if batch_star is not None:
            reach.append(abs(batch_star - t_star))
        half = 1.25 * max(reach + [np.sqrt(max(f_star, 1e-12) / a) if a > 0 else 1.0, 1e-6])
        theta_range = (t_star - half, t_star + half)
    theta = np.linspace(theta_range[0], theta_range[1], points)
    loss = f_star + a * (theta - t_star) ** 2
    batch_loss = None
    if batch is not None:
        batch_loss = bf_star + ba * (theta - batch_star) ** 2
    return LossCurve(theta, loss, t_star, f_star, a, batch_loss, batch_star)


# ---------------------------------------------------------------------- 2-D: relu, output layer only
@dataclass(frozen=True, eq=False)
class LossGrid:
    """Full-batch objective on a plane: ``loss[k, l]`` at axis_a = a[l], axis_b = b[k] (rows are b,
    as an image with b vertical). ``base`` (P,) holds every other parameter."""

    a: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    axes: tuple[int, int]
    names: tuple[str, str]
    base: np.ndarray


class OutputQuadratic:
    """The objective of a relu net as an exact quadratic in its output weights (v, c), w and b fixed
    (the affine model's: in (a, b), all of its parameters).

    Built from the hidden weights of ``params`` (P,) and data (x, y); valid for any parameter
    vector with the same w and b.
    """

    def __init__(self, layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray, ridge: float = 0.0):
        if layout.model not in ("relu", "affine"):
            raise ValueError("OutputQuadratic needs a relu or affine model")
        self.layout = layout
        self.hidden = np.array(params[: layout.output_start], dtype=float)
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.ridge = float(ridge)
        self.n = len(self.x)
        self.phi = output_features(layout, np.asarray(params, dtype=float), self.x)
        self.gram = (self.phi.T @ self.phi) / self.n
        self.out = output_slice(layout)
        self._offset = self.out.start
        #: how many output weights: H + 1 (v and c), or 2 (a and b)
        self.k = self.out.stop - self.out.start

    def _check(self, params: np.ndarray) -> None:
        if not np.array_equal(params[..., : self._offset], np.broadcast_to(self.hidden, params[..., : self._offset].shape)):
            raise ValueError("params have different hidden weights (w, b) than this quadratic was built for")

    def value(self, params: np.ndarray, check: bool = True) -> np.ndarray:
        """F at params (..., P) -> (...), exact (from residuals, no cancellation)."""
        params = np.asarray(params, dtype=float)
        if check:
            self._check(params)
        theta = params[..., self.out]
        r = theta @ self.phi.T - self.y
        f = np.einsum("...n,...n->...", r, r) / self.n
        if self.ridge:
            f = f + self.ridge * np.einsum("...k,...k->...", theta, theta)
        return f

    def gradient(self, params: np.ndarray) -> np.ndarray:
        """dF/d(v, c) at params (P,) -> (K,)."""
        theta = np.asarray(params, dtype=float)[self.out]
        r = self.phi @ theta - self.y
        return (2.0 / self.n) * (self.phi.T @ r) + 2.0 * self.ridge * theta

    def curvature(self, k: int) -> float:
        """Second-order coefficient of F along output coordinate k (0..H, H = c; affine: 0 a, 1 b): G_kk + ridge."""
        return float(self.gram[k, k]) + self.ridge

    def grid(self, base: np.ndarray, axes: tuple[int, int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """F with flat parameters ``axes`` set to (a[l], b[k]) and the rest at ``base``: (len(b), len(a))."""
        base = np.asarray(base, dtype=float)
        i, j = (int(ax) - self._offset for ax in axes)
        k = self.k
        if not (0 <= i < k and 0 <= j < k) or i == j:
            raise ValueError("axes must be two different output weights (v_j or c)")
        f0 = float(self.value(base))
        g = 0.5 * self.gradient(base)  # F(base + d) = F0 + 2 g.d + d^T (G + ridge I) d
        da = np.asarray(a, dtype=float) - base[axes[0]]
        db = np.asarray(b, dtype=float) - base[axes[1]]
        gii, gjj, gij = self.curvature(i), self.curvature(j), float(self.gram[i, j])
        lin_a = 2.0 * g[i] * da + gii * da * da
        lin_b = 2.0 * g[j] * db + gjj * db * db
        return f0 + lin_b[:, None] + lin_a[None, :] + 2.0 * gij * np.multiply.outer(db, da)


def output_axes(layout: Layout, names: Sequence[str | int]) -> tuple[int, int]:
    """Flat indices of two output weights given as names (``'v[3]'``, ``'c'``) or flat indices."""
    unit = layout.unit_names()
    sl = output_slice(layout)
    out = []
    for nm in names:
        k = int(nm) if isinstance(nm, (int, np.integer)) else unit.index(nm)
        if not sl.start <= k < sl.stop:
            raise ValueError(f"{unit[k]} is not an output weight (v_j or c)")
        out.append(k)
    if len(out) != 2 or out[0] == out[1]:
        raise ValueError("need two different output weights")
    return out[0], out[1]


def default_output_axes(quad: OutputQuadratic, exclude_c: bool = False) -> tuple[int, int]:
    """The two output weights with the largest curvature (the best-determined directions); the
    affine model's a and b."""
    if quad.k == 2:
        return quad.out.start, quad.out.start + 1
    k = quad.k - (1 if exclude_c else 0)
    diag = np.diag(quad.gram)[:k]
    order = np.argsort(-diag, kind="stable")
    return int(order[0]) + quad.layout.output_start, int(order[1]) + quad.layout.output_start


def output_loss_grid(quad: OutputQuadratic, center: np.ndarray, axes: Sequence[str | int], *,
                     points: int | tuple[int, int] = 60, half_width: tuple[float, float] | None = None,
                     trail: np.ndarray | None = None) -> LossGrid:
    """The full-batch loss over two output weights around ``center`` (P,) (usually theta*).

    ``half_width`` defaults to the larger of the distance over which F rises by F(center) along
    each axis and 1.2 times the extent of ``trail`` (T, P) iterates projected on the axes.
    """
    lay = quad.layout
    ax = output_axes(lay, axes)
    center = np.asarray(center, dtype=float)
    na, nb = (points, points) if isinstance(points, (int, np.integer)) else points
    if half_width is None:
        f0 = max(float(quad.value(center, check=False)), 1e-12)
        hw = []
        for q, axis in enumerate(ax):
            curv = quad.curvature(axis - quad.out.start)
            h = np.sqrt(f0 / curv) if curv > 0 else 1.0
            if trail is not None and len(trail):
                h = max(h, 1.2 * float(np.max(np.abs(np.asarray(trail)[..., axis] - center[axis]))))
            hw.append(h)
        half_width = (hw[0], hw[1])
    a = np.linspace(center[ax[0]] - half_width[0], center[ax[0]] + half_width[0], na)
    b = np.linspace(center[ax[1]] - half_width[1], center[ax[1]] + half_width[1], nb)
    names = tuple(lay.unit_names()[k] for k in ax)
    return LossGrid(a, b, quad.grid(center, ax, a, b), ax, names, center.copy())


def project_trail(params: np.ndarray, axes: Sequence[int], run: int | None = None) -> np.ndarray:
    """Iterates (T, P) or (T, R, P) with ``run`` -> their coordinates on ``axes``: (T, 2)."""
    p = np.asarray(params)
    if p.ndim == 3:
        p = p[:, 0 if run is None else run]
    return p[..., list(axes)].copy()
