"""General networks: ``depth`` hidden layers of H units with relu, leaky_relu, tanh or sigmoid.

f(x) = v . h_L(x) + c,  h_k = act(z_k),  z_1 = w x + b,  z_k = W_k h_(k-1) + b_k  (k = 2..L),
the network ``torch.nn.Sequential(Linear(1, H), act, Linear(H, H), act, ..., Linear(H, 1))``.
The flat layout is ``reluviz.core.model.Layout``'s (W_k in torch's (out, in) layout). Depth-1
relu nets have their own faster code in ``reluviz.core.model``; everything here gives the same
numbers for them (the tests compare).

Activations and their derivatives, as torch computes them:

* relu: max(0, z); relu'(z) = 1 if z > 0 else 0 (relu'(0) = 0).
* leaky_relu: z if z > 0 else slope z; derivative 1 if z > 0 else slope.
* tanh: tanh'(z) = 1 - tanh(z)^2.   sigmoid: s = 1 / (1 + exp(-z)); s'(z) = s (1 - s).

Hand-written backprop, per minibatch (B points, R runs at once), with g_b = (2/B)(f(x_b) - y_b):

* dL/dv = h_L g,  dL/dc = sum_b g_b,  delta_L = (v g^T) * act'(z_L)       (H, B)
* for k = L..2: dL/dW_k = delta_k h_(k-1)^T,  dL/db_k = sum_b delta_k,
  delta_(k-1) = (W_k^T delta_k) * act'(z_(k-1))
* dL/dw = sum_b delta_1 x_b,  dL/db = sum_b delta_1.

``kernel`` is the trainer's hot loop: one function per step over preallocated (R, H, B) buffers,
one list of arrays per layer (a compiled kernel can mirror it loop for loop).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

# (``Layout`` in the annotations is reluviz.core.model.Layout, not imported: model imports this module)

#: |act'| below this fraction of its largest value (1 for tanh, 1/4 for sigmoid) on every training
#: point: the unit is saturated, passing back less than a tenth of what a unit at its centre does
#: (tanh: |z| > 1.8, output within 5% of +-1; sigmoid: |z| > 3.6, within 3% of 0 or 1).
SATURATED_FRACTION = 0.1
#: act' at its largest: what "a unit at its centre passes back" is measured against.
PEAK_DERIVATIVE = {"relu": 1.0, "leaky_relu": 1.0, "tanh": 1.0, "sigmoid": 0.25}


# ---------------------------------------------------------------------- activations
def activate(kind: str, slope: float, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """act(z), elementwise (into ``out`` when given; ``out`` may be ``z``)."""
    if out is None:
        out = np.empty_like(z)
    if kind == "relu":
        np.maximum(z, 0.0, out=out)
    elif kind == "leaky_relu":
        if out is z:
            np.copyto(out, np.where(z > 0, z, z * slope))
        else:
            np.multiply(z, slope, out=out)
            np.maximum(z, out, out=out)  # (slope < 1: max(z, slope z) is z above 0, slope z below)
    elif kind == "tanh":
        np.tanh(z, out=out)
    elif kind == "sigmoid":
        with np.errstate(over="ignore"):
            np.negative(z, out=out)
            np.exp(out, out=out)
            np.add(out, 1.0, out=out)
            np.reciprocal(out, out=out)
    else:
        raise ValueError(f"unknown activation {kind!r}")
    return out


def derivative(kind: str, slope: float, z: np.ndarray, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """act'(z) given ``a = act(z)``, elementwise (into ``out`` when given)."""
    if out is None:
        out = np.empty_like(z)
    if kind == "relu":
        np.greater(z, 0.0, out=out)
    elif kind == "leaky_relu":
        np.greater(z, 0.0, out=out)
        np.multiply(out, 1.0 - slope, out=out)
        np.add(out, slope, out=out)
    elif kind == "tanh":
        np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)
    elif kind == "sigmoid":
        np.subtract(1.0, a, out=out)
        np.multiply(out, a, out=out)
    else:
        raise ValueError(f"unknown activation {kind!r}")
    return out


