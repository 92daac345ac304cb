"""The three models, their flat parameter layout, forward pass and hand-written MSE gradients.

Parameters of R independent runs live in one array ``params`` of shape (R, P):

* ``relu`` (width H): P = 3H + 1, laid out ``[w_0, b_0, w_1, b_1, ..., w_{H-1}, b_{H-1}, v_0..v_{H-1}, c]``.
  The (w, b) pairs are interleaved so that ``[x, 1] @ [[w], [b]]`` gives every pre-activation in
  one matmul and their gradient is one product. f(x) = sum_j v_j relu(w_j x + b_j) + c.
* ``constant``: P = 1, y = theta.   ``linear``: P = 1, y = theta x.
* ``affine``: P = 2, theta = [a, b], y = a x + b (a line with an intercept: the dance view's model,
  whose loss is an exact bowl over the whole (a, b) plane).
* ``relu`` with ``depth`` L >= 2 hidden layers of H units: the first layer as above, then per layer
  k = 2..L its weights W_k (H*H, row-major in torch.nn.Linear's (out, in) layout) and biases b_k
  (H), then v, c: P = 3H + 1 + (L - 1)(H^2 + H). f(x) = v . h_L + c, h_k = act(W_k h_(k-1) + b_k),
  h_1 = act(w x + b). Other activations than relu (any depth) and depth >= 2 are "general"
  networks, computed by ``reluviz.core.deep``; depth-1 relu keeps its own fast code here.

The loss is the minibatch mean squared error (1/B) sum_i (y_hat_i - y_i)^2, as torch's MSELoss.
relu'(0) = 0, as in torch: a point exactly on an elbow does not move that unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from reluviz.core import backend, deep

if TYPE_CHECKING:
    from reluviz.core.config import TrainConfig


@dataclass(frozen=True)
class Layout:
    """Where each named parameter sits in the flat vector of length ``size``, and the network's
    shape: ``depth`` hidden layers of ``width`` units with ``activation`` (``slope``: leaky ReLU's
    slope below 0). The small models (constant, linear, affine) have width 0 and depth 1."""

    model: str
    width: int  # H for relu, 0 otherwise
    depth: int = 1
    activation: str = "relu"
    slope: float = 0.01

    @classmethod
    def for_config(cls, config: TrainConfig) -> Layout:
        """The layout of ``config``'s model (width, depth and activation count for relu only)."""
        if config.model != "relu":
            return cls(config.model, 0)
        return cls("relu", config.width, config.depth, config.activation, float(config.leaky_slope))

    @property
    def general(self) -> bool:
        """A network that ``reluviz.core.deep`` computes: depth >= 2 or an activation other than relu."""
        return self.model == "relu" and (self.depth > 1 or self.activation != "relu")

    @property
    def piecewise_linear(self) -> bool:
        """f is piecewise linear in x (relu, leaky relu): it has kinks and linear regions."""
        return self.model == "relu" and self.activation in ("relu", "leaky_relu")

    @property
    def output_start(self) -> int:
        """Flat index of v_0: everything before it belongs to the hidden layers."""
        h = self.width
        return 2 * h + (self.depth - 1) * (h * h + h)

    @property
    def size(self) -> int:
        if self.model == "relu":
            return self.output_start + self.width + 1
        return 2 if self.model == "affine" else 1

    def layer_start(self, k: int) -> int:
        """Flat index of W_k (k = 2..depth); its b_k follows the H*H weights."""
        h = self.width
        if not 2 <= k <= self.depth:
            raise KeyError(f"w{k}")
        return 2 * h + (k - 2) * (h * h + h)

    def names(self) -> tuple[str, ...]:
        if self.model != "relu":
            return ("theta",)
        deeper = tuple(n for k in range(2, self.depth + 1) for n in (f"w{k}", f"b{k}"))
        return ("w", "b") + deeper + ("v", "c")

    def index(self, name: str) -> slice | int:
        """Index of parameter ``name`` in the flat vector (a strided slice for w and b; a slice
        of H*H entries, row-major (out, in), for ``wk``)."""
        h = self.width
        if self.model != "relu":
            if name != "theta":
                raise KeyError(name)
            return slice(0, 2) if self.model == "affine" else 0
        if name[0] in "wb" and name[1:].isdigit():
            start = self.layer_start(int(name[1:]))
            return slice(start, start + h * h) if name[0] == "w" else slice(start + h * h, start + h * h + h)
        o = self.output_start
        return {"w": slice(0, 2 * h, 2), "b": slice(1, 2 * h, 2), "v": slice(o, o + h), "c": o + h}[name]

    def get(self, params: np.ndarray, name: str) -> np.ndarray:
        """View of parameter ``name`` in ``params`` (..., P): shape (..., H), (..., H, H) for ``wk``, or (...)."""
        value = params[..., self.index(name)]
        if name[0] == "w" and name[1:].isdigit():
            return value.reshape(value.shape[:-1] + (self.width, self.width))
        return value

    def mask(self, train: str) -> np.ndarray:
        """1.0 for parameters that train under ``train`` (all / output / hidden), else 0.0; shape (P,).
        hidden: every hidden layer (all but v and c)."""
        m = np.ones(self.size)
        if self.model == "relu":
            if train == "output":
                m[: self.output_start] = 0.0
            elif train == "hidden":
                m[self.output_start :] = 0.0
        return m

    def unit_names(self) -> list[str]:
        """Human names of each flat entry, e.g. ``w[3]``, ``w2[1,4]``, ``b2[1]``; ``a``, ``b`` for
        the affine model."""
        if self.model != "relu":
            return ["a", "b"] if self.model == "affine" else ["theta"]
        out: list[str] = []
        for j in range(self.width):
            out += [f"w[{j}]", f"b[{j}]"]
        for k in range(2, self.depth + 1):
            out += [f"w{k}[{i},{j}]" for i in range(self.width) for j in range(self.width)]
            out += [f"b{k}[{i}]" for i in range(self.width)]
        return out + [f"v[{j}]" for j in range(self.width)] + ["c"]


