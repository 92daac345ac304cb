"""History: recorded training states in preallocated columns, bounded in memory, scrubbable.

Rows hold (step, state (R, S), batch (R, B), batch_loss (R,), lr (R,), diverged (R,)). The store
has ``capacity`` rows, fixed at creation from a byte budget (``budget_bytes``, default 128 MiB,
shown by ``nbytes``). Thinning rule, documented for users and tested:

* every recorded step is kept until the store is full;
* when it fills, the newest half of the rows stays as it is, and among the older rows only steps
  that are multiples of ``stride`` survive, where ``stride`` (a power of two, kept from one
  thinning to the next) doubles as often as needed for at least a quarter of the store to be free.
  Step 0 (the initialisation) is always kept. So the stride grows in proportion to the run's length
  (about 4 x steps / capacity) and the old part stays evenly spread over the whole run.

So the recent past is always dense (step back works one update at a time), and the far past is
kept at an even, coarser spacing. ``at(step)`` returns the nearest kept step at or before ``step``.
"""

from __future__ import annotations

import numpy as np

from reluviz.core.model import Layout
from reluviz.core.snapshot import Snapshot

DEFAULT_BUDGET = 128 * 2**20
_THIN_BLOCK = 1024  # rows moved at once when thinning


class History:
    """Recorded snapshots of one trainer (R runs), oldest first.

    ``state_size``: S, the width of a trainer state row (P parameters and the optimizer slots);
    ``batch``: B, minibatch indices per row; ``budget_bytes``: the memory of all columns, which
    fixes ``capacity`` (rows; at least ``min_rows``). A history keeps one row shape: after a
    change of optimizer or batch size, record into a new one (``HistoryChain`` does).
    """

    def __init__(self, layout: Layout, runs: int, state_size: int, batch: int,
                 budget_bytes: int = DEFAULT_BUDGET, min_rows: int = 64):
        self.layout = layout
        self.runs, self.state_size, self.batch_size = runs, state_size, batch
        row = 8 * (1 + runs * (state_size + batch + 2)) + runs
        self.capacity = max(min_rows, int(budget_bytes // row))
        self._step = np.zeros(self.capacity, dtype=np.int64)
        self._state = np.zeros((self.capacity, runs, state_size))
        self._batch = np.zeros((self.capacity, runs, batch), dtype=np.int64)
        self._loss = np.zeros((self.capacity, runs))
        self._lr = np.zeros((self.capacity, runs))
        self._diverged = np.zeros((self.capacity, runs), dtype=bool)
        self._n = 0
        self.stride = 1

    @classmethod
    def for_trainer(cls, trainer, budget_bytes: int = DEFAULT_BUDGET) -> "History":
        return cls(trainer.layout, trainer.runs, trainer.state.shape[1], trainer.batch_size, budget_bytes)

    # ------------------------------------------------------------------ writing
    def record(self, step: int, state: np.ndarray, batch: np.ndarray, batch_loss: np.ndarray,
               lr: np.ndarray, diverged: np.ndarray) -> None:
        """Append one step (a ``Trainer.run`` ``on_step`` sink). Steps must increase."""
        n = self._n
        if n and step <= self._step[n - 1]:
            self.truncate_after(step - 1)
            n = self._n
        if n == self.capacity:
            self._thin()
            n = self._n
        if state.shape[1] != self.state_size or batch.shape[1] != self.batch_size:
            raise ValueError("history rows must keep one shape; start a new History after reconfiguring")
        self._step[n] = step
        self._state[n] = state
        self._batch[n] = batch
        self._loss[n] = batch_loss
        self._lr[n] = lr
        self._diverged[n] = diverged
        self._n = n + 1

    # Block recording (``Trainer.run(record=history)``): the trainer writes each step's state and
    # loss straight into reserved rows, then commits the block's steps, batches and rates at once.
    def check_shape(self, state_size: int, batch: int) -> None:
        if state_size != self.state_size or batch != self.batch_size:
            raise ValueError("history rows must keep one shape; start a new History after reconfiguring")

    def reserve(self, step: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Writable views of up to ``k`` next rows (for steps ``step``..): state (k', R, S), loss (k', R).

        Rows at or after ``step`` are forgotten first. The store is thinned only when it is full,
        exactly as ``record`` does, so k' may be less than k (the rows left before it is full):
        the kept rows never depend on how the steps were grouped.
        """
        if k < 1:
            raise ValueError(f"reserve at least one row, not {k}")
        if self._n and step <= self._step[self._n - 1]:
            self.truncate_after(step - 1)
        if self._n == self.capacity:
            self._thin()
        n = self._n
        k = min(k, self.capacity - n)
        return self._state[n : n + k], self._loss[n : n + k]

    def commit(self, step: int, k: int, batch: np.ndarray, lr: np.ndarray, diverged: np.ndarray) -> None:
        """Close ``k`` reserved rows as steps ``step``.. with their batches (k, R, B) and rates (k, R)."""
        n = self._n
        self._step[n : n + k] = np.arange(step, step + k)
        self._batch[n : n + k] = batch
        self._lr[n : n + k] = lr
        self._diverged[n : n + k] = diverged
        self._n = n + k

    def record_snapshot(self, snap: Snapshot) -> None:
        self.record(snap.step, snap.state, snap.batch, snap.batch_loss, snap.lr, snap.diverged)

    def extend(self, steps: np.ndarray, states: np.ndarray, batches: np.ndarray, batch_losses: np.ndarray,
               lrs: np.ndarray, diverged: np.ndarray) -> None:
        """Append K recorded rows at once (a run read from a file): steps (K,) increasing and after
        the last row, states (K, R, S), batches (K, R, B), batch_losses, lrs and diverged (K, R).
        The store is thinned exactly as K calls of ``record`` would thin it."""
        steps = np.asarray(steps, dtype=np.int64)
        if len(steps) and ((self._n and steps[0] <= self._step[self._n - 1]) or np.any(np.diff(steps) <= 0)):
            raise ValueError("rows must come after the recorded ones, in increasing steps")
        self.check_shape(states.shape[-1], batches.shape[-1])
        done = 0
        while done < len(steps):
            if self._n == self.capacity:
                self._thin()
            n = self._n
            k = min(len(steps) - done, self.capacity - n)
            rows = slice(done, done + k)
            self._step[n : n + k] = steps[rows]
            self._state[n : n + k] = states[rows]
            self._batch[n : n + k] = batches[rows]
            self._loss[n : n + k] = batch_losses[rows]
            self._lr[n : n + k] = lrs[rows]
            self._diverged[n : n + k] = diverged[rows]
            self._n = n + k
            done += k

    def truncate_after(self, step: int) -> None:
        """Forget every row after ``step`` (resume from here discards the future)."""
        self._n = int(np.searchsorted(self._step[: self._n], step, side="right"))

    def _thin(self) -> None:
        n = self._n
        recent = n - n // 2
        old_steps = self._step[: n - recent]
        # The stride doubles only while the old part does not fit (doubling at every thinning
        # would grow it exponentially with the run, until it overflows int64).
        stride = self.stride
        while True:
            keep_old = np.flatnonzero(old_steps % stride == 0)
            if len(keep_old) + recent <= (3 * self.capacity) // 4 or len(keep_old) <= 1:
                break
            stride *= 2
        cols = (self._step, self._state, self._batch, self._loss, self._lr, self._diverged)
        # Compacted in place, a block of rows at a time (col[keep] would copy every kept row
        # first). Safe in order: keep increases and keep[i] >= i, so a row is read before written.
        # The kept old rows are gathered...
        for start in range(0, len(keep_old), _THIN_BLOCK):
            idx = keep_old[start : start + _THIN_BLOCK]
            if idx[0] == start and idx[-1] == start + len(idx) - 1:
                continue  # (already in place)
            for col in cols:
                col[start : start + len(idx)] = col[idx]
        # ... and the recent half, one contiguous stretch, moves down by slices no longer than the
        # shift (so a slice never overlaps its target): a few copies, not one per 1,024 rows (in the
        # app each copy hands the GIL to the window and may wait to get it back)
        dst, src = len(keep_old), n - recent
        shift = src - dst
        if shift > 0:
            for start in range(0, recent, shift):
                k = min(shift, recent - start)
                for col in cols:
                    col[dst + start : dst + start + k] = col[src + start : src + start + k]
        self._n = dst + recent
        self.stride = stride

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes held by the preallocated columns (the memory bound)."""
        return sum(a.nbytes for a in (self._step, self._state, self._batch, self._loss, self._lr, self._diverged))

    @property
    def steps(self) -> np.ndarray:
        """(T,) recorded steps, increasing (read-only view)."""
        v = self._step[: self._n]
        v.flags.writeable = False
        return v

    @property
    def batch_losses(self) -> np.ndarray:
        """(T, R) minibatch loss at each recorded step."""
        return self._loss[: self._n]

    @property
    def lrs(self) -> np.ndarray:
        """(T, R) learning rate of the update after each recorded step."""
        return self._lr[: self._n]

    @property
    def params(self) -> np.ndarray:
        """(T, R, P) recorded parameters (view; do not write)."""
        return self._state[: self._n, :, : self.layout.size]

    @property
    def batches(self) -> np.ndarray:
        """(T, R, B) minibatch indices of the update after each recorded step."""
        return self._batch[: self._n]

    @property
    def states(self) -> np.ndarray:
        """(T, R, S) recorded states: the parameters, then the optimizer slots (view; do not write)."""
        return self._state[: self._n]

    @property
    def diverged(self) -> np.ndarray:
        """(T, R) bool: the run had stopped at each recorded step (view; do not write)."""
        return self._diverged[: self._n]

    def index_at(self, step: int) -> int:
        """Row of the nearest recorded step at or before ``step`` (0 if before the first)."""
        if self._n == 0:
            raise IndexError("history is empty")
        i = int(np.searchsorted(self._step[: self._n], step, side="right")) - 1
        return max(i, 0)

    def row(self, i: int) -> Snapshot:
        if not -self._n <= i < self._n:
            raise IndexError(f"row {i} out of range for {self._n} rows")
        i %= self._n
        return Snapshot.create(self._step[i], self.layout, self._state[i], self._batch[i], self._loss[i],
                               self._lr[i], self._diverged[i])

    def at(self, step: int) -> Snapshot:
        """Snapshot of the nearest recorded step at or before ``step``."""
        return self.row(self.index_at(step))

    def latest(self) -> Snapshot:
        return self.row(self._n - 1)

    def first_step(self) -> int:
        return int(self._step[0]) if self._n else 0

    def last_step(self) -> int:
        return int(self._step[self._n - 1]) if self._n else 0
