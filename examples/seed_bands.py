"""
Seed bands with the core alone: train 30 seeds per optimizer side by side (same data, same
initialisations, same minibatch order for every optimizer), then draw the median validation loss
(settings are compared on held-out validation points, never on the test set) and
its interquartile band against step with plain pyqtgraph, or print them.

    .venv/bin/python examples/seed_bands.py                      # notebook preset, a window
    .venv/bin/python examples/seed_bands.py --no-window          # print the final medians
    .venv/bin/python examples/seed_bands.py --seeds 8 --steps 2000 --optimizers sgd adam
"""

import argparse

import numpy as np

from reluviz.core.bands import seed_bands
from reluviz.core.presets import load_preset

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
parser.add_argument("--preset", default="notebook")
parser.add_argument("--optimizers", nargs="+", default=["sgd", "momentum", "adam"])
parser.add_argument("--seeds", type=int, default=30)
parser.add_argument("--steps", type=int, default=10_000)
parser.add_argument("--no-window", action="store_true", help="print the bands, draw nothing")
parser.add_argument("--close", action="store_true", help="close the window as soon as it is drawn")
args = parser.parse_args()

config = load_preset(args.preset).config
runs = seed_bands(config, args.optimizers, args.seeds, steps=args.steps, every=max(1, args.steps // 200))
for opt, r in runs.items():
    b = r.band("val")  # median and quartiles over seeds, (T,) each
    print(f"{opt:>9}: {r.runs} seeds, step {b.steps[-1]:,}: median validation loss {b.median[-1]:.4g} "
          f"(IQR {b.q25[-1]:.4g} .. {b.q75[-1]:.4g}), {np.count_nonzero(r.diverged)} diverged, {r.seconds:.1f} s")

if __name__ == "__main__" and not args.no_window:
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore

    from reluviz.plots.lecture_common import OPTIMIZER_COLORS

    pg.setConfigOptions(background="w", foreground="k", antialias=True)
    app = pg.mkQApp("reluviz example: seed bands")
    plot = pg.plot(title=f"validation MSE over {args.seeds} seeds: median and interquartile band")
    plot.resize(900, 550)
    plot.setLogMode(y=True)
    plot.getAxis("left").enableAutoSIPrefix(False)  # (it would print 2·10^1 (x0.001) for 0.02)
    plot.setLabels(bottom="step", left="validation MSE")
    plot.addLegend()
    for opt, r in runs.items():
        b, colour = r.band("val"), OPTIMIZER_COLORS[opt]
        low = plot.plot(b.steps, b.q25, pen=pg.mkPen(colour + (80,)))
        high = plot.plot(b.steps, b.q75, pen=pg.mkPen(colour + (80,)))
        plot.addItem(pg.FillBetweenItem(low, high, brush=colour + (50,)))
        plot.plot(b.steps, b.median, pen=pg.mkPen(colour, width=2.5), name=opt)
    if args.close:
        QtCore.QTimer.singleShot(200, app.quit)
    pg.exec()
