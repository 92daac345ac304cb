"""Plots of the votes view: each training point's term of the gradient, its error, and the two sums.

* ``VotesPlot``: one bar per training point at its x, height = its vote (its term of the
  full-batch gradient dL/dparam); bars of the current minibatch's points in the minibatch colour,
  and the worksheet's pair (same error, different x) in ``PAIR``.
* ``ErrorsPlot``: one bar per training point at its x, height = its error f(x_i) - y_i (what the
  vote is made of before df/dparam weighs it), the same pair highlighted.
* ``SumsPlot``: bars with their values written on them: the sum of all votes (the full-batch
  gradient, about zero at the optimum) and the minibatch gradient (N/B times the sum of the
  minibatch's votes, which does not vanish there); with a ridge regulariser first the data's
  votes and the regulariser's own vote 2 lambda theta, which balance at the ridge optimum.

None of them holds a legend: the canvas (``reluviz.plots.votes_canvas``) lists what is drawn in a
legend row outside the plots. Axis ranges follow the data only (``SteadyRange``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from reluviz.plots import theme
from reluviz.plots.lecture_common import SteadyRange, style_plot

VOTE = (110, 110, 110)
ERROR = (31, 119, 180)
PAIR = (148, 40, 189)  # worksheet 1(b): the two points with the same error and different x
FULL = (20, 20, 20)
RIDGE = (44, 160, 44)  # the ridge regulariser's vote


class _PointBars:
    """One bar per training point at its x (grey), a highlighted subset over them, and the pair."""

    def __init__(self, plot: pg.PlotItem, left: str, colour, extra_colour=None):
        self.plot = plot
        style_plot(plot, bottom="x of the training point", left=left)
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=theme.pen((0, 0, 0), 1.5))
        plot.addItem(self.zero, ignoreBounds=True)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.01, brush=theme.brush(colour, 170), pen=None)
        plot.addItem(self.bars)
        self.batch_bars = None
        if extra_colour is not None:
            self.batch_bars = pg.BarGraphItem(x=[], height=[], width=0.01, brush=theme.brush(extra_colour), pen=None)
            plot.addItem(self.batch_bars)
        self.pair_bars = pg.BarGraphItem(x=[], height=[], width=0.01, brush=theme.brush(PAIR), pen=None)
        self.pair_bars.setZValue(5)
        plot.addItem(self.pair_bars)
        self.yr = SteadyRange(margin=0.1, shrink_below=0.3)
        self._x_range = (0.0, 1.0)
        self._width = 0.01
        plot.vb.disableAutoRange()

    def reset(self) -> None:
        self.yr.reset()

    def set_points(self, x: np.ndarray) -> None:
        """The training x (fixes the bar width and the x range)."""
        x = np.asarray(x, dtype=float)
        lo, hi = float(x.min()), float(x.max())
        span = max(hi - lo, 1e-9)
        self._width = 0.8 * span / max(len(x), 1)
        self._x_range = (lo - 0.04 * span, hi + 0.04 * span)
        self.yr.reset()

    @property
    def y_range(self) -> tuple[float, float]:
        return tuple(self.plot.vb.viewRange()[1])

    def _show(self, x: np.ndarray, heights: np.ndarray, pair: tuple[int, int] | None) -> None:
        w = self._width
        self.bars.setOpts(x=x, height=heights, width=w)
        if pair is None:
            self.pair_bars.setOpts(x=[], height=[], width=w)
        else:
            idx = list(pair)
            self.pair_bars.setOpts(x=x[idx], height=heights[idx], width=w * 2.2)
        finite = heights[np.isfinite(heights)]
        lo, hi = self.yr.update(min(float(np.min(finite, initial=0.0)), 0.0), max(float(np.max(finite, initial=0.0)), 0.0))
        self.plot.setRange(xRange=self._x_range, yRange=(lo, hi), padding=0)

    def clear(self) -> None:
        for item in (self.bars, self.batch_bars, self.pair_bars):
            if item is not None:
                item.setOpts(x=[], height=[])


class VotesPlot(_PointBars):
    def __init__(self, plot: pg.PlotItem):
        super().__init__(plot, "vote", VOTE, theme.BATCH)

    def show(self, x: np.ndarray, votes: np.ndarray, in_batch: np.ndarray, ylabel: str,
             pair: tuple[int, int] | None = None) -> None:
        """``votes`` (N,) at ``x`` (N,); ``in_batch`` (N,) bool: the minibatch's points (drawn wider,
        in the minibatch colour); ``pair``: two point indices highlighted (None: none)."""
        self.batch_bars.setOpts(x=x[in_batch], height=votes[in_batch], width=self._width * 1.6)
        self._show(x, votes, pair)
        self.plot.setLabel("left", ylabel)


class ErrorsPlot(_PointBars):
    """Each training point's error f(x_i) - y_i at its x (the vote before df/dparam weighs it)."""

    def __init__(self, plot: pg.PlotItem):
        super().__init__(plot, "error", ERROR)

    def show(self, x: np.ndarray, errors: np.ndarray, pair: tuple[int, int] | None = None) -> None:
        self._show(x, errors, pair)


