"""The app's first launch: time to the first frame with a cold and a warm numba cache.

    .venv/bin/python benchmarks/bench_startup.py [--runs 3]

Each launch is a fresh process (offscreen) that opens the window on the ``notebook`` preset and
presses play at speed "max". Printed per launch: seconds from process start to the window built, to
the first trained frame drawn, and until the compiled kernels are ready (compiled, or loaded from the
cache), plus the steps trained in the first two seconds. "cold" launches get an empty numba cache
folder (``NUMBA_CACHE_DIR``): the kernels compile in the background while NumPy trains; "warm"
launches reuse the folder the cold one filled.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
from PySide6 import QtCore, QtWidgets
from reluviz.core import backend
from reluviz.core.presets import load_preset
from reluviz.gui import MainWindow
app = QtWidgets.QApplication(["bench"])
w = MainWindow(load_preset("notebook").config.updated({"steps": 10_000_000}), preset="notebook")
w.panel.set_speed(0)
w.show()
built = time.perf_counter() - t0
start_frames = w.frames_drawn
w.play()
first = ready = None
deadline = time.perf_counter() + 60
while time.perf_counter() < deadline:
    app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
    now = time.perf_counter() - t0
    if first is None and w.frames_drawn > start_frames and w.session.head_step > 0:
        first = now
        steps_at_first = w.session.head_step
    if ready is None and backend.compiled(wait=False) is not None:
        ready = now
    if first is not None and ready is not None and now > first + 2.0:
        break
steps = w.session.head_step
w.close()
print(json.dumps({"built": built, "first_frame": first, "kernels_ready": ready, "steps_2s": steps - steps_at_first,
                  "status": backend.status()}))
"""


def launch(cache_dir: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NUMBA_CACHE_DIR=cache_dir,
               RELUVIZ_SETTINGS_DIR=tempfile.mkdtemp(prefix="reluviz-bench-"))
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="cold/warm pairs")
    args = ap.parse_args()
    print(f"first launch of the app (notebook preset, speed max), load average {os.getloadavg()[0]:.2f}")
    print(f"   {'cache':6s} {'window built':>13s} {'first frame':>12s} {'kernels ready':>14s} {'steps in 2 s':>13s}")
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="reluviz-numba-") as cache:
            for kind in ("cold", "warm"):
                r = launch(cache)
                ready = f"{r['kernels_ready']:.2f} s" if r["kernels_ready"] is not None else "never"
                print(f"   {kind:6s} {r['built']:12.2f}s {r['first_frame']:11.2f}s {ready:>14s} {r['steps_2s']:13,d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
