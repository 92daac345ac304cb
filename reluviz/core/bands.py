"""Seed bands: many seeds of one setting trained side by side, summarised by median and quartiles.

``run_seeds`` trains R runs at once on the vectorised trainer, run r with init seed and sample
seed ``seeds[r]`` (the init and minibatch streams are separate RNG streams, so one number serves
both). Every ``every`` steps (and at step 0 and the last step) it records the full training-set,
validation-set and test-set MSE of every run (``model.mse`` on the (R, P) parameters). Settings
are compared on the validation loss (notes, Figure 3.1: choices are made on validation data; the
test set is kept for the final check of the chosen one). Runs that diverge
are frozen by the trainer at their last finite state; their losses stay in the record and
``diverged`` marks them.

``band`` summarises a (T, R) record per step with ``np.percentile(values, [25, 50, 75], axis=1)``:
the median and the interquartile range over runs, exactly (the course notebook computed its error
bars differently; ours are these percentiles, nothing else).

``seed_bands`` does this for several optimizers with the same seeds (so the comparison is
paired: same data, same initialisations, same minibatch order), in the calling thread, with a
``progress(done, total)`` callback and a ``should_stop()`` poll so a worker thread can report and
cancel. ``sweep`` spreads (width, optimizer) settings over worker processes (the notebook's
widths 10/20/40 x sgd/momentum/adam x 30 seeds x 30,000 steps).

Progress is counted in training steps: ``done`` and ``total`` sum the steps of every setting.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from reluviz.core.config import TrainConfig
from reluviz.core.data import Dataset, make_dataset
from reluviz.core.model import mse
from reluviz.core.presets import load_preset
from reluviz.core.trainer import Trainer

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]

#: Minimum seconds between two progress callbacks (the last one always comes).
PROGRESS_INTERVAL = 0.05

#: Environment that keeps BLAS single-threaded in sweep workers (one process per core).
_SINGLE_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True, eq=False)
class Band:
    """Median and quartiles per recorded step: each (T,)."""

    steps: np.ndarray
    q25: np.ndarray
    median: np.ndarray
    q75: np.ndarray


def band(values: np.ndarray, steps: np.ndarray | None = None) -> Band:
    """Quartiles over runs of a (T, R) record: ``np.percentile(values, [25, 50, 75], axis=1)``."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError("band needs a (steps, runs) array with at least one run")
    q = np.percentile(values, [25, 50, 75], axis=1)
    st = np.arange(values.shape[0]) if steps is None else np.asarray(steps)
    return Band(st, q[0], q[1], q[2])


@dataclass(frozen=True, eq=False)
class SeedRuns:
    """R runs of ``config`` (seeds ``seeds``): losses (T, R) at ``steps`` (T,): ``train``, ``test``
    and ``val`` (the validation set: what settings are compared on).

    ``complete`` is False when stopped early (then the record ends at the last recorded step).
    ``diverged`` (R,): runs the trainer stopped on an exploding loss. ``seconds``: wall time.
    """

    config: TrainConfig
    seeds: np.ndarray
    steps: np.ndarray
    train: np.ndarray
    test: np.ndarray
    diverged: np.ndarray
    complete: bool
    seconds: float
    val: np.ndarray | None = None

    @property
    def runs(self) -> int:
        return int(self.seeds.shape[0])

    def band(self, which: str = "val", include_diverged: bool = True) -> Band:
        """Quartile band of ``'train'``, ``'val'`` or ``'test'`` loss over runs (optionally without
        diverged runs)."""
        values = {"train": self.train, "test": self.test, "val": self.val}[which]
        if values is None:
            raise ValueError(f"no {which} losses were recorded")
        if not include_diverged:
            values = values[:, ~self.diverged]
        return band(values, self.steps)


def _seed_list(seeds: int | Sequence[int], seed0: int) -> np.ndarray:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError("need at least one seed")
        return np.arange(seed0, seed0 + int(seeds), dtype=np.int64)
    out = np.asarray(list(seeds), dtype=np.int64)
    if out.size == 0:
        raise ValueError("need at least one seed")
    return out


