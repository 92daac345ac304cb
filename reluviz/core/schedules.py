"""Learning-rate schedules: the factor that multiplies the base ``lr`` at step t (t = 0, 1, ...).

The rate used for the update from step t to t + 1 is ``lr * factor(t)``, as torch's schedulers
give it when ``scheduler.step()`` is called after each ``optimizer.step()``:

* ``constant``: 1
* ``step``: gamma ** (t // step_size)                    (torch StepLR)
* ``exponential``: exp_gamma ** t                        (torch ExponentialLR)
* ``inverse``: 1 / (1 + decay t)                         (the 1/t decay SGD theory asks for)
* ``cosine``: lr_min/lr + (1 - lr_min/lr)(1 + cos(pi min(t, T) / T)) / 2, T = t_max or the run's steps
"""

from __future__ import annotations

import math

import numpy as np

from reluviz.core.config import TrainConfig


def lr_at(config: TrainConfig, t: int | np.ndarray) -> float | np.ndarray:
    """Learning rate for the update that follows step ``t`` (scalar or array of steps)."""
    t_arr = np.asarray(t, dtype=float)
    kind = config.schedule
    if kind == "constant":
        out = np.full_like(t_arr, config.lr)
    elif kind == "step":
        out = config.lr * config.gamma ** np.floor(t_arr / config.step_size)
    elif kind == "exponential":
        out = config.lr * config.exp_gamma**t_arr
    elif kind == "inverse":
        out = config.lr / (1.0 + config.decay * t_arr)
    elif kind == "cosine":
        horizon = config.t_max or max(config.steps, 1)
        frac = np.minimum(t_arr, horizon) / horizon
        lo = min(config.lr_min, config.lr)
        out = lo + (config.lr - lo) * 0.5 * (1.0 + np.cos(math.pi * frac))
    else:
        raise ValueError(f"unknown schedule {kind!r}")
    return float(out) if np.ndim(t) == 0 else out
