"""The model-selection plot (notes, Figure 3.1): train, validation (and, when asked, test and the
error to the true function) MSE against one hyperparameter, the setting validation picks marked.

Both axes are log10 (pyqtgraph's log mode: the items take plain values): lambda, widths and step
counts span decades, and so do the losses. ``SelectionPlot.show(result)`` draws a
``reluviz.core.selection.SelectionResult``; items are created once and updated with ``setData``.
A setting of 0 (lambda = 0, step 0) has no place on a log axis and is left out of the drawing.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from reluviz.core.selection import PARAMETER_LABELS, SelectionResult, format_value
from reluviz.plots import theme
from reluviz.plots.lecture_common import LogRange, add_legend, log_ticks, positive, style_plot
from reluviz.plots.legend_room import legend_height, list_in_legend, top_for_legend

#: The curves: key -> (legend label, colour, pen style, symbol, shown at first).
CURVES = {
    "train": ("train", theme.TRAIN_LOSS, None, "o", True),
    "val": ("validation", theme.VAL_LOSS, None, "s", True),
    "test": ("test", theme.TEST_LOSS, None, "t", False),
    "true": ("true-function error", theme.TRUTH, "dash", None, False),
}


class SelectionPlot:
    """Loss against a hyperparameter on ``plot``; ``set_visible(key, on)`` for the test and true curves."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        style_plot(plot, bottom="hyperparameter", left="MSE (log scale)")
        plot.setLogMode(x=True, y=True)
        self.legend = add_legend(plot)
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key, (label, colour, style, symbol, shown) in CURVES.items():
            item = pg.PlotDataItem(pen=theme.pen(colour, 3.0 if key == "val" else 2.5, style), symbol=symbol,
                                   symbolSize=9, symbolPen=None, symbolBrush=theme.brush(colour))
            item.setVisible(shown)
            plot.addItem(item)
            self.curves[key] = item
        self.choice = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.BEST, 1.5, "dash"))
        self.choice.setVisible(False)
        plot.addItem(self.choice, ignoreBounds=True)
        self.star = pg.PlotDataItem(pen=None, symbol="star", symbolSize=22, symbolPen=theme.pen((255, 255, 255), 1.0),
                                    symbolBrush=theme.brush(theme.BEST))
        plot.addItem(self.star)
        self.yr = LogRange(margin_decades=0.15, shrink_decades=1.5)
        plot.vb.disableAutoRange()
        self.result: SelectionResult | None = None
        self._relist()
        plot.vb.sigResized.connect(lambda *_: self.result is not None and self._fit_view(self.result))

    def set_visible(self, key: str, shown: bool) -> None:
        self.curves[key].setVisible(shown)
        self._relist()
        if self.result is not None:
            self._fit_view(self.result)

    def _relist(self) -> None:
        """The legend lists the curves drawn (the view's check boxes show and hide the others)."""
        entries = [(item, CURVES[key][0]) for key, item in self.curves.items() if item.isVisible()]
        entries.append((self.star, "validation's choice"))
        list_in_legend(self.legend, entries, cols=3)  # (wide and short: the data keep the height)

    def clear(self) -> None:
        for item in (*self.curves.values(), self.star):
            item.setData([], [])
        self.choice.setVisible(False)
        self.result = None
        self.yr.reset()

    def show(self, result: SelectionResult) -> None:
        """Draw ``result`` (its settings so far); mark the validation's choice when it is complete."""
        self.result = result
        x = positive(result.values)
        self.plot.setLabel("bottom", PARAMETER_LABELS[result.param] + "   (log scale)")
        for key, item in self.curves.items():
            item.setData(x, positive(getattr(result, key)), connect="finite")
        k = result.best
        if k >= 0 and np.isfinite(x[k]):
            self.star.setData([x[k]], [result.val[k]])
            self.choice.setValue(np.log10(x[k]))  # (an infinite line sits in the view's log10 coordinates)
            self.choice.setVisible(True)
        else:
            self.star.setData([], [])
            self.choice.setVisible(False)
        self._fit_view(result)

    def _fit_view(self, result: SelectionResult) -> None:
        x = positive(result.values)
        x = x[np.isfinite(x)]
        if len(x) == 0:
            return
        lx = np.log10(x)
        pad = 0.05 * max(lx.max() - lx.min(), 1.0)
        self.plot.setXRange(lx.min() - pad, lx.max() + pad, padding=0)
        shown = [getattr(result, k) for k, item in self.curves.items() if item.isVisible()]
        ys = positive(np.concatenate(shown)) if shown else np.empty(0)
        ys = ys[np.isfinite(ys)]
        if len(ys):
            lo, hi = self.yr.update(float(np.log10(ys.min())), float(np.log10(ys.max())))
            top = top_for_legend(lo, hi, legend_height(self.legend), self.plot.vb.height(), hi + 0.35 * (hi - lo))
            self.plot.setYRange(lo, top, padding=0)  # (room above the data for the legend, at this size)
            self.plot.getAxis("left").setTicks(log_ticks(lo, top, fine_below=3.5))
        self.plot.getAxis("bottom").setTicks(log_ticks(lx.min() - pad, lx.max() + pad))

    def choice_text(self) -> str:
        """The chosen setting in words (for a caption), or ""."""
        r = self.result
        if r is None or r.best < 0:
            return ""
        return f"{PARAMETER_LABELS[r.param].split(' (')[0]} = {format_value(r.param, r.values[r.best])}"
