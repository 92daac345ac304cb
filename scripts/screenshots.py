"""Regenerate the lecture views' screenshots in resources/screenshots/ (the README shows them).

    .venv/bin/python scripts/screenshots.py [--out resources/screenshots]

Opens the window offscreen at 1600x1000, and for each view loads its preset, trains it to a step at
the default speed's pace (headless, as fast as it goes), runs the view's own computation where it
has one (Run dance, Run bands) and saves the view's widget as PNG.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RELUVIZ_SETTINGS_DIR", tempfile.mkdtemp(prefix="reluviz-shots-"))

#: (file, preset, steps to train, the view's computation: None, "dance", "bands" or "sweep")
SHOTS = (("view-dance.png", "dance", 1500, "dance"), ("view-dance-gd.png", "gd-oscillates", 300, "dance"),
         ("view-votes.png", "linear-model", 200, None), ("view-elbows.png", "cauchy-elbows", 3000, None),
         ("view-bands.png", "seed-bands", 0, "bands"), ("view-bands-sweep.png", "seed-bands", 0, "sweep"))


def wait(app, until, seconds: float = 120.0) -> None:
    from PySide6 import QtCore

    deadline = time.monotonic() + seconds
    while not until():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "resources", "screenshots"))
    args = ap.parse_args()
    from PySide6 import QtWidgets

    from reluviz.gui import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["screenshots"])
    window = MainWindow(None)
    window.resize(1600, 1000)
    window.show()
    for name, preset, steps, compute in SHOTS:
        window.load_preset(preset)
        window.panel.set_speed(0)
        if steps:
            window.play()
            wait(app, lambda: window.session.head_step >= steps)
            window.pause()
        view = window.tabs.lecture_view()
        if compute == "dance":
            worker = view.run_dance()
            wait(app, lambda: not worker.isRunning())
        elif compute in ("bands", "sweep"):  # (the controls: 30 seeds x 30,000 steps x 3 optimizers)
            worker = view.run_bands() if compute == "bands" else view.run_sweep()
            wait(app, lambda: not worker.isRunning(), 300)
        wait(app, lambda: True)
        app.processEvents()
        path = os.path.join(args.out, name)
        view.grab().save(path)
        print(f"wrote {path} ({preset}, step {window.session.head_step:,})")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
