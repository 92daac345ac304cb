"""A long run in the app's session: 10^6 steps at width 100, memory bounded, history scrubbable.

    .venv/bin/python benchmarks/bench_long_run.py [--steps 1000000] [--width 100] [--budget-mib 128]

Trains the ``notebook`` preset at ``--width`` through ``reluviz.core.session.Session``, the object the
app's training thread drives (no window: what is measured is the memory of the run, not of Qt):
chunks of ``--chunk`` steps recorded into the run's history, a head frame after each chunk as the
worker publishes (train/test loss, loss curves). Prints:

* steps/second over the whole run (frames included);
* resident memory (VmRSS of /proc/self/status) before training, after the history first filled,
  at the end, and the peak (VmHWM); the growth over the last 90% of the run, which should be about
  zero (the history is preallocated and thinned in place; the loss trace is bounded);
* the history: rows kept of its capacity, its bytes, the stride of the old part, and a check of the
  documented thinning rule (step 0 kept, the newest half dense, the older part on a multiple of the
  stride);
* scrubbing: ``history.at(s)`` for random steps s returns the nearest earlier kept step, early steps
  are still reachable, and a frame for a random step (what dragging the timeline builds) takes
  milliseconds. Kept rows equal a fresh run replayed to their step.

The documented bound (docs: ``History`` in reluviz/core/history.py, ``DEFAULT_BUDGET`` 128 MiB): the
run's memory is the resident size before training + the history budget + ``SLACK_MIB`` (trainer
buffers, the loss trace, frames, allocator slack). The script exits with 1 if the peak is above it
or if the memory grows over the last 90% of the run by more than ``GROWTH_MIB``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import reluviz  # noqa: F401  (first: it keeps BLAS to one thread, as the app, only if NumPy is not loaded yet)
import numpy as np

from reluviz.core import Trainer
from reluviz.core.presets import load_preset
from reluviz.core.session import Session

SLACK_MIB = 64
GROWTH_MIB = 8


def rss_mib(field: str = "VmRSS") -> float:
    """Resident memory of this process in MiB (``VmRSS``: now, ``VmHWM``: the peak)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"{field} not in /proc/self/status")


