"""Parameter initialisations, each drawn from its own seeded stream ``default_rng([init_seed, 1])``.

* ``uniform_elbows`` (default, the course notebook's): w ~ U(-1, 1) (torch's default for a
  Linear(1, H) layer), elbow e_j ~ U(x_min, x_max) of the training data and b_j = -e_j w_j, so every
  elbow starts inside the data; v, c ~ U(-1/sqrt(H), 1/sqrt(H)) (torch's default for Linear(H, 1)).
* ``gaussian``: w, b ~ N(0, 1), v ~ N(0, 1/H), c = 0. The elbow -b/w is then a ratio of two
  standard normals, i.e. Cauchy distributed: many elbows land far outside the data, and units
  whose active side misses every point are dead (lecture note 2).
* ``he``: w ~ N(0, 2), b = 0, v ~ N(0, 2/H), c = 0 (He et al.; all elbows start at x = 0).

Deeper layers (depth L >= 2: W_k, b_k for k = 2..L) are drawn after all of the above from the
same stream, so a deep net's first layer and output layer start as the depth-1 net's with the
same seed. ``uniform_elbows`` and ``gaussian``: torch's default for a Linear(H, H) layer,
W_k, b_k ~ U(-1/sqrt(H), 1/sqrt(H)); ``he``: W_k ~ N(0, 2/H), b_k = 0 (He et al.'s rule for every
ReLU layer, which keeps the size of the activations from layer to layer).

The small models start at theta ~ N(0, 1) (the affine model's a and b each).
"""

from __future__ import annotations

import numpy as np

from reluviz.core.model import Layout


def init_params(layout: Layout, init: str, seed: int, x_range: tuple[float, float]) -> np.ndarray:
    """A fresh parameter vector, shape (P,)."""
    rng = np.random.default_rng([seed, 1])
    p = np.zeros(layout.size)
    if layout.model != "relu":
        p[:] = rng.standard_normal(layout.size)  # theta (affine: a, then b)
        return p
    h = layout.width
    w_i, b_i, v_i = (layout.index(k) for k in ("w", "b", "v"))
    c_i = layout.index("c")
    if init == "uniform_elbows":
        w = rng.uniform(-1.0, 1.0, h)
        elbows = rng.uniform(x_range[0], x_range[1], h)
        p[w_i] = w
        p[b_i] = -elbows * w
        bound = 1.0 / np.sqrt(h)
        p[v_i] = rng.uniform(-bound, bound, h)
        p[c_i] = rng.uniform(-bound, bound)
    elif init == "gaussian":
        p[w_i] = rng.standard_normal(h)
        p[b_i] = rng.standard_normal(h)
        p[v_i] = rng.standard_normal(h) / np.sqrt(h)
    elif init == "he":
        p[w_i] = rng.standard_normal(h) * np.sqrt(2.0)
        p[v_i] = rng.standard_normal(h) * np.sqrt(2.0 / h)
    else:
        raise ValueError(f"unknown init {init!r}")
    bound = 1.0 / np.sqrt(h)
    for k in range(2, layout.depth + 1):
        w_k, b_k = layout.index(f"w{k}"), layout.index(f"b{k}")
        if init == "he":
            p[w_k] = rng.standard_normal(h * h) * np.sqrt(2.0 / h)
        else:
            p[w_k] = rng.uniform(-bound, bound, h * h)
            p[b_k] = rng.uniform(-bound, bound, h)
    return p
