"""Per-layer health of a network on the training points: dead units, saturated units, mean |act'|.

* dead (relu, leaky relu with slope 0): act'(z) = 0 on every training point. A dead unit gets no
  gradient from any batch and passes none back: it never moves again (lecture note 2).
* saturated (tanh, sigmoid): |act'(z)| below ``SATURATED_FRACTION`` (a tenth) of its peak on every
  training point: the unit sits in a flat tail of its S-curve and passes back almost nothing.
* mean |act'|: the average over units and training points of each layer's act'(z). Backprop
  multiplies the gradient by act' at every layer: relu passes 1 or 0, sigmoid at most 1/4, so
  the gradient reaching the early layers of a deep sigmoid net shrinks layer by layer (the notes'
  argument for non-saturating ReLUs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reluviz.core import deep
from reluviz.core.deep import PEAK_DERIVATIVE, SATURATED_FRACTION
from reluviz.core.model import Layout
from reluviz.core.readonly import read_only

#: points x units x layers evaluated at once (bounded memory on big data sets)
_CHUNK = 1_000_000


@dataclass(frozen=True, eq=False)
class LayerStats:
    """``dead``, ``saturated`` (L, H) bool and ``mean_derivative`` (L,) over the training points
    (read-only); ``activation`` the network's."""

    activation: str
    dead: np.ndarray
    saturated: np.ndarray
    mean_derivative: np.ndarray

    @property
    def smooth(self) -> bool:
        """tanh / sigmoid: units saturate rather than die."""
        return self.activation in ("tanh", "sigmoid")

    def dead_counts(self) -> list[int]:
        return [int(n) for n in self.dead.sum(axis=1)]

    def saturated_counts(self) -> list[int]:
        return [int(n) for n in self.saturated.sum(axis=1)]


def layer_stats(layout: Layout, params: np.ndarray, x: np.ndarray, counts: np.ndarray | None = None) -> LayerStats:
    """Dead and saturated units and mean |act'| of every layer over the points ``x`` (N,).

    ``counts`` (H,): for a depth-1 relu net, how many points each unit is active on, if known
    (``reluviz.core.snapshot.active_counts``, fast at any width): then nothing is evaluated."""
    params = np.asarray(params, dtype=float)
    depth, h, n = layout.depth, layout.width, len(x)
    kind = layout.activation
    if n == 0:
        none = np.zeros((depth, h), bool)
        return LayerStats(kind, read_only(none), read_only(none), read_only(np.zeros(depth)))
    if counts is not None and not layout.general:
        dead = (counts == 0)[None, :]
        return LayerStats(kind, read_only(dead), read_only(np.zeros_like(dead)),
                          read_only(np.array([counts.sum() / (n * h)])))
    alive = np.zeros((depth, h), bool)  # act' != 0 somewhere
    peak = np.zeros((depth, h))  # largest |act'| over the points
    total = np.zeros(depth)
    step = max(1, _CHUNK // max(1, depth * h))
    with np.errstate(over="ignore", invalid="ignore"):
        for s in range(0, n, step):
            zs, hs = deep.forward(layout, params, x[s : s + step])
            for k in range(depth):
                d = np.abs(deep.derivative(kind, layout.slope, zs[k], hs[k]))
                alive[k] |= np.any(d > 0, axis=1)
                np.maximum(peak[k], d.max(axis=1), out=peak[k])
                total[k] += float(d.sum())
    none = np.zeros((depth, h), bool)
    if kind in ("tanh", "sigmoid"):  # (an S-curve's derivative can round to 0 far out: that is saturation)
        return LayerStats(kind, read_only(none), read_only(peak < SATURATED_FRACTION * PEAK_DERIVATIVE[kind]),
                          read_only(total / (n * h)))
    return LayerStats(kind, read_only(~alive), read_only(none), read_only(total / (n * h)))