def check_thinning(steps: np.ndarray, capacity: int, stride: int) -> str:
    """'' if ``steps`` follow the documented rule, else what is wrong: step 0 first, then the old part
    on multiples of ``stride``, then a dense stretch of consecutive steps holding at least the newest
    half of the rows of the last thinning."""
    n = len(steps)
    if n > capacity:
        return f"{n} rows over the capacity {capacity}"
    if n == 0 or steps[0] != 0:
        return "step 0 was dropped"
    if np.any(np.diff(steps) <= 0):
        return "steps do not increase"
    gaps = np.diff(steps)
    dense_from = n - 1 - (np.flatnonzero(gaps[::-1] != 1)[0] if np.any(gaps != 1) else n - 1)
    if stride > 1 and n - dense_from < capacity // 2:
        return f"only {n - dense_from} newest rows are dense (at least {capacity // 2})"
    if np.any(steps[:dense_from] % stride):
        return f"old steps off the stride {stride}"
    if stride > 1 and np.any(np.diff(steps[:dense_from + 1]) > stride):
        return "a gap in the old part wider than the stride"
    return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--width", type=int, default=100)
    ap.add_argument("--budget-mib", type=float, default=128.0, help="history budget (the app's default: 128)")
    ap.add_argument("--chunk", type=int, default=4000, help="steps between head frames")
    ap.add_argument("--scrubs", type=int, default=2000, help="random history.at look-ups to check")
    args = ap.parse_args(argv)

    config = load_preset("notebook").config.updated({"width": args.width, "steps": args.steps})
    budget = int(args.budget_mib * 2**20)
    # the compiled kernels first, as the app loads them at start (numba and LLVM: ~60 MiB)
    from reluviz.core import backend

    backend.compiled(wait=True)
    before = rss_mib()
    session = Session(config, budget_bytes=budget)
    history = session.history
    capacity = history.current.capacity
    print(f"notebook preset, width {args.width}: {config.n_train} points, batch {config.batch_size}, "
          f"{args.steps:,} steps; history budget {args.budget_mib:g} MiB = {capacity:,} rows "
          f"({history.current.nbytes / 2**20:.1f} MiB allocated)")
    print(f"RSS before training: {before:.1f} MiB")

    filled_at = None
    rss_filled = None
    rss_tenth = None
    t0 = time.perf_counter()
    samples = []
    while session.head_step < args.steps:
        session.advance(min(args.chunk, args.steps - session.head_step))
        session.checkpoint()
        frame = session.frame()
        if filled_at is None and history.current.stride > 1:  # the first thinning: the store is full
            filled_at, rss_filled = session.head_step, rss_mib()
        if rss_tenth is None and session.head_step >= args.steps // 10:
            rss_tenth = rss_mib()
        if session.head_step % 100_000 < args.chunk:
            samples.append((session.head_step, rss_mib(), len(history), history.current.stride))
    seconds = time.perf_counter() - t0
    after, peak = rss_mib(), rss_mib("VmHWM")
    rate = session.head_step / seconds

    print(f"\ntrained {session.head_step:,} steps in {seconds:.1f} s: {rate:,.0f} steps/s (frames every "
          f"{args.chunk:,} steps included)")
    print("   step     RSS MiB   history rows  stride")
    for step, rss, rows, stride in samples:
        print(f"{step:>9,}  {rss:9.1f}  {rows:>12,}  {stride:>6}")
    growth = after - rss_tenth  # steady state: from a tenth of the run (the store long full) to the end
    growth_fill = after - (rss_filled if rss_filled is not None else after)
    bound = before + budget / 2**20 + SLACK_MIB
    print(f"\nRSS: before {before:.1f} MiB, history full (step {filled_at or 0:,}) {rss_filled or 0:.1f} MiB, "
          f"end {after:.1f} MiB, peak {peak:.1f} MiB")
    print(f"RSS growth from the first thinning to the end: {growth_fill:+.1f} MiB; over the last 90% of "
          f"the run: {growth:+.1f} MiB (allowed {GROWTH_MIB} MiB)")
    print(f"documented bound: before + budget + {SLACK_MIB} MiB = {bound:.1f} MiB -> "
          f"{'OK' if peak <= bound else 'OVER'}")

    steps = history.steps.copy()
    stride = history.current.stride
    problem = check_thinning(steps, capacity, stride)
    print(f"\nhistory: {len(steps):,} rows of {capacity:,}, stride {stride} in the old part, "
          f"first {steps[0]}, last {steps[-1]:,}; thinning rule: {problem or 'OK'}")

    rng = np.random.default_rng(0)
    queries = np.r_[rng.integers(0, session.head_step + 1, args.scrubs), 0, 1, 2, stride - 1, stride, stride + 1]
    wrong = 0
    t1 = time.perf_counter()
    for s in queries:
        got = history.at(int(s)).step
        want = int(steps[np.searchsorted(steps, s, side="right") - 1])
        wrong += got != want
    at_ms = (time.perf_counter() - t1) / len(queries) * 1e3
    t2 = time.perf_counter()
    for s in queries[:50]:
        session.frame(int(s))
    frame_ms = (time.perf_counter() - t2) / 50 * 1e3
    print(f"scrubbing: {len(queries):,} history.at look-ups, {wrong} wrong, {at_ms:.3f} ms each; "
          f"a frame for a random step (the timeline) {frame_ms:.1f} ms")
    early = [int(s) for s in steps[:5]]
    replay_ok = True
    for s in (early[-1], int(steps[len(steps) // 3])):
        trainer = Trainer(config)
        trainer.run(s)
        replay_ok &= np.array_equal(trainer.params, history.at(s).params)
    print(f"early steps kept: {early}; kept rows equal a fresh run replayed to their step: {replay_ok}")

    ok = peak <= bound and growth <= GROWTH_MIB and not problem and wrong == 0 and replay_ok
    print("\nRESULT:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
