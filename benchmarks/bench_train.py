"""Training speed: reluviz's trainer against a PyTorch loop written the way the course notebook writes it.

Part 1, one run side by side: the ``notebook`` preset (piecewise-linear target, n = 200, minibatches
of 40 drawn with replacement) at width 40, for sgd (lr 0.02), momentum 0.9 (lr 0.02) and adam
(lr 0.005), in reluviz (``Trainer(cfg).run(N)``, with the compiled numba kernels and with the NumPy
reference: ``RELUVIZ_BACKEND``) and in torch: a Python for-loop over steps with
``torch.nn.Sequential(Linear(1, H), ReLU(), Linear(H, 1))``, ``torch.nn.MSELoss``, batch indices
from ``torch.randint`` (with replacement) each step, ``zero_grad`` / ``loss.backward()`` /
``torch.optim.SGD|Adam.step()``. Both start from the same parameters and compute in float64
(``--torch-dtype float32`` for torch's default precision). Each figure is the best of ``--repeat``
timings of ``--steps`` steps after a 200-step warm-up; the final training MSE of both is printed as
a check that they train the same network equally well.

Part 2, the notebook's whole sweep: widths 10/20/40 x sgd/momentum/adam x 30 seeds x 30,000 steps
(``--backend``: numba, the default, or numpy).
Each (width, optimizer) setting is one ``Trainer(cfg, runs=30, init_seeds=..., sample_seeds=...)``,
vectorised over the 30 seeds; the 9 settings are spread over ``--workers`` threads (the kernels
release the GIL; processes with ``--pool processes`` and for NumPy). Train and test MSE of every
seed are computed every 3,000 steps (the notebook's snapshots). Prints the wall time (the notebook
took 35.2 minutes).

Run ``python benchmarks/bench_train.py`` (about a minute) or ``--quick`` (a few seconds).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import reluviz  # noqa: E402,F401  (first: it keeps BLAS to one thread, as the app, only if NumPy is not loaded yet)
import numpy as np  # noqa: E402

from reluviz.core import TrainConfig, Trainer  # noqa: E402
from reluviz.core.presets import load_preset  # noqa: E402
from reluviz.core.model import mse  # noqa: E402

OPTIMIZERS = {  # name -> (settings over the notebook preset, torch optimizer factory)
    "sgd": ({"optimizer": "sgd", "lr": 0.02}, lambda torch, ps: torch.optim.SGD(ps, lr=0.02)),
    "momentum": ({"optimizer": "momentum", "lr": 0.02, "momentum": 0.9},
                 lambda torch, ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9)),
    "adam": ({"optimizer": "adam", "lr": 0.005}, lambda torch, ps: torch.optim.Adam(ps, lr=0.005)),
}
WARMUP = 200


#: torch's single-run steps/s per optimizer, measured in part 1 (the sweep's yardstick)
TORCH_RATES: dict[str, float] = {}


def notebook_config(optimizer: str, width: int) -> TrainConfig:
    return load_preset("notebook").config.updated({**OPTIMIZERS[optimizer][0], "width": width})


# ---------------------------------------------------------------------------------------- part 1
def time_reluviz(cfg: TrainConfig, steps: int, repeat: int, backend: str = "numba") -> tuple[float, float]:
    """(best steps/s, final training MSE) of ``Trainer(cfg).run(steps)`` with ``backend``."""
    os.environ["RELUVIZ_BACKEND"] = backend
    tr = Trainer(cfg)
    tr.run(WARMUP)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        tr.run(steps)
        best = min(best, time.perf_counter() - t0)
    ds = tr.dataset
    return steps / best, float(mse(tr.layout, tr.params[0], ds.x_train, ds.y_train))


def time_torch(cfg: TrainConfig, optimizer: str, steps: int, repeat: int, dtype_name: str) -> tuple[float, float]:
    """(best steps/s, final training MSE) of the notebook-style torch loop, same data and start."""
    import torch

    dtype = getattr(torch, dtype_name)
    tr = Trainer(cfg)  # only for the data and the initial parameters
    ds, lay, p0 = tr.dataset, tr.layout, tr.params[0]
    x = torch.tensor(ds.x_train, dtype=dtype).reshape(-1, 1)
    y = torch.tensor(ds.y_train, dtype=dtype).reshape(-1, 1)
    h = cfg.width
    model = torch.nn.Sequential(torch.nn.Linear(1, h), torch.nn.ReLU(), torch.nn.Linear(h, 1)).to(dtype)
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(lay.get(p0, "w"), dtype=dtype).reshape(h, 1))
        model[0].bias.copy_(torch.tensor(lay.get(p0, "b"), dtype=dtype))
        model[2].weight.copy_(torch.tensor(lay.get(p0, "v"), dtype=dtype).reshape(1, h))
        model[2].bias.copy_(torch.tensor([float(lay.get(p0, "c"))], dtype=dtype))
    opt = OPTIMIZERS[optimizer][1](torch, model.parameters())
    loss_fn = torch.nn.MSELoss()
    gen = torch.Generator().manual_seed(cfg.sample_seed)
    n, batch = len(x), cfg.batch_size

    def train(k: int) -> None:
        for _ in range(k):
            idx = torch.randint(0, n, (batch,), generator=gen)
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    train(WARMUP)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        train(steps)
        best = min(best, time.perf_counter() - t0)
    with torch.no_grad():
        final = float(loss_fn(model(x), y))
    return steps / best, final


def single_runs(args: argparse.Namespace) -> None:
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed (pip install 'reluviz[bench]'): timing reluviz only\n")
    width = 40
    print(f"== one run: notebook preset, width {width}, {args.steps:,} steps per timing, best of {args.repeat}"
          f" (after {WARMUP} warm-up steps); reluviz float64, torch {args.torch_dtype}")
    if torch is not None:
        # (importing reluviz sets OMP_NUM_THREADS=1, which torch would follow; give it its usual
        # one thread per core unless told otherwise)
        torch.set_num_threads(args.torch_threads or os.cpu_count() or 1)
        print(f"   torch {torch.__version__}, {torch.get_num_threads()} intra-op threads")
    print(f"   {'optimizer':10s} {'numba steps/s':>14s} {'numpy steps/s':>14s} {'torch steps/s':>14s} "
          f"{'numba/torch':>12s} {'numpy/torch':>12s}   final train MSE numba / torch")
    ratios = []
    for name in OPTIMIZERS:
        cfg = notebook_config(name, width)
        fast, our_mse = time_reluviz(cfg, args.steps, args.repeat, "numba")
        ref, _ = time_reluviz(cfg, args.steps, args.repeat, "numpy")
        if torch is None:
            print(f"   {name:10s} {fast:14,.0f} {ref:14,.0f}")
            continue
        theirs, their_mse = time_torch(cfg, name, args.steps, args.repeat, args.torch_dtype)
        TORCH_RATES[name] = theirs
        print(f"   {name:10s} {fast:14,.0f} {ref:14,.0f} {theirs:14,.0f} {fast / theirs:11.1f}x {ref / theirs:11.1f}x"
              f"   {our_mse:.3g} / {their_mse:.3g}")
        ratios.append(fast / theirs)
    if ratios:
        print(f"   target one run >= 100x torch (compiled): {'met' if min(ratios) >= 100 else 'NOT met'}"
              f" (lowest {min(ratios):.1f}x)")
    os.environ.pop("RELUVIZ_BACKEND", None)
    print()


# ---------------------------------------------------------------------------------------- part 2
def sweep_setting(width: int, optimizer: str, seeds: int, steps: int, every: int) -> dict:
    """Train one (width, optimizer) setting for all seeds at once; losses every ``every`` steps."""
    t0 = time.perf_counter()
    cfg = notebook_config(optimizer, width)
    seed_list = list(range(seeds))
    tr = Trainer(cfg, runs=seeds, init_seeds=seed_list, sample_seeds=seed_list)
    ds = tr.dataset
    train, test = [], []
    done = 0
    while done < steps:
        done += tr.run(min(every, steps - done))
        train.append(mse(tr.layout, tr.params, ds.x_train, ds.y_train, compiled=True))
        test.append(mse(tr.layout, tr.params, ds.x_test, ds.y_test, compiled=True))
        if tr.stopped:
            break
    return {"width": width, "optimizer": optimizer, "seconds": time.perf_counter() - t0, "steps": done,
            "train": np.array(train), "test": np.array(test), "diverged": int(tr.diverged.sum())}


def sweep(args: argparse.Namespace) -> None:
    widths, names = (10, 20, 40), tuple(OPTIMIZERS)
    settings = [(w, o) for w in sorted(widths, reverse=True) for o in names]  # slowest first
    print(f"== the notebook's sweep: widths {'/'.join(map(str, widths))} x {'/'.join(names)} x {args.seeds} seeds"
          f" x {args.sweep_steps:,} steps (MSE every {args.every:,} steps)")
    # Each worker computes single-threaded; the workers are the parallelism.
    os.environ["RELUVIZ_BACKEND"] = args.backend
    print(f"   backend {args.backend}")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    pool_kind = args.pool or ("threads" if args.backend == "numba" else "processes")
    print(f"   {args.workers} {pool_kind}")
    t0 = time.perf_counter()
    if args.workers > 1:
        # (the compiled kernels release the GIL: threads share one process's loaded kernels)
        pool = (ThreadPoolExecutor(args.workers) if pool_kind == "threads"
                else ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")))
        with pool:
            futures = [pool.submit(sweep_setting, w, o, args.seeds, args.sweep_steps, args.every) for w, o in settings]
            results = [f.result() for f in futures]
    else:
        results = [sweep_setting(w, o, args.seeds, args.sweep_steps, args.every) for w, o in settings]
    wall = time.perf_counter() - t0
    for r in sorted(results, key=lambda r: (r["width"], list(names).index(r["optimizer"]))):
        te = r["test"][-1]
        print(f"   width {r['width']:2d} {r['optimizer']:9s} {r['seconds']:5.1f} s in its worker"
              f"   final test MSE mean {np.mean(te):.3g} (std {np.std(te):.2g}) over {len(te)} seeds"
              f"   diverged {r['diverged']}")
    work = sum(r["seconds"] for r in results)
    run_steps = sum(r["steps"] for r in results) * args.seeds
    rate = run_steps / wall
    print(f"   wall time {wall:.1f} s for {run_steps:,} run-steps ({rate:,.0f} run-steps/s;"
          f" {work:.1f} s of work in the workers); the course notebook took 35.2 minutes")
    if TORCH_RATES:
        torch_mean = statistics.mean(TORCH_RATES.values())
        print(f"   run-steps/s / the torch loop's steps/s (mean over the optimizers, {torch_mean:,.0f}): "
              f"{rate / torch_mean:,.0f}x (target >= 500x: {'met' if rate / torch_mean >= 500 else 'NOT met'})")
    print()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="reluviz training speed against a notebook-style torch loop")
    ap.add_argument("--quick", action="store_true", help="short run: 2,000 steps per timing, a 3,000-step sweep")
    ap.add_argument("--steps", type=int, help="steps per single-run timing (default 20,000; quick 2,000)")
    ap.add_argument("--repeat", type=int, default=3, help="timings per figure; the best is kept (default 3)")
    ap.add_argument("--torch-dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--torch-threads", type=int, default=0, help="torch intra-op threads (default: one per CPU)")
    ap.add_argument("--sweep-steps", type=int, help="steps of the sweep (default 30,000; quick 3,000)")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--every", type=int, default=3000, help="sweep: MSE of every seed every K steps")
    ap.add_argument("--workers", type=int, default=2, help="sweep workers (default 2)")
    ap.add_argument("--pool", choices=("threads", "processes"),
                    help="sweep workers as threads (default with numba: its kernels release the GIL) or processes")
    ap.add_argument("--no-single", action="store_true", help="skip part 1")
    ap.add_argument("--backend", choices=("numba", "numpy"), default="numba", help="the sweep's training backend")
    ap.add_argument("--no-sweep", action="store_true", help="skip part 2")
    args = ap.parse_args(argv)
    args.steps = args.steps or (2000 if args.quick else 20000)
    args.sweep_steps = args.sweep_steps or (3000 if args.quick else 30000)
    args.every = min(args.every, args.sweep_steps)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"numpy {np.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs,"
          f" load average {load:.2f} at start\n")
    if not args.no_single:
        single_runs(args)
    if not args.no_sweep:
        sweep(args)


if __name__ == "__main__":
    main()
