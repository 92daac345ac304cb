"""What a deep net costs a frame: the kinks in the training thread, the drawing in the GUI thread.

    .venv/bin/python benchmarks/bench_deep.py [--frames 60] [--steps 2000]

For the notebook setup at several depths, widths and activations side by side (offscreen, the fit
plot at 1600x1000's size), after ``--steps`` updates of training:

* ``frame ms``: ``Session.frame()``, what the training thread spends per published frame (the
  train/test loss, the network's Structure: kinks by layer, regions, per-layer dead/saturated
  units, Figure 4's piecewise-constant fit), and ``kinks ms``: ``network_structure`` alone (which then
  also evaluates the training MSE the frame hands it);
* ``draw ms``: ``TrainingView.show_frame`` plus a full repaint (``grab``), the GUI thread's part;
* ``fps bound``: 1000 / max(frame, draw): the frame rate the app could not exceed at this size
  (the app draws at most about 60 frames a second; ``bench_gui.py`` measures the real app);
* ``steps/s``: headless training (``Trainer.run``) for scale.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from reluviz.core import Trainer  # noqa: E402
from reluviz.core.presets import load_preset  # noqa: E402
from reluviz.core.session import Session  # noqa: E402
from reluviz.core.settings_text import ConfigError  # noqa: E402
from reluviz.core.structure import network_structure  # noqa: E402

CASES = [(1, 50, "relu"), (2, 50, "relu"), (4, 50, "relu"), (4, 50, "leaky_relu"), (4, 50, "tanh"),
         (3, 6, "relu"), (4, 100, "relu")]


def timed(fn, n: int) -> float:
    """Median milliseconds of ``n`` calls of ``fn``."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1000 * times[len(times) // 2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    from PySide6 import QtWidgets

    from reluviz.plots.training_view import TrainingView

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["bench"])
    view = TrainingView()
    view.resize(1230, 930)  # (the window's plot area at 1600x1000)
    view.show()
    app.processEvents()
    base = load_preset("notebook").config
    load = os.getloadavg()[0]
    print(f"deep-net frame costs: notebook data (200 points), {args.steps} steps trained, median of {args.frames} "
          f"frames, {os.cpu_count()} cores, load average {load:.2f}")
    print(f"{'depth x width':>14} {'activation':>11} {'regions':>8} {'frame ms':>9} {'kinks ms':>9} {'draw ms':>8} "
          f"{'fps bound':>10} {'steps/s':>9}")
    for depth, width, act in CASES:
        cfg = base.updated({"depth": depth, "width": width, "activation": act})
        try:
            session = Session(cfg)
        except ConfigError as exc:  # (4 x 100 on the notebook's 1,300 points is past the live limit)
            print(f"{depth:>6} x {width:<6} {act:>11}  not trained live: {str(exc).split(':')[0]}")
            continue
        session.advance(args.steps)
        session.checkpoint()
        frame = session.frame()
        snap, ds = frame.snapshot, session.dataset
        frame_ms = timed(session.frame, args.frames)
        kinks_ms = timed(lambda: network_structure(snap, ds), args.frames)

        def draw():
            view.show_frame(frame)
            view.grab()

        draw()
        draw_ms = timed(draw, args.frames)
        tr = Trainer(cfg)
        tr.run(200)
        t0 = time.perf_counter()
        tr.run(2000)
        rate = 2000 / (time.perf_counter() - t0)
        st = frame.structure
        regions = st.regions if st.piecewise else "-"
        print(f"{depth:>6} x {width:<5} {act:>11} {regions!s:>8} {frame_ms:9.2f} {kinks_ms:9.2f} {draw_ms:8.2f} "
              f"{1000 / max(frame_ms, draw_ms):10.0f} {rate:9.0f}")
    view.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