class SumsPlot:
    """Full-batch gradient against minibatch gradient, as labelled bars. With a ridge regulariser
    the data's and the regulariser's parts come first: the sum of the votes, the regulariser's own
    vote 2 lambda theta, then the full-batch total (zero at the ridge optimum: the two balance) and
    the minibatch's (which adds the same 2 lambda theta to its own votes)."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        style_plot(plot, left="gradient", grid=False)
        from pyqtgraph.Qt import QtGui as _g

        tf = _g.QFont()
        tf.setPointSize(13)
        plot.getAxis("bottom").setStyle(tickFont=tf, tickLength=0)
        plot.showGrid(x=False, y=True, alpha=0.18)
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=theme.pen((0, 0, 0), 1.5))
        plot.addItem(self.zero, ignoreBounds=True)
        self.bars = pg.BarGraphItem(x=[0.0, 1.0], height=[0.0, 0.0], width=0.6,
                                    brushes=[theme.brush(FULL), theme.brush(theme.BATCH)], pen=None)
        plot.addItem(self.bars)
        from pyqtgraph.Qt import QtGui

        self._font = QtGui.QFont()
        self._font.setPointSize(15)
        self._font.setBold(True)
        self.labels: list[pg.TextItem] = []
        self.yr = SteadyRange(margin=0.25, shrink_below=0.3)
        plot.vb.disableAutoRange()
        self._kinds: tuple[str, ...] = ()
        self.values = (0.0, 0.0)
        self.ridge_value: float | None = None
        self.scale = 0.0  # typical size of one point's term, to tell rounding noise from a value

    #: each bar: (tick label without / with a ridge, colour)
    KINDS = {"votes": ("Σ votes", VOTE), "ridge": ("2λθ", RIDGE), "full": ("full batch", FULL),
             "batch": ("minibatch", theme.BATCH)}

    def _lay_out(self, kinds: tuple[str, ...]) -> None:
        if kinds == self._kinds:
            return
        self._kinds = kinds
        ridge = "ridge" in kinds
        short = {"full": "full", "batch": "batch"} if ridge else {}
        ticks = [(float(k), short.get(kind, self.KINDS[kind][0])) for k, kind in enumerate(kinds)]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setXRange(-0.75, len(kinds) - 0.25, padding=0)
        for item in self.labels:
            self.plot.removeItem(item)
        self.labels = []
        for kind in kinds:
            item = pg.TextItem("", color=self.KINDS[kind][1], anchor=(0.5, 1.0))
            item.setFont(self._font)
            self.plot.addItem(item, ignoreBounds=True)
            self.labels.append(item)

    def reset(self) -> None:
        self.yr.reset()

    def show(self, full: float, batch: float | None, ylabel: str, ridge: float | None = None,
             votes: float | None = None) -> None:
        """``full``, ``batch``: the gradients a full-batch and a minibatch step descend (data and
        regulariser; ``batch`` None: full-batch training); ``ridge``: the regulariser's vote
        2 lambda theta and ``votes`` the sum of the data's votes (None: no regulariser)."""
        self.values = (float(full), 0.0 if batch is None else float(batch))
        self.ridge_value = None if ridge is None else float(ridge)
        parts = ([("votes", votes), ("ridge", ridge)] if ridge is not None else []) + [("full", full)]
        if batch is not None:
            parts.append(("batch", batch))
        self._lay_out(tuple(k for k, _v in parts))
        heights = [float(v) for _k, v in parts]
        self.bars.setOpts(x=list(range(len(heights))), height=heights,
                          brushes=[theme.brush(self.KINDS[k][1]) for k, _v in parts])
        lo, hi = self.yr.update(min(*heights, 0.0), max(*heights, 0.0))
        self.plot.setYRange(lo, hi, padding=0)
        size = max(abs(h) for h in heights)
        for k, (item, v) in enumerate(zip(self.labels, heights)):
            item.setText(fmt_gradient(v, max(size, self.scale)))
            # write the value just outside the bar's end (above positive bars, below negative ones)
            item.setAnchor((0.5, 1.0) if v >= 0 else (0.5, 0.0))
            item.setPos(float(k), v)
        self.plot.setLabel("left", ylabel)


def fmt_gradient(value: float, scale: float) -> str:
    """``+0.135``; values at rounding level next to ``scale`` read "≈ 0"."""
    if abs(value) <= 1e-9 * max(scale, 1e-300):
        return "≈ 0"
    return f"{value:+.3g}"
