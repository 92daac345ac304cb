"""Plots of the parameter-space ("dance") view: the loss around theta*, the iterate, distances.

* ``LossCurvePlot``: one-parameter models. The full-batch loss parabola L(theta), the current
  minibatch's own parabola (faint, dashed), theta* and the minibatch's minimiser, the recent
  iterates (small dots) and the current one (a big dot) sitting on the full-batch curve.
* ``ContourPlot``: a relu net training its output layer. The full-batch loss over two chosen
  output weights around theta* (the others held at theta*) as a colour image of the excess loss
  with contour lines, theta* as a star, and the recent iterates' shadow on that plane.
* ``DistancePlot``: ||theta_t - theta*|| and the excess loss L(theta_t) - L(theta*) against step,
  log scale, with a cursor at the displayed step.
* ``DanceComparePlot``: one quantity (distance or excess) for the run and its ghost side by side.

Items are created once and updated with ``setData``; axis ranges move only when the data leaves
them (``SteadyRange``), so a dancing iterate does not make the picture jump.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore

from reluviz.plots import theme
from reluviz.plots.lecture_common import (DISTANCE, EXCESS, GHOST_RUN, MAIN_RUN, OPTIMUM, LogRange, SteadyRange,
                                          add_legend, log10_positive, note_item, positive, set_log_y, style_plot)

TRAIL_COLOR = (110, 110, 110)
ITERATE = (214, 39, 40)


class LossCurvePlot:
    """The 1-D loss landscape of the constant / linear model with the iterate on it."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        style_plot(plot, bottom="parameter θ", left="training loss L(θ)  (MSE)")
        self.legend = add_legend(plot)
        self.legend.anchor(itemPos=(0.5, 0), parentPos=(0.5, 0), offset=(0, 8))
        self.batch_curve = pg.PlotDataItem(pen=theme.pen(theme.BATCH, 2.5, "dash", alpha=200))
        self.full_curve = pg.PlotDataItem(pen=theme.pen((0, 0, 0), 3.5))
        self.star_line = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(OPTIMUM, 2.5, "dash"))
        self.star_label = pg.TextItem("θ*", color=OPTIMUM, anchor=(0.5, 1.0))
        self.star_label.setFont(_font(15, bold=True))
        self.batch_min = pg.ScatterPlotItem(size=14, symbol="d", pen=theme.pen(theme.BATCH, 2.0),
                                            brush=theme.brush(theme.BATCH, 120))
        self.trail = pg.ScatterPlotItem(size=8, pen=None, brush=theme.brush(TRAIL_COLOR, 140))
        self.iterate = pg.ScatterPlotItem(size=20, pen=pg.mkPen("w", width=2), brush=theme.brush(ITERATE))
        for item in (self.batch_curve, self.full_curve, self.star_line, self.trail, self.batch_min, self.iterate):
            plot.addItem(item)
        plot.addItem(self.star_label, ignoreBounds=True)
        self.legend.addItem(self.full_curve, "full-batch loss")
        self.legend.addItem(self.batch_curve, "this minibatch's loss")
        self.legend.addItem(self.batch_min, "minibatch's minimum")
        self.legend.addItem(self.iterate, "current θ")
        self.legend.addItem(self.trail, "recent θ")
        self.note = note_item(plot, anchor=(1, 0))
        self.xr = SteadyRange(margin=0.1, shrink_below=0.25)
        plot.vb.disableAutoRange()

    def reset(self) -> None:
        self.xr.reset()

    def set_param_label(self, text: str, ridge: float = 0.0) -> None:
        """The parameter's name; with a ridge the curve is the objective, and the left axis says so."""
        self.plot.setLabel("bottom", text)
        left = f"objective L(θ) + {ridge:g} θ²" if ridge else "training loss L(θ)  (MSE)"
        if self.plot.getAxis("left").labelText != left:
            self.plot.setLabel("left", left)

    def show(self, theta: np.ndarray, loss: np.ndarray, theta_star: float, loss_star: float,
             batch_loss: np.ndarray | None, batch_star: float | None, current: tuple[float, float],
             trail_theta: np.ndarray, trail_loss: np.ndarray, need: tuple[float, float], note: str = "") -> None:
        """Draw curves on the grid ``theta``; ``need`` is the theta interval that must be visible."""
        x0, x1 = self.xr.update(*need)
        self.full_curve.setData(theta, loss)
        if batch_loss is not None:
            self.batch_curve.setData(theta, batch_loss)
            by = float(np.interp(batch_star, theta, batch_loss)) if batch_star is not None else np.nan
            self.batch_min.setData([batch_star], [by]) if np.isfinite(by) else self.batch_min.setData([], [])
        else:
            self.batch_curve.setData([], [])
            self.batch_min.setData([], [])
        self.star_line.setValue(theta_star)
        self.iterate.setData([current[0]], [current[1]])
        self.trail.setData(trail_theta, trail_loss)
        # y: from just below the minimum to the full curve's height at the window's edges
        top = max(float(loss_star), float(np.max(loss))) if len(loss) else 1.0
        span = max(top - loss_star, 1e-12)
        y0, y1 = loss_star - 0.06 * span, loss_star + 1.05 * span
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.star_label.setPos(theta_star, y1)
        self.note.setText(note)
        self.note.setPos(x1, y1)


