"""The three models, their flat parameter layout, forward pass and hand-written MSE gradients.

Parameters of R independent runs live in one array ``params`` of shape (R, P):

* ``relu`` (width H): P = 3H + 1, laid out ``[w_0, b_0, w_1, b_1, ..., w_{H-1}, b_{H-1}, v_0..v_{H-1}, c]``.
  The (w, b) pairs are interleaved so that ``[x, 1] @ [[w], [b]]`` gives every pre-activation in
  one matmul and their gradient is one product. f(x) = sum_j v_j relu(w_j x + b_j) + c.
* ``constant``: P = 1, y = theta.   ``linear``: P = 1, y = theta x.

The loss is the minibatch mean squared error (1/B) sum_i (y_hat_i - y_i)^2, as torch's MSELoss.
relu'(0) = 0, as in torch: a point exactly on an elbow does not move that unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Where each named parameter sits in the flat vector of length ``size``."""

    model: str
    width: int  # H for relu, 0 otherwise

    @property
    def size(self) -> int:
        return 3 * self.width + 1 if self.model == "relu" else 1

    def names(self) -> tuple[str, ...]:
        return ("w", "b", "v", "c") if self.model == "relu" else ("theta",)

    def index(self, name: str) -> slice | int:
        """Index of parameter ``name`` in the flat vector (a strided slice for w and b)."""
        h = self.width
        if self.model != "relu":
            if name != "theta":
                raise KeyError(name)
            return 0
        return {"w": slice(0, 2 * h, 2), "b": slice(1, 2 * h, 2), "v": slice(2 * h, 3 * h), "c": 3 * h}[name]

    def get(self, params: np.ndarray, name: str) -> np.ndarray:
        """View of parameter ``name`` in ``params`` (..., P): shape (..., H) or (...)."""
        return params[..., self.index(name)]

    def mask(self, train: str) -> np.ndarray:
        """1.0 for parameters that train under ``train`` (all / output / hidden), else 0.0; shape (P,)."""
        m = np.ones(self.size)
        if self.model == "relu":
            if train == "output":
                m[: 2 * self.width] = 0.0
            elif train == "hidden":
                m[2 * self.width :] = 0.0
        return m

    def unit_names(self) -> list[str]:
        """Human names of each flat entry, e.g. ``w[3]``."""
        if self.model != "relu":
            return ["theta"]
        out: list[str] = []
        for j in range(self.width):
            out += [f"w[{j}]", f"b[{j}]"]
        return out + [f"v[{j}]" for j in range(self.width)] + ["c"]