def predict(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Network output for inputs ``x`` (M,), given ``params`` (P,) -> (M,) or (R, P) -> (R, M)."""
    x = np.asarray(x, dtype=float)
    if layout.general:
        return deep.predict(layout, params, x)
    if layout.model == "constant":
        return np.broadcast_to(params[..., 0:1], params.shape[:-1] + x.shape).copy()
    if layout.model == "linear":
        return params[..., 0:1] * x
    if layout.model == "affine":
        return params[..., 0:1] * x + params[..., 1:2]
    w, b, v, c = (layout.get(params, k) for k in ("w", "b", "v", "c"))
    act = np.maximum(x[..., :, None] * w[..., None, :] + b[..., None, :], 0.0)
    return np.einsum("...mh,...h->...m", act, v) + np.asarray(c)[..., None]


def unit_outputs(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each hidden unit's contribution v_j relu(w_j x + b_j); params (P,), x (M,) -> (H, M).
    For a general network: each last-layer unit's v_j h_L,j(x)."""
    if layout.general:
        return deep.contributions(layout, params, x)
    w, b, v = (layout.get(params, k) for k in ("w", "b", "v"))
    return v[:, None] * np.maximum(w[:, None] * x[None, :] + b[:, None], 0.0)


def compiled_sse(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray,
                 wait: bool = False) -> np.ndarray | None:
    """Sum of squared errors on (x, y) of each run's ``params`` (R, P) -> (R,), by the compiled
    kernel (off the GIL, ~10x faster than NumPy at width 100); None when the model is not the
    one-layer relu net or the kernels are not there (the NumPy backend, numba missing, or, without
    ``wait``, not compiled yet): then NumPy computes it. The two agree to rounding (~1e-16), not
    bit for bit."""
    if layout.model != "relu" or layout.general:
        return None
    kernels = backend.compiled(wait=wait)
    if kernels is None:
        return None
    # (writable C arrays: a read-only snapshot array would be another type to numba, compiled anew)
    rows = np.array(params, dtype=float)
    x, y = (np.require(a, float, ("C", "W")) for a in (x, y))
    return np.array([kernels.relu_sse(row, layout.width, x, y) for row in rows])


def mse(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray, compiled: bool = False) -> np.ndarray:
    """Mean squared error on (x, y); params (P,) -> scalar array, (R, P) -> (R,). Chunked for big data.

    ``compiled``: through the compiled kernel when the backend is numba (waiting for it, so that a
    sweep's every row is computed the same way), else NumPy."""
    params = np.asarray(params)
    sse = compiled_sse(layout, params.reshape(-1, params.shape[-1]), x, y, wait=True) if compiled and len(x) else None
    if sse is not None:
        return (sse / len(x)).reshape(params.shape[:-1])
    per_point = layout.width * (1 + (layout.depth - 1) * layout.width)  # multiply-adds per point and run
    chunk = max(1, 2_000_000 // max(1, per_point * (params.shape[0] if params.ndim == 2 else 1)))
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
    if layout.general:
        return r[:, None] * deep.jacobian(layout, params, x)
    if layout.model == "constant":
        return r[:, None].copy()
    if layout.model == "linear":
        return (r * x)[:, None]
    if layout.model == "affine":  # d(a x + b)/d(a, b) = (x, 1)
        return np.stack([r * x, r], axis=1)
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
    """Minibatch MSE and its gradient for R runs of one ``layout`` on minibatches of B points,
    in preallocated buffers (nothing is allocated per step).

    Shapes: parameters and gradient (R, P); minibatch inputs x and labels y (R, B); the loss
    (R,) is the MSE of each run on its minibatch, a live buffer (copy to keep). ``scale`` is
    2/B, the derivative of the mean squared error with respect to a residual.

    * ``loss_and_grad(params, grad)``: the caller fills ``xb1`` (R, B, 2) with [x, 1] per
      minibatch point and ``yb`` (R, B) with the labels, then calls it.
    * ``kernel(params, grad, data)``: for a hot loop; binds the buffers and a block of K
      minibatches once and returns ``k(i) -> loss`` for minibatch i.

    Both run the same kernel code, so they give the same numbers.
    """

    def __init__(self, layout: Layout, runs: int, batch: int):
        self.layout = layout
        self.runs, self.batch = runs, batch
        r, b, h = runs, batch, max(layout.width, 1)
        self.scale = 2.0 / b  # d(mean squared error)/d(residual) = (2 / B) residual
        self.xb1 = np.ones((r, b, 2))
        self.yb = np.empty((r, b))
        self.res = np.empty((r, b))  # residual y_hat - y
        self.loss = np.empty(r)
        self._x1t = np.ones((r, 2, b))
        self._x1ts = np.empty((r, 2, b))
        if layout.general:
            self.deep = deep.Buffers(layout, r, b)
        elif layout.model == "relu":
            if r == 1:
                self.pre = np.empty((r, h, b))  # pre-activations w_j x_b + b_j
                self.act = np.ones((r, h + 1, b))  # rows relu(pre), then a row of ones (for c)
            else:  # pre-activations, then relu(pre) in place (contiguous: elementwise ops run faster)
                self.act = np.empty((r, h, b))
            self.active = np.empty((r, h, b), dtype=bool)  # pre > 0
            self.mask = np.empty((r, h, b))  # the same as 1.0 / 0.0
            self.g2 = np.empty((r, 2, b))  # rows (2/B) r_b x_b and (2/B) r_b
            self.n = np.empty((r, h, 2))  # sum_b mask_jb (2/B) r_b [x_b, 1] (R > 1)

    def loss_and_grad(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Write d(loss)/d(params) into ``grad`` (R, P); return the minibatch losses (R,).

        For relu nets, with mask_jb = [w_j x_b + b_j > 0] and g_b = (2/B) (y_hat_b - y_b):
        y_hat_b = sum_j v_j relu(w_j x_b + b_j) + c,
        dL/dw_j = v_j sum_b mask_jb g_b x_b, dL/db_j = v_j sum_b mask_jb g_b,
        dL/dv_j = sum_b relu(w_j x_b + b_j) g_b, dL/dc = sum_b g_b.
        """
        np.copyto(self._x1t, self.xb1.transpose(0, 2, 1))
        np.multiply(self._x1t, self.scale, out=self._x1ts)
        return self.kernel(params, grad, (self._x1t[None], self._x1ts[None], self.yb[None]))(0)

    def kernel(self, params: np.ndarray, grad: np.ndarray,
               data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Callable[[int], np.ndarray]:
        """``k(i) -> loss``: loss and gradient on minibatch ``i`` of ``data``, bound once for a hot loop.

        ``data`` is (x1t, x1ts, yb) of shapes (K, R, 2, B), (K, R, 2, B), (K, R, B): per minibatch
        the rows [x; 1], the same times 2/B, and the labels. ``params`` (R, P) may be a view with
        any row stride (e.g. the first P columns of a state buffer); ``grad`` (R, P) receives the
        gradient. All of them must stay alive and in place while ``k`` is used (refill ``data``
        in place to move on to other minibatches).
        """
        lay, runs = self.layout, self.runs
        inv_b = 1.0 / self.batch
        loss, res = self.loss, self.res
        if lay.general:
            return deep.kernel(lay, self.deep, loss, res, self.batch, params, grad, data, _rows)
        matmul, multiply, subtract = np.matmul, np.multiply, np.subtract
        maximum, greater, copyto = np.maximum, np.greater, np.copyto
        zero = np.zeros(())  # a 0-d operand broadcasts faster than a Python float
        if lay.model == "relu":
            xs, xss, ys = (_rows(a, runs == 1) for a in data)
        if lay.model == "relu" and runs == 1:
            # One run: plain 2-D products (ndarray.dot) on views made once.
            h = lay.width
            p, g = params[0], grad[0]
            wb = p[: 2 * h].reshape(h, 2)  # rows [w_j, b_j]
            vc = p[2 * h : 3 * h + 1]  # [v, c]
            v = p[2 * h : 3 * h]
            gwb_t = g[: 2 * h].reshape(h, 2).T  # rows dL/dw, dL/db (strided views into g)
            gvc = g[2 * h : 3 * h + 1]
            pre, act, mask, g2, r0 = self.pre[0], self.act[0], self.mask[0], self.g2[0], res[0]
            act_h, gres, active, n_t = act[:h], g2[1], self.active[0], np.empty((2, h))
            assert np.shares_memory(wb, params) and np.shares_memory(gwb_t, grad)

            # Bound .dot methods and positional ``out``: less call overhead at this size.
            wb_dot, vc_dot, r_dot, g2_dot, act_dot = wb.dot, vc.dot, r0.dot, g2.dot, act.dot
            set_mask, mask_t = mask.__setitem__, mask.T

            def relu_one(i: int) -> np.ndarray:
                wb_dot(xs[i], out=pre)
                maximum(pre, zero, out=act_h)
                greater(pre, zero, active)
                set_mask(Ellipsis, active)
                vc_dot(act, out=r0)
                subtract(r0, ys[i], r0)
                loss[0] = r_dot(r0) * inv_b
                multiply(xss[i], r0, g2)
                g2_dot(mask_t, out=n_t)  # (2, H): sum_b g2_kb mask_jb
                multiply(n_t, v, gwb_t)
                act_dot(gres, out=gvc)
                return loss

            return relu_one
        if lay.model == "relu":
            # Stacked over runs: np.matmul on (R, ., .) stacks, elementwise ops on contiguous
            # (R, H, B) buffers; w and b gradients go one column at a time (an elementwise op
            # into strided (R, H, 2) columns of grad was slow).
            h = lay.width
            wb = params[:, : 2 * h].reshape(runs, h, 2)
            v = params[:, 2 * h : 3 * h]
            v_row = v.reshape(runs, 1, h)
            c = params[:, 3 * h : 3 * h + 1]
            gw, gb, gc = grad[:, 0 : 2 * h : 2], grad[:, 1 : 2 * h : 2], grad[:, 3 * h]
            gv = grad[:, 2 * h : 3 * h].reshape(runs, h, 1)
            act, active, mask, g2, n = self.act, self.active, self.mask, self.g2, self.n
            g2t, gres, g_sum = g2.transpose(0, 2, 1), g2[:, 1, :, None], g2[:, 1]
            n_x, n_1 = n[:, :, 0], n[:, :, 1]
            res3 = res.reshape(runs, 1, -1)
            assert all(np.shares_memory(a, params) for a in (wb, v_row))
            assert np.shares_memory(gv, grad)
            add, einsum, add_reduce = np.add, np.einsum, np.add.reduce

            def relu_many(i: int) -> np.ndarray:
                matmul(wb, xs[i], out=act)
                greater(act, zero, out=active)
                maximum(act, zero, out=act)
                copyto(mask, active)
                matmul(v_row, act, out=res3)
                add(res, c, out=res)
                subtract(res, ys[i], out=res)
                einsum("rb,rb->r", res, res, out=loss)
                multiply(loss, inv_b, out=loss)
                multiply(xss[i], res3, out=g2)
                matmul(mask, g2t, out=n)
                multiply(n_x, v, out=gw)
                multiply(n_1, v, out=gb)
                matmul(act, gres, out=gv)
                add_reduce(g_sum, axis=1, out=gc)
                return loss

            return relu_many
        theta = params[:, 0:1]
        g0 = grad[:, 0]
        linear = lay.model == "linear"

        xs, xss, ys = data[0], data[1], data[2]  # (small models: plain indexing is fine)
        if lay.model == "affine":
            intercept, g1 = params[:, 1:2], grad[:, 1]

            def affine(i: int) -> np.ndarray:
                multiply(xs[i, :, 0], theta, out=res)  # a x_b + b - y_b
                np.add(res, intercept, out=res)
                subtract(res, ys[i], out=res)
                np.einsum("rb,rb->r", res, res, out=loss)
                multiply(loss, inv_b, out=loss)
                np.einsum("rb,rb->r", res, xss[i, :, 0], out=g0)  # (2/B) sum_b r_b x_b
                np.einsum("rb,rb->r", res, xss[i, :, 1], out=g1)  # (2/B) sum_b r_b
                return loss

            return affine

        def small(i: int) -> np.ndarray:
            if linear:
                multiply(xs[i, :, 0], theta, out=res)
            else:
                res[...] = theta
            subtract(res, ys[i], out=res)
            np.einsum("rb,rb->r", res, res, out=loss)
            multiply(loss, inv_b, out=loss)
            # (2/B) sum_b r_b x_b (linear) or (2/B) sum_b r_b (constant)
            np.einsum("rb,rb->r", res, xss[i, :, 0 if linear else 1], out=g0)
            return loss

        return small


def _rows(a: np.ndarray, squeeze: bool) -> list[np.ndarray]:
    """``[a[i] for i in range(len(a))]`` (``a[i, 0]`` if ``squeeze``): views made once, indexed fast."""
    if a.strides[0] == 0:  # the same batch every step (full batch)
        return [a[0, 0] if squeeze else a[0]] * len(a)
    return [a[i, 0] for i in range(len(a))] if squeeze else list(a)
