"""Plots of the seed-band view: median and interquartile band of a loss over many seeds, per optimizer.

``BandsPlot`` draws, for each optimizer, the median over seeds as a thick line and the band
between the 25th and 75th percentiles (``reluviz.core.bands.band``) filled in the same colour,
against step on a log-y axis. Items per optimizer are created once and updated with ``setData``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from reluviz.core.config import OPTIMIZERS
from reluviz.plots import theme
from reluviz.plots.lecture_common import (OPTIMIZER_COLORS, LogRange, add_legend, note_item, positive, set_log_y,
                                          style_plot)


class BandsPlot:
    def __init__(self, plot: pg.PlotItem, title: str, left: str = "MSE (log scale)", legend: bool = True):
        self.plot = plot
        style_plot(plot, bottom="step", left=left, title=title)
        plot.setLogMode(x=False, y=True)
        self.legend = add_legend(plot, offset=(-10, 10)) if legend else None
        self.items: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem, pg.FillBetweenItem, pg.PlotDataItem]] = {}
        for opt in OPTIMIZERS:
            color = OPTIMIZER_COLORS[opt]
            lo = pg.PlotDataItem(pen=theme.pen(color, 1.0, alpha=110))
            hi = pg.PlotDataItem(pen=theme.pen(color, 1.0, alpha=110))
            fill = pg.FillBetweenItem(lo, hi, brush=theme.brush(color, 60))
            med = pg.PlotDataItem(pen=theme.pen(color, 3.5))
            for item in (fill, lo, hi, med):
                plot.addItem(item)
            self.items[opt] = (lo, hi, fill, med)
        self.yr = LogRange(margin_decades=0.15, shrink_decades=1.5)
        self._in_legend: set[str] = set()
        plot.vb.disableAutoRange()
        self.empty_note = note_item(plot, anchor=(0.5, 0.5))  # what the plot shows before any band
        if self.legend is not None:
            self.legend.setVisible(False)  # (no entries yet: an empty box)

    def clear(self) -> None:
        for opt in OPTIMIZERS:
            self.hide(opt)
        self.yr.reset()
        if self.legend is not None:
            self.legend.setVisible(False)

    def show_empty(self, text: str, steps: int) -> None:
        """No bands yet: the step axis from 0 to ``steps``, a few decades of MSE and ``text`` in the middle."""
        self.clear()
        self.plot.setXRange(0, max(int(steps), 1), padding=0.02)
        set_log_y(self.plot, -4.0, 0.0)
        self.empty_note.setText(text)
        self.empty_note.setPos(max(int(steps), 1) / 2, -2.0)

    def hide(self, opt: str) -> None:
        lo, hi, fill, med = self.items[opt]
        for item in (lo, hi, med):
            item.setData([], [])
        fill.setVisible(False)
        if self.legend is not None and opt in self._in_legend:
            self.legend.removeItem(med)
            self._in_legend.discard(opt)

    def set_band(self, opt: str, steps: np.ndarray, q25: np.ndarray, median: np.ndarray, q75: np.ndarray,
                 label: str | None = None) -> None:
        lo, hi, fill, med = self.items[opt]
        lo.setData(steps, positive(q25))
        hi.setData(steps, positive(q75))
        med.setData(steps, positive(median))
        fill.setVisible(True)
        self.empty_note.setText("")
        if self.legend is not None and opt not in self._in_legend:
            self.legend.addItem(med, label or opt)
            self._in_legend.add(opt)
            self.legend.setVisible(True)

    def fit_view(self) -> None:
        """Range over everything drawn (x: all steps; y: the bands, in decades)."""
        xs, ys = [], []
        for lo, hi, _fill, med in self.items.values():
            for item in (lo, hi, med):
                x, y = item.getData()  # y is log10 in log mode
                if x is not None and len(x):
                    xs.append(np.asarray(x, dtype=float))
                    ys.append(np.asarray(y, dtype=float))
        if not xs:
            return
        x = np.concatenate(xs)
        y = np.concatenate(ys)
        y = y[np.isfinite(y)]
        self.plot.setXRange(float(np.nanmin(x)), max(float(np.nanmax(x)), 1.0), padding=0.02)
        if len(y):
            set_log_y(self.plot, *self.yr.update(float(y.min()), float(y.max())))

