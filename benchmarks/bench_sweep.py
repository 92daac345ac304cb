"""Time the course notebook's sweep: widths 10/20/40 x sgd/momentum/adam x 30 seeds x 30,000 steps.

The notebook itself took 35.2 minutes for this. Run: ``python benchmarks/bench_sweep.py``
(options: --steps, --seeds, --every, --processes). Prints the wall time, the training throughput
(steps x runs per second, over all settings) and the median final validation MSE per setting.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import reluviz  # noqa: E402,F401  (first: it keeps BLAS to one thread, as the app, only if NumPy is not loaded yet)
import numpy as np  # noqa: E402

from reluviz.core.bands import sweep  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--every", type=int, default=300, help="record train/validation/test loss every K steps")
    ap.add_argument("--processes", type=int, default=2)
    args = ap.parse_args()
    widths, optimizers = (10, 20, 40), ("sgd", "momentum", "adam")
    t0 = time.perf_counter()
    res = sweep(widths, optimizers, seeds=args.seeds, steps=args.steps, every=args.every, processes=args.processes)
    wall = time.perf_counter() - t0
    run_steps = len(res) * args.seeds * args.steps
    print(f"sweep: {len(widths)} widths x {len(optimizers)} optimizers x {args.seeds} seeds x {args.steps} steps, "
          f"loss recorded every {args.every} steps, {args.processes} processes")
    print(f"wall time {wall:.1f} s  ({run_steps / wall:,.0f} steps*runs per second; the notebook: 35.2 min)")
    for (width, opt), r in res.items():
        b = r.band("val")
        print(f"  width {width:3d} {opt:9s} {r.seconds:6.1f} s in worker   final validation MSE median {b.median[-1]:.4g} "
              f"[IQR {b.q25[-1]:.4g} .. {b.q75[-1]:.4g}]   diverged {int(r.diverged.sum())}/{r.runs}")


if __name__ == "__main__":
    main()
