"""The side-by-side dance (lecture note 2, Figure 3) as a task for a background thread.

``dance_task(config, overrides, dataset, start, steps)`` trains the run and its ghost
(``reluviz.core.compare.DanceRun``) in chunks and returns a ``DanceResult``: both runs' distance
to theta* and excess loss against step, their running RMS / mean over a trailing window, and the
noise floor of the constant-rate run. ``default_ghost(config)`` is the ghost a dance uses when a
preset names none: an inverse decay whose rate falls 40-fold over the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reluviz.core.compare import DanceRun, DanceTrace
from reluviz.core.config import TrainConfig

DANCE_RECORD_POINTS = 2000  # recorded points per run in a dance


def default_ghost(config: TrainConfig | None) -> dict:
    """The ghost's settings when none are given: lr / (1 + k t) falling 40-fold over ``config.steps``
    (decay 0.002 for 20,000 steps)."""
    steps = config.steps if config is not None and config.steps > 0 else 20000
    return {"schedule": "inverse", "decay": float(f"{40.0 / steps:.3g}")}


def describe_lr(cfg: TrainConfig) -> str:
    """The learning rate of ``cfg`` in words fit for a legend."""
    s = cfg.schedule
    if s == "constant":
        return f"constant lr {cfg.lr:g}"
    if s == "inverse":
        return f"decaying lr {cfg.lr:g}/(1 + {cfg.decay:g} t)"
    if s == "step":
        return f"lr {cfg.lr:g} × {cfg.gamma:g} every {cfg.step_size} steps"
    if s == "exponential":
        return f"lr {cfg.lr:g} × {cfg.exp_gamma:g}^t"
    return f"cosine lr {cfg.lr:g} → {cfg.lr_min:g}"


def run_labels(cfg: TrainConfig, overrides: dict) -> tuple[str, str]:
    ghost = cfg.updated(dict(overrides))
    extra = [f"{k}={v}" for k, v in overrides.items()
             if k not in ("schedule", "lr", "decay", "gamma", "step_size", "exp_gamma", "lr_min", "t_max")]
    g = describe_lr(ghost) + (f" ({', '.join(extra)})" if extra else "")
    return f"as set: {describe_lr(cfg)}", f"ghost: {g}"


@dataclass(frozen=True)
class DanceResult:
    """What the dance worker hands to the GUI thread (arrays are not shared with the worker after)."""

    trace: DanceTrace
    main_label: str
    ghost_label: str
    optimum_label: str
    start: str
    steps_total: int
    complete: bool
    floor: float          # RMS distance of the run as set over the second half of the record
    final_ghost: float    # the ghost's RMS distance over the last window
    smooth_distance: np.ndarray   # (T, 2) RMS of the distance over a trailing window
    smooth_excess: np.ndarray     # (T, 2) mean excess loss over the same window
    window: int                   # recorded points per window


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean over the last ``window`` rows at each row (fewer at the start): (T, k) -> (T, k)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return v.copy()
    c = np.cumsum(np.vstack([np.zeros((1,) + v.shape[1:]), v]), axis=0)
    i = np.arange(1, len(v) + 1)
    lo = np.maximum(i - window, 0)
    return (c[i] - c[lo]) / (i - lo).reshape((-1,) + (1,) * (v.ndim - 1))


def dance_task(config: TrainConfig, overrides: dict, dataset, start: str, steps: int):
    """The worker function (``TaskWorker`` protocol) of the side-by-side dance."""
    main_label, ghost_label = run_labels(config, overrides)
    every = max(1, steps // DANCE_RECORD_POINTS)
    chunk = max(every, (steps // 40) // every * every)

    def result(d: DanceRun, complete: bool) -> DanceResult:
        tr = d.trace()
        n = len(tr.steps)
        window = max(1, (steps // every) // 40)
        sd = np.sqrt(trailing_mean(tr.distance**2, window))
        se = trailing_mean(tr.excess, window)
        floor = float(np.sqrt(np.mean(tr.distance[n // 2 :, 0] ** 2))) if n else float("nan")
        last = float(sd[-1, 1]) if n else float("nan")
        return DanceResult(tr, main_label, ghost_label, d.optimum_main.label, start, steps, complete, floor, last,
                           sd, se, window)

    def task(progress, should_stop, partial):
        d = DanceRun(config, overrides, dataset=dataset, start=start)
        while d.step < steps and not should_stop():
            before = d.step
            d.advance(min(chunk, steps - d.step), every=every)
            progress(d.step, steps)
            partial(result(d, False))
            if d.step == before or d.main.stopped:
                break
        return result(d, d.step >= steps)

    return task
