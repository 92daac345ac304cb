"""The trainer: minibatch SGD, momentum, Nesterov or Adam (torch.optim semantics) on R
independent runs of one configuration at once.

State: ``Trainer.state`` (R, P * (1 + slots)) holds each run's P parameters, then its optimizer
slots; ``params`` is its (R, P) view. Step t is the state after t updates. The update at step t
takes the minibatch MSE (R,) and its gradient at that state and applies the optimizer with the
rate ``lr_at(t)`` (R,). ``run(n)`` does n updates, handing every step to a ``History``
(``record``) or to ``on_step``; ``snapshot()`` copies the state with the next update's minibatch
indices (R, B), loss and rate.

Everything random is a function of seeds and the step number, so ``run(N)`` equals N calls of
``run(1)`` bit for bit, and restoring a snapshot resumes the same trajectory. The state lives in
two buffers (steps t and t + 1), swapped every update: one that blows up leaves step t intact.

Divergence: a run whose minibatch loss is non-finite or above ``explode_limit`` stops; its state
goes back to the last finite one (the previous buffer) and it is frozen: its parameters and
optimizer slots no longer change and its learning rate reads 0. When every run has stopped,
``run`` returns early and ``divergence`` says why, in words a student can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

from reluviz.core import backend
from reluviz.core.config import ConfigError, TrainConfig, reset_fields_changed
from reluviz.core.data import Dataset, make_dataset
from reluviz.core.init import init_params
from reluviz.core.model import GradientWorkspace, Layout
from reluviz.core.optimizers import Updater, slots
from reluviz.core.sampling import BLOCK, BatchStream
from reluviz.core.schedules import lr_at
from reluviz.core.snapshot import Snapshot

if TYPE_CHECKING:
    from reluviz.core.history import History

#: Minibatch values gathered at once (R * B * steps); bounds the memory of a gathered stretch.
CHUNK_ELEMENTS = 1 << 17
#: ``should_stop`` is polled every this many steps (NumPy: ~0.5 ms of steps)
POLL_STEPS = 64
#: The compiled kernels run up to this many sampling blocks in one call (GIL released throughout),
#: as far as their indices fit in ``SPAN_BYTES``; ``should_stop`` is polled between calls. Few, long
#: calls matter in the app: each return takes the GIL back, and one that lands while the window
#: draws waits until drawing lets go of it (with one block a call, ~20% of the training time).
SPAN_BLOCKS = 32
SPAN_BYTES = 8 << 20


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
    ridges: (R,) the ridge lambda of each run (default: the config's for every run; kept when the
    trainer is reconfigured).
    wait_for_compile: with the numba backend, compile the kernels at the first step (True: headless
    work) or train with NumPy until ``backend.warm_up()`` has them ready (False: the app).
    """

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None, runs: int = 1,
                 init_seeds: Sequence[int] | None = None, sample_seeds: Sequence[int] | None = None,
                 lr_scale: Sequence[float] | None = None, ridges: Sequence[float] | None = None,
                 wait_for_compile: bool = True):
        config.validate()
        self.wait_for_compile = wait_for_compile
        self.dataset = dataset if dataset is not None else make_dataset(config)
        if runs < 1:
            raise ConfigError(f"runs must be at least 1, got {runs}")
        self.runs = runs
        self.layout = Layout.for_config(config)
        self.init_seeds = np.asarray(init_seeds if init_seeds is not None else [config.init_seed] * runs, dtype=np.int64)
        self.sample_seeds = np.asarray(sample_seeds if sample_seeds is not None else [config.sample_seed] * runs, dtype=np.int64)
        self.lr_scale = np.asarray(lr_scale if lr_scale is not None else np.ones(runs), dtype=float).reshape(runs, 1)
        if len(self.init_seeds) != runs or len(self.sample_seeds) != runs:
            raise ConfigError("need one init seed and one sample seed per run")
        self.ridges = None if ridges is None else np.asarray(ridges, dtype=float).reshape(-1)
        if self.ridges is not None and (len(self.ridges) != runs or not np.all(self.ridges >= 0)):
            raise ConfigError("need one ridge lambda >= 0 per run")
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
        self._bufs[1 - self._cur_i][...] = self._cur  # the "previous state" a divergence falls back to

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
            self._bufs[1][...] = self._bufs[0]  # the "previous state" a divergence falls back to
        self._cur_i = 0
        self.config = config
        self.batch_size = batch
        self.full_batch = batch == n
        self._ws = GradientWorkspace(self.layout, self.runs, batch)
        self._stream = None if self.full_batch else BatchStream(config.sampling, self.sample_seeds, n, batch)
        self._updater = Updater(config, self.runs, size, self.layout.mask(config.train), self.ridges)
        self._grad = self._updater.grad_buffer  # the kernels write the gradient where the updater reads it
        # Minibatch data of a stretch of steps, gathered at once (see _chunk_for) into buffers
        # that the bound gradient kernels read.
        self._chunk_steps = (0, 0)
        self._codes = None
        if self.full_batch:
            x1t = np.ascontiguousarray(self._x1.T)  # (2, n) rows [x; 1]
            shape = (BLOCK, self.runs) + x1t.shape
            self._data = (np.broadcast_to(x1t, shape), np.broadcast_to(x1t * self._ws.scale, shape),
                          np.broadcast_to(self.dataset.y_train, (BLOCK, self.runs, n)),
                          np.broadcast_to(np.arange(n), (BLOCK, self.runs, n)))
        else:
            k = max(1, min(BLOCK, CHUNK_ELEMENTS // (self.runs * batch)))
            x1t = np.ones((k, self.runs, 2, batch))
            self._data = (x1t, x1t * self._ws.scale,  # (the rows of ones stay as they are)
                          np.empty((k, self.runs, batch)), np.empty((k, self.runs, batch), dtype=np.int64))
            self._xk = np.empty((k, self.runs, batch))  # gathered x, contiguous (np.take is fastest so)
        # Bound hot-loop functions, indexed by the buffer holding the current state (0 or 1).
        self._kernels = [self._ws.kernel(buf[:, :size], self._grad, self._data[:3]) for buf in self._bufs]
        self._updates = [self._updater.bind(self._bufs[i], self._bufs[1 - i], self._grad) for i in (0, 1)]
        # Learning rates of one sampling block, (BLOCK, R, 1), and per-step views of them
        # (0-d for one run: a 0-d operand broadcasts fastest).
        self._lr_key = None
        # sampling blocks per compiled call (a full batch has no indices to hold)
        self._span = SPAN_BLOCKS if self.full_batch else max(1, min(SPAN_BLOCKS, SPAN_BYTES // (BLOCK * self.runs * batch * 8)))
        self._lr_values = np.empty((self._span * BLOCK, self.runs, 1))
        lrv = self._lr_values
        self._lr_rows = [lrv[i, 0, 0, ...] for i in range(BLOCK)] if self.runs == 1 else list(lrv[:BLOCK])

    def reconfigure(self, config: TrainConfig) -> None:
        """Apply new optimizer, schedule or batch settings from the next step on, keeping the run.

        Data and model settings (``RESET_FIELDS``) cannot change here: make a new Trainer.
        Optimizer slots (momentum buffer, Adam moments) are kept when the optimizer kind stays,
        and start from zero when it changes.
        """
        config.validate()
        changed = reset_fields_changed(self.config, config)
        if changed:
            raise ConfigError(f"changing {', '.join(changed)} needs a new run (reset)")
        keep = config.optimizer == self.config.optimizer
        if config.sample_seed != self.config.sample_seed:
            # runs that followed the config's batch seed follow the new one (per-run seeds stay)
            same = self.sample_seeds == self.config.sample_seed
            self.sample_seeds = np.where(same, config.sample_seed, self.sample_seeds)
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

    def _chunk_for(self, step: int) -> tuple[int, int]:
        """Fill the minibatch buffers ``_data`` for a stretch of steps around ``step``: (start, stop).

        ``_data`` holds (x1t, x1ts, yb, idx), (K, R, 2, B), (K, R, 2, B), (K, R, B), (K, R, B):
        row ``t - start`` is the batch of step t: rows [x; 1], the same times 2/B, labels and
        indices. A stretch never crosses a sampling block and has at most
        CHUNK_ELEMENTS / (R B) steps.
        """
        start, stop = self._chunk_steps
        if start <= step < stop:
            return start, stop
        block = step // BLOCK
        if self.full_batch:
            start, stop = block * BLOCK, (block + 1) * BLOCK
        else:
            x1t, x1ts, yb, idx = self._data
            k = min(len(x1t), (block + 1) * BLOCK - step)
            start, stop = step, step + k
            idx[:k] = self._stream.block(block)[step - block * BLOCK : stop - block * BLOCK]
            xk = self._xk[:k]
            np.take(self.dataset.x_train, idx[:k], out=xk, mode="clip")  # (indices are valid: no checks)
            np.copyto(x1t[:k, :, 0, :], xk)
            np.multiply(xk, self._ws.scale, out=x1ts[:k, :, 0, :])
            np.take(self.dataset.y_train, idx[:k], out=yb[:k], mode="clip")
        self._chunk_steps = (start, stop)
        return start, stop

    def _lr_for(self, step: int, blocks: int = 1) -> int:
        """Fill ``_lr_values`` with the rates of ``blocks`` sampling blocks, the span of that many
        (aligned to multiples of it, so that calls within it reuse it) that holds ``step`` (0 for
        stopped runs); returns its first step."""
        block = step // BLOCK // blocks * blocks
        if (block, blocks) != self._lr_key:
            steps = np.arange(block * BLOCK, (block + blocks) * BLOCK)
            out = self._lr_values[: blocks * BLOCK]
            np.multiply(self.lr_scale[None, :, :], lr_at(self.config, steps)[:, None, None], out=out)
            out[:, self.diverged] = 0.0
            self._lr_key = (block, blocks)
        return block * BLOCK

    def snapshot(self) -> Snapshot:
        """An immutable copy of the current state, with the next batch and its loss (computed by the
        backend that trains, so it equals the loss a recorded row of this state holds)."""
        kernels = self._compiled(wait=False)
        if kernels is not None:
            batch = self._batch_indices(self.step)
            idx = self._full_idx[0] if self.full_batch else batch
            loss = np.empty(self.runs)
            kernels.batch_losses(*self._codes[0], self._cur, self.dataset.x_train,
                                 self.dataset.y_train, idx, self.full_batch, self.batch_size, self.diverged, loss)
        else:
            i = self.step - self._chunk_for(self.step)[0]
            loss = self._kernels[self._cur_i](i).copy()
            batch = self._data[3][i]
        return Snapshot.create(self.step, self.layout, self._cur, batch, loss, self.lr_at(self.step), self.diverged)

    def _compiled(self, wait: bool):
        """The compiled kernels if they train this run now (None: the NumPy path does)."""
        if backend.requested() != "numba" or not backend.supports(self.layout, self.config.optimizer):
            return None
        kernels = backend.compiled(wait=wait and self.wait_for_compile)
        if kernels is not None and self._codes is None:
            self._codes = (kernels.net_codes(self.layout), kernels.OPTIMIZER_CODES[self.config.optimizer])
            mask = self._updater.mask
            self._mask = np.ascontiguousarray(mask if mask is not None else np.ones(self.layout.size))
            self._full_idx = np.zeros((self._span * BLOCK, self.runs, 1), dtype=np.int64)
            if self.full_batch:  # every step's batch: all points (what a recorded row says)
                n = self.dataset.n
                self._full_batches = np.broadcast_to(np.arange(n), (self._span * BLOCK, self.runs, n))
            self._rec_none = (np.zeros((0, self.runs, self._bufs[0].shape[1])), np.zeros((0, self.runs)))
            self._loss_row = np.zeros(self.runs)
            # torch's weight decay (2 ridge) of each run: the updater's float or (R, 1)
            # (a writable copy: a read-only array, as a broadcast view is, is another type to numba, and
            # a call with a type the warm-up did not compile compiles for seconds at the first step)
            self._wds = np.array(np.broadcast_to(self._updater.wd, (self.runs, 1))[:, 0], dtype=float)
        return kernels

    def restore(self, snap: Snapshot) -> None:
        """Continue from ``snap`` (same configuration): state, step and stopped runs come back."""
        if snap.state.shape != self._cur.shape:
            raise ConfigError("that snapshot belongs to a different model or optimizer")
        self._cur[...] = snap.state
        self._bufs[1 - self._cur_i][...] = snap.state  # the "previous state" a divergence falls back to
        self.step = snap.step
        self.diverged = np.array(snap.diverged, dtype=bool)
        self.divergence = None
        self._lr_key = None  # the rates zero stopped runs: recompute them

    # ------------------------------------------------------------------ training
    def run(self, n_steps: int, on_step: StepSink | None = None, every: int = 1,
            should_stop: Callable[[], bool] | None = None, record: "History | None" = None) -> int:
        """Do up to ``n_steps`` updates; return how far the run moved (steps).

        ``record``: a History that gets every step (state, minibatch, loss, rate), written in blocks.
        ``on_step(step, state, batch, batch_loss, lr, diverged)`` is called before the update of
        every step divisible by ``every``, with live buffers (copy what you keep).
        ``should_stop()`` is polled every ``POLL_STEPS`` steps (with the compiled kernels: after each
        call, up to ``SPAN_BLOCKS`` sampling blocks), for a worker thread that wants to pause; a
        worker that must answer sooner asks for fewer steps.
        """
        if self.stopped or n_steps <= 0:
            return 0
        if record is not None:
            if on_step is not None:
                raise ValueError("use either on_step or record")
            record.check_shape(self._bufs[0].shape[1], self.batch_size)
        start = step = self.step
        end = start + n_steps
        while step < end:
            kernels = self._compiled(wait=True)
            if kernels is not None:
                l_start = self._lr_for(step, self._span)
                step = self._stretch_compiled(kernels, step, min(end, l_start + self._span * BLOCK), l_start,
                                              record, on_step, every)
                polled = True
            else:
                l_start = self._lr_for(step)
                c_start, c_stop = self._chunk_for(step)
                stop = min(end, c_stop, l_start + BLOCK)
                if should_stop is not None:
                    stop = min(stop, step + POLL_STEPS - (step - start) % POLL_STEPS)
                step = self._stretch(step, stop, c_start, l_start, record, on_step, every)
                polled = (step - start) % POLL_STEPS == 0
            if self.stopped:
                return max(self.step - start, 0)
            if should_stop is not None and step > start and polled and should_stop():
                break
        return step - start

    def _stretch(self, t0: int, stop: int, c_start: int, l_start: int, record: "History | None",
                 on_step: StepSink | None, every: int) -> int:
        """Steps ``t0 .. stop - 1`` within one gathered chunk and one block of rates; returns the
        step reached. It returns early at a step whose loss diverges, after handling it (the
        caller goes on from there: the runs left are stepped again from that step's state)."""
        limit, one_run, diverged = self.explode_limit, self.runs == 1, self.diverged
        any_dead = bool(diverged.any())
        bufs, lr_rows, lr_values, batches = self._bufs, self._lr_rows, self._lr_values, self._data[3]
        rec_state = rec_loss = None
        if record is not None:
            rec_state, rec_loss = record.reserve(t0, stop - t0)
            stop = t0 + len(rec_loss)
        par = self._cur_i  # which buffer holds the state: the kernel/update pairs swap every step
        kernel, kernel_next = self._kernels[par], self._kernels[1 - par]
        update, update_next = self._updates[par], self._updates[1 - par]
        t = t0
        bad_loss = None
        while t < stop:
            loss = kernel(t - c_start)
            if any_dead:
                loss = np.where(diverged, 0.0, loss)
            if not (loss[0] if one_run else loss.max()) < limit:
                bad_loss = loss.copy()
                break
            if rec_state is not None:
                np.copyto(rec_state[t - t0], bufs[par])
                rec_loss[t - t0] = loss
            if on_step is not None and t % every == 0:
                self._cur_i, self.step = par, t
                on_step(t, bufs[par], batches[t - c_start], loss, lr_values[t - l_start, :, 0], diverged)
            update(t, lr_rows[t - l_start])
            if any_dead:  # stopped runs stay frozen, optimizer slots included
                bufs[1 - par][diverged] = bufs[par][diverged]
            kernel, kernel_next, update, update_next = kernel_next, kernel, update_next, update
            par ^= 1
            t += 1
        if record is not None and t > t0:
            record.commit(t0, t - t0, batches[t0 - c_start : t - c_start], lr_values[t0 - l_start : t - l_start, :, 0],
                          diverged)
        self._cur_i, self.step = par, t
        if bad_loss is not None:
            self._handle_divergence(t, bad_loss)
            self._lr_values[:, self.diverged] = 0.0
        return self.step

    def _stretch_compiled(self, kernels, t0: int, stop: int, l_start: int, record: "History | None",
                          on_step: StepSink | None, every: int) -> int:
        """``_stretch`` through the compiled kernels (one call for the whole stretch, or, with
        ``on_step``, one single recorded step at each reported step and one call between them)."""
        t = t0
        while t < stop:
            if on_step is not None:
                report = t % every == 0
                end = t + 1 if report else min(stop, t + every - t % every)
            else:
                report, end = False, stop
            rows = self._compiled_steps(kernels, t, end, l_start, record, report)
            if report and rows is not None:
                state, loss = rows
                on_step(t, state, self._batch_indices(t), loss, self._lr_values[t - l_start, :, 0], self.diverged)
            if self.step < end or self.stopped:  # a divergence was handled
                return self.step
            t = self.step
        return self.step

    def _batch_indices(self, t: int) -> np.ndarray:
        """(R, B) minibatch indices of step ``t`` (a view)."""
        if self.full_batch:
            return self._data[3][0]
        return self._stream.block(t // BLOCK)[t % BLOCK]

    def _compiled_steps(self, kernels, t0: int, stop: int, l_start: int, record: "History | None",
                        keep: bool) -> tuple[np.ndarray, np.ndarray] | None:
        """Steps ``t0 .. stop - 1`` (within the span of blocks starting at ``l_start``) in one kernel
        call; with ``keep``, returns the first step's state and loss rows (for ``on_step``)."""
        net, opt = self._codes
        if self.full_batch:
            idx = self._full_idx[t0 - l_start : stop - l_start]
        else:
            idx = self._stream.span(l_start // BLOCK, self._span)[t0 - l_start : stop - l_start]
        if record is not None:
            rec_state, rec_loss = record.reserve(t0, stop - t0)
            stop = t0 + len(rec_loss)
        elif keep:
            rec_state, rec_loss = np.zeros((1,) + self._bufs[0].shape), np.zeros((1, self.runs))
        else:
            rec_state, rec_loss = self._rec_none
        recording = record is not None or keep
        c = self.config
        ds = self.dataset
        loss = self._loss_row
        done, cur = kernels.run_stretch(
            *net, opt, self._bufs[0], self._bufs[1], self._cur_i, ds.x_train, ds.y_train, idx,
            self.full_batch, self.batch_size, self._lr_values[t0 - l_start : stop - l_start, :, 0], t0, stop - t0,
            self._mask, self._updater.mask is not None, self._wds, c.momentum, c.beta1, c.beta2, c.eps,
            self.explode_limit, self.diverged, rec_state, rec_loss, recording, loss)
        t = t0 + done
        if record is not None and done:
            record.commit(t0, done, idx[:done] if not self.full_batch else self._full_batches[:done],
                          self._lr_values[t0 - l_start : t - l_start, :, 0], self.diverged)
        self._cur_i, self.step = cur, t
        if done < stop - t0:
            self._handle_divergence(t, loss.copy())
            self._lr_values[:, self.diverged] = 0.0
        if keep and done:
            return rec_state[0], rec_loss[0]
        return None

    def _scale_reason(self, what: str) -> str:
        """Why a run cannot start: its loss before any update is past the cut-off. No learning rate
        did that: the data's scale did (the network starts with outputs of the order of x)."""
        ds = self.dataset
        xmax, ymax = float(np.max(np.abs(ds.x_train))), float(np.max(np.abs(ds.y_train)))
        return (f"the loss is already {what} at step 0, before any update (the cut-off is {self.explode_limit:.3g}). "
                f"The data's scale is the cause, not the learning rate: x reaches {xmax:.3g} (y {ymax:.3g}) and the "
                "network starts with outputs of that order. Rescale x and y (e.g. to mean 0, std 1) and load the "
                "data again")

    def _handle_divergence(self, t: int, loss: np.ndarray) -> None:
        bad = ~(loss < self.explode_limit) & ~self.diverged
        if t > 0:
            prev = self._bufs[1 - self._cur_i]
            self._cur[bad] = prev[bad]  # back to the last finite state (step t - 1)
        self.diverged = self.diverged | bad
        first = int(np.flatnonzero(bad)[0])
        value = float(loss[first])
        what = "inf" if value == np.inf else ("nan" if value != value else f"{value:.3g}")
        if t == 0:
            reason = self._scale_reason(what)
        else:
            reason = (f"loss became {what} at step {t:,}: the learning rate ({self.config.lr:g}, {self.config.optimizer}) "
                      "is too large for this data; lower it and reset or resume from an earlier step")
        if self.stopped:
            if t > 0:
                self.step = t - 1  # the state on screen is the last finite one
            self.divergence = Divergence(t, value, reason)
