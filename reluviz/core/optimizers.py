"""Optimizer updates with torch.optim semantics, vectorised over R runs, writing into new buffers.

Each update reads the state at step t (params p and optimizer slots) and writes the state at
t + 1 into a second set of buffers, so the previous state survives an update that blows up.
With gradient g (plus ``weight_decay * p`` when weight decay is on, as torch adds it), frozen
parameters masked to zero, and rate lr (R, 1):

* ``sgd``:       p' = p - lr g
* ``momentum``:  buf' = mu buf + g (first step buf' = g, since buf starts at 0);  p' = p - lr buf'
* ``nesterov``:  buf' = mu buf + g;  p' = p - lr (g + mu buf')
* ``adam``:      m' = b1 m + (1 - b1) g;  s' = b2 s + (1 - b2) g^2;  k = t + 1;
                 p' = p - (lr / (1 - b1^k)) m' / (sqrt(s') / sqrt(1 - b2^k) + eps)
"""

from __future__ import annotations

import math

import numpy as np

from reluviz.core.config import TrainConfig


def slots(optimizer: str) -> int:
    """How many per-parameter state vectors ``optimizer`` keeps (0, 1 or 2)."""
    return {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 2}[optimizer]


class Updater:
    """Applies one optimizer update for R runs of P parameters.

    ``state`` arrays are (R, P * (1 + slots)): params first, then the optimizer slots.
    """

    def __init__(self, config: TrainConfig, runs: int, size: int, train_mask: np.ndarray):
        self.kind = config.optimizer
        self.mu, self.b1, self.b2, self.eps = config.momentum, config.beta1, config.beta2, config.eps
        self.wd = config.weight_decay
        self.size = size
        self.mask = None if np.all(train_mask == 1.0) else train_mask.copy()
        self.g = np.empty((runs, size))
        self.tmp = np.empty((runs, size))
        self.tmp2 = np.empty((runs, size))

    def apply(self, t: int, lr: np.ndarray, old: np.ndarray, new: np.ndarray, grad: np.ndarray) -> None:
        """State at t (``old``) and gradient at t -> state at t + 1 (``new``); lr is (R, 1)."""
        size, g, tmp = self.size, self.g, self.tmp
        p, p_new = old[:, :size], new[:, :size]
        if self.wd:
            np.multiply(p, self.wd, out=g)
            g += grad
        else:
            np.copyto(g, grad)
        if self.mask is not None:
            g *= self.mask
        if self.kind == "sgd":
            np.multiply(g, lr, out=tmp)
        elif self.kind in ("momentum", "nesterov"):
            buf, buf_new = old[:, size:], new[:, size:]
            np.multiply(buf, self.mu, out=buf_new)
            buf_new += g
            if self.kind == "momentum":
                np.multiply(buf_new, lr, out=tmp)
            else:
                np.multiply(buf_new, self.mu, out=tmp)
                tmp += g
                tmp *= lr
        elif self.kind == "adam":
            m, s = old[:, size : 2 * size], old[:, 2 * size :]
            m_new, s_new = new[:, size : 2 * size], new[:, 2 * size :]
            k = t + 1
            np.multiply(m, self.b1, out=m_new)
            np.multiply(g, 1.0 - self.b1, out=tmp)
            m_new += tmp
            np.multiply(s, self.b2, out=s_new)
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - self.b2
            s_new += tmp
            np.sqrt(s_new, out=tmp)
            tmp /= math.sqrt(1.0 - self.b2**k)
            tmp += self.eps
            np.divide(m_new, tmp, out=tmp)
            np.multiply(lr, 1.0 / (1.0 - self.b1**k), out=self.tmp2[:, :1])
            tmp *= self.tmp2[:, :1]
        else:
            raise ValueError(f"unknown optimizer {self.kind!r}")
        np.subtract(p, tmp, out=p_new)
