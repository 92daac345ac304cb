"""Plots of the seed-band view: median and interquartile band of a loss over many seeds, per optimizer.

``BandsPlot`` draws, for each optimizer (or the ghost run's settings, key ``"ghost"``), the median
over seeds as a thick line and the band between the 25th and 75th percentiles
(``reluviz.core.bands.band``) filled in the same colour, against step on a log-y axis. Items per
key are created once and updated with ``setData``. The plot has no legend of its own: the canvas
(``reluviz.plots.bands_canvas``) lists the bands in a legend row above the plots, where it covers
no band. ``set_band(..., upto=step)`` draws only the recorded steps up to ``step`` (an animation
reveals the bands) and ``set_cursor`` marks that step.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from reluviz.core.config import OPTIMIZERS
from reluviz.plots import theme
from reluviz.plots.lecture_common import OPTIMIZER_COLORS, LogRange, note_item, positive, set_log_y, style_plot

#: The band of the ghost run's settings (the preset's ``compare``): a colour no optimizer has.
GHOST_BAND = "ghost"
GHOST_COLOR = (148, 103, 189)


def band_color(key: str) -> tuple[int, int, int]:
    return OPTIMIZER_COLORS.get(key, GHOST_COLOR)


class BandsPlot:
    def __init__(self, plot: pg.PlotItem, title: str, left: str = "MSE (log scale)"):
        self.plot = plot
        style_plot(plot, bottom="step", left=left, title=title)
        plot.setLogMode(x=False, y=True)
        self.items: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem, pg.FillBetweenItem, pg.PlotDataItem]] = {}
        for key in (*OPTIMIZERS, GHOST_BAND):
            color = band_color(key)
            lo = pg.PlotDataItem(pen=theme.pen(color, 1.0, alpha=110))
            hi = pg.PlotDataItem(pen=theme.pen(color, 1.0, alpha=110))
            fill = pg.FillBetweenItem(lo, hi, brush=theme.brush(color, 60))
            med = pg.PlotDataItem(pen=theme.pen(color, 3.5, style="dash" if key == GHOST_BAND else None))
            for item in (fill, lo, hi, med):
                plot.addItem(item)
            fill.setVisible(False)
            self.items[key] = (lo, hi, fill, med)
        self.shown: list[str] = []  # keys with a band drawn, in the order they came
        self.yr = LogRange(margin_decades=0.15, shrink_decades=1.5)
        plot.vb.disableAutoRange()
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.CURSOR, 1.0, style="dash"))
        self.cursor.setVisible(False)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.empty_note = note_item(plot, anchor=(0.5, 0.5))  # what the plot shows before any band

    def clear(self) -> None:
        for key in self.items:
            self.hide(key)
        self.yr.reset()
        self.cursor.setVisible(False)

    def show_empty(self, text: str, steps: int) -> None:
        """No bands yet: the step axis from 0 to ``steps``, a few decades of MSE and ``text`` in the middle."""
        self.clear()
        self.plot.setXRange(0, max(int(steps), 1), padding=0.02)
        set_log_y(self.plot, -4.0, 0.0)
        self.empty_note.setText(text)
        self.empty_note.setPos(max(int(steps), 1) / 2, -2.0)

    def hide(self, key: str) -> None:
        lo, hi, fill, med = self.items[key]
        for item in (lo, hi, med):
            item.setData([], [])
        fill.setVisible(False)
        if key in self.shown:
            self.shown.remove(key)

    def set_band(self, key: str, steps: np.ndarray, q25: np.ndarray, median: np.ndarray, q75: np.ndarray,
                 upto: float | None = None) -> None:
        """The band of ``key`` (an optimizer or ``"ghost"``); with ``upto`` only its steps <= upto."""
        steps = np.asarray(steps)
        k = len(steps) if upto is None else int(np.searchsorted(steps, upto, side="right"))
        lo, hi, fill, med = self.items[key]
        lo.setData(steps[:k], positive(q25[:k]))
        hi.setData(steps[:k], positive(q75[:k]))
        med.setData(steps[:k], positive(median[:k]))
        fill.setVisible(k > 0)
        self.empty_note.setText("")
        if key not in self.shown:
            self.shown.append(key)

    def median_item(self, key: str) -> pg.PlotDataItem:
        return self.items[key][3]

    def set_cursor(self, step: float | None) -> None:
        """A dashed line at ``step`` (None: none)."""
        self.cursor.setVisible(step is not None)
        if step is not None:
            self.cursor.setValue(float(step))

    def fit_view(self, x_end: float | None = None) -> None:
        """Range over everything drawn (x: all steps, or 0..``x_end``; y: the bands, in decades)."""
        xs, ys = [], []
        for lo, hi, _fill, med in self.items.values():
            for item in (lo, hi, med):
                x, y = item.getData()  # y is log10 in log mode
                if x is not None and len(x):
                    xs.append(np.asarray(x, dtype=float))
                    ys.append(np.asarray(y, dtype=float))
        if not xs and x_end is None:
            return
        x = np.concatenate(xs) if xs else np.zeros(1)
        x1 = float(x_end) if x_end is not None else float(np.nanmax(x))
        self.plot.setXRange(min(float(np.nanmin(x)), 0.0) if x_end is not None else float(np.nanmin(x)),
                            max(x1, 1.0), padding=0.02)
        y = np.concatenate(ys) if ys else np.empty(0)
        y = y[np.isfinite(y)]
        if len(y):
            set_log_y(self.plot, *self.yr.update(float(y.min()), float(y.max())))

    def fit_y(self, lo: float, hi: float) -> None:
        """A y range (log10 decades) held through an animation: the whole bands', not the revealed part's."""
        set_log_y(self.plot, *self.yr.update(lo, hi))
