"""Compiled training steps (numba): K steps per call, off the GIL, the same maths as the NumPy path.

``run_stretch`` does what ``Trainer._stretch`` does with ``GradientWorkspace`` (model.py) and
``Updater`` (optimizers.py), for R runs side by side, step after step:

    loss_r, g_r = minibatch MSE and its gradient at state t   (skipped for stopped runs: loss 0)
    if some loss_r is not below ``limit``: return (the caller handles the divergence at t)
    record state t and the losses (if recording)
    state t+1 = optimizer update of state t with g (+ wd p, wd = 2 ridge: torch's weight decay, one
               value per run), frozen entries masked;
               stopped runs copy their state unchanged

The two state buffers ``st0``/``st1`` (R, S) alternate as in the trainer; ``cur`` says which one holds
step t0. Minibatch indices ``idx`` (K, R, B) and learning rates ``lrs`` (K, R) come from NumPy (a pure
function of the seed and the step), so results do not depend on how steps are grouped into calls.
The arithmetic follows the NumPy code's order of operations (it agrees to rounding, ~1e-16 a step;
the tests hold the two paths to 1e-12 over whole runs). Every model is compiled: the one-layer relu
net (its own kernel), the small models (constant, linear, affine) and deeper nets or other
activations (the general kernel). This module is imported only when numba is
installed (``reluviz.core.backend``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

RELU, CONSTANT, LINEAR, GENERAL, AFFINE = 0, 1, 2, 3, 4   # GENERAL: deeper nets and other activations
SGD, MOMENTUM, NESTEROV, ADAM = 0, 1, 2, 3
A_RELU, A_LEAKY, A_TANH, A_SIGMOID = 0, 1, 2, 3
MODEL_CODES = {"relu": RELU, "constant": CONSTANT, "linear": LINEAR, "affine": AFFINE}
OPTIMIZER_CODES = {"sgd": SGD, "momentum": MOMENTUM, "nesterov": NESTEROV, "adam": ADAM}
ACTIVATION_CODES = {"relu": A_RELU, "leaky_relu": A_LEAKY, "tanh": A_TANH, "sigmoid": A_SIGMOID}

# error_model="numpy": a float division by zero gives inf/nan as in NumPy instead of raising; without
# the zero check in every division and square root LLVM vectorises Adam's update (0.48 -> 0.09 us a
# step at width 40). nogil: the app's GUI thread runs while a kernel trains.
JIT = dict(nogil=True, cache=True, error_model="numpy")


def net_codes(layout) -> tuple[int, int, int, int, float, int]:
    """(model code, H, L, activation code, slope, P) of a ``reluviz.core.model.Layout``."""
    model = GENERAL if layout.general else MODEL_CODES[layout.model]
    return model, layout.width, layout.depth, ACTIVATION_CODES[layout.activation], float(layout.slope), layout.size


@njit(**JIT)
def _relu_loss_grad(p, H, x, y, idx, full, B, g, w, b, v, nx, n1, xs, f):
    """Minibatch MSE of f(x) = sum_j v_j relu(w_j x + b_j) + c and its gradient into g (3H + 1,).

    The forward pass runs over units outside and points inside, the backward pass the other way
    round: neither inner loop carries a sum, so both vectorise. Each pass takes four units (four
    points) at a time, so an accumulator is loaded and stored once per four terms; the terms are
    still added one by one in NumPy's order, so the results are bit for bit those of one at a time
    (1.07 -> 0.61 us a step at width 40 on batches of 40)."""
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
    j = 0
    while j + 4 <= H:
        w0, b0, v0 = w[j], b[j], v[j]
        w1, b1, v1 = w[j + 1], b[j + 1], v[j + 1]
        w2, b2, v2 = w[j + 2], b[j + 2], v[j + 2]
        w3, b3, v3 = w[j + 3], b[j + 3], v[j + 3]
        for i in range(B):
            xi = xs[i]
            f[i] = (((f[i] + v0 * max(w0 * xi + b0, 0.0)) + v1 * max(w1 * xi + b1, 0.0))
                    + v2 * max(w2 * xi + b2, 0.0)) + v3 * max(w3 * xi + b3, 0.0)
        j += 4
    for j in range(j, H):
        wj, bj, vj = w[j], b[j], v[j]
        for i in range(B):
            f[i] += vj * max(wj * xs[i] + bj, 0.0)
    scale = 2.0 / B
    loss = 0.0
    gc = 0.0
    for i in range(B):
        r = (f[i] + c) - y[i if full else idx[i]]
        loss += r * r
        gc += scale * r
        f[i] = r  # f holds the residuals from here on
    gv = g[2 * H : 3 * H]
    i = 0
    while i + 4 <= B:
        x0, x1, x2, x3 = xs[i], xs[i + 1], xs[i + 2], xs[i + 3]
        r0, r1, r2, r3 = scale * f[i], scale * f[i + 1], scale * f[i + 2], scale * f[i + 3]
        # (NumPy: rows [x; 1] times 2/B, times the residual)
        q0, q1, q2, q3 = (x0 * scale) * f[i], (x1 * scale) * f[i + 1], (x2 * scale) * f[i + 2], (x3 * scale) * f[i + 3]
        for j in range(H):
            wj, bj = w[j], b[j]
            z0, z1, z2, z3 = wj * x0 + bj, wj * x1 + bj, wj * x2 + bj, wj * x3 + bj
            o0 = 1.0 if z0 > 0.0 else 0.0
            o1 = 1.0 if z1 > 0.0 else 0.0
            o2 = 1.0 if z2 > 0.0 else 0.0
            o3 = 1.0 if z3 > 0.0 else 0.0
            nx[j] = (((nx[j] + o0 * q0) + o1 * q1) + o2 * q2) + o3 * q3
            n1[j] = (((n1[j] + o0 * r0) + o1 * r1) + o2 * r2) + o3 * r3
            gv[j] = (((gv[j] + max(z0, 0.0) * r0) + max(z1, 0.0) * r1) + max(z2, 0.0) * r2) + max(z3, 0.0) * r3
        i += 4
    for i in range(i, B):
        xi = xs[i]
        gx = (xi * scale) * f[i]
        gr = scale * f[i]
        for j in range(H):
            z = w[j] * xi + b[j]
            on = 1.0 if z > 0.0 else 0.0
            nx[j] += on * gx
            n1[j] += on * gr
            gv[j] += max(z, 0.0) * gr
    for j in range(H):
        g[2 * j] = nx[j] * v[j]
        g[2 * j + 1] = n1[j] * v[j]
    g[3 * H] = gc
    return loss * (1.0 / B)


@njit(**JIT)
def _small_loss_grad(p, model, x, y, idx, full, B, g):
    """Minibatch MSE of y = theta (constant), y = theta x (linear) or y = a x + b (affine, p = [a, b])
    and its gradient into g (1,) or (2,)."""
    theta = p[0]
    intercept = p[1] if model == AFFINE else 0.0
    scale = 2.0 / B
    loss = 0.0
    gt = 0.0
    gb = 0.0
    for i in range(B):
        k = i if full else idx[i]
        if model == CONSTANT:
            r = theta - y[k]
            gt += r * scale
        else:
            r = (theta * x[k] + intercept if model == AFFINE else theta * x[k]) - y[k]
            gt += r * (x[k] * scale)
            gb += r * scale
        loss += r * r
    g[0] = gt
    if model == AFFINE:
        g[1] = gb
    return loss * (1.0 / B)


@njit(**JIT)
def _act(kind, slope, z):
    """act(z) as reluviz.core.deep computes it (NaN passes through)."""
    if kind == A_RELU:
        return z if z > 0.0 or z != z else 0.0
    if kind == A_LEAKY:
        sz = z * slope
        return z if z > sz or z != z else sz
    if kind == A_TANH:
        return math.tanh(z)
    return 1.0 / (1.0 + math.exp(-z))


@njit(**JIT)
def _dact(kind, slope, z, a):
    """act'(z) given a = act(z), as reluviz.core.deep computes it (relu'(0) = 0)."""
    if kind == A_RELU:
        return 1.0 if z > 0.0 else 0.0
    if kind == A_LEAKY:
        return (1.0 if z > 0.0 else 0.0) * (1.0 - slope) + slope
    if kind == A_TANH:
        return 1.0 - a * a
    return (1.0 - a) * a


@njit(**JIT)
def _general_loss_grad(p, H, L, kind, slope, x, y, idx, full, B, g, Z, A, D, delta, tmp, WT, xs, f):
    """Minibatch MSE and gradient (into g) of a general net (reluviz.core.deep: depth L, any
    activation), by the same forward and backward passes as ``deep.kernel``. Z, A, D (L, B, H):
    pre-activations, activations, derivatives per point; delta, tmp (B, H); WT (H, H) a layer's
    weights transposed; xs, f (B,). Points run outside and units inside, through 2-D views of the
    layers' weights (the inner loops then vectorise; flat offsets made them 3x slower)."""
    o = 2 * H + (L - 1) * (H * H + H)
    for i in range(B):
        xs[i] = x[i if full else idx[i]]
        xi = xs[i]
        for j in range(H):
            z = p[2 * j] * xi + p[2 * j + 1]
            a = _act(kind, slope, z)
            Z[0, i, j] = z
            A[0, i, j] = a
            D[0, i, j] = _dact(kind, slope, z, a)
    for k in range(1, L):
        s = 2 * H + (k - 1) * (H * H + H)
        W = p[s : s + H * H].reshape((H, H))
        bias = p[s + H * H : s + H * H + H]
        for j in range(H):
            for m in range(H):
                WT[m, j] = W[j, m]
        for i in range(B):
            for j in range(H):
                tmp[i, j] = 0.0
            for m in range(H):
                am = A[k - 1, i, m]
                for j in range(H):
                    tmp[i, j] += WT[m, j] * am
            for j in range(H):
                z = tmp[i, j] + bias[j]
                a = _act(kind, slope, z)
                Z[k, i, j] = z
                A[k, i, j] = a
                D[k, i, j] = _dact(kind, slope, z, a)
    v = p[o : o + H]
    gv = g[o : o + H]
    c = p[o + H]
    scale = 2.0 / B
    loss = 0.0
    gc = 0.0
    for j in range(H):
        gv[j] = 0.0
    for i in range(B):
        fi = 0.0
        for j in range(H):
            fi += v[j] * A[L - 1, i, j]
        r = (fi + c) - y[i if full else idx[i]]
        loss += r * r
        gi = r * scale
        gc += gi
        for j in range(H):
            gv[j] += A[L - 1, i, j] * gi
            delta[i, j] = (v[j] * gi) * D[L - 1, i, j]
    g[o + H] = gc
    for k in range(L - 1, 0, -1):
        s = 2 * H + (k - 1) * (H * H + H)
        W = p[s : s + H * H].reshape((H, H))
        GW = g[s : s + H * H].reshape((H, H))
        gb = g[s + H * H : s + H * H + H]
        for j in range(H):
            gb[j] = 0.0
            for m in range(H):
                GW[j, m] = 0.0
        for i in range(B):
            for j in range(H):
                dij = delta[i, j]
                gb[j] += dij
                for m in range(H):
                    GW[j, m] += dij * A[k - 1, i, m]
            for m in range(H):
                tmp[i, m] = 0.0
            for j in range(H):
                dij = delta[i, j]
                for m in range(H):
                    tmp[i, m] += W[j, m] * dij
            for m in range(H):
                delta[i, m] = tmp[i, m] * D[k - 1, i, m]
    for j in range(2 * H):
        g[j] = 0.0
    for i in range(B):
        xi = xs[i]
        for j in range(H):
            g[2 * j] += delta[i, j] * xi
            g[2 * j + 1] += delta[i, j]
    return loss * (1.0 / B)


