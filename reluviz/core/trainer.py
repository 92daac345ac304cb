"""The trainer: minibatch SGD (and friends) on R independent runs at once, exact and allocation-free.

A ``Trainer`` owns the dataset, the current state of every run and two sets of state buffers
(step t and step t + 1). One step: gather the minibatch (``np.take`` into preallocated buffers),
compute loss and gradient (``GradientWorkspace``), check the loss, report the step to ``on_step``
if asked, then write the updated state into the other buffer and swap. Everything random is a
function of seeds and the step number, so ``run(N)`` equals N calls of ``run(1)`` bit for bit,
and restoring a snapshot resumes the same trajectory.

Divergence: a run whose minibatch loss is non-finite or above ``explode_limit`` stops; its state
goes back to the last finite one (the previous buffer) and it is frozen. When every run has
stopped, ``run`` returns early and ``divergence`` says why, in words a student can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.data import Dataset, make_dataset
from reluviz.core.init import init_params
from reluviz.core.model import GradientWorkspace, Layout
from reluviz.core.optimizers import Updater, slots
from reluviz.core.sampling import BLOCK, BatchStream
from reluviz.core.schedules import lr_at
from reluviz.core.snapshot import Snapshot

#: Fields that define the data and the model: changing one needs a new Trainer (a reset).
RESET_FIELDS = ("target", "n_train", "noise", "data_seed", "csv_path", "model", "width", "init", "init_seed")


class StepSink(Protocol):
    def __call__(self, step: int, state: np.ndarray, batch: np.ndarray, batch_loss: np.ndarray,
                 lr: np.ndarray, diverged: np.ndarray) -> None: ...


@dataclass(frozen=True)
class Divergence:
    """Why training stopped: the first step whose minibatch loss was bad, and a sentence."""

    step: int
    loss: float
    reason: str


class Trainer:
    """Trains R runs of one configuration (runs may differ in init seed, batch seed and lr scale).

    Parameters
    ----------
    config: the settings (validated).
    dataset: the data; made from ``config`` when omitted.
    runs: R, the number of runs side by side.
    init_seeds, sample_seeds: one per run (default: the config's seed for every run).
    lr_scale: (R,) factors on the learning rate per run (default 1).
    """

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None, runs: int = 1,
                 init_seeds: Sequence[int] | None = None, sample_seeds: Sequence[int] | None = None,
                 lr_scale: Sequence[float] | None = None):
        config.validate()
        self.dataset = dataset if dataset is not None else make_dataset(config)
        if runs < 1:
            raise ConfigError(f"runs must be at least 1, got {runs}")
        self.runs = runs
        self.layout = Layout(config.model, config.width if config.model == "relu" else 0)
        self.init_seeds = np.asarray(init_seeds if init_seeds is not None else [config.init_seed] * runs, dtype=np.int64)
        self.sample_seeds = np.asarray(sample_seeds if sample_seeds is not None else [config.sample_seed] * runs, dtype=np.int64)
        self.lr_scale = np.asarray(lr_scale if lr_scale is not None else np.ones(runs), dtype=float).reshape(runs, 1)
        if len(self.init_seeds) != runs or len(self.sample_seeds) != runs:
            raise ConfigError("need one init seed and one sample seed per run")
        ds = self.dataset
        self._x1 = np.stack([ds.x_train, np.ones_like(ds.x_train)], axis=1)  # (n, 2) rows [x, 1]
        self.explode_limit = 1e10 * (1.0 + float(np.mean(ds.y_train**2)))
        self.step = 0
        self.diverged = np.zeros(runs, dtype=bool)
        self.divergence: Divergence | None = None
        size = self.layout.size
        init = np.stack([init_params(self.layout, config.init, int(s), ds.x_range) for s in self.init_seeds])
        self.config = config
        self._configure(config, keep_slots=False)
        self._cur[:, :size] = init

    # ------------------------------------------------------------------ configuration
    def _configure(self, config: TrainConfig, keep_slots: bool) -> None:
        n = self.dataset.n
        batch = config.effective_batch(n)
        if batch > n:
            raise ConfigError(f"batch_size {batch} is larger than the data ({n} points); use 0 for full batch")
        size = self.layout.size
        width = size * (1 + slots(config.optimizer))
        old = getattr(self, "_cur", None)
        self._bufs = [np.zeros((self.runs, width)), np.zeros((self.runs, width))]
        if old is not None:
            self._bufs[0][:, :size] = old[:, :size]
            if keep_slots and old.shape[1] == width:
                self._bufs[0][:, size:] = old[:, size:]
        self._cur_i = 0
        self.config = config
        self.batch_size = batch
        self.full_batch = batch == n
        self._ws = GradientWorkspace(self.layout, self.runs, batch)
        if self.full_batch:
            self._ws.xb1[:] = self._x1
            self._ws.yb[:] = self.dataset.y_train
            self._stream = None
        else:
            self._stream = BatchStream(config.sampling, self.sample_seeds, n, batch)
        self._grad = np.empty((self.runs, size))
        self._updater = Updater(config, self.runs, size, self.layout.mask(config.train))
        self._lr_block = -1
        self._lr_values = np.empty(BLOCK)
        self._lr_now = np.empty((self.runs, 1))

    def reconfigure(self, config: TrainConfig) -> None:
        """Apply new optimizer, schedule or batch settings from the next step on, keeping the run.

        Data and model settings (``RESET_FIELDS``) cannot change here: make a new Trainer.
        Optimizer slots (momentum buffer, Adam moments) are kept when the optimizer kind stays,
        and start from zero when it changes.
        """
        config.validate()
        changed = [f for f in RESET_FIELDS if getattr(config, f) != getattr(self.config, f)]
        if changed:
            raise ConfigError(f"changing {', '.join(changed)} needs a new run (reset)")
        keep = config.optimizer == self.config.optimizer
        self._configure(config, keep_slots=keep)

    # ------------------------------------------------------------------ state
    @property
    def _cur(self) -> np.ndarray:
        return self._bufs[self._cur_i]

    @property
    def state(self) -> np.ndarray:
        """(R, P * (1 + slots)) current state (live buffer: copy it to keep it)."""
        return self._cur

    @property
    def params(self) -> np.ndarray:
        """(R, P) current parameters (live view)."""
        return self._cur[:, : self.layout.size]

    @property
    def stopped(self) -> bool:
        return bool(self.diverged.all())

    @property
    def epoch(self) -> float:
        """Passes over the training data so far (step * B / n)."""
        return self.step * self.batch_size / self.dataset.n

    def lr_at(self, step: int) -> np.ndarray:
        """(R,) learning rate of the update that follows ``step`` (0 for stopped runs)."""
        return (self.lr_scale[:, 0] * lr_at(self.config, step)) * ~self.diverged

    def _load_batch(self, step: int) -> np.ndarray:
        if self.full_batch:
            return _full_batch_indices(self.runs, self.dataset.n)
        idx = self._stream.at(step)
        np.take(self._x1, idx, axis=0, out=self._ws.xb1)
        np.take(self.dataset.y_train, idx, out=self._ws.yb)
        return idx

    def snapshot(self) -> Snapshot:
        """An immutable copy of the current state, with the next batch and its loss."""
        idx = self._load_batch(self.step)
        loss = self._ws.loss_and_grad(self.params, self._grad).copy()
        return Snapshot.create(self.step, self.layout, self._cur, idx, loss, self.lr_at(self.step), self.diverged)

    def restore(self, snap: Snapshot) -> None:
        """Continue from ``snap`` (same configuration): state, step and stopped runs come back."""
        if snap.state.shape != self._cur.shape:
            raise ConfigError("that snapshot belongs to a different model or optimizer")
        self._cur[...] = snap.state
        self.step = snap.step
        self.diverged = np.array(snap.diverged, dtype=bool)
        self.divergence = None

    # ------------------------------------------------------------------ training
    def run(self, n_steps: int, on_step: StepSink | None = None, every: int = 1,
            should_stop: Callable[[], bool] | None = None) -> int:
        """Do up to ``n_steps`` updates; return how many were done.

        ``on_step(step, state, batch, batch_loss, lr, diverged)`` is called before the update of
        every step divisible by ``every``, with live buffers (copy what you keep).
        ``should_stop()`` is polled every 64 steps (for a worker thread that wants to pause).
        """
        done = 0
        ws, grad, updater = self._ws, self._grad, self._updater
        limit = self.explode_limit
        lr_now = self._lr_now
        any_dead = bool(self.diverged.any())
        size = self.layout.size
        if self.stopped:
            return 0
        while done < n_steps:
            t = self.step
            block = t // BLOCK
            if block != self._lr_block:
                self._lr_values[:] = lr_at(self.config, np.arange(block * BLOCK, (block + 1) * BLOCK))
                self._lr_block = block
            idx = self._load_batch(t)
            cur = self._bufs[self._cur_i]
            loss = ws.loss_and_grad(cur[:, :size], grad)
            if any_dead:
                loss = np.where(self.diverged, 0.0, loss)
            worst = loss.max()
            if not worst < limit:
                self._handle_divergence(t, loss)
                any_dead = True
                if self.stopped:
                    break
                loss = np.where(self.diverged, 0.0, loss)
            np.multiply(self.lr_scale, self._lr_values[t - block * BLOCK], out=lr_now)
            if any_dead:
                lr_now[self.diverged] = 0.0
            if on_step is not None and t % every == 0:
                on_step(t, cur, idx, loss, lr_now[:, 0], self.diverged)
            nxt = self._bufs[1 - self._cur_i]
            updater.apply(t, lr_now, cur, nxt, grad)
            self._cur_i = 1 - self._cur_i
            self.step = t + 1
            done += 1
            if should_stop is not None and done % 64 == 0 and should_stop():
                break
        return done

    def _handle_divergence(self, t: int, loss: np.ndarray) -> None:
        bad = ~(loss < self.explode_limit) & ~self.diverged
        if t > 0:
            prev = self._bufs[1 - self._cur_i]
            self._cur[bad] = prev[bad]  # back to the last finite state (step t - 1)
        self.diverged = self.diverged | bad
        first = int(np.flatnonzero(bad)[0])
        value = float(loss[first])
        what = "inf" if value == np.inf else ("nan" if value != value else f"{value:.3g}")
        reason = (f"loss became {what} at step {t}: the learning rate ({self.config.lr:g}, {self.config.optimizer}) "
                  "is too large for this data; lower it and reset or resume from an earlier step")
        if self.stopped:
            if t > 0:
                self.step = t - 1  # the state on screen is the last finite one
            self.divergence = Divergence(t, value, reason)


def _full_batch_indices(runs: int, n: int) -> np.ndarray:
    return np.broadcast_to(np.arange(n), (runs, n))