def predict(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Network output for inputs ``x`` (M,), given ``params`` (P,) -> (M,) or (R, P) -> (R, M)."""
    x = np.asarray(x, dtype=float)
    if layout.model == "constant":
        return np.broadcast_to(params[..., 0:1], params.shape[:-1] + x.shape).copy()
    if layout.model == "linear":
        return params[..., 0:1] * x
    w, b, v, c = (layout.get(params, k) for k in ("w", "b", "v", "c"))
    act = np.maximum(x[..., :, None] * w[..., None, :] + b[..., None, :], 0.0)
    return np.einsum("...mh,...h->...m", act, v) + np.asarray(c)[..., None]


def unit_outputs(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each hidden unit's contribution v_j relu(w_j x + b_j); params (P,), x (M,) -> (H, M)."""
    w, b, v = (layout.get(params, k) for k in ("w", "b", "v"))
    return v[:, None] * np.maximum(w[:, None] * x[None, :] + b[:, None], 0.0)


def mse(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean squared error on (x, y); params (P,) -> scalar array, (R, P) -> (R,). Chunked for big data."""
    params = np.asarray(params)
    chunk = max(1, 2_000_000 // max(1, layout.width * (params.shape[0] if params.ndim == 2 else 1)))
    total = np.zeros(params.shape[:-1])
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(x), chunk):
            r = predict(layout, params, x[start : start + chunk]) - y[start : start + chunk]
            total = total + np.sum(r * r, axis=-1)
    return total / len(x)


def point_gradients(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each point's term in the gradient of the mean loss over (x, y): shape (N, P), params (P,).

    Row i is (2/N) (f(x_i) - y_i) df(x_i)/dparams; the rows sum to the gradient of the MSE over the
    N points. This is each point's "vote" (lecture note 2, Figures 1 and 2).
    """
    n = len(x)
    r = (predict(layout, params, x) - y) * (2.0 / n)
    if layout.model == "constant":
        return r[:, None].copy()
    if layout.model == "linear":
        return (r * x)[:, None]
    w, b, v = (layout.get(params, k) for k in ("w", "b", "v"))
    pre = x[:, None] * w[None, :] + b[None, :]
    active = pre > 0
    out = np.empty((n, layout.size))
    dpre = r[:, None] * v[None, :] * active
    out[:, 0 : 2 * layout.width : 2] = dpre * x[:, None]
    out[:, 1 : 2 * layout.width : 2] = dpre
    out[:, 2 * layout.width : 3 * layout.width] = r[:, None] * np.maximum(pre, 0.0)
    out[:, 3 * layout.width] = r
    return out


class GradientWorkspace:
    """Preallocated buffers to compute minibatch loss and gradient for R runs without allocating.

    ``xb1`` (R, B, 2) holds [x, 1] per minibatch point and ``yb`` (R, B) the labels; the caller
    fills them (``np.take`` with ``out=``), then calls ``loss_and_grad``.
    """

    def __init__(self, layout: Layout, runs: int, batch: int):
        self.layout = layout
        r, b, h = runs, batch, max(layout.width, 1)
        self.xb1 = np.ones((r, b, 2))
        self.yb = np.empty((r, b))
        self.res = np.empty((r, b))  # residual, then scaled to dL/dy_hat
        self.loss = np.empty(r)
        if layout.model == "relu":
            self.pre = np.empty((r, b, h))
            self.mask = np.empty((r, b, h))
            self.u = np.empty((r, h, 2))  # [w_j v_j, b_j v_j]
            self.m = np.empty((r, b, 2))
            self.g2 = np.empty((r, b, 2))
            self.n = np.empty((r, h, 2))
            self.tmp_h = np.empty((r, h))

    def loss_and_grad(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Write d(loss)/d(params) into ``grad`` (R, P); return the minibatch losses (R,).

        For relu nets, with mask_bj = [w_j x_b + b_j > 0]:
        y_hat_b = x_b sum_j mask_bj w_j v_j + sum_j mask_bj b_j v_j + c, and with g_b = (2/B) r_b,
        dL/dw_j = v_j sum_b mask_bj g_b x_b, dL/db_j = v_j sum_b mask_bj g_b,
        dL/dv_j = w_j sum_b mask_bj g_b x_b + b_j sum_b mask_bj g_b, dL/dc = sum_b g_b.
        So the only (R, B, H) work is one matmul, one compare and two matmuls with width 2.
        """
        lay, xb1, res = self.layout, self.xb1, self.res
        bsize = res.shape[1]
        x = xb1[:, :, 0]
        if lay.model == "relu":
            h = lay.width
            wb = params[:, : 2 * h].reshape(-1, h, 2)
            v = params[:, 2 * h : 3 * h]
            np.matmul(xb1, wb.transpose(0, 2, 1), out=self.pre)
            np.greater(self.pre, 0.0, out=self.mask)
            np.multiply(wb, v[:, :, None], out=self.u)
            np.matmul(self.mask, self.u, out=self.m)
            np.multiply(self.m, xb1, out=self.m)
            np.add(self.m[:, :, 0], self.m[:, :, 1], out=res)
            res += params[:, 3 * h : 3 * h + 1]
        elif lay.model == "linear":
            np.multiply(x, params[:, 0:1], out=res)
        else:
            res[...] = params[:, 0:1]
        res -= self.yb
        np.einsum("rb,rb->r", res, res, out=self.loss)
        self.loss *= 1.0 / bsize
        res *= 2.0 / bsize
        if lay.model == "relu":
            np.multiply(xb1, res[:, :, None], out=self.g2)
            np.matmul(self.mask.transpose(0, 2, 1), self.g2, out=self.n)
            gwb = grad[:, : 2 * h].reshape(-1, h, 2)
            np.multiply(self.n, v[:, :, None], out=gwb)
            gv = grad[:, 2 * h : 3 * h]
            np.multiply(wb[:, :, 0], self.n[:, :, 0], out=gv)
            np.multiply(wb[:, :, 1], self.n[:, :, 1], out=self.tmp_h)
            gv += self.tmp_h
            np.sum(res, axis=1, out=grad[:, 3 * h])
        elif lay.model == "linear":
            np.einsum("rb,rb->r", res, x, out=grad[:, 0])
        else:
            np.sum(res, axis=1, out=grad[:, 0])
        return self.loss
