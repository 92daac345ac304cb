"""Compiled training steps (numba): K steps per call, off the GIL, the same maths as the NumPy path.

``run_stretch`` does what ``Trainer._stretch`` does with ``GradientWorkspace`` (model.py) and
``Updater`` (optimizers.py), for R runs side by side, step after step:

    loss_r, g_r = minibatch MSE and its gradient at state t   (skipped for stopped runs: loss 0)
    if some loss_r is not below ``limit``: return (the caller handles the divergence at t)
    record state t and the losses (if recording)
    state t+1 = optimizer update of state t with g (+ weight_decay * p), frozen entries masked;
               stopped runs copy their state unchanged

The two state buffers ``st0``/``st1`` (R, S) alternate as in the trainer; ``cur`` says which one holds
step t0. Minibatch indices ``idx`` (K, R, B) and learning rates ``lrs`` (K, R) come from NumPy (a pure
function of the seed and the step), so results do not depend on how steps are grouped into calls.
The arithmetic follows the NumPy code's order of operations (it agrees to rounding, ~1e-16 a step;
the tests hold the two paths to 1e-12 over whole runs). This module is imported only when numba is
installed (``reluviz.core.backend``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

RELU, CONSTANT, LINEAR = 0, 1, 2
SGD, MOMENTUM, NESTEROV, ADAM = 0, 1, 2, 3
MODEL_CODES = {"relu": RELU, "constant": CONSTANT, "linear": LINEAR}
OPTIMIZER_CODES = {"sgd": SGD, "momentum": MOMENTUM, "nesterov": NESTEROV, "adam": ADAM}


@njit(nogil=True, cache=True)
def _relu_loss_grad(p, H, x, y, idx, full, B, g, w, b, v, nx, n1, xs, f):
    """Minibatch MSE of f(x) = sum_j v_j relu(w_j x + b_j) + c and its gradient into g (3H + 1,).

    The forward pass runs over units outside and points inside, the backward pass the other way
    round: neither inner loop carries a sum, so both vectorise (the sums keep NumPy's order)."""
    for j in range(H):
        w[j] = p[2 * j]
        b[j] = p[2 * j + 1]
        v[j] = p[2 * H + j]
        nx[j] = 0.0
        n1[j] = 0.0
        g[2 * H + j] = 0.0
    c = p[3 * H]
    for i in range(B):
        xs[i] = x[i if full else idx[i]]
        f[i] = 0.0
    for j in range(H):
        wj, bj, vj = w[j], b[j], v[j]
        for i in range(B):
            f[i] += vj * max(wj * xs[i] + bj, 0.0)
    scale = 2.0 / B
    loss = 0.0
    gc = 0.0
    for i in range(B):
        xi = xs[i]
        r = (f[i] + c) - y[i if full else idx[i]]
        loss += r * r
        gx = (xi * scale) * r   # (NumPy: rows [x; 1] times 2/B, times the residual)
        gr = scale * r
        for j in range(H):
            z = w[j] * xi + b[j]
            on = 1.0 if z > 0.0 else 0.0
            nx[j] += on * gx
            n1[j] += on * gr
            g[2 * H + j] += max(z, 0.0) * gr
        gc += gr
    for j in range(H):
        g[2 * j] = nx[j] * v[j]
        g[2 * j + 1] = n1[j] * v[j]
    g[3 * H] = gc
    return loss * (1.0 / B)


@njit(nogil=True, cache=True)
def _small_loss_grad(p, linear, x, y, idx, full, B, g):
    """Minibatch MSE of y = theta (constant) or y = theta x (linear) and its gradient into g (1,)."""
    theta = p[0]
    scale = 2.0 / B
    loss = 0.0
    gt = 0.0
    for i in range(B):
        k = i if full else idx[i]
        r = (theta * x[k] if linear else theta) - y[k]
        loss += r * r
        gt += r * ((x[k] * scale) if linear else scale)
    g[0] = gt
    return loss * (1.0 / B)


@njit(nogil=True, cache=True)
def _update(opt, src, dst, g, P, lr, t, wd, mask, has_mask, mu, b1, b2, eps):
    """One optimizer update of a state row (params then slots) from gradient g (P,), in place of dst."""
    for k in range(P):
        gk = g[k]
        if wd != 0.0:
            gk = gk + src[k] * wd
        if has_mask:
            gk = gk * mask[k]
        g[k] = gk
    if opt == SGD:
        for k in range(P):
            dst[k] = src[k] - g[k] * lr
    elif opt == MOMENTUM or opt == NESTEROV:
        for k in range(P):
            buf = src[P + k] * mu + g[k]
            dst[P + k] = buf
            if opt == MOMENTUM:
                dst[k] = src[k] - buf * lr
            else:
                dst[k] = src[k] - (buf * mu + g[k]) * lr
    else:
        step = float(t + 1)
        bc2 = math.sqrt(1.0 - math.pow(b2, step))  # (libm pow, as Python's b2 ** k)
        step_size = lr / (1.0 - math.pow(b1, step))
        for k in range(P):
            gk = g[k]
            m = src[P + k] * b1 + gk * (1.0 - b1)
            s = src[2 * P + k] * b2 + (gk * gk) * (1.0 - b2)
            dst[P + k] = m
            dst[2 * P + k] = s
            dst[k] = src[k] - (m / (math.sqrt(s) / bc2 + eps)) * step_size


@njit(nogil=True, cache=True)
def run_stretch(model, H, opt, st0, st1, cur, x, y, idx, full, B, lrs, t0, n, mask, has_mask, wd, mu, b1, b2,
                eps, limit, dead, rec_state, rec_loss, recording, loss):
    """Steps t0 .. t0 + n - 1 of R runs; returns (steps done, buffer holding the state reached).

    Fewer than n steps are done when a live run's loss at step t0 + done is not below ``limit``:
    ``loss`` (R,) then holds that step's losses and nothing of that step was updated or recorded.
    """
    R = st0.shape[0]
    P = 3 * H + 1 if model == RELU else 1
    G = np.zeros((R, P))
    w = np.empty(max(H, 1))
    b = np.empty(max(H, 1))
    v = np.empty(max(H, 1))
    nx = np.empty(max(H, 1))
    n1 = np.empty(max(H, 1))
    xs = np.empty(B)
    f = np.empty(B)
    for s in range(n):
        t = t0 + s
        src = st0 if cur == 0 else st1
        dst = st1 if cur == 0 else st0
        bad = False
        for r in range(R):
            if dead[r]:
                loss[r] = 0.0
                continue
            if model == RELU:
                loss[r] = _relu_loss_grad(src[r], H, x, y, idx[s, r], full, B, G[r], w, b, v, nx, n1, xs, f)
            else:
                loss[r] = _small_loss_grad(src[r], model == LINEAR, x, y, idx[s, r], full, B, G[r])
            if not loss[r] < limit:
                bad = True
        if bad:
            return s, cur
        if recording:
            rec_state[s, :, :] = src
            rec_loss[s, :] = loss
        for r in range(R):
            if dead[r]:
                dst[r, :] = src[r, :]
            else:
                _update(opt, src[r], dst[r], G[r], P, lrs[s, r], t, wd, mask, has_mask, mu, b1, b2, eps)
        cur = 1 - cur
    return n, cur


@njit(nogil=True, cache=True)
def batch_losses(model, H, st, x, y, idx, full, B, dead, loss):
    """The minibatch loss (R,) of each run's state ``st`` (R, S) on its batch ``idx`` (R, B) (0 for
    stopped runs): what ``run_stretch`` checks and records before an update."""
    R = st.shape[0]
    P = 3 * H + 1 if model == RELU else 1
    g = np.zeros(P)
    w = np.empty(max(H, 1))
    b = np.empty(max(H, 1))
    v = np.empty(max(H, 1))
    nx = np.empty(max(H, 1))
    n1 = np.empty(max(H, 1))
    xs = np.empty(B)
    f = np.empty(B)
    for r in range(R):
        if dead[r]:
            loss[r] = 0.0
        elif model == RELU:
            loss[r] = _relu_loss_grad(st[r], H, x, y, idx[r], full, B, g, w, b, v, nx, n1, xs, f)
        else:
            loss[r] = _small_loss_grad(st[r], model == LINEAR, x, y, idx[r], full, B, g)
