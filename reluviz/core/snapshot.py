"""An immutable record of the training state at one step (arrays are copies, read-only).

Snapshot t holds the parameters after t updates (t = 0 is the initialisation), the optimizer
slots, and what the *next* update uses: the minibatch indices, the minibatch loss at these
parameters and the learning rate. All arrays have a leading runs axis R (R = 1 for one run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reluviz.core.model import Layout, mse, predict, unit_outputs


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


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
        return cls(int(step), layout, _frozen(state), _frozen(batch), _frozen(batch_loss), _frozen(lr), _frozen(diverged))

    @property
    def runs(self) -> int:
        return int(self.state.shape[0])

    @property
    def params(self) -> np.ndarray:
        """(R, P) parameters (read-only view)."""
        return self.state[:, : self.layout.size]

    @property
    def opt_state(self) -> np.ndarray:
        """(R, P * slots) optimizer slots: momentum buffer, or Adam's m then s."""
        return self.state[:, self.layout.size :]

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
        w, b = self.get("w", run), self.get("b", run)
        return np.count_nonzero(np.asarray(x)[:, None] * w[None, :] + b[None, :] > 0, axis=0)

    def dead_units(self, x: np.ndarray, run: int = 0) -> np.ndarray:
        """Boolean (H,): units active on no point of ``x`` (their gradient is zero: they are stuck)."""
        return self.active_counts(x, run) == 0