# ---------------------------------------------------------------------- evaluation
def _weights(layout: Layout, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, list, list, np.ndarray, np.ndarray]:
    """(w, b, [W_2..W_L], [b_2..b_L], v, c) views of ``params`` (..., P)."""
    get = layout.get
    mats = [get(params, f"w{k}") for k in range(2, layout.depth + 1)]
    biases = [get(params, f"b{k}") for k in range(2, layout.depth + 1)]
    return get(params, "w"), get(params, "b"), mats, biases, get(params, "v"), np.asarray(get(params, "c"))


def forward(layout: Layout, params: np.ndarray, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations z_k and activations h_k of every hidden layer at ``x`` (M,): two lists of L
    arrays (..., H, M) for ``params`` (..., P)."""
    x = np.asarray(x, dtype=float)
    w, b, mats, biases, _, _ = _weights(layout, np.asarray(params, dtype=float))
    kind, slope = layout.activation, layout.slope
    zs, hs = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        z = w[..., :, None] * x + b[..., :, None]
        for k in range(layout.depth):
            if k:
                z = mats[k - 1] @ hs[-1] + biases[k - 1][..., :, None]
            zs.append(z)
            hs.append(activate(kind, slope, z))
    return zs, hs


def predict(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """f(x) for ``x`` (M,): params (P,) -> (M,), (R, P) -> (R, M)."""
    params = np.asarray(params, dtype=float)
    _, hs = forward(layout, params, x)
    v, c = layout.get(params, "v"), np.asarray(layout.get(params, "c"))
    with np.errstate(over="ignore", invalid="ignore"):
        return np.einsum("...h,...hm->...m", v, hs[-1]) + c[..., None]


def contributions(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each last-layer unit's contribution v_j h_L,j(x): params (P,), x (M,) -> (H, M)."""
    _, hs = forward(layout, params, x)
    return layout.get(np.asarray(params, dtype=float), "v")[:, None] * hs[-1]


def jacobian(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d f(x_i) / d params for each point: (N, P), params (P,). act' as in ``derivative``."""
    x = np.asarray(x, dtype=float)
    params = np.asarray(params, dtype=float)
    zs, hs = forward(layout, params, x)
    w, b, mats, biases, v, c = _weights(layout, params)
    kind, slope = layout.activation, layout.slope
    n, h = len(x), layout.width
    out = np.empty((n, layout.size))
    with np.errstate(over="ignore", invalid="ignore"):
        delta = v[:, None] * derivative(kind, slope, zs[-1], hs[-1])  # (H, N): df/dz_L
        for k in range(layout.depth, 1, -1):
            start = layout.layer_start(k)
            out[:, start : start + h * h] = (delta.T[:, :, None] * hs[k - 2].T[:, None, :]).reshape(n, h * h)
            out[:, start + h * h : start + h * h + h] = delta.T
            delta = (mats[k - 2].T @ delta) * derivative(kind, slope, zs[k - 2], hs[k - 2])
        out[:, 0 : 2 * h : 2] = delta.T * x[:, None]
        out[:, 1 : 2 * h : 2] = delta.T
        o = layout.output_start
        out[:, o : o + h] = hs[-1].T
        out[:, o + h] = 1.0
    return out


# ---------------------------------------------------------------------- the trainer's kernel
class Buffers:
    """Per-layer (R, H, B) buffers of one ``GradientWorkspace``: pre-activations ``z``,
    activations ``a``, derivatives ``d`` (lists of L arrays), the backpropagated ``delta`` and a
    scratch ``tmp``; ``g`` (R, 1, B) the scaled residuals."""

    def __init__(self, layout: Layout, runs: int, batch: int):
        r, h, b, depth = runs, layout.width, batch, layout.depth
        self.z = [np.empty((r, h, b)) for _ in range(depth)]
        self.a = [np.empty((r, h, b)) for _ in range(depth)]
        self.d = [np.empty((r, h, b)) for _ in range(depth)]
        self.delta = np.empty((r, h, b))
        self.tmp = np.empty((r, h, b))
        self.g = np.empty((r, 1, b))


def kernel(layout: Layout, buffers: Buffers, loss: np.ndarray, res: np.ndarray, batch: int,
           params: np.ndarray, grad: np.ndarray, data: tuple[np.ndarray, np.ndarray, np.ndarray],
           rows: Callable) -> Callable[[int], np.ndarray]:
    """``k(i) -> loss`` (R,): minibatch MSE and its gradient (into ``grad`` (R, P)) on minibatch
    ``i`` of ``data`` = (x1t, x1ts, yb), shapes (K, R, 2, B), (K, R, 2, B), (K, R, B); ``params``
    (R, P) may be a view with any row stride. Same contract as ``GradientWorkspace.kernel``."""
    runs, h, depth = params.shape[0], layout.width, layout.depth
    kind, slope = layout.activation, layout.slope
    xs, ys = rows(data[0], False), rows(data[2], False)
    xts = [x.transpose(0, 2, 1) for x in xs] if data[0].strides[0] else [xs[0].transpose(0, 2, 1)] * len(xs)
    wb = params[:, : 2 * h].reshape(runs, h, 2)  # rows [w_j, b_j]
    g_wb = grad[:, : 2 * h].reshape(runs, h, 2)
    mats, mats_t, bias, g_mats, g_bias = [None], [None], [None], [None], [None]  # (index k - 1 = layer k)
    for k in range(2, depth + 1):
        s = layout.layer_start(k)
        mats.append(params[:, s : s + h * h].reshape(runs, h, h))
        mats_t.append(mats[-1].transpose(0, 2, 1))
        bias.append(params[:, s + h * h : s + h * h + h].reshape(runs, h, 1))
        g_mats.append(grad[:, s : s + h * h].reshape(runs, h, h))
        g_bias.append(grad[:, s + h * h : s + h * h + h])
    o = layout.output_start
    v_row = params[:, o : o + h].reshape(runs, 1, h)
    v_col = params[:, o : o + h].reshape(runs, h, 1)
    c = params[:, o + h : o + h + 1]
    g_v = grad[:, o : o + h].reshape(runs, h, 1)
    g_c = grad[:, o + h]
    assert all(np.shares_memory(m, params) for m in (wb, v_row, v_col, *mats[1:], *bias[1:]))
    assert all(np.shares_memory(m, grad) for m in (g_wb, g_v, *g_mats[1:]))
    z, a, d, delta, tmp, g = buffers.z, buffers.a, buffers.d, buffers.delta, buffers.tmp, buffers.g
    res3 = res.reshape(runs, 1, -1)
    g_t = g.transpose(0, 2, 1)  # (R, B, 1)
    a_t = [x.transpose(0, 2, 1) for x in a]
    scale, inv_b = 2.0 / batch, 1.0 / batch
    matmul, multiply, add, subtract = np.matmul, np.multiply, np.add, np.subtract
    add_reduce, einsum = np.add.reduce, np.einsum
    last = depth - 1

    def deep_step(i: int) -> np.ndarray:
        # forward: z_1 = [w b] [x; 1], z_k = W_k h_(k-1) + b_k, f = v . h_L + c
        matmul(wb, xs[i], out=z[0])
        activate(kind, slope, z[0], a[0])
        derivative(kind, slope, z[0], a[0], d[0])
        for k in range(1, depth):
            matmul(mats[k], a[k - 1], out=z[k])
            add(z[k], bias[k], out=z[k])
            activate(kind, slope, z[k], a[k])
            derivative(kind, slope, z[k], a[k], d[k])
        matmul(v_row, a[last], out=res3)
        add(res, c, out=res)
        subtract(res, ys[i], out=res)
        einsum("rb,rb->r", res, res, out=loss)
        multiply(loss, inv_b, out=loss)
        # backward
        multiply(res3, scale, out=g)
        matmul(a[last], g_t, out=g_v)
        add_reduce(g[:, 0], axis=1, out=g_c)
        multiply(v_col, g, out=delta)
        multiply(delta, d[last], out=delta)
        for k in range(last, 0, -1):
            matmul(delta, a_t[k - 1], out=g_mats[k])
            add_reduce(delta, axis=2, out=g_bias[k])
            matmul(mats_t[k], delta, out=tmp)
            multiply(tmp, d[k - 1], out=delta)
        matmul(delta, xts[i], out=g_wb)
        return loss

    return deep_step