class _Throttle:
    """Calls ``progress`` at most every PROGRESS_INTERVAL seconds, and always at the end."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.last = progress, total, -np.inf

    def __call__(self, done: int, final: bool = False) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if final or done >= self.total or now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            self.progress(done, self.total)


def run_seeds(config: TrainConfig, seeds: int | Sequence[int] = 30, *, seed0: int = 0, steps: int | None = None,
              every: int = 100, dataset: Dataset | None = None, progress: Progress | None = None,
              should_stop: ShouldStop | None = None, _offset: int = 0, _total: int | None = None) -> SeedRuns:
    """Train ``seeds`` runs of ``config`` for ``steps`` (default ``config.steps``) steps at once.

    Records train, validation and test MSE of every run at steps 0, every, 2 every, ..., and the last step.
    ``progress(done, total)`` is called as steps complete; ``should_stop()`` is polled between
    recordings and inside the trainer (every 64 steps); when it returns True the run stops and
    the result has ``complete=False``.
    """
    t0 = time.perf_counter()
    steps = config.steps if steps is None else int(steps)
    if every < 1:
        raise ValueError("every must be at least 1")
    seed_arr = _seed_list(seeds, seed0)
    ds = dataset if dataset is not None else make_dataset(config)
    tr = Trainer(config, dataset=ds, runs=len(seed_arr), init_seeds=seed_arr, sample_seeds=seed_arr)
    n_rec = steps // every + 1 + (1 if steps % every else 0)
    rec_steps = np.empty(n_rec, dtype=np.int64)
    train = np.empty((n_rec, len(seed_arr)))
    test = np.empty((n_rec, len(seed_arr)))
    val = np.empty((n_rec, len(seed_arr)))

    def record(k: int) -> None:
        rec_steps[k] = tr.step
        with np.errstate(over="ignore", invalid="ignore"):
            train[k] = mse(tr.layout, tr.params, ds.x_train, ds.y_train, compiled=True)
            val[k] = mse(tr.layout, tr.params, ds.x_val, ds.y_val, compiled=True) if ds.n_val else np.nan
            test[k] = mse(tr.layout, tr.params, ds.x_test, ds.y_test, compiled=True)

    throttle = _Throttle(progress, steps if _total is None else _total)
    k = 0
    complete = True
    while True:
        record(k)
        k += 1
        throttle(_offset + tr.step)
        if tr.step >= steps:
            break
        if should_stop is not None and should_stop():
            complete = False
            break
        target = min(steps, (tr.step // every + 1) * every)
        want = target - tr.step
        if tr.stopped:
            tr.step = target  # every run diverged: the frozen state stays, losses repeat
            continue
        done = tr.run(want, should_stop=should_stop)
        if done < want and not tr.stopped:
            complete = False  # cancelled inside the trainer: record where we are and stop
            record(k)
            k += 1
            break
        if tr.stopped:
            tr.step = target
    throttle(_offset + int(rec_steps[k - 1]), final=True)
    return SeedRuns(config, seed_arr, rec_steps[:k].copy(), train[:k].copy(), test[:k].copy(),
                    tr.diverged.copy(), complete, time.perf_counter() - t0, val=val[:k].copy())


def seed_bands(config: TrainConfig, optimizers: Iterable[str] = ("sgd", "momentum", "adam"),
               seeds: int | Sequence[int] = 30, *, seed0: int = 0, steps: int | None = None, every: int = 100,
               overrides: dict[str, dict[str, Any]] | None = None, progress: Progress | None = None,
               should_stop: ShouldStop | None = None) -> dict[str, SeedRuns]:
    """``run_seeds`` for each optimizer (same data and seeds), in this thread, one after another.

    ``overrides[optimizer]`` holds extra settings for that optimizer (e.g. ``{"adam": {"lr": 0.005}}``).
    Stopping early returns the optimizers done so far plus the partial one (``complete=False``).
    """
    optimizers = list(optimizers)
    steps = config.steps if steps is None else int(steps)
    ds = make_dataset(config)
    out: dict[str, SeedRuns] = {}
    total = steps * len(optimizers)
    for i, opt in enumerate(optimizers):
        cfg = config.updated({"optimizer": opt, **((overrides or {}).get(opt, {}))})
        res = run_seeds(cfg, seeds, seed0=seed0, steps=steps, every=every, dataset=ds, progress=progress,
                        should_stop=should_stop, _offset=i * steps, _total=total)
        out[opt] = res
        if not res.complete:
            break
    return out


# ---------------------------------------------------------------------- the sweep, over processes
_worker_queue = None
_worker_stop = None


def _worker_init(progress_queue, stop_event) -> None:
    global _worker_queue, _worker_stop
    _worker_queue, _worker_stop = progress_queue, stop_event


def _sweep_task(key: tuple[int, str], config: TrainConfig, seeds: np.ndarray, steps: int, every: int) -> SeedRuns:
    q, ev = _worker_queue, _worker_stop

    def report(done: int, total: int) -> None:
        if q is not None:
            q.put((key, done))

    return run_seeds(config, seeds, steps=steps, every=every, progress=report,
                     should_stop=(ev.is_set if ev is not None else None))


def sweep(widths: Sequence[int] = (10, 20, 40), optimizers: Sequence[str] = ("sgd", "momentum", "adam"),
          seeds: int | Sequence[int] = 30, steps: int = 30000, every: int = 300, processes: int = 2, *,
          config: TrainConfig | None = None, overrides: dict[str, dict[str, Any]] | None = None, seed0: int = 0,
          progress: Progress | None = None, should_stop: ShouldStop | None = None) -> dict[tuple[int, str], SeedRuns]:
    """The notebook sweep: every (width, optimizer) pair trained on ``seeds`` seeds, over processes.

    ``config`` defaults to the ``notebook`` preset; ``overrides[optimizer]`` adds settings per
    optimizer. Uses ``processes`` worker processes (spawned, with single-threaded BLAS so that
    workers do not fight over cores); ``processes=1`` runs everything in this process. Results are
    keyed by (width, optimizer). ``should_stop()`` is polled about 10 times a second: when True
    the workers stop at their next poll and unfinished settings come back with ``complete=False``
    (settings never started are left out).
    """
    base = config if config is not None else load_preset("notebook").config
    seed_arr = _seed_list(seeds, seed0)
    tasks = []
    for width in widths:
        for opt in optimizers:
            cfg = base.updated({"width": int(width), "optimizer": opt, **((overrides or {}).get(opt, {}))})
            tasks.append(((int(width), opt), cfg))
    total = steps * len(tasks)
    throttle = _Throttle(progress, total)
    results: dict[tuple[int, str], SeedRuns] = {}
    if processes <= 1 or len(tasks) == 1:
        for i, (key, cfg) in enumerate(tasks):
            res = run_seeds(cfg, seed_arr, steps=steps, every=every, should_stop=should_stop,
                            progress=(lambda d, t, off=i * steps: throttle(off + d)) if progress else None)
            results[key] = res
            if not res.complete:
                break
        throttle(sum(int(r.steps[-1]) for r in results.values()), final=True)
        return {key: results[key] for key, _ in tasks if key in results}

    # Biggest settings first (cost grows with width; adam does a little more per step): the two
    # workers then finish close together.
    cost = {"sgd": 1.0, "momentum": 1.0, "nesterov": 1.05, "adam": 1.2}
    order = sorted(tasks, key=lambda kc: -(kc[1].width + 10) * cost.get(kc[1].optimizer, 1.0))
    ctx = mp.get_context("spawn")
    progress_queue = ctx.Queue()
    stop_event = ctx.Event()
    done_steps: dict[tuple[int, str], int] = {}
    saved = {k: os.environ.get(k) for k in _SINGLE_THREAD_ENV}
    for k in _SINGLE_THREAD_ENV:
        os.environ[k] = "1"  # inherited by the spawned workers (they start during submit)
    try:
        with ProcessPoolExecutor(max_workers=min(processes, len(tasks)), mp_context=ctx,
                                 initializer=_worker_init, initargs=(progress_queue, stop_event)) as pool:
            futures: dict[Future, tuple[int, str]] = {}
            for key, cfg in order:
                futures[pool.submit(_sweep_task, key, cfg, seed_arr, steps, every)] = key
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            saved = {}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for fut in finished:
                    if not fut.cancelled():
                        res = fut.result()
                        results[futures[fut]] = res
                        done_steps[futures[fut]] = int(res.steps[-1])
                _drain(progress_queue, done_steps)
                throttle(sum(done_steps.values()))
                if should_stop is not None and not stop_event.is_set() and should_stop():
                    stop_event.set()
                    for fut in pending:
                        fut.cancel()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    throttle(sum(done_steps.values()), final=True)
    return {key: results[key] for key, _ in tasks if key in results}


def _drain(q, done_steps: dict) -> None:
    while True:
        try:
            key, done = q.get_nowait()
        except queue.Empty:
            return
        done_steps[key] = max(done_steps.get(key, 0), int(done))


# ---------------------------------------------------------------------- tasks for a background thread
BAND_OPTIMIZERS = ("sgd", "momentum", "adam")
SWEEP_WIDTHS = (10, 20, 40)
SWEEP_SEEDS = 30
SWEEP_STEPS = 30000
SWEEP_EVERY = 300
NOTEBOOK_MINUTES = 35.2
BAND_POINTS = 300  # loss recordings per run


@dataclass(frozen=True)
class BandsResult:
    runs: dict            # optimizer -> SeedRuns
    complete: bool


@dataclass(frozen=True)
class SweepResult:
    runs: dict            # (width, optimizer) -> SeedRuns
    complete: bool
    seeds: int
    steps: int


def bands_task(config: TrainConfig, optimizers: list[str], seeds: int, steps: int):
    """Worker function: ``seed_bands`` one optimizer at a time (same seeds), partial results between."""
    every = max(1, steps // BAND_POINTS)

    def task(progress, should_stop, partial):
        out: dict[str, SeedRuns] = {}
        n = len(optimizers)
        for i, opt in enumerate(optimizers):
            res = seed_bands(config, [opt], seeds, steps=steps, every=every, should_stop=should_stop,
                             progress=lambda d, t, i=i: progress(i * steps + d, n * steps))
            out.update(res)
            complete = all(r.complete for r in out.values()) and len(out) == i + 1
            if not complete or should_stop():
                return BandsResult(dict(out), False)
            partial(BandsResult(dict(out), i == n - 1))
        return BandsResult(out, True)

    return task


def sweep_task(seeds: int = SWEEP_SEEDS, steps: int = SWEEP_STEPS, processes: int = 2,
               widths=SWEEP_WIDTHS, optimizers=BAND_OPTIMIZERS, every: int = SWEEP_EVERY):
    def task(progress, should_stop, partial):
        res = sweep(widths, optimizers, seeds=seeds, steps=steps, every=min(every, max(1, steps // 10)),
                    processes=processes, progress=progress, should_stop=should_stop)
        complete = len(res) == len(widths) * len(optimizers) and all(r.complete for r in res.values())
        return SweepResult(res, complete, seeds, steps)

    return task
