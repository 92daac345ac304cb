"""Shared pieces of the lecture views' plots: projector-sized styling, steady axis ranges, colours.

Nothing here computes maths about the model; it only decides how things are drawn.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtGui

from reluviz.plots import theme

#: Lecture views are projected: axis ticks and labels a little larger than the fit plot's.
TICK_POINT_SIZE = 12
LABEL_POINT_SIZE = 13
LEGEND_TEXT = "12pt"

#: One colour per optimizer (seed bands, sweep).
OPTIMIZER_COLORS = {
    "sgd": (31, 119, 180),
    "momentum": (44, 160, 44),
    "nesterov": (140, 86, 75),
    "adam": (214, 39, 40),
}

#: The two runs of the side-by-side dance: the run as configured and its ghost (decaying rate).
MAIN_RUN = (214, 39, 40)
GHOST_RUN = (31, 119, 180)
DISTANCE = (20, 20, 20)
EXCESS = (255, 127, 14)
OPTIMUM = (44, 160, 44)


def style_plot(plot: pg.PlotItem, bottom: str = "", left: str = "", title: str | None = None,
               grid: bool = True) -> None:
    """Large fonts, light grid, no context menu or autoscale button (a lecture, not a workbench)."""
    font = QtGui.QFont()
    font.setPointSize(TICK_POINT_SIZE)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setStyle(tickFont=font)
        axis.setTextPen(theme.FOREGROUND)
        axis.enableAutoSIPrefix(False)
    label_style = {"font-size": f"{LABEL_POINT_SIZE}pt", "color": theme.FOREGROUND}
    if bottom:
        plot.setLabel("bottom", bottom, **label_style)
    if left:
        plot.setLabel("left", left, **label_style)
    if title is not None:
        plot.setTitle(title, size=f"{LABEL_POINT_SIZE}pt", color=theme.FOREGROUND)
    if grid:
        plot.showGrid(x=True, y=True, alpha=0.18)
    plot.setMenuEnabled(False)
    plot.hideButtons()


def add_legend(plot: pg.PlotItem, offset=(10, 10)) -> pg.LegendItem:
    legend = plot.addLegend(offset=offset, labelTextSize=LEGEND_TEXT, brush=pg.mkBrush(255, 255, 255, 215),
                            pen=pg.mkPen(200, 200, 200))
    return legend


class NoteItem(pg.TextItem):
    """A text note on a light backing; hidden while its text is empty (the backing would show)."""

    def setText(self, text, color=None):
        super().setText(text, color) if color is not None else super().setText(text)
        self.setVisible(bool(text))


def note_item(plot: pg.PlotItem, anchor=(0, 0), size: str = "13pt") -> pg.TextItem:
    """A text note for a corner of the plot (the caller places it with ``setPos``)."""
    item = NoteItem("", color=theme.FOREGROUND, anchor=anchor, fill=pg.mkBrush(255, 255, 255, 210))
    item.setVisible(False)
    item.setFont(_font(size))
    item.setZValue(50)
    plot.addItem(item, ignoreBounds=True)
    return item


def _font(size: str) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPointSizeF(float(size.rstrip("pt")))
    return f


def log10_positive(values: np.ndarray) -> np.ndarray:
    """log10 where positive and finite, NaN elsewhere (for plots drawn in log10 coordinates)."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v) & (v > 0)
    out[ok] = np.log10(v[ok])
    return out


def positive(values: np.ndarray) -> np.ndarray:
    """A copy with entries that a log axis cannot show (<= 0, inf, NaN) set to NaN."""
    v = np.array(values, dtype=float)
    v[~(np.isfinite(v) & (v > 0))] = np.nan
    return v


