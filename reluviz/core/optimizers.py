"""Optimizer updates with torch.optim semantics, vectorised over R runs, writing into new buffers.

Each update reads the state at step t (params p and optimizer slots) and writes the state at
t + 1 into a second set of buffers, so the previous state survives an update that blows up.
With gradient g of the MSE (plus ``2 ridge p``, the gradient of the ridge term ridge ||p||^2, when
ridge is on: torch's ``weight_decay = 2 ridge``, added as torch adds it), frozen parameters masked
to zero, and rate lr (R, 1):

* ``sgd``:       p' = p - lr g
* ``momentum``:  buf' = mu buf + g (first step buf' = g, since buf starts at 0);  p' = p - lr buf'
* ``nesterov``:  buf' = mu buf + g;  p' = p - lr (g + mu buf')
* ``adam``:      m' = b1 m + (1 - b1) g;  s' = b2 s + (1 - b2) g^2;  k = t + 1;
                 p' = p - (lr / (1 - b1^k)) m' / (sqrt(s') / sqrt(1 - b2^k) + eps)
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from reluviz.core.config import TrainConfig


def slots(optimizer: str) -> int:
    """How many per-parameter state vectors ``optimizer`` keeps (0, 1 or 2)."""
    return {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 2}[optimizer]


class Updater:
    """Applies one update of ``config``'s optimizer for R runs of P parameters.

    ``state`` arrays are (R, P * (1 + slots)): params first, then the optimizer slots; the
    gradient is (R, P) and the rate (R, 1). ``train_mask`` (P,) is 0.0 for frozen parameters.
    ``apply`` does one update; a hot loop calls ``bind`` once per pair of buffers and then the
    returned function every step (same code, so the same numbers bit for bit).
    """

    def __init__(self, config: TrainConfig, runs: int, size: int, train_mask: np.ndarray,
                 ridges: np.ndarray | None = None):
        self.kind = config.optimizer
        if self.kind not in ("sgd", "momentum", "nesterov", "adam"):
            raise ValueError(f"unknown optimizer {self.kind!r}")
        self.mu, self.b1, self.b2, self.eps = config.momentum, config.beta1, config.beta2, config.eps
        #: torch's weight decay, 2 ridge: a float, or (R, 1) when ``ridges`` gives each run its own
        #: (a model-selection sweep trains a whole grid of ridge values as one trainer)
        self.wd: float | np.ndarray = 2.0 * config.ridge
        if ridges is not None:
            wd = 2.0 * np.asarray(ridges, dtype=float).reshape(runs, 1)
            self.wd = float(wd[0, 0]) if runs == 1 or np.all(wd == wd[0, 0]) else wd
        self.size, self.runs = size, runs
        self.mask = None if np.all(train_mask == 1.0) else train_mask.copy()
        self.g = np.empty((runs, size))
        self.tmp = np.empty((runs, size))
        self.tmp2 = np.empty((runs, size))
        self.both = np.empty((runs, 2 * size)) if self.kind == "adam" else None
        #: Where a caller should write the gradient: ``bind(old, new, grad_buffer)`` then uses it
        #: without a copy (for Adam it is the first half of the [g, g * g] buffer, so a step
        #: overwrites it; a gradient passed in any other array is left as it is).
        self.grad_buffer = self.both[:, :size] if self.kind == "adam" else np.empty((runs, size))

    def apply(self, t: int, lr: np.ndarray, old: np.ndarray, new: np.ndarray, grad: np.ndarray) -> None:
        """State at t (``old``) and gradient at t -> state at t + 1 (``new``); lr is (R, 1)."""
        lr = np.asarray(lr, dtype=float)
        self.bind(old, new, grad)(t, lr.reshape(()) if self.runs == 1 else lr)

    def bind(self, old: np.ndarray, new: np.ndarray, grad: np.ndarray) -> Callable[[int, np.ndarray], None]:
        """``step(t, lr)``: the update from ``old`` to ``new`` using ``grad``, buffers bound once.

        ``lr`` is (R, 1), or a 0-d array when R = 1 (a 0-d operand broadcasts fastest).
        """
        size, tmp, tmp2 = self.size, self.tmp, self.tmp2
        if self.runs == 1:  # 1-D views: no broadcasting over a length-1 axis
            old, new, grad, tmp, tmp2 = old[0], new[0], grad[0], tmp[0], tmp2[0]
        p, p_new = old[..., :size], new[..., :size]
        multiply, subtract, add = np.multiply, np.subtract, np.add
        wd, mask = self.wd, self.mask
        if isinstance(wd, np.ndarray) and not wd.any():
            wd = 0.0
        with_wd = isinstance(wd, np.ndarray) or wd != 0.0
        adam = self.kind == "adam"
        if adam:  # the effective gradient goes into the first half of [g, g * g]
            both = self.both[0] if self.runs == 1 else self.both
            g = both[..., :size]
        else:
            g = self.g[0] if self.runs == 1 else self.g
        if with_wd or mask is not None:
            # The gradient the optimizer sees: grad (+ wd p, wd = 2 ridge), frozen entries zeroed ("g" may be
            # "grad" itself: grad_buffer for Adam).

            def effective() -> None:
                if with_wd:
                    multiply(p, wd, out=tmp)
                    add(grad, tmp, out=g)
                    if mask is not None:
                        multiply(g, mask, out=g)
                else:
                    multiply(grad, mask, out=g)
        elif adam and not _same_view(g, grad):

            def effective() -> None:
                np.copyto(g, grad)
        else:
            g = grad
            effective = None

        if self.kind == "sgd":

            def step(t: int, lr: np.ndarray) -> None:
                multiply(g, lr, tmp)
                subtract(p, tmp, p_new)

        elif self.kind == "momentum":
            mu = self.mu
            buf, buf_new = old[..., size:], new[..., size:]

            def step(t: int, lr: np.ndarray) -> None:
                multiply(buf, mu, buf_new)
                add(buf_new, g, buf_new)
                multiply(buf_new, lr, tmp)
                subtract(p, tmp, p_new)

        elif self.kind == "nesterov":
            mu = self.mu
            buf, buf_new = old[..., size:], new[..., size:]

            def step(t: int, lr: np.ndarray) -> None:
                multiply(buf, mu, buf_new)
                add(buf_new, g, buf_new)
                multiply(buf_new, mu, tmp)
                add(tmp, g, tmp)
                multiply(tmp, lr, tmp)
                subtract(p, tmp, p_new)

        else:  # adam
            b1, b2 = self.b1, self.b2
            # The state holds [p, m, s] side by side, so both moments update with one op each:
            # [m', s'] = [b1, b2] * [m, s] + [1 - b1, 1 - b2] * [g, g * g].
            ms, ms_new = old[..., size:], new[..., size:]
            m_new, s_new = new[..., size : 2 * size], new[..., 2 * size :]
            decay = np.repeat([b1, b2], size)
            weight = np.repeat([1.0 - b1, 1.0 - b2], size)
            gg = both[..., size:]
            one_run = self.runs == 1
            step_size = np.empty(()) if one_run else tmp2[:, :1]
            bc2 = np.empty(())  # 0-d operands broadcast faster than Python floats
            eps = np.array(self.eps)
            sqrt, divide = np.sqrt, np.divide

            def step(t: int, lr: np.ndarray) -> None:
                k = t + 1
                multiply(ms, decay, ms_new)
                multiply(g, g, gg)
                multiply(both, weight, both)
                add(ms_new, both, ms_new)
                sqrt(s_new, tmp)
                bc2[()] = math.sqrt(1.0 - b2**k)
                divide(tmp, bc2, tmp)
                add(tmp, eps, tmp)
                divide(m_new, tmp, tmp)
                if one_run:  # lr / (1 - b1^k), as torch computes it
                    step_size[()] = float(lr) / (1.0 - b1**k)
                else:
                    divide(lr, 1.0 - b1**k, step_size)
                multiply(tmp, step_size, tmp)
                subtract(p, tmp, p_new)

        if effective is None:
            return step
        core = step

        def step(t: int, lr: np.ndarray) -> None:  # noqa: F811 (the effective gradient first)
            effective()
            core(t, lr)

        return step


def _same_view(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` are the same elements of memory (same start, shape and strides)."""
    return (a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])
