"""An immutable record of the training state at one step (arrays are copies, read-only).

Snapshot t holds the parameters after t updates (t = 0 is the initialisation), the optimizer
slots, and what the *next* update uses: the minibatch indices, the minibatch loss at these
parameters and the learning rate. All arrays have a leading runs axis R (R = 1 for one run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reluviz.core.layer_stats import layer_stats
from reluviz.core.model import Layout, mse, predict, unit_outputs
from reluviz.core.readonly import read_only


_DIRECT_CHUNK = 1 << 20  # elements of x * w evaluated at once by the direct count
_sorted_cache: tuple[np.ndarray, np.ndarray | None] | None = None


def _sorted_data(x: np.ndarray) -> np.ndarray | None:
    """``x`` sorted (None if it holds a non-finite value); the last array asked about is cached.

    The cache holds ``x`` itself, so a later array cannot take over its identity. Data arrays are
    never modified in place (a new dataset is a new array).
    """
    global _sorted_cache
    cached = _sorted_cache
    if cached is not None and cached[0] is x:
        return cached[1]
    xs = np.sort(np.asarray(x, dtype=float).ravel())
    result = xs if np.all(np.isfinite(xs)) else None
    _sorted_cache = (x, result)  # one tuple: a reader in another thread sees the old or the new pair
    return result


def _direct_counts(w: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    counts = np.zeros(len(w), dtype=np.int64)
    step = max(1, _DIRECT_CHUNK // max(1, len(w)))
    x = np.asarray(x, dtype=float).ravel()
    with np.errstate(invalid="ignore", over="ignore"):
        for s in range(0, len(x), step):
            counts += np.count_nonzero(x[s : s + step, None] * w[None, :] + b[None, :] > 0, axis=0)
    return counts


def active_counts(w: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """How many points of ``x`` (N,) each unit is active on, w_j x + b_j > 0 evaluated as NumPy does
    (round(round(w x) + b) > 0): (H,) int. Exactly the brute-force count, in O((N + H) log N).

    For w_j > 0 the rounded pre-activation never decreases as x grows (rounding is monotone), for
    w_j < 0 it never increases, so the active points of a unit are a prefix or a suffix of the
    sorted data, found by a binary search that evaluates the same expression. Units with a
    non-finite w or b, and data with non-finite values, are counted directly (in chunks).
    """
    w = np.asarray(w, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    xs = _sorted_data(x)
    n, h = (len(xs) if xs is not None else np.size(x)), len(w)
    if xs is None or n == 0 or h == 0:
        return _direct_counts(w, b, x) if h and np.size(x) else np.zeros(h, dtype=np.int64)
    counts = np.empty(h, dtype=np.int64)
    odd = ~(np.isfinite(w) & np.isfinite(b))
    rising = w > 0
    # first index k where q(k) holds, q = "active" for w > 0 and "inactive" for w <= 0 (both
    # monotone: False...False True...True); for w = 0 the pre-activation is b at every point.
    lo = np.zeros(h, dtype=np.int64)
    hi = np.full(h, n, dtype=np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        while True:
            open_ = lo < hi
            if not open_.any():
                break
            mid = (lo + hi) // 2
            active = xs[np.minimum(mid, n - 1)] * w + b > 0
            q = active == rising
            hi = np.where(open_ & q, mid, hi)
            lo = np.where(open_ & ~q, mid + 1, lo)
    np.copyto(counts, np.where(rising, n - lo, lo))
    if odd.any():
        counts[odd] = _direct_counts(w[odd], b[odd], xs)
    return counts


@dataclass(frozen=True, eq=False)
class Snapshot:
    """State of R runs at ``step``.

    state: (R, P * (1 + slots)) parameters then optimizer slots.  batch: (R, B) int64 indices of
    the update from ``step`` to ``step + 1``.  batch_loss, lr: (R,).  ``diverged`` (R,) bool marks
    runs that stopped on a non-finite or exploding loss (their state is the last finite one).
    """

    step: int
    layout: Layout
    state: np.ndarray
    batch: np.ndarray
    batch_loss: np.ndarray
    lr: np.ndarray
    diverged: np.ndarray

    @classmethod
    def create(cls, step, layout, state, batch, batch_loss, lr, diverged) -> "Snapshot":
        return cls(int(step), layout, read_only(state), read_only(batch), read_only(batch_loss), read_only(lr), read_only(diverged))

    def full_batch(self, dataset) -> bool:
        """Whether this step's batch was every training point of ``dataset`` (a ``Dataset``; None:
        not known, False): then there is no minibatch to show or name."""
        return dataset is not None and self.batch.shape[1] >= dataset.n

    @property
    def runs(self) -> int:
        return int(self.state.shape[0])

    @property
    def params(self) -> np.ndarray:
        """(R, P) parameters (read-only view)."""
        return self.state[:, : self.layout.size]

    def get(self, name: str, run: int = 0) -> np.ndarray | float:
        """Parameter ``name`` (w, b, v, c or theta) of ``run``: (H,) array or a float."""
        value = self.layout.get(self.params[run], name)
        return float(value) if np.ndim(value) == 0 else value

    @property
    def w(self) -> np.ndarray:
        return self.get("w")

    @property
    def b(self) -> np.ndarray:
        return self.get("b")

    @property
    def v(self) -> np.ndarray:
        return self.get("v")

    @property
    def c(self) -> float:
        return self.get("c")

    def elbows(self, run: int = 0) -> np.ndarray:
        """Elbow positions x = -b_j / w_j, (H,); +-inf or nan where w_j = 0 (a flat unit)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return -self.get("b", run) / self.get("w", run)

    def predict(self, x: np.ndarray, run: int = 0) -> np.ndarray:
        """Network output at ``x`` (M,) -> (M,)."""
        return predict(self.layout, self.params[run], x)

    def units(self, x: np.ndarray, run: int = 0) -> np.ndarray:
        """Each hidden unit's contribution v_j relu(w_j x + b_j) at ``x``: (H, M)."""
        return unit_outputs(self.layout, self.params[run], x)

    def loss(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """MSE of every run on (x, y): (R,)."""
        return mse(self.layout, self.params, x, y)

    def active_counts(self, x: np.ndarray, run: int = 0) -> np.ndarray:
        """How many points of ``x`` each hidden unit is active on (w_j x + b_j > 0): (H,) int."""
        return active_counts(self.get("w", run), self.get("b", run), x)

    def dead_units(self, x: np.ndarray, run: int = 0) -> np.ndarray:
        """Boolean (H,): units active on no point of ``x`` (their gradient is zero: they are stuck).
        For a deep net or another activation: the last hidden layer's units whose act' is 0 on
        every point (``reluviz.core.layer_stats``; none for leaky relu, tanh and sigmoid)."""
        if self.layout.general:
            return np.array(layer_stats(self.layout, self.params[run], x).dead[-1])
        return self.active_counts(x, run) == 0
