"""Model selection as the notes teach it (Lecture 2, Figure 3.1, eqs. 3.2-3.3): parameters are fit on
the training set, a hyperparameter is chosen by the validation loss, and the test set is used once,
to report the chosen setting's error.

``sweep_selection(config, param, values, ...)`` trains ``config`` once per value of one
hyperparameter and records, at the end of each training, the MSE on the training, validation and
test sets and the error to the true function (``SelectionResult``):

* ``ridge``: the ridge lambda (``values`` usually a log grid). All settings train side by side as
  one vectorised ``Trainer`` (the runs axis: run k has its own lambda), so the whole grid costs
  about as much as one run per seed.
* ``width``: the number of hidden units (relu only). Each width is a different network shape, so
  the widths train one after another (the seeds of one width side by side).
* ``steps``: the training length: one run, evaluated at each step of ``values``. This is early
  stopping as a special case of model selection: the step with the lowest validation loss is the
  one to keep.

``seeds`` > 1 trains each setting from that many initialisations (and minibatch orders) and
averages its losses over them. A run that diverges is marked and never chosen.
``SelectionResult.best`` is the setting with the lowest validation loss; ``test_at_best`` is the
one number the test set is for. Long sweeps report ``progress(done, total)``, stop early when
``should_stop()`` turns True (the result then says ``complete=False``) and hand ``partial``
results over as settings finish (``selection_task``: the ``TaskWorker`` protocol).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.data import Dataset, make_dataset
from reluviz.core.model import mse
from reluviz.core.trainer import Trainer

PARAMETERS = ("ridge", "width", "steps")
#: How each hyperparameter is named in words and on an axis.
PARAMETER_LABELS = {"ridge": "ridge λ", "width": "width H (hidden units)", "steps": "training steps"}
SAMPLES = ("train", "val", "test", "true")
CHUNK = 500  # training steps between polls of should_stop and progress reports

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


@dataclass(frozen=True, eq=False)
class SelectionResult:
    """Losses of each setting of one hyperparameter.

    ``param``: ``'ridge'``, ``'width'`` or ``'steps'``; ``values`` (K,): its settings (those done so
    far when ``complete`` is False); ``train``, ``val``, ``test``, ``true`` (K,): MSE on the
    training, validation and test sets and the error to the true function (NaN without one),
    each the mean over ``seeds`` initialisations; ``diverged`` (K,): some seed of that setting
    diverged (never chosen). ``steps``: training steps of each setting (for ``'steps'``: the
    longest). ``seconds``: wall time.
    """

    param: str
    values: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    true: np.ndarray
    diverged: np.ndarray
    steps: int
    seeds: int
    complete: bool
    seconds: float

    @property
    def best(self) -> int:
        """Index of the setting with the lowest validation loss among those that did not diverge (-1: none)."""
        ok = np.isfinite(self.val) & ~self.diverged
        if not ok.any():
            return -1
        return int(np.argmin(np.where(ok, self.val, np.inf)))

    @property
    def best_value(self) -> float:
        return float(self.values[self.best]) if self.best >= 0 else float("nan")

    @property
    def test_at_best(self) -> float:
        """The chosen setting's test MSE: the one look at the test set."""
        return float(self.test[self.best]) if self.best >= 0 else float("nan")

    def csv_text(self) -> str:
        """The table as CSV: the hyperparameter, the four losses, diverged, and which row validation chose."""
        out = io.StringIO()
        out.write(f"{self.param},train_loss,val_loss,test_loss,true_error,diverged,chosen\n")
        for k, value in enumerate(self.values):
            cells = [f"{value:.9g}"] + [f"{getattr(self, s)[k]:.9g}" for s in SAMPLES]
            cells += [str(int(self.diverged[k])), str(int(k == self.best))]
            out.write(",".join(cells) + "\n")
        return out.getvalue()

    def summary(self) -> str:
        """One sentence: what validation picks and that setting's test error."""
        if self.best < 0:
            return "No setting finished without diverging: nothing to choose."
        k = self.best
        return (f"Validation picks {PARAMETER_LABELS[self.param].split(' (')[0]} = {format_value(self.param, self.values[k])} "
                f"(validation MSE {self.val[k]:.4g}); its test MSE, the one look at the test set: {self.test[k]:.4g}.")


