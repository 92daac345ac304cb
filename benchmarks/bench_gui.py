"""How smooth is the app while it trains? Frames per second, training speed, UI latency.

    .venv/bin/python benchmarks/bench_gui.py [--preset notebook] [--width 100] [--depth 1] [--activation relu]
                                             [--seconds 6] [--speed 0]

Prints, for the window at 1600x1000 (offscreen unless a display is set) training the notebook
setup at ``--width`` hidden units in ``--depth`` layers (``--activation``) as fast as it can (speed "max"):

* frames drawn per second (target >= 60: the display rate the worker throttles to);
* the trainer's steps/second inside the app, and as a ratio of the same trainer headless, recording
  every step into a History as the app does (target >= 0.9); the ratio to a bare ``Trainer.run``
  with no recording is printed too;
* the delay of UI events: every 10 ms a zero-timeout ``QTimer.singleShot`` is posted and the time
  until it runs is measured; the 50th, 95th percentile and the worst (target p95 < 16 ms).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("RELUVIZ_SETTINGS_DIR", tempfile.mkdtemp(prefix="reluviz-bench-"))

import reluviz  # noqa: E402,F401  (first: it keeps BLAS to one thread, as in the app, only if NumPy is not loaded yet)
import numpy as np  # noqa: E402

from reluviz.core import History, TrainConfig, Trainer  # noqa: E402
from reluviz.core.presets import load_preset  # noqa: E402


def headless_rate(config: TrainConfig, seconds: float, record: bool) -> float:
    trainer = Trainer(config)
    history = History.for_trainer(trainer) if record else None  # as the app records: every step, in blocks
    trainer.run(500, record=history)  # warm up
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        done += trainer.run(2000, record=history)
    return done / (time.perf_counter() - t0)


def app_figures(config: TrainConfig, seconds: float, speed: int) -> dict:
    from PySide6 import QtCore, QtWidgets

    from reluviz.gui import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["bench"])
    window = MainWindow(config)
    window.resize(1600, 1000)
    window.panel.set_speed(speed)
    window.show()
    delays: list[float] = []

    def probe():
        posted = time.perf_counter()
        QtCore.QTimer.singleShot(0, lambda: delays.append(time.perf_counter() - posted))

    ticker = QtCore.QTimer(window)
    ticker.setInterval(10)
    ticker.timeout.connect(probe)
    loop = QtCore.QEventLoop()
    window.play()
    # settle for half a second, then measure
    QtCore.QTimer.singleShot(500, loop.quit)
    loop.exec()
    frames0, steps0, t0 = window.frames_drawn, window.worker.steps_trained, time.perf_counter()
    ticker.start()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    ticker.stop()
    elapsed = time.perf_counter() - t0
    frames = window.frames_drawn - frames0
    steps = window.worker.steps_trained - steps0
    t_close = time.perf_counter()
    window.close()
    close_s = time.perf_counter() - t_close
    window.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    d = np.array(delays) * 1000
    return {"fps": frames / elapsed, "steps_per_s": steps / elapsed, "p50": float(np.percentile(d, 50)),
            "p95": float(np.percentile(d, 95)), "max": float(d.max()), "probes": len(d), "close_s": close_s}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, help="hidden units (default: 100 for the notebook, else the preset's)")
    ap.add_argument("--depth", type=int, default=1, help="hidden layers (a deep net draws its kinks by layer)")
    ap.add_argument("--activation", default="relu", help="relu, leaky_relu, tanh or sigmoid")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--speed", type=int, default=0, help="updates per frame (0: as fast as possible)")
    ap.add_argument("--preset", default="notebook", help="the preset trained (its width unless --width is given)")
    args = ap.parse_args()
    given = {"width": args.width} if args.width is not None else {}
    config = load_preset(args.preset).config.updated({**given, "depth": args.depth, "activation": args.activation,
                                                      "steps": 100_000_000})
    args.width = config.width
    if args.preset == "notebook" and not given:
        config = config.updated({"width": 100})
        args.width = 100
    load_before = os.getloadavg()[0]
    bare = headless_rate(config, 2.0, record=False)
    recorded = headless_rate(config, 1.5, record=True)
    fig = app_figures(config, args.seconds, args.speed)
    # the machine may be shared: measure the headless figure again after, and keep the mean
    recorded = (recorded + headless_rate(config, 1.5, record=True)) / 2
    ok = lambda good: "ok" if good else "BELOW TARGET"  # noqa: E731
    print(f"reluviz app benchmark: preset {args.preset}, width {args.width}, depth {args.depth}, {args.activation}, "
          f"speed {'max' if args.speed == 0 else args.speed}, "
          f"{args.seconds:g} s, platform {os.environ.get('QT_QPA_PLATFORM')}, {os.cpu_count()} cores, "
          f"load average {load_before:.2f} before (other processes share the cores)")
    print(f"  frames drawn per second      {fig['fps']:8.1f}   (target >= 60)   {ok(fig['fps'] >= 59.5)}")
    ratio = fig["steps_per_s"] / recorded
    print(f"  steps/s in the app           {fig['steps_per_s']:8.0f}")
    print(f"  steps/s headless (+History)  {recorded:8.0f}   ratio {ratio:.2f} (target >= 0.9)   {ok(ratio >= 0.9)}")
    print(f"  steps/s headless (bare run)  {bare:8.0f}   ratio {fig['steps_per_s'] / bare:.2f}")
    print(f"  UI event delay ms            p50 {fig['p50']:.1f}   p95 {fig['p95']:.1f}   max {fig['max']:.1f}   "
          f"({fig['probes']} probes; target p95 < 16)   {ok(fig['p95'] < 16)}")
    print(f"  close while training         {fig['close_s'] * 1000:8.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