@njit(**JIT)
def _update(opt, src, dst, g, P, lr, wd, mask, has_mask, mu, b1, b2, eps, c1, bc2):
    """One optimizer update of a state row (params then slots) from gradient g (P,), in place of dst.
    Adam's bias corrections of this step, the same for every run: c1 = 1 - b1^(t+1), bc2 =
    sqrt(1 - b2^(t+1))."""
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
        step_size = lr / c1
        for k in range(P):
            gk = g[k]
            m = src[P + k] * b1 + gk * (1.0 - b1)
            s = src[2 * P + k] * b2 + (gk * gk) * (1.0 - b2)
            dst[P + k] = m
            dst[2 * P + k] = s
            dst[k] = src[k] - (m / (math.sqrt(s) / bc2 + eps)) * step_size


@njit(**JIT)
def _scratch(model, H, L, B):
    """Work arrays of the loss-and-gradient functions for one call."""
    h = max(H, 1)
    big = (L, B, h) if model == GENERAL else (1, 1, 1)
    return (np.empty(h), np.empty(h), np.empty(h), np.empty(h), np.empty(h), np.empty(B), np.empty(B),
            np.empty(big), np.empty(big), np.empty(big), np.empty(big[1:]), np.empty(big[1:]), np.empty((h, h)))


