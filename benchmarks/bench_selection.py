"""Time a model-selection sweep over the ridge lambda: every setting as one vectorised trainer (what
``reluviz.core.selection`` does) against one trainer per setting (what a loop over lambdas would do),
side by side; and what the three losses and the true error cost per frame against the old two.

Run: ``python benchmarks/bench_selection.py`` (options: --preset, --points, --seeds, --steps, --repeat).
Prints the wall time of each way, the ratio, and checks that both give the same validation losses.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import reluviz  # noqa: E402,F401  (first: it keeps BLAS to one thread, as the app, only if NumPy is not loaded yet)
import numpy as np  # noqa: E402

from reluviz.core import Trainer, make_dataset  # noqa: E402
from reluviz.core.metrics import dataset_losses, mean_loss  # noqa: E402
from reluviz.core.model import mse  # noqa: E402
from reluviz.core.presets import load_preset  # noqa: E402
from reluviz.core.selection import sweep_selection  # noqa: E402


def one_by_one(config, lambdas, steps, seeds):
    """The loop a script would write: a trainer per (lambda, seed), its validation loss at the end."""
    ds = make_dataset(config)
    out = []
    for lam in lambdas:
        vals = []
        for s in range(seeds):
            tr = Trainer(config.updated({"ridge": float(lam), "init_seed": config.init_seed + s,
                                         "sample_seed": config.sample_seed + s}), dataset=ds)
            tr.run(steps)
            vals.append(float(mse(tr.layout, tr.params[0], ds.x_val, ds.y_val)))
        out.append(np.mean(vals))
    return np.array(out)


def best_of(k, fn):
    best, value = np.inf, None
    for _ in range(k):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="ridge-selection")
    ap.add_argument("--points", type=int, default=13)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cfg = load_preset(args.preset).config
    lambdas = np.logspace(-6, 0, args.points)
    runs = args.points * args.seeds
    print(f"ridge sweep on the {args.preset} preset (width {cfg.width}, {cfg.n_train} points, {cfg.optimizer}, "
          f"batch {cfg.batch_size or 'full'}): {args.points} lambdas x {args.seeds} seeds x {args.steps:,} steps, "
          f"best of {args.repeat}; load average {os.getloadavg()[0]:.2f}")
    t_vec, res = best_of(args.repeat, lambda: sweep_selection(cfg, "ridge", lambdas, steps=args.steps, seeds=args.seeds))
    t_loop, val = best_of(args.repeat, lambda: one_by_one(cfg, lambdas, args.steps, args.seeds))
    print(f"  one vectorised trainer ({runs} runs side by side): {t_vec:6.2f} s  "
          f"({runs * args.steps / t_vec:,.0f} steps*runs/s)")
    print(f"  one trainer per setting and seed ({runs} trainers):  {t_loop:6.2f} s  "
          f"({runs * args.steps / t_loop:,.0f} steps*runs/s)")
    print(f"  ratio: {t_loop / t_vec:.1f}x; largest difference in validation loss {np.max(np.abs(res.val - val)):.1e}")

    # what a frame's losses cost: train, validation, test and the true error, against train + a 1,000-point grid
    for width in (20, 100):
        c = cfg.updated({"width": width, "n_train": 200})
        tr = Trainer(c)
        snap, ds = tr.snapshot(), tr.dataset
        t_new, _ = best_of(5, lambda: [dataset_losses(snap, ds) for _ in range(200)])
        t_old, _ = best_of(5, lambda: [(mean_loss(snap, ds.x_train, ds.y_train), mean_loss(snap, ds.true_x, ds.true_y))
                                       for _ in range(200)])
        print(f"  a frame's losses at width {width}: {t_new / 200 * 1e3:.3f} ms (train, validation, test, true error) "
              f"against {t_old / 200 * 1e3:.3f} ms (train and the 1,000-point grid, as before)")


if __name__ == "__main__":
    main()