def format_value(param: str, value: float) -> str:
    """A setting as people write it: 0.001 or 1e-05 for lambda, whole numbers for width and steps."""
    if param == "ridge":
        return f"{value:.3g}"
    return f"{int(round(value)):,}"


def default_values(param: str, config: TrainConfig, points: int | None = None) -> np.ndarray:
    """A grid for ``param``: lambda log-spaced over 1e-6..1 (a point per half decade); widths
    1, 2, 4, ... 256; steps log-spaced from 10 to ``config.steps`` (about 25; a log axis has no 0)."""
    if param == "ridge":
        return np.logspace(-6, 0, points or 13)
    if param == "width":
        return 2.0 ** np.arange(points or 9)
    if param == "steps":
        last = max(int(config.steps), 20)
        return np.unique(np.round(np.logspace(1, np.log10(last), points or 25))).astype(float)
    raise ValueError(f"unknown hyperparameter {param!r} (one of {', '.join(PARAMETERS)})")


def check_sweep(config: TrainConfig, param: str, values: Sequence[float], steps: int, seeds: int) -> np.ndarray:
    """The grid as a sorted array; ``ConfigError`` (one line) for a sweep that cannot run."""
    if param not in PARAMETERS:
        raise ConfigError(f"the hyperparameter to sweep is one of {', '.join(PARAMETERS)}, not '{param}'")
    v = np.unique(np.asarray(values, dtype=float))
    if len(v) < 2:
        raise ConfigError("a sweep needs at least two settings to choose from")
    if not np.all(np.isfinite(v)):
        raise ConfigError("every setting of a sweep must be a finite number")
    if param == "ridge" and v.min() < 0:
        raise ConfigError(f"ridge lambda must be >= 0, got {v.min():g}")
    if param in ("width", "steps"):
        if not np.all(v == np.round(v)):
            raise ConfigError(f"{param} settings must be whole numbers")
        if param == "width" and (v.min() < 1 or config.model != "relu"):
            raise ConfigError("a width sweep needs model=relu and widths >= 1" if config.model != "relu"
                              else f"widths must be at least 1, got {v.min():g}")
        if param == "steps" and v.min() < 0:
            raise ConfigError(f"step settings must be >= 0, got {v.min():g}")
    if param != "steps" and steps < 1:
        raise ConfigError(f"each setting must train at least one step, got {steps}")
    if seeds < 1:
        raise ConfigError(f"seeds must be at least 1, got {seeds}")
    return v


def _losses(trainer: Trainer, ds: Dataset) -> dict[str, np.ndarray]:
    """(R,) MSE of every run on each sample (NaN for an empty one)."""
    out = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for which in SAMPLES:
            x, y = ds.sample(which)
            out[which] = mse(trainer.layout, trainer.params, x, y) if len(x) else np.full(trainer.runs, np.nan)
    return out


def _mean_over_seeds(values: np.ndarray, seeds: int) -> np.ndarray:
    """(K * S,) run values, setting-major -> (K,) means over the S seeds."""
    return np.asarray(values, dtype=float).reshape(-1, seeds).mean(axis=1)


def _train(trainer: Trainer, steps: int, done: int, total: int, progress: Progress | None,
           should_stop: ShouldStop | None) -> bool:
    """Train up to ``steps`` more steps in chunks; False when stopped by ``should_stop``."""
    target = trainer.step + steps
    while trainer.step < target and not trainer.stopped:
        if should_stop is not None and should_stop():
            return False
        start = trainer.step
        trainer.run(min(CHUNK, target - trainer.step), should_stop=should_stop)
        if progress:
            progress(done + trainer.step - (target - steps), total)
        if trainer.step == start:
            break
    if trainer.stopped:  # every run diverged: nothing more will change
        trainer.step = target
    return not (should_stop is not None and should_stop() and trainer.step < target)