@njit(**JIT)
def _loss_grad(model, H, L, kind, slope, p, x, y, idx, full, B, g, w, b, v, nx, n1, xs, f, Z, A, D, delta, tmp, WT):
    if model == RELU:
        return _relu_loss_grad(p, H, x, y, idx, full, B, g, w, b, v, nx, n1, xs, f)
    if model == GENERAL:
        return _general_loss_grad(p, H, L, kind, slope, x, y, idx, full, B, g, Z, A, D, delta, tmp, WT, xs, f)
    return _small_loss_grad(p, model, x, y, idx, full, B, g)


@njit(**JIT)
def run_stretch(model, H, L, kind, slope, P, opt, st0, st1, cur, x, y, idx, full, B, lrs, t0, n, mask, has_mask,
                wds, mu, b1, b2, eps, limit, dead, rec_state, rec_loss, recording, loss):
    """Steps t0 .. t0 + n - 1 of R runs; returns (steps done, buffer holding the state reached).

    Fewer than n steps are done when a live run's loss at step t0 + done is not below ``limit``:
    ``loss`` (R,) then holds that step's losses and nothing of that step was updated or recorded.
    """
    R = st0.shape[0]
    G = np.zeros((R, P))
    w, b, v, nx, n1, xs, f, Z, A, D, delta, tmp, WT = _scratch(model, H, L, B)
    for s in range(n):
        t = t0 + s
        src = st0 if cur == 0 else st1
        dst = st1 if cur == 0 else st0
        bad = False
        for r in range(R):
            if dead[r]:
                loss[r] = 0.0
                continue
            if model == RELU:  # (called directly: through _loss_grad a step takes ~0.15 us longer)
                loss[r] = _relu_loss_grad(src[r], H, x, y, idx[s, r], full, B, G[r], w, b, v, nx, n1, xs, f)
            else:
                loss[r] = _loss_grad(model, H, L, kind, slope, src[r], x, y, idx[s, r], full, B, G[r], w, b, v, nx,
                                     n1, xs, f, Z, A, D, delta, tmp, WT)
            if not loss[r] < limit:
                bad = True
        if bad:
            return s, cur
        if recording:
            rec_state[s, :, :] = src
            rec_loss[s, :] = loss
        c1 = bc2 = 1.0
        if opt == ADAM:  # (once a step, not once a run)
            step = float(t + 1)
            bc2 = math.sqrt(1.0 - math.pow(b2, step))  # (libm pow, as Python's b2 ** k)
            c1 = 1.0 - math.pow(b1, step)
        for r in range(R):
            if dead[r]:
                dst[r, :] = src[r, :]
            else:
                _update(opt, src[r], dst[r], G[r], P, lrs[s, r], wds[r], mask, has_mask, mu, b1, b2, eps, c1, bc2)
        cur = 1 - cur
    return n, cur


