"""Where training is heading: the full-batch optimum theta* of the objective the optimizer minimises.

The objective is the one the trainer's updates descend, the notes' regularised loss (eq. 3.1) with
the ridge R(theta) = lambda ||theta||^2 over the trained parameters (``reluviz.core.optimizers``
adds 2 lambda p to the gradient, torch's weight_decay = 2 lambda, for every trainable parameter):

    F(theta) = (1/N) sum_i (f_theta(x_i) - y_i)^2 + lambda ||theta_trainable||^2

Closed forms (``kind == 'exact'``), with Sxx = sum x_i^2, Sxy = sum x_i y_i, ybar = mean y:

* ``constant`` (y = theta): dF/dtheta = 2 (theta - ybar) + 2 lambda theta = 0
  => theta* = ybar / (1 + lambda) = ybar when lambda = 0 (the worksheet's answer: the mean of y).
* ``linear`` (y = theta x): dF/dtheta = (2/N)(theta Sxx - Sxy) + 2 lambda theta = 0
  => theta* = Sxy / (Sxx + N lambda) = Sxy / Sxx when lambda = 0 (the worksheet's answer).
* ``affine`` (y = a x + b): least squares on the features Phi = [x_i, 1], as below:
  (Phi^T Phi + N lambda I) (a*, b*) = Phi^T y, i.e. with lambda = 0 the regression line
  a* = cov(x, y) / var(x), b* = ybar - a* xbar (all x equal: the minimiser nearest the given point).
* ``relu`` with ``train=output``: w, b are frozen, so f = Phi theta with the feature matrix
  Phi = [relu(w x_i + b) ..., 1] (N, H+1) and theta = (v, c): least squares.
  lambda > 0 (ridge): grad = (2/N) Phi^T (Phi theta - y) + 2 lambda theta = 0
  => (Phi^T Phi + N lambda I) theta* = Phi^T y, a unique solution.
  lambda = 0: the minimisers form an affine set when Phi has dependent columns (a dead unit gives a
  zero column; two units with the same elbow give parallel ones). We return the minimiser
  *nearest the given parameters*: theta* = theta + lstsq(Phi, y - Phi theta). SGD never changes
  the component of theta in the null space of Phi (every minibatch gradient is a combination of
  rows of Phi), so from the parameters of any step this is exactly the point (S)GD converges to.

For ``train=all`` / ``train=hidden`` the loss is not convex and has no closed form. We then return
a *local* optimum (``kind == 'local'``): the end of a monotone full-batch descent started at the
given parameters (Levenberg-damped Gauss-Newton steps, each accepted only if it lowers F; frozen
parameters stay put), bounded by ``max_iter`` and ``time_budget`` seconds. It depends on where it
starts and is labelled so; ``converged`` says whether the gradient vanished within the budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from reluviz.core.config import TrainConfig
from reluviz.core.data import Dataset
from reluviz.core import deep
from reluviz.core.model import Layout, mse, predict

#: Rows per chunk when forming J^T J or Phi^T Phi, so memory stays bounded on big CSV data.
_CHUNK_ELEMENTS = 2_000_000


@dataclass(frozen=True, eq=False)
class Optimum:
    """A full-batch optimum.

    params: (P,) the optimum (frozen parameters equal the given ones).
    kind: ``'exact'`` (closed form, global) or ``'local'`` (found by descent from a point).
    label: a short caption for a plot legend.
    mask: (P,) 1.0 on the trainable parameters (those the distance is measured over).
    objective: F at ``params`` (MSE plus the ridge term).
    grad_norm: Euclidean norm of the gradient of F over the trainable parameters at ``params``.
    iterations, converged: for local optima, descent trials and whether descent came to rest
    (False: it ran out of steps or time, and ``label`` says so).
    """

    params: np.ndarray
    kind: str
    label: str
    mask: np.ndarray
    objective: float
    grad_norm: float
    iterations: int = 0
    converged: bool = True

    @property
    def trainable(self) -> np.ndarray:
        """Indices of the trainable parameters."""
        return np.flatnonzero(self.mask)


def optimum(config: TrainConfig, dataset: Dataset, params: np.ndarray, *, max_iter: int = 1000,
            time_budget: float = 0.5) -> Optimum:
    """The full-batch optimum of ``config``'s objective on ``dataset``, as seen from ``params`` (P,).

    Exact for constant/linear models and for relu with ``train=output``; otherwise a local optimum
    reached by full-batch descent from ``params`` (at most ``max_iter`` steps / ``time_budget`` s).
    """
    layout = Layout.for_config(config)
    params = np.asarray(params, dtype=float)
    if params.shape != (layout.size,):
        raise ValueError(f"params must have shape ({layout.size},), got {params.shape}")
    x, y = dataset.x_train, dataset.y_train
    lam = float(config.ridge)
    mask = layout.mask(config.train)
    n = len(x)
    if layout.model == "constant":
        theta = float(np.mean(y)) / (1.0 + lam)
        label = "theta* = mean y" if lam == 0 else f"theta* = mean(y) / (1 + lambda), lambda={lam:g}"
        return _finish(layout, np.array([theta]), "exact", label, mask, x, y, lam)
    if layout.model == "linear":
        sxx, sxy = float(x @ x), float(x @ y)
        denom = sxx + n * lam
        theta = sxy / denom if denom > 0 else float(params[0])  # all x = 0: every theta is optimal
        label = "theta* = sum xy / sum x^2" if lam == 0 else f"theta* = sum xy / (sum x^2 + N lambda), lambda={lam:g}"
        return _finish(layout, np.array([theta]), "exact", label, mask, x, y, lam)
    if layout.model == "affine":
        theta = output_optimum(layout, params, x, y, lam)
        label = "theta* = least-squares line" if lam == 0 else f"theta* = ridge line, lambda={lam:g}"
        return _finish(layout, theta, "exact", label, mask, x, y, lam)
    if config.train == "output":
        theta = output_optimum(layout, params, x, y, lam)
        label = "theta* (least squares in v, c)" if lam == 0 else f"theta* (ridge in v, c, lambda={lam:g})"
        return _finish(layout, theta, "exact", label, mask, x, y, lam)
    return local_optimum(layout, params, x, y, mask, lam, max_iter=max_iter, time_budget=time_budget)


def distance_to_optimum(params: np.ndarray, opt: Optimum, mask: np.ndarray | None = None) -> np.ndarray:
    """||theta - theta*|| over the trainable parameters: params (..., P) -> (...).

    ``mask`` (P,) overrides ``opt.mask`` (e.g. to measure only the v's).
    """
    m = opt.mask if mask is None else np.asarray(mask, dtype=float)
    d = (np.asarray(params, dtype=float) - opt.params) * m
    return np.sqrt(np.einsum("...p,...p->...", d, d))


def excess_objective(config: TrainConfig, dataset: Dataset, params: np.ndarray, opt: Optimum) -> np.ndarray:
    """F(theta) - F(theta*) on the training set: params (..., P) -> (...). >= 0 for exact optima.

    Unlike the Euclidean distance, this is not dominated by the flat directions of an
    ill-conditioned problem (random ReLU features are nearly collinear, so theta* can sit far
    away along directions the loss barely sees); for a quadratic it is half the squared distance
    in the Hessian's norm.
    """
    layout = Layout.for_config(config)
    p = np.asarray(params, dtype=float)
    flat = p.reshape(-1, layout.size)
    val = objective(layout, flat, dataset.x_train, dataset.y_train, config.ridge, opt.mask)
    return (np.asarray(val) - opt.objective).reshape(p.shape[:-1])


# ---------------------------------------------------------------------- objective and gradient
def ridge_penalty(params: np.ndarray, ridge: float, mask: np.ndarray | None = None) -> np.ndarray:
    """The regulariser R(theta) = ridge ||mask * params||^2: params (P,) -> scalar array, (R, P) -> (R,)."""
    p = np.asarray(params, dtype=float)
    if mask is not None:
        p = p * mask
    return float(ridge) * np.einsum("...p,...p->...", p, p)


def objective(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray, ridge: float = 0.0,
              mask: np.ndarray | None = None) -> np.ndarray:
    """F = MSE + ridge ||mask * params||^2; params (P,) -> scalar array, (R, P) -> (R,)."""
    params = np.asarray(params, dtype=float)
    out = mse(layout, params, x, y)
    if ridge:
        out = out + ridge_penalty(params, ridge, mask)
    return out


def objective_gradient(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray, ridge: float = 0.0,
                       mask: np.ndarray | None = None) -> np.ndarray:
    """Gradient of ``objective`` at params (P,) -> (P,), zero on frozen parameters."""
    _, jtr, _ = _normal_equations(layout, params, x, y, np.arange(layout.size), need_jtj=False)
    g = (2.0 / len(x)) * jtr + 2.0 * ridge * params
    return g if mask is None else g * mask


def output_features(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Phi = [relu(w_j x_i + b_j) for j, 1] for a relu net: (N, H+1), so that f(x) = Phi @ (v, c).
    For a deep net (or another activation) the last hidden layer's activations h_L,j(x_i); for the
    affine model [x_i, 1] (f = Phi @ (a, b))."""
    if layout.model == "affine":
        return np.column_stack([np.asarray(x, dtype=float), np.ones(len(x))])
    phi = np.empty((len(x), layout.width + 1))
    if layout.general:
        phi[:, :-1] = deep.forward(layout, params, x)[1][-1].T
        phi[:, -1] = 1.0
        return phi
    w, b = layout.get(params, "w"), layout.get(params, "b")
    np.maximum(np.multiply.outer(x, w) + b, 0.0, out=phi[:, :-1])
    phi[:, -1] = 1.0
    return phi


def output_slice(layout: Layout) -> slice:
    """Flat positions of (v_0..v_{H-1}, c): contiguous at the end of a relu parameter vector; the
    affine model's (a, b): the whole vector."""
    if layout.model == "affine":
        return slice(0, 2)
    return slice(layout.output_start, layout.output_start + layout.width + 1)


def output_optimum(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """Exact optimum over (v, c) with w, b fixed at ``params`` (see the module notes): (P,)."""
    out = np.array(params, dtype=float)
    sl = output_slice(layout)
    theta0 = out[sl]
    n, k = len(x), sl.stop - sl.start
    if ridge > 0 or n * k > _CHUNK_ELEMENTS:
        gram = np.zeros((k, k))
        rhs = np.zeros(k)
        step = max(1, _CHUNK_ELEMENTS // k)
        for s in range(0, n, step):
            phi = output_features(layout, params, x[s : s + step])
            gram += phi.T @ phi
            rhs += phi.T @ y[s : s + step]
        if ridge > 0:
            gram[np.diag_indices(k)] += n * ridge
            out[sl] = np.linalg.solve(gram, rhs)
        else:
            # Minimiser nearest theta0 via the pseudo-inverse of the Gram matrix (eigen cut-off).
            evals, evecs = np.linalg.eigh(gram)
            keep = evals > evals.max() * k * np.finfo(float).eps
            resid_rhs = rhs - gram @ theta0
            coef = (evecs[:, keep].T @ resid_rhs) / evals[keep]
            out[sl] = theta0 + evecs[:, keep] @ coef
        return out
    phi = output_features(layout, params, x)
    delta = np.linalg.lstsq(phi, y - phi @ theta0, rcond=None)[0]
    out[sl] = theta0 + delta
    return out


# ---------------------------------------------------------------------- local optimum (non-convex)
def local_optimum(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray, mask: np.ndarray,
                  ridge: float = 0.0, *, max_iter: int = 1000, time_budget: float = 0.5,
                  gtol: float = 1e-9) -> Optimum:
    """Monotone full-batch descent from ``params`` (Levenberg-damped Gauss-Newton), trainable only.

    Each step solves (A + lam s I) d = -g with A = (2/N) J^T J + 2 ridge I (J the Jacobian of the
    outputs over the trainable parameters), g the gradient of F, s the mean of diag(A); the step is
    taken only if F decreases (then lam shrinks), otherwise lam grows and we retry. Large lam is a
    short gradient step, small lam is a Gauss-Newton step, so the path is a descent path from
    ``params`` that settles in the basin it starts in. ``converged`` is True when ||g|| <= gtol (1 + F)
    or when no damping lowers F any more (a minimum; at a kink, where an elbow sits on a data point,
    the one-sided gradient need not vanish: ``grad_norm`` shows it); False when ``max_iter`` trials
    or ``time_budget`` seconds ran out first.
    """
    t0 = time.perf_counter()
    p = np.array(params, dtype=float)
    idx = np.flatnonzero(mask)
    n = len(x)
    f_val = float(objective(layout, p, x, y, ridge, mask))
    lam = 1e-3
    iters = 0
    converged = False
    g_norm = np.inf
    while iters < max_iter:
        jtj, jtr, _ = _normal_equations(layout, p, x, y, idx)
        a = (2.0 / n) * jtj
        g = (2.0 / n) * jtr + 2.0 * ridge * p[idx]
        if ridge:
            a[np.diag_indices(len(idx))] += 2.0 * ridge
        g_norm = float(np.linalg.norm(g))
        if g_norm <= gtol * (1.0 + f_val):
            converged = True
            break
        scale = max(float(np.mean(np.diag(a))), 1e-300)
        improved = False
        while iters < max_iter and time.perf_counter() - t0 < time_budget:
            iters += 1
            m = a.copy()
            m[np.diag_indices(len(idx))] += lam * scale
            try:
                d = np.linalg.solve(m, -g)
            except np.linalg.LinAlgError:
                lam *= 10.0
                continue
            q = p.copy()
            q[idx] += d
            f_new = float(objective(layout, q, x, y, ridge, mask))
            if f_new < f_val:
                p, f_old, f_val = q, f_val, f_new
                lam = max(lam / 3.0, 1e-12)
                improved = True
                break
            lam *= 4.0
            if lam > 1e16:
                break
        if not improved:
            # No damping gives a lower F: a minimum, smooth or at a kink (an elbow on a data point,
            # where the one-sided gradient the trainer uses need not vanish).
            converged = lam > 1e16
            break
        if (f_old - f_val) <= 1e-15 * max(f_old, 1e-300):
            converged = True  # progress below rounding: as stationary as F can tell
            break
        if time.perf_counter() - t0 >= time_budget:
            break
    _, jtr, _ = _normal_equations(layout, p, x, y, idx, need_jtj=False)
    g_norm = float(np.linalg.norm((2.0 / n) * jtr + 2.0 * ridge * p[idx]))
    label = "local optimum (full-batch descent from here)" if converged else \
        f"local optimum, stopped after {iters} steps (full-batch descent from here)"
    return Optimum(p, "local", label, mask.astype(float), f_val, g_norm, iters, converged)


def jacobian(layout: Layout, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d f(x_i) / d params: (N, P). For relu, relu'(0) = 0 as in the trainer."""
    x = np.asarray(x, dtype=float)
    if layout.general:
        return deep.jacobian(layout, params, x)
    if layout.model == "constant":
        return np.ones((len(x), 1))
    if layout.model == "linear":
        return x[:, None].copy()
    if layout.model == "affine":
        return output_features(layout, params, x)
    h = layout.width
    w, b, v = (layout.get(params, k) for k in ("w", "b", "v"))
    pre = np.multiply.outer(x, w) + b
    act = pre > 0
    out = np.empty((len(x), layout.size))
    dv = act * v
    out[:, 0 : 2 * h : 2] = dv * x[:, None]
    out[:, 1 : 2 * h : 2] = dv
    out[:, 2 * h : 3 * h] = np.maximum(pre, 0.0)
    out[:, 3 * h] = 1.0
    return out


def _normal_equations(layout: Layout, params: np.ndarray, x: np.ndarray, y: np.ndarray, idx: np.ndarray,
                      need_jtj: bool = True) -> tuple[np.ndarray | None, np.ndarray, float]:
    """(J^T J, J^T r, r.r) restricted to columns ``idx``, accumulated in chunks of rows."""
    k = len(idx)
    jtj = np.zeros((k, k)) if need_jtj else None
    jtr = np.zeros(k)
    rr = 0.0
    step = max(1, _CHUNK_ELEMENTS // max(1, layout.size))
    for s in range(0, len(x), step):
        xs, ys = x[s : s + step], y[s : s + step]
        j = jacobian(layout, params, xs)[:, idx]
        r = predict(layout, params, xs) - ys
        jtr += j.T @ r
        rr += float(r @ r)
        if need_jtj:
            jtj += j.T @ j
    return jtj, jtr, rr


def _finish(layout: Layout, theta: np.ndarray, kind: str, label: str, mask: np.ndarray,
            x: np.ndarray, y: np.ndarray, ridge: float) -> Optimum:
    f_val = float(objective(layout, theta, x, y, ridge, mask))
    g = objective_gradient(layout, theta, x, y, ridge, mask)
    return Optimum(theta, kind, label, mask.astype(float), f_val, float(np.linalg.norm(g)))


#: theta* of a relu net training its output layer solves a (H+1) x (H+1) system built over the N
#: points, about N (H+1)^2 + (H+1)^3 flops; a local optimum (the full network) solves P x P systems
#: (P trainable parameters) over and over, in steps that cannot be interrupted. Above these bounds
#: a view says so instead of freezing (or keeping a closing window waiting for its worker).
EXACT_OPTIMUM_MAX_FLOPS = 4e9
LOCAL_OPTIMUM_MAX_PARAMS = 1200


def optimum_too_big(layout, n_points: int, train: str) -> str:
    """Why theta* of this model cannot be found while drawing ('' when it can)."""
    if layout.model != "relu":
        return ""
    if train == "output":
        k = layout.width + 1
        if n_points * k * k + k**3 > EXACT_OPTIMUM_MAX_FLOPS:
            return (f"θ* of {layout.width:,} output weights over {n_points:,} points is too costly to draw live; "
                    "the landscape and distances are shown for narrower networks or fewer points.")
        return ""
    p = int(layout.mask(train).sum())
    if p > LOCAL_OPTIMUM_MAX_PARAMS or n_points * p * p > EXACT_OPTIMUM_MAX_FLOPS:
        return (f"A local optimum over {p:,} parameters and {n_points:,} points is too costly here "
                f"(at most {LOCAL_OPTIMUM_MAX_PARAMS:,} parameters); use a narrower network.")
    return ""
