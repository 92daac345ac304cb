"""Minibatch indices as a pure function of (sample_seed, step): drawn in blocks, never stateful.

The indices of step t depend only on the seed and t, so running N steps at once, N single steps,
or resuming from a snapshot all see exactly the same batches, and nothing about the sampler has to
be saved. Blocks of ``BLOCK`` steps are drawn with one RNG call, aligned to multiples of ``BLOCK``.

* ``replacement``: each step draws B indices uniformly with replacement (the course notebook).
* ``shuffle``: epochs without replacement. The stream of indices is a concatenation of fresh
  permutations of 0..n-1 (one per epoch) cut into consecutive chunks of B, so each point is seen
  exactly once per n samples even when B does not divide n (a batch may straddle two epochs).
* ``sequential``: 0, 1, ..., n-1, 0, 1, ... cut into chunks of B.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1024


def block_indices(sampling: str, seed: int, n: int, batch: int, block: int) -> np.ndarray:
    """Indices for steps [block*BLOCK, (block+1)*BLOCK): int64 array (BLOCK, batch)."""
    if sampling == "replacement":
        return np.random.default_rng([seed, 2, block]).integers(0, n, size=(BLOCK, batch))
    start = block * BLOCK * batch
    pos = np.arange(start, start + BLOCK * batch, dtype=np.int64)
    if sampling == "sequential":
        return (pos % n).reshape(BLOCK, batch)
    if sampling == "shuffle":
        # positions are consecutive, so each epoch is one contiguous stretch of the block
        out = np.empty_like(pos)
        end = start + len(pos)
        e = start // n
        while e * n < end:
            lo, hi = max(e * n, start), min((e + 1) * n, end)
            perm = np.random.default_rng([seed, 4, e]).permutation(n)
            out[lo - start : hi - start] = perm[lo - e * n : hi - e * n]
            e += 1
        return out.reshape(BLOCK, batch)
    raise ValueError(f"unknown sampling {sampling!r}")


def batch_at(sampling: str, seed: int, n: int, batch: int, step: int) -> np.ndarray:
    """Indices used for the update from ``step`` to ``step + 1``: int64 (batch,)."""
    return block_indices(sampling, seed, n, batch, step // BLOCK)[step % BLOCK]


class BatchStream:
    """Indices for R runs (one seed each), served block by block; ``at(t)`` -> (R, B) view."""

    def __init__(self, sampling: str, seeds: np.ndarray, n: int, batch: int):
        self.sampling, self.seeds, self.n, self.batch = sampling, [int(s) for s in seeds], n, batch
        self._block = -1
        self._data = np.empty((BLOCK, len(self.seeds), batch), dtype=np.int64)
        self._span_key, self._span_data = None, None

    def block(self, block: int) -> np.ndarray:
        """Indices of steps [block*BLOCK, (block+1)*BLOCK) for every run: (BLOCK, R, B) (live buffer)."""
        if self._span_key is not None and 0 <= block - self._span_key[0] < self._span_key[1]:
            k = block - self._span_key[0]  # (drawn as part of the span)
            return self._span_data[k * BLOCK : (k + 1) * BLOCK]
        if block != self._block:
            for r, seed in enumerate(self.seeds):
                if r and seed == self.seeds[0]:
                    self._data[:, r] = self._data[:, 0]
                else:
                    self._data[:, r] = block_indices(self.sampling, seed, self.n, self.batch, block)
            self._block = block
        return self._data

    def span(self, block: int, blocks: int) -> np.ndarray:
        """Indices of steps [block*BLOCK, (block+blocks)*BLOCK) for every run: (blocks*BLOCK, R, B)
        (live buffer; the same indices as ``blocks`` calls of ``block``)."""
        if blocks == 1:
            return self.block(block)
        if (block, blocks) != self._span_key:
            if self._span_data is None or len(self._span_data) != blocks * BLOCK:
                self._span_data = np.empty((blocks * BLOCK,) + self._data.shape[1:], dtype=np.int64)
            self._span_key = None
            for k in range(blocks):
                self._span_data[k * BLOCK : (k + 1) * BLOCK] = self.block(block + k)
            self._span_key = (block, blocks)
        return self._span_data

    def at(self, step: int) -> np.ndarray:
        return self.block(step // BLOCK)[step % BLOCK]