@njit(**JIT)
def batch_losses(model, H, L, kind, slope, P, st, x, y, idx, full, B, dead, loss):
    """The minibatch loss (R,) of each run's state ``st`` (R, S) on its batch ``idx`` (R, B) (0 for
    stopped runs): what ``run_stretch`` checks and records before an update."""
    R = st.shape[0]
    g = np.zeros(P)
    w, b, v, nx, n1, xs, f, Z, A, D, delta, tmp, WT = _scratch(model, H, L, B)
    for r in range(R):
        if dead[r]:
            loss[r] = 0.0
        else:
            loss[r] = _loss_grad(model, H, L, kind, slope, st[r], x, y, idx[r], full, B, g, w, b, v, nx, n1, xs, f,
                                 Z, A, D, delta, tmp, WT)


@njit(**JIT)
def relu_sse(p, H, x, y):
    """Sum of squared errors of the one-layer relu net ``p`` (3H + 1,) on (x, y) (N,): what a frame's
    train/validation/test losses need (units outside, points inside, as the training kernel)."""
    N = x.shape[0]
    f = np.zeros(N)
    for j in range(H):
        wj, bj, vj = p[2 * j], p[2 * j + 1], p[2 * H + j]
        for i in range(N):
            f[i] += vj * max(wj * x[i] + bj, 0.0)
    c = p[3 * H]
    total = 0.0
    for i in range(N):
        r = (f[i] + c) - y[i]
        total += r * r
    return total
