"""Plots of the Layers view: every hidden layer's units as functions of x, and f below them.

``LayersPlot`` fills a ``pg.GraphicsLayoutWidget``: the top row has one plot per hidden layer k
(its units h_k,j(x), the kinks of f that layer makes marked on the axis), the bottom row f(x)
with the data and every kink coloured by its layer. It draws a ``Structure``'s arrays (exact
polylines through the breakpoints, from the core) and computes nothing. Plots are rebuilt only
when the depth changes; items are updated with ``setData``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from reluviz.core.data import Dataset
from reluviz.core.structure import Structure
from reluviz.plots import theme
from reluviz.plots.fit_structure import DERIVATIVE
from reluviz.plots.lecture_common import SteadyRange, note_item, style_plot

MAX_DRAWN_POINTS = 2000


def unit_lines(xs: np.ndarray, values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``values`` (K, M) picked by ``mask`` as one NaN-separated polyline over ``xs`` (M,)."""
    rows = values[mask]
    if len(rows) == 0:
        return np.empty(0), np.empty(0)
    ys = np.concatenate([rows, np.full((len(rows), 1), np.nan)], axis=1)
    return np.broadcast_to(np.r_[xs, np.nan], ys.shape).ravel(), ys.ravel()


def layer_title(st: Structure, k: int) -> str:
    """Plot title of hidden layer k (1-based) on three short lines (four layers side by side must fit
    the window; a title sets its plot's least width): the layer, then what its units do on the
    training data."""
    h = st.width
    if st.piecewise:
        dead = int(st.stats.dead[k - 1].sum())
        kinks = int(np.count_nonzero(st.kinks.layer == k))
        return f"<b>layer {k}</b><br>{dead}/{h} dead<br>{kinks} kink{'s' if kinks != 1 else ''} of f"
    sat = int(st.stats.saturated[k - 1].sum())
    return (f"<b>layer {k}</b><br>{sat}/{h} saturated<br>mean |{DERIVATIVE[st.activation]}| "
            f"{st.stats.mean_derivative[k - 1]:.2g}")


def output_title(st: Structure) -> str:
    if st.piecewise:
        return (f"f(x) = v·h_{st.depth}(x) + c: <b>{st.regions} linear regions</b> on the data from "
                f"{st.units} units")
    return f"f(x) = v·h_{st.depth}(x) + c: smooth ({st.activation} units have no kinks)"


class _LayerItems:
    def __init__(self, plot: pg.PlotItem, color):
        self.plot = plot
        self.alive = pg.PlotCurveItem(pen=theme.pen(color, 1.5, alpha=220), connect="finite")
        self.dead = pg.PlotCurveItem(pen=theme.pen(theme.DEAD, 1.2, "dot"), connect="finite")
        self.marks = pg.ScatterPlotItem(size=11, symbol="t1", pen=pg.mkPen("w", width=0.8), brush=theme.brush(color))
        for item in (self.dead, self.alive, self.marks):
            plot.addItem(item)
        self.range = SteadyRange(margin=0.08, shrink_below=0.4)


class LayersPlot:
    """The Layers view's plots on ``widget`` (see the module docstring)."""

    def __init__(self, widget: pg.GraphicsLayoutWidget):
        self.widget = widget
        self.depth = 0
        self.layers: list[_LayerItems] = []
        self.output: pg.PlotItem | None = None
        self._dataset: Dataset | None = None

    def _build(self, depth: int) -> None:
        self.widget.clear()
        self.layers = []
        for k in range(depth):
            plot = self.widget.addPlot(row=0, col=k)
            style_plot(plot, bottom="x", left=f"h{k + 1}(x)" if k == 0 else "", title="")
            self.layers.append(_LayerItems(plot, theme.LAYER_COLORS[k]))
        out = self.widget.addPlot(row=1, col=0, colspan=depth)
        style_plot(out, bottom="x", left="f(x)", title="")
        self.output = out
        self.points = pg.ScatterPlotItem(size=4, pen=None, brush=theme.brush(theme.TRAIN_POINTS, 130))
        self.truth = pg.PlotCurveItem(pen=theme.pen(theme.TRUTH, 2.0, "dash"))
        self.curve = pg.PlotCurveItem(pen=theme.pen(theme.PREDICTION, 2.5))
        self.kinks = [pg.ScatterPlotItem(size=10, pen=pg.mkPen("w", width=1.0), brush=theme.brush(c))
                      for c in theme.LAYER_COLORS[:depth]]
        for item in (self.points, self.truth, self.curve, *self.kinks):
            out.addItem(item)
        self.out_range = SteadyRange(margin=0.08, shrink_below=0.4)
        self.widget.ci.layout.setRowStretchFactor(0, 3)
        self.widget.ci.layout.setRowStretchFactor(1, 2)
        self.note = note_item(out, anchor=(0.5, 0.5))
        self.depth = depth
        self._dataset = None

    def message(self, text: str) -> None:
        """Say ``text`` instead of drawing layers (e.g. a model without hidden layers)."""
        if self.depth != 1 or self.output is None:
            self._build(1)
        for lay in self.layers:
            lay.alive.setData([], [])
            lay.dead.setData([], [])
            lay.marks.setData([], [])
            lay.plot.setTitle("")
        for item in (self.points, self.truth, self.curve, *self.kinks):
            item.setData([], [])
        self.output.setTitle("")
        self.output.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.note.setText(text)
        self.note.setPos(0.5, 0.5)

    def show(self, st: Structure, dataset: Dataset) -> None:
        """Draw ``st`` (its ``kinks.layers`` must be present) over ``dataset``'s points."""
        if st.depth != self.depth:
            self._build(st.depth)
        self.note.setText("")
        k = st.kinks
        xs = k.xs
        for i, lay in enumerate(self.layers):
            values = k.layers[i]
            off = st.stats.dead[i] | st.stats.saturated[i]
            lay.alive.setData(*unit_lines(xs, values, ~off), connect="finite")
            lay.dead.setData(*unit_lines(xs, values, off), connect="finite")
            sel = k.layer == i + 1
            lay.marks.setData(k.x[sel], np.zeros(int(sel.sum())))
            lo, hi = lay.range.update(min(0.0, float(np.nanmin(values))), max(0.0, float(np.nanmax(values))))
            lay.plot.setRange(xRange=(k.lo, k.hi), yRange=(lo, hi), padding=0)
            lay.plot.setTitle(layer_title(st, i + 1), size="11pt", color=theme.FOREGROUND)
        if dataset is not self._dataset:
            self._dataset = dataset
            step = max(1, dataset.n // MAX_DRAWN_POINTS)
            self.points.setData(dataset.x_train[::step], dataset.y_train[::step])
            if dataset.true_x is not None:
                self.truth.setData(dataset.true_x, dataset.true_y)
            else:
                self.truth.setData([], [])
            self.out_range.reset()
        self.curve.setData(xs, k.fx)
        for i, item in enumerate(self.kinks):
            sel = k.layer == i + 1
            item.setData(k.x[sel], k.y[sel])
        ys = np.concatenate([dataset.y_train, k.fx])
        lo, hi = self.out_range.update(float(np.nanmin(ys)), float(np.nanmax(ys)))
        self.output.setRange(xRange=(k.lo, k.hi), yRange=(lo, hi), padding=0)
        self.output.setTitle(output_title(st), size="13pt", color=theme.FOREGROUND)