class ContourPlot:
    """Full-batch loss over two output weights (colour = log10 excess loss, contour lines)."""

    LEVELS = 6

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        style_plot(plot, bottom="v[i]", left="v[j]", grid=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        cmap = pg.colormap.get("CET-L12") if "CET-L12" in pg.colormap.listMaps() else pg.colormap.get("viridis")
        self.image.setColorMap(cmap)
        self.image.setOpacity(0.85)
        plot.addItem(self.image)
        self.isocurves = []
        for k in range(self.LEVELS):
            iso = pg.IsocurveItem(level=0.0, pen=theme.pen((40, 60, 90), 1.5, alpha=200))
            iso.setParentItem(self.image)
            iso.setZValue(5)
            self.isocurves.append(iso)
        self.legend = add_legend(plot)
        self.trail = pg.PlotDataItem(pen=theme.pen(TRAIL_COLOR, 1.2, alpha=170), symbol="o", symbolSize=4,
                                     symbolPen=None, symbolBrush=theme.brush(TRAIL_COLOR, 150))
        self.iterate = pg.ScatterPlotItem(size=20, pen=pg.mkPen("w", width=2), brush=theme.brush(ITERATE))
        self.star = pg.ScatterPlotItem(size=26, symbol="star", pen=pg.mkPen("k", width=1.2),
                                       brush=theme.brush(OPTIMUM))
        for item in (self.trail, self.star, self.iterate):
            item.setZValue(10)
            plot.addItem(item)
        self.legend.addItem(self.star, "θ* (exact least squares)")
        self.legend.addItem(self.iterate, "current iterate (shadow)")
        self.legend.addItem(self.trail, "recent iterates")
        self.note = note_item(plot, anchor=(1, 0))
        self.note.setZValue(20)
        self._key = None
        plot.vb.disableAutoRange()

    def grid_key(self):
        return self._key

    def set_grid(self, key, a: np.ndarray, b: np.ndarray, excess: np.ndarray, star: tuple[float, float],
                 names: tuple[str, str]) -> None:
        """The image: ``excess[k, l]`` = L - L(theta*) at (a[l], b[k]). Isocurves at geometric levels."""
        self._key = key
        shown = log10_positive(np.maximum(excess, 0.0) + 1e-300)
        finite = shown[np.isfinite(shown)]
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        self.image.setImage(shown, autoLevels=False, levels=(max(lo, hi - 4.0), hi))
        da = (a[-1] - a[0]) / max(len(a) - 1, 1)
        db = (b[-1] - b[0]) / max(len(b) - 1, 1)
        self.image.setRect(QtCore.QRectF(a[0] - da / 2, b[0] - db / 2, a[-1] - a[0] + da, b[-1] - b[0] + db))
        top = float(np.nanmax(excess)) if excess.size else 1.0
        for k, iso in enumerate(self.isocurves):
            level = top * 0.5 ** (2 * (k + 1) - 1)  # rings about 1/sqrt(2), 1/2^1.5, ... of the frame
            # IsocurveItem reads data as [x, y] with x the first axis; the image is row-major (rows = b)
            iso.setData(excess.T, level)
        # the isocurve is a child of the image, whose transform maps pixel (col, row) to (a, b);
        # isocurve data is (col, row), so pixel centres need the half-pixel shift the image applies
        for iso in self.isocurves:
            iso.setPos(0.5, 0.5)
        self.star.setData([star[0]], [star[1]])
        self.plot.setLabel("bottom", names[0])
        self.plot.setLabel("left", names[1])
        self.plot.setRange(xRange=(a[0], a[-1]), yRange=(b[0], b[-1]), padding=0)

    def set_iterates(self, trail: np.ndarray, current: tuple[float, float], note: str = "") -> None:
        self.trail.setData(trail[:, 0], trail[:, 1]) if len(trail) else self.trail.setData([], [])
        self.iterate.setData([current[0]], [current[1]])
        self.note.setText(note)
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        self.note.setPos(x1, y1)

    def clear(self) -> None:
        self._key = None
        self.image.clear()
        for iso in self.isocurves:
            iso.setData(None)
        for item in (self.trail, self.star, self.iterate):
            item.setData([], [])


class DistancePlot:
    """Distance to theta* and excess loss against step (log y), for the live run."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        style_plot(plot, bottom="step", left="log scale")
        plot.setLogMode(x=False, y=True)
        # redrawn every frame: without antialiasing a thick zigzag paints about twice as fast
        self.distance = pg.PlotDataItem(pen=theme.pen(DISTANCE, 2.5), connect="finite", antialias=False)
        self.excess = pg.PlotDataItem(pen=theme.pen(EXCESS, 2.5), connect="finite", antialias=False)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.CURSOR, 1.0, "dash"))
        plot.addItem(self.distance)
        plot.addItem(self.excess)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.set_labels("distance ‖θ − θ*‖", "excess loss L(θ) − L(θ*)")
        self.note = note_item(plot, anchor=(0, 1))
        self.yr = LogRange()
        plot.vb.disableAutoRange()

    def reset(self) -> None:
        self.yr.reset()
        self.distance.setData([], [])
        self.excess.setData([], [])
        set_log_y(self.plot, -3.0, 0.0)

    def message(self, text: str, step: int) -> None:
        """No curves, only ``text`` (e.g. why there is no theta* yet)."""
        self.reset()
        self.cursor.setValue(step)
        self.plot.setXRange(0, max(step, 1), padding=0.02)
        self.note.setText(text)
        self.note.setPos(self.plot.vb.viewRange()[0][0], -1.5)

    def set_labels(self, distance: str, excess: str) -> None:
        """The legend, as a coloured title (a legend box would cover the curves)."""
        self.plot.setTitle(color_title([(DISTANCE, distance), (EXCESS, excess)]))

    def show(self, steps: np.ndarray, distance: np.ndarray, excess: np.ndarray, step: int, note: str = "",
             note_at: float = 0.0) -> None:
        """``note_at``: height of the note's bottom edge as a fraction of the plot (0 = bottom)."""
        d, e = positive(distance), positive(excess)
        self.distance.setData(steps, d)
        self.excess.setData(steps, e)
        self.cursor.setValue(step)
        vals = log10_positive(np.concatenate([d, e]))
        vals = vals[np.isfinite(vals)]
        if len(vals):
            y0, y1 = self.yr.update(float(vals.min()), float(vals.max()))
            x1 = max(float(steps[-1]) if len(steps) else 1.0, 1.0)
            self.plot.setXRange(float(steps[0]) if len(steps) else 0.0, x1, padding=0.02)
            set_log_y(self.plot, y0, y1)
        self.note.setText(note)
        (x0, _), (yy0, yy1) = self.plot.vb.viewRange()
        self.note.setPos(x0, yy0 + note_at * (yy1 - yy0))


class DanceComparePlot:
    """One quantity of the side-by-side dance (distance or excess) for both runs, log y.

    Thin lines: every recorded step; thick lines: a smoothed version (given by the caller, e.g. a
    trailing RMS), which is what reads at a distance. ``floor``: a dashed horizontal line.
    """

    def __init__(self, plot: pg.PlotItem, left: str, title: str, legend: pg.LegendItem | None = None):
        self.plot = plot
        style_plot(plot, bottom="step", left=left, title=title)
        plot.setLogMode(x=False, y=True)
        self.legend = legend
        self.main_raw = pg.PlotDataItem(pen=theme.pen(MAIN_RUN, 1.0, alpha=70), connect="finite")
        self.ghost_raw = pg.PlotDataItem(pen=theme.pen(GHOST_RUN, 1.0, alpha=70), connect="finite")
        self.main = pg.PlotDataItem(pen=theme.pen(MAIN_RUN, 3.5), connect="finite")
        self.ghost = pg.PlotDataItem(pen=theme.pen(GHOST_RUN, 3.5), connect="finite")
        self.floor = pg.InfiniteLine(angle=0, movable=False, pen=theme.pen(MAIN_RUN, 2.0, "dash"))
        self.floor.setVisible(False)
        for item in (self.main_raw, self.ghost_raw, self.main, self.ghost):
            plot.addItem(item)
        plot.addItem(self.floor, ignoreBounds=True)
        self._labels = ("", "")
        self.empty_note = note_item(plot, anchor=(0.5, 0.5))
        self._show_empty()

    def _show_empty(self) -> None:
        """Before a run: a tidy frame (log ticks over three decades) and a hint instead of curves."""
        self.plot.setXRange(0, 1, padding=0)
        set_log_y(self.plot, -3.0, 0.0)
        self.plot.getAxis("bottom").setTicks(None)
        self.empty_note.setText("press “Run dance”")
        self.empty_note.setPos(0.5, -1.5)

    def set_labels(self, main: str, ghost: str) -> None:
        if (main, ghost) == self._labels or self.legend is None:
            return
        self.legend.clear()
        self.legend.addItem(self.main, main)
        self.legend.addItem(self.ghost, ghost)
        self._labels = (main, ghost)

    def show(self, steps: np.ndarray, values: np.ndarray, smooth: np.ndarray, floor: float | None = None) -> None:
        """``values``, ``smooth`` (T, 2): column 0 the run as configured, column 1 the ghost."""
        items = (self.main_raw, self.ghost_raw, self.main, self.ghost)
        if len(steps) == 0:
            for item in items:
                item.setData([], [])
            self.floor.setVisible(False)
            self._show_empty()
            return
        self.empty_note.setText("")
        for item, data in zip(items, (values[:, 0], values[:, 1], smooth[:, 0], smooth[:, 1])):
            item.setData(steps, positive(data))
        if floor is not None and np.isfinite(floor) and floor > 0:
            self.floor.setValue(np.log10(floor))
            self.floor.setVisible(True)
        else:
            self.floor.setVisible(False)
        # y: the smooth lines with room below, and the raw tops (raw dips toward 0 are cut off)
        ls, lr = log10_positive(smooth), log10_positive(values)
        ls, lr = ls[np.isfinite(ls)], lr[np.isfinite(lr)]
        if len(ls):
            lo = float(ls.min()) - 0.6
            hi = max(float(ls.max()), float(np.percentile(lr, 99.5)) if len(lr) else -np.inf) + 0.15
            set_log_y(self.plot, lo, hi)
        self.plot.setXRange(float(steps[0]), max(float(steps[-1]), float(steps[0]) + 1), padding=0.02)


def color_title(entries, size: str = "13pt") -> str:
    """HTML for a plot title that doubles as a legend: a coloured bar and a name per entry."""
    parts = [f"<span style='color: rgb{tuple(c[:3])}'>&#9644;&#9644;</span>&nbsp;{name}" for c, name in entries]
    return f"<span style='font-size: {size}; color: {theme.FOREGROUND}'>" + "&nbsp;&nbsp;&nbsp;".join(parts) + "</span>"


def _font(points: int, bold: bool = False):
    from pyqtgraph.Qt import QtGui

    f = QtGui.QFont()
    f.setPointSize(points)
    f.setBold(bold)
    return f
