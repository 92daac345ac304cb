"""Run files: what a long ``reluviz train`` costs, phase by phase, and what opening one saves.

    .venv/bin/python benchmarks/bench_runfile.py [--steps 200000] [--optimizer sgd] [--frames 60]

For the ``notebook`` preset (width 20) with ``--optimizer`` it prints, side by side:

* ``record_run``: seconds training, seconds evaluating the train/test loss at every recorded row
  (``metrics.row_losses``, and the same columns through ``model.mse``, what the recorder used
  before, on the first ``--old-rows`` rows, scaled up: the ratio), seconds writing, the file's MB;
* opening: ``read_run`` and ``load_run`` (what File > Open run does off the GUI thread);
* an export of ``--frames`` log-spaced frames: planning by training (``plan_training``) against
  planning from the file (``plan_recorded``), the step ``reluviz export --from`` saves (drawing the
  frames costs the same either way and is not timed).

The file goes to a temporary folder and is removed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import reluviz  # noqa: F401  (first: it keeps BLAS to one thread, as the app, only if NumPy is not loaded yet)
import numpy as np

from reluviz.core.metrics import row_losses
from reluviz.core.model import mse
from reluviz.core.presets import load_preset
from reluviz.core.recording import record_run, write_npz
from reluviz.core.runfile import load_run, read_run
from reluviz.core.session import Session
from reluviz.core.trainer import Trainer
from reluviz.export.frames import select_steps
from reluviz.export.plan import plan_recorded, plan_training


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--optimizer", default="sgd", choices=("sgd", "momentum", "adam"))
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--old-rows", type=int, default=20_000, help="rows timed with model.mse (it is slow)")
    args = parser.parse_args()
    config = load_preset("notebook").config.updated({"optimizer": args.optimizer,
                                                     "lr": 0.005 if args.optimizer == "adam" else 0.02})
    print(f"notebook preset, {args.optimizer}, {args.steps:,} steps (load average {os.getloadavg()[0]:.1f})")

    marks = {}

    def progress(done, total, loss=None):
        if done >= total:
            marks["trained"] = time.perf_counter()

    t0 = time.perf_counter()
    recording = record_run(config, steps=args.steps, progress=progress)
    t1 = time.perf_counter()
    train_s = marks.get("trained", t1) - t0
    eval_s = t1 - marks.get("trained", t1)
    trainer = Trainer(config)
    ds, layout = trainer.dataset, trainer.layout
    rows = min(args.old_rows, args.steps + 1)
    flat = np.zeros((rows, layout.size))
    for name in layout.names():
        flat[:, layout.index(name)] = recording.arrays[name][:rows]
    t = time.perf_counter()
    mse(layout, flat, ds.x_train, ds.y_train), mse(layout, flat, ds.x_test, ds.y_test)
    old = (time.perf_counter() - t) * (args.steps + 1) / rows
    t = time.perf_counter()
    row_losses(layout, flat, ds.x_train, ds.y_train), row_losses(layout, flat, ds.x_test, ds.y_test)
    new = (time.perf_counter() - t) * (args.steps + 1) / rows

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.npz")
        t = time.perf_counter()
        write_npz(path, recording.arrays)
        write_s = time.perf_counter() - t
        mb = os.path.getsize(path) / 1e6
        t = time.perf_counter()
        run = read_run(path)
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        loaded = load_run(run, Session(config).budget)
        load_s = time.perf_counter() - t
        wanted = select_steps(run.last_step, frames=args.frames, spacing="log")
        t = time.perf_counter()
        plan_training(config, wanted)
        plan_train_s = time.perf_counter() - t
        t = time.perf_counter()
        plan_recorded(run, wanted)
        plan_file_s = time.perf_counter() - t
    print(f"  record_run: training {train_s:.1f} s, losses at every row {eval_s:.1f} s, "
          f"writing {write_s:.1f} s, file {mb:,.0f} MB")
    print(f"  losses of {args.steps + 1:,} rows: row_losses {new:.1f} s, model.mse {old:.1f} s "
          f"(estimated from {rows:,} rows): {old / new:.1f}x")
    print(f"  opening: read_run {read_s:.2f} s, load_run {load_s:.2f} s "
          f"({len(loaded.history):,} of {len(run.rows):,} rows kept in the app's history)")
    print(f"  planning {args.frames} frames: by training {plan_train_s:.2f} s, from the file {plan_file_s:.2f} s "
          f"({plan_train_s / plan_file_s:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