class SteadyRange:
    """An axis range that follows the data without jumping every frame.

    ``update(lo, hi)`` returns the range to show: it grows at once to hold [lo, hi] (plus a
    margin), and shrinks only when [lo, hi] fills less than ``shrink_below`` of it. So a dancing
    iterate keeps a still picture, and a run that settles gets zoomed in on, a few times, not
    continually.
    """

    def __init__(self, margin: float = 0.15, shrink_below: float = 0.3, min_span: float = 1e-12):
        self.margin, self.shrink_below, self.min_span = margin, shrink_below, min_span
        self.lo: float | None = None
        self.hi: float | None = None

    def reset(self) -> None:
        self.lo = self.hi = None

    def update(self, lo: float, hi: float) -> tuple[float, float]:
        lo, hi = float(lo), float(hi)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return (self.lo, self.hi) if self.lo is not None else (0.0, 1.0)
        if hi - lo < self.min_span:
            mid = 0.5 * (lo + hi)
            lo, hi = mid - 0.5 * self.min_span, mid + 0.5 * self.min_span
        need_span = hi - lo
        if self.lo is None or lo < self.lo or hi > self.hi or need_span < self.shrink_below * (self.hi - self.lo):
            pad = self.margin * need_span
            self.lo, self.hi = lo - pad, hi + pad
        return self.lo, self.hi


class LogRange(SteadyRange):
    """``SteadyRange`` on log10 values (for log-scale y axes): margins and shrinking in decades."""

    def __init__(self, margin_decades: float = 0.25, shrink_decades: float = 3.0):
        super().__init__(margin=0.0, shrink_below=0.0, min_span=0.5)
        self.margin_decades, self.shrink_decades = margin_decades, shrink_decades

    def update(self, lo: float, hi: float) -> tuple[float, float]:
        lo, hi = float(lo), float(hi)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return (self.lo, self.hi) if self.lo is not None else (-3.0, 0.0)
        if hi - lo < self.min_span:
            mid = 0.5 * (lo + hi)
            lo, hi = mid - 0.5 * self.min_span, mid + 0.5 * self.min_span
        if (self.lo is None or lo < self.lo or hi > self.hi
                or (lo - self.lo) + (self.hi - hi) > self.shrink_decades):
            self.lo, self.hi = lo - self.margin_decades, hi + self.margin_decades
        return self.lo, self.hi


def log_ticks(lo: float, hi: float, fine_below: float = 2.0) -> list[list[tuple[float, str]]]:
    """Ticks for an axis drawn in log10 coordinates from ``lo`` to ``hi`` (decades).

    Labelled ticks at powers of ten (and at 2 and 5 times them when the range is under
    ``fine_below`` decades, so a short range still has labels), unlabelled minor ticks at the other integers.
    pyqtgraph's own log axis labels every minor tick over short ranges, which piles up.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return [[], []]
    k0, k1 = int(np.floor(lo)), int(np.ceil(hi))
    span = hi - lo
    step = max(1, int(np.ceil(span / 7)))  # at most ~7 labelled decades
    labelled = (1, 2, 5) if span < fine_below else (1,)
    major, minor = [], []
    for k in range(k0, k1 + 1):
        for m in range(1, 10):
            v = np.log10(m) + k
            if not lo <= v <= hi:
                continue
            if m in labelled and (m != 1 or (k - k0) % step == 0):
                major.append((v, _tick_label(m * 10.0**k)))
            else:
                minor.append((v, ""))
    return [major, minor]


def _tick_label(value: float) -> str:
    if 1e-3 <= value < 1e5:
        return f"{value:.6g}"
    exp = int(np.floor(np.log10(value) + 1e-9))
    mant = value / 10.0**exp
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    head = "" if abs(mant - 1) < 1e-9 else f"{mant:g}×"
    return f"{head}10{str(exp).translate(sup)}"


def set_log_y(plot: pg.PlotItem, lo: float, hi: float) -> None:
    """Show log10 range [lo, hi] on a plot in log-y mode, with ``log_ticks``."""
    plot.setYRange(lo, hi, padding=0)
    plot.getAxis("left").setTicks(log_ticks(lo, hi))