def sweep_selection(config: TrainConfig, param: str, values: Sequence[float], *, steps: int | None = None,
                    seeds: int = 1, dataset: Dataset | None = None, progress: Progress | None = None,
                    should_stop: ShouldStop | None = None,
                    partial: Callable[[SelectionResult], None] | None = None) -> SelectionResult:
    """Train ``config`` at each of ``values`` of ``param`` and return the losses (see the module notes).

    ``steps``: training steps of each setting (default ``config.steps``; ignored for ``'steps'``,
    whose values are the steps). ``seeds``: initialisations per setting (seeds ``init_seed``,
    ``init_seed + 1``, ...; minibatch orders likewise). ``partial(result)`` gets the settings done so
    far. ``ConfigError`` for a sweep that cannot run (``check_sweep``).
    """
    t0 = time.perf_counter()
    steps = int(config.steps if steps is None else steps)
    v = check_sweep(config, param, values, steps, seeds)
    ds = dataset if dataset is not None else make_dataset(config)
    seed_list = np.arange(seeds) + config.init_seed
    batch_seeds = np.arange(seeds) + config.sample_seed
    rows: dict[str, list[float]] = {s: [] for s in SAMPLES}
    diverged: list[bool] = []
    done_values: list[float] = []

    def result(complete: bool) -> SelectionResult:
        return SelectionResult(param, np.asarray(done_values, dtype=float),
                               *(np.asarray(rows[s], dtype=float) for s in SAMPLES),
                               np.asarray(diverged, dtype=bool), int(v[-1]) if param == "steps" else steps, seeds,
                               complete, time.perf_counter() - t0)

    def add(value_list, losses: dict[str, np.ndarray], div: np.ndarray) -> None:
        for s in SAMPLES:
            rows[s].extend(_mean_over_seeds(losses[s], seeds).tolist())
        diverged.extend(np.asarray(div, dtype=bool).reshape(-1, seeds).any(axis=1).tolist())
        done_values.extend(float(x) for x in value_list)
        if partial is not None:
            partial(result(False))

    if param == "ridge":
        trainer = Trainer(config, dataset=ds, runs=len(v) * seeds, init_seeds=np.tile(seed_list, len(v)),
                          sample_seeds=np.tile(batch_seeds, len(v)), ridges=np.repeat(v, seeds))
        if not _train(trainer, steps, 0, steps, progress, should_stop):
            return result(False)
        add(v, _losses(trainer, ds), trainer.diverged)
        return result(True)

    if param == "width":
        cost = v + 1.0  # (a step costs about width + 1 per point)
        total = int(round(steps * cost.sum()))
        done = 0.0
        for k, width in enumerate(v):
            trainer = Trainer(config.updated({"width": int(width)}), dataset=ds, runs=seeds, init_seeds=seed_list,
                              sample_seeds=batch_seeds)
            weight = cost[k]
            report = (lambda d, t, base=done, w=weight: progress(int(base + w * d), total)) if progress else None
            if not _train(trainer, steps, 0, steps, report, should_stop):
                return result(False)
            done += weight * steps
            add([width], _losses(trainer, ds), trainer.diverged)
        return result(True)

    # steps: one training, evaluated along the way (early stopping)
    trainer = Trainer(config, dataset=ds, runs=seeds, init_seeds=seed_list, sample_seeds=batch_seeds)
    last = int(v[-1])
    for step in v.astype(np.int64):
        if not _train(trainer, int(step) - trainer.step, trainer.step, last, progress, should_stop):
            return result(False)
        add([step], _losses(trainer, ds), trainer.diverged)
    return result(True)


def selection_task(config: TrainConfig, param: str, values: Sequence[float], steps: int | None = None,
                   seeds: int = 1) -> Callable[[Progress, ShouldStop, Callable[[Any], None]], SelectionResult]:
    """``sweep_selection`` as a ``TaskWorker`` task (progress, should_stop, partial)."""
    values = np.asarray(values, dtype=float).copy()

    def task(progress, should_stop, partial):
        return sweep_selection(config, param, values, steps=steps, seeds=seeds, progress=progress,
                               should_stop=should_stop, partial=partial)

    return task
