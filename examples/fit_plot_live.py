"""
Drive the app's fit plot straight from a core Trainer with a QTimer: no worker thread, no window
shell. Each tick trains a few SGD steps and draws the new snapshot (data, true function,
prediction, every unit's elbow, the next minibatch).

    .venv/bin/python examples/fit_plot_live.py                   # until the window is closed
    .venv/bin/python examples/fit_plot_live.py --preset dead-relus --steps-per-frame 50
    .venv/bin/python examples/fit_plot_live.py --frames 5        # draw 5 frames, then quit
"""

import argparse

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore

from reluviz.core import Trainer
from reluviz.core.metrics import dataset_losses
from reluviz.core.presets import load_preset
from reluviz.plots import FitPlot, theme

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
parser.add_argument("--preset", default="notebook", help="a preset (default notebook; `reluviz presets` lists them)")
parser.add_argument("--steps-per-frame", type=int, default=20, help="updates between two drawn frames")
parser.add_argument("--frames", type=int, default=0, help="quit after this many frames (0: run until closed)")
args = parser.parse_args()

trainer = Trainer(load_preset(args.preset).config)

theme.configure_pyqtgraph()  # white ground, as in the app
app = pg.mkQApp("reluviz example: FitPlot")
win = pg.GraphicsLayoutWidget(show=True, title="reluviz example: FitPlot driven by a Trainer")
win.resize(1000, 600)
fit = FitPlot(win.addPlot())
fit.set_dataset(trainer.dataset)
fit.show_snapshot(trainer.snapshot())
frames = 0


def update():
    global frames
    trainer.run(args.steps_per_frame)  # a diverging run stops at its last finite state
    snap = trainer.snapshot()
    fit.show_snapshot(snap)
    frames += 1
    train = dataset_losses(snap, trainer.dataset).train
    win.setWindowTitle(trainer.divergence.reason if trainer.stopped else f"step {snap.step:,}, train MSE {train:.4g}")
    if trainer.stopped:
        timer.stop()
    if args.frames and (frames == args.frames or trainer.stopped):
        app.quit()


timer = QtCore.QTimer()
timer.timeout.connect(update)
timer.start(16)

if __name__ == "__main__":
    pg.exec()
    lo = dataset_losses(trainer.snapshot(), trainer.dataset)
    print(f"{frames} frames, step {trainer.step}, train loss {lo.train:.6g}, validation loss {lo.val:.6g}")
