"""Plots of the parameter-space ("dance") view: the loss around theta*, the iterates, distances.

* ``LossCurvePlot``: one-parameter models. The full-batch loss parabola L(theta), the current
  minibatch's own parabola (faint, dashed) and its minimum, theta*, the first-order Taylor line of
  L at the current theta with the step full-batch descent takes along it (lecture note 2: GD is the
  step down that line), the recent iterates joined in order (GD's zigzag across theta* or SGD's
  random walk) and the current one; the ghost run's the same in blue.
* ``ContourPlot``: a two-parameter problem: the affine model's whole (a, b) plane, or a relu net
  training its output layer (a plane through theta* over two output weights, the others held at
  theta*). Colour is the excess loss (log), with contour lines; theta* a star; each run's recent
  iterates as a fading cloud with its path, and its current iterate.
* ``DistancePlot``: ||theta_t - theta*|| and the excess loss against step (log y) for the run,
  and the ghost's distance, with a cursor at the displayed step.
* ``DanceComparePlot``: one quantity (distance or excess) of the side-by-side dance, both runs.

Items are created once and updated with ``setData``; axis ranges move only when the data leaves
them (``SteadyRange``), so a dancing iterate does not make the picture jump. Legends are
``reluviz.plots.canvas.LegendRow``s outside the plots, listing only what is drawn.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore

from reluviz.plots import theme
from reluviz.plots.lecture_common import (DISTANCE, EXCESS, GHOST_RUN, MAIN_RUN, OPTIMUM, LogRange, SteadyRange,
                                          log10_positive, note_item, positive, set_log_y, style_plot)

TRAIL_COLOR = (110, 110, 110)
ITERATE = MAIN_RUN
TAYLOR = (230, 97, 1)
CLOUD_LEVELS = 24  # alpha steps of a fading cloud (oldest faint, newest strong)


def fading_brushes(color, count: int, lo: int = 25, hi: int = 200) -> list:
    """``count`` brushes of ``color``, oldest (first) faint to newest strong, from ``CLOUD_LEVELS`` shades."""
    if count <= 0:
        return []
    levels = [theme.brush(color, int(a)) for a in np.linspace(lo, hi, CLOUD_LEVELS)]
    idx = np.linspace(0, CLOUD_LEVELS - 1, count).round().astype(int)
    return [levels[i] for i in idx]


class Cloud:
    """One run's recent iterates on a plot: a thin path joining them in order, a fading scatter (the
    cloud) and the current iterate as a big dot."""

    def __init__(self, plot: pg.PlotItem, color, size: float = 7.0, z: float = 10.0, big: float = 18.0):
        self.color = color
        self.path = pg.PlotCurveItem(pen=theme.pen(color, 1.2, alpha=90))
        self.dots = pg.ScatterPlotItem(size=size, pen=None, brush=theme.brush(color, 120))
        self.current = pg.ScatterPlotItem(size=big, pen=pg.mkPen("w", width=2), brush=theme.brush(color))
        for k, item in enumerate((self.path, self.dots, self.current)):
            item.setZValue(z + k)
            plot.addItem(item)

    def show(self, xs: np.ndarray, ys: np.ndarray, current: tuple[float, float] | None) -> None:
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        if len(xs):
            self.path.setData(xs, ys)
            self.dots.setData(xs, ys, brush=fading_brushes(self.color, len(xs)))
        else:
            self.path.setData([], [])
            self.dots.setData([], [])
        if current is None:
            self.current.setData([], [])
        else:
            self.current.setData([current[0]], [current[1]])

    def clear(self) -> None:
        self.show(np.empty(0), np.empty(0), None)

    @property
    def drawn(self) -> bool:
        return len(self.current.data) > 0

    @property
    def has_trail(self) -> bool:
        return len(self.dots.data) > 1


class LossCurvePlot:
    """The 1-D loss landscape of the constant / linear model with the iterates on it."""

    def __init__(self, plot: pg.PlotItem, legend=None):
        self.plot = plot
        self.legend = legend  # a LegendRow (outside the plot), or None
        style_plot(plot, bottom="parameter θ", left="L(θ), training MSE")
        self.batch_curve = pg.PlotDataItem(pen=theme.pen(theme.BATCH, 2.5, "dash", alpha=200))
        self.full_curve = pg.PlotDataItem(pen=theme.pen((0, 0, 0), 3.5))
        self.taylor = pg.PlotDataItem(pen=theme.pen(TAYLOR, 2.0, "dash"))
        self.step_arrow = pg.PlotDataItem(pen=theme.pen(TAYLOR, 4.0))
        self.step_end = pg.ScatterPlotItem(size=13, symbol="o", pen=theme.pen(TAYLOR, 2.5), brush=theme.brush((255, 255, 255)))
        self.step_drop = pg.PlotDataItem(pen=theme.pen(TAYLOR, 1.5, "dot"))  # from the line's promise to the real loss
        self.star_line = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(OPTIMUM, 2.5, "dash"))
        self.star_label = pg.TextItem("θ*", color=OPTIMUM, anchor=(-0.15, 0.0))  # (right of the line, at the top)
        self.star_label.setFont(_font(15, bold=True))
        self.batch_min = pg.ScatterPlotItem(size=14, symbol="d", pen=theme.pen(theme.BATCH, 2.0),
                                            brush=theme.brush(theme.BATCH, 120))
        for item in (self.batch_curve, self.full_curve, self.star_line, self.taylor, self.batch_min):
            plot.addItem(item)
        self.ghost = Cloud(plot, GHOST_RUN, size=7, z=8, big=15)
        self.main = Cloud(plot, ITERATE, size=8, z=12, big=20)
        for item in (self.step_drop, self.step_arrow, self.step_end):
            item.setZValue(16)
            plot.addItem(item)
        self.trail, self.iterate = self.main.dots, self.main.current  # (names the tests and callers use)
        plot.addItem(self.star_label, ignoreBounds=True)
        self.xr = SteadyRange(margin=0.1, shrink_below=0.25)
        plot.vb.disableAutoRange()

    def reset(self) -> None:
        self.xr.reset()

    def set_param_label(self, text: str, ridge: float = 0.0) -> None:
        """The parameter's name; with a ridge the curve is the objective, and the left axis says so."""
        self.plot.setLabel("bottom", text)
        left = f"L(θ) + {ridge:g} θ²" if ridge else "L(θ), training MSE"  # (short: a small frame's plot is low)
        if self.plot.getAxis("left").labelText != left:
            self.plot.setLabel("left", left)

    def clear(self) -> None:
        for item in (self.full_curve, self.batch_curve, self.batch_min, self.taylor, self.step_arrow, self.step_end,
                     self.step_drop):
            item.setData([], [])
        self.main.clear()
        self.ghost.clear()
        self._list_legend(False, False, False, False)

    def show(self, theta: np.ndarray, loss: np.ndarray, theta_star: float, loss_star: float,
             batch_loss: np.ndarray | None, batch_star: float | None, current: tuple[float, float],
             trail_theta: np.ndarray, trail_loss: np.ndarray, need: tuple[float, float],
             ghost: tuple[float, float] | None = None, ghost_trail: tuple[np.ndarray, np.ndarray] | None = None,
             taylor: tuple[float, float] | None = None, full_batch: bool = False) -> None:
        """Draw curves on the grid ``theta``; ``need`` is the theta interval that must be visible.
        ``ghost``: the ghost's (theta, loss) and ``ghost_trail`` its recent ones; ``taylor``: (slope
        L'(theta), step -lr L'(theta)) at the current theta: the tangent and the step along it
        (``full_batch``: the run takes exactly that step)."""
        x0, x1 = self.xr.update(*need)
        self.full_curve.setData(theta, loss)
        y_low = float(loss_star)
        if batch_loss is not None:
            self.batch_curve.setData(theta, batch_loss)
            by = float(np.interp(batch_star, theta, batch_loss)) if batch_star is not None else np.nan
            shown = np.isfinite(by) and x0 <= batch_star <= x1
            self.batch_min.setData([batch_star], [by]) if shown else self.batch_min.setData([], [])
            if shown:
                y_low = min(y_low, by)
        else:
            self.batch_curve.setData([], [])
            self.batch_min.setData([], [])
        self.star_line.setValue(theta_star)
        self.main.show(trail_theta, trail_loss, current)
        if ghost is not None:
            gx, gy = ghost_trail if ghost_trail is not None else (np.empty(0), np.empty(0))
            self.ghost.show(gx, gy, ghost)
        else:
            self.ghost.clear()
        if taylor is not None:  # (where the step along the tangent lands: in view too)
            y_low = min(y_low, current[1] + taylor[0] * taylor[1])
        # y: from just below the lowest point shown to the full curve's height at the window's edges
        top = max(float(loss_star), float(np.max(loss))) if len(loss) else 1.0
        span = max(top - y_low, 1e-12)
        y0, y1 = y_low - 0.06 * span, y_low + 1.05 * span
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.star_label.setPos(theta_star, y1)
        if taylor is not None:
            slope, step = taylor
            t0, f0 = current
            self.taylor.setData([x0, x1], [f0 + slope * (x0 - t0), f0 + slope * (x1 - t0)])
            t1 = t0 + step
            self.step_arrow.setData([t0, t1], [f0, f0 + slope * step])
            self.step_end.setData([t1], [f0 + slope * step])
            self.step_drop.setData([t1, t1], [f0 + slope * step, float(np.interp(t1, theta, loss))])
        else:
            for item in (self.taylor, self.step_arrow, self.step_end, self.step_drop):
                item.setData([], [])
        self._list_legend(batch_loss is not None, self.batch_min.data.size > 0, ghost is not None, taylor is not None,
                          full_batch)

    def _list_legend(self, batch: bool, batch_min: bool, ghost: bool, taylor: bool, full_batch: bool = False) -> None:
        if self.legend is None:
            return
        entries = [(self.full_curve, "full-batch loss")]
        if batch:  # (its minimum, the diamond, in the same entry: a row less in a small frame)
            entries.append((self.batch_curve, "this minibatch's loss (◆ its minimum)" if batch_min else
                            "this minibatch's loss"))
        if taylor:
            entries.append((self.taylor, "Taylor line at θ"))
            entries.append((self.step_end, "GD step −lr·L′(θ)" if full_batch else "full-batch step −lr·L′(θ)"))
        if self.main.drawn:
            entries.append((self.main.current, "θ (recent: faint)"))
        if ghost:
            entries.append((self.ghost.current, "ghost θ"))
        self.legend.set_entries(entries)


class ContourPlot:
    """Loss over a plane of two parameters (colour = log10 excess loss, contour lines), theta*, and
    each run's cloud of recent iterates."""

    LEVELS = 6

    def __init__(self, plot: pg.PlotItem, legend=None):
        self.plot = plot
        self.legend = legend
        style_plot(plot, bottom="v[i]", left="v[j]", grid=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        # white at theta* to a blue-grey far away: the red and blue runs read on every shade of it
        self.image.setColorMap(pg.ColorMap([0.0, 1.0], [(255, 255, 255), (150, 162, 180)]))
        self.image.setOpacity(0.85)
        plot.addItem(self.image)
        self.isocurves = []
        for k in range(self.LEVELS):
            iso = pg.IsocurveItem(level=0.0, pen=theme.pen((40, 60, 90), 1.5, alpha=200))
            iso.setParentItem(self.image)
            iso.setZValue(5)
            self.isocurves.append(iso)
        self.ghost = Cloud(plot, GHOST_RUN, size=6, z=10, big=15)
        self.main = Cloud(plot, ITERATE, size=7, z=14, big=20)
        # the ghost's current iterate above the run's cloud: a settled ghost sits inside it
        self.ghost.current.setZValue(self.main.dots.zValue() + 0.5)
        self.trail, self.iterate = self.main.dots, self.main.current  # (names the tests and callers use)
        self.star = pg.ScatterPlotItem(size=26, symbol="star", pen=pg.mkPen("k", width=1.2),
                                       brush=theme.brush(OPTIMUM))
        self.star.setZValue(9)  # (under the clouds: a run settled on theta* is not hidden by it)
        plot.addItem(self.star)
        self.note = note_item(plot, anchor=(1, 0))  # (kept for messages; the plane's words are in the caption)
        self.note.setZValue(30)
        self._key = None
        self.star_label = "θ*"
        self.shadow = False
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

    def set_iterates(self, trail: np.ndarray, current: tuple[float, float], note: str = "",
                     ghost_trail: np.ndarray | None = None, ghost: tuple[float, float] | None = None) -> None:
        """The run's recent iterates ``trail`` (K, 2) and current one; the ghost's likewise (None: no ghost)."""
        t = np.asarray(trail, dtype=float).reshape(-1, 2)
        self.main.show(t[:, 0], t[:, 1], current)
        if ghost is not None:
            g = np.asarray(ghost_trail if ghost_trail is not None else np.empty((0, 2)), dtype=float).reshape(-1, 2)
            self.ghost.show(g[:, 0], g[:, 1], ghost)
        else:
            self.ghost.clear()
        self.note.setText(note)
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        self.note.setPos(x1, y1)
        self._list_legend(ghost is not None)

    def _list_legend(self, ghost: bool) -> None:
        if self.legend is None:
            return
        which = "its shadow here; recent: faint" if self.shadow else "recent: faint"
        entries = [(self.star, self.star_label), (self.main.current, f"θ ({which})")]
        if ghost:
            entries.append((self.ghost.current, "ghost θ"))
        self.legend.set_entries(entries)

    def clear(self) -> None:
        self._key = None
        self.image.clear()
        for iso in self.isocurves:
            iso.setData(None)
        self.star.setData([], [])
        self.main.clear()
        self.ghost.clear()


class DistancePlot:
    """Distance to theta* and excess loss against step (log y), for the run and its ghost."""

    def __init__(self, plot: pg.PlotItem, legend=None):
        self.plot = plot
        self.legend = legend  # a LegendRow (outside the plot); None: a coloured title names the curves
        style_plot(plot, bottom="step", left="log scale")
        plot.setLogMode(x=False, y=True)
        # redrawn every frame: without antialiasing a thick zigzag paints about twice as fast
        self.distance = pg.PlotDataItem(pen=theme.pen(DISTANCE, 2.5), connect="finite", antialias=False)
        self.excess = pg.PlotDataItem(pen=theme.pen(EXCESS, 2.5), connect="finite", antialias=False)
        self.ghost_distance = pg.PlotDataItem(pen=theme.pen(GHOST_RUN, 2.5), connect="finite", antialias=False)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.CURSOR, 1.0, "dash"))
        plot.addItem(self.ghost_distance)
        plot.addItem(self.distance)
        plot.addItem(self.excess)
        plot.addItem(self.cursor, ignoreBounds=True)
        self._titled = None
        self.set_labels(False)
        self.note = note_item(plot, anchor=(0.5, 0.5))
        self.yr = LogRange()
        plot.vb.disableAutoRange()

    def reset(self) -> None:
        self.yr.reset()
        for item in (self.distance, self.excess, self.ghost_distance):
            item.setData([], [])
        set_log_y(self.plot, -3.0, 0.0)

    def message(self, text: str, step: int) -> None:
        """No curves, only ``text`` (e.g. why there is no theta* yet), in the middle of the plot,
        wrapped to its width."""
        self.reset()
        self.set_labels(False, shown=False)
        self.cursor.setValue(step)
        self.plot.setXRange(0, max(step, 1), padding=0.02)
        self.note.setTextWidth(max(60.0, self.plot.vb.width() - 12))
        self.note.setText(text)
        self.note.setPos(0.5 * max(step, 1), -1.5)

    def set_labels(self, ghost: bool, shown: bool = True) -> None:
        """The legend (a row outside the plot, or a coloured title: a box would cover the curves):
        the curves drawn (``shown`` False: none)."""
        if (ghost, shown) == self._titled:
            return
        self._titled = (ghost, shown)
        entries = [(self.distance, DISTANCE, "‖θ − θ*‖"), (self.excess, EXCESS, "L(θ) − L(θ*)")]
        if ghost:
            entries.append((self.ghost_distance, GHOST_RUN, "ghost ‖θ − θ*‖"))
        if not shown:
            entries = []
        if self.legend is not None:
            self.legend.set_entries([(item, name) for item, _c, name in entries])
        else:
            self.plot.setTitle(color_title([(c, name) for _i, c, name in entries]) if entries else None)

    def show(self, steps: np.ndarray, distance: np.ndarray, excess: np.ndarray, step: int,
             ghost_steps: np.ndarray | None = None, ghost_distance: np.ndarray | None = None) -> None:
        d, e = positive(distance), positive(excess)
        self.distance.setData(steps, d)
        self.excess.setData(steps, e)
        has_ghost = ghost_steps is not None and ghost_distance is not None and len(ghost_steps) > 0
        g = positive(ghost_distance) if has_ghost else np.empty(0)
        self.ghost_distance.setData(ghost_steps if has_ghost else [], g if has_ghost else [])
        self.set_labels(has_ghost)
        self.cursor.setValue(step)
        lows, highs = [], []
        for curve in (d, e, g):  # (each curve's deepest dips, toward 0 on a log axis, are cut off)
            v = log10_positive(curve)
            v = v[np.isfinite(v)]
            if len(v):
                lows.append(float(np.percentile(v, 2.0)) - 0.3)
                highs.append(float(v.max()))
        if lows:
            y0, y1 = self.yr.update(min(lows), max(highs))
            x1 = max(float(steps[-1]) if len(steps) else 1.0, 1.0)
            self.plot.setXRange(float(steps[0]) if len(steps) else 0.0, x1, padding=0.02)
            set_log_y(self.plot, y0, y1)
        self.note.setText("")


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
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.CURSOR, 1.0, "dash"))
        self.cursor.setVisible(False)
        for item in (self.main_raw, self.ghost_raw, self.main, self.ghost):
            plot.addItem(item)
        plot.addItem(self.floor, ignoreBounds=True)
        plot.addItem(self.cursor, ignoreBounds=True)
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

    def show(self, steps: np.ndarray, values: np.ndarray, smooth: np.ndarray, floor: float | None = None,
             x_end: float | None = None, cursor: float | None = None) -> None:
        """``values``, ``smooth`` (T, 2): column 0 the run as configured, column 1 the ghost.
        ``x_end``: where the step axis ends (an animation reveals the curves up to ``cursor``)."""
        items = (self.main_raw, self.ghost_raw, self.main, self.ghost)
        if len(steps) == 0:
            for item in items:
                item.setData([], [])
            self.floor.setVisible(False)
            self.cursor.setVisible(False)
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
        self.cursor.setVisible(cursor is not None)
        if cursor is not None:
            self.cursor.setValue(cursor)
        # y: the smooth lines with room below, and the raw tops (raw dips toward 0 are cut off)
        ls, lr = log10_positive(smooth), log10_positive(values)
        ls, lr = ls[np.isfinite(ls)], lr[np.isfinite(lr)]
        if len(ls):
            lo = float(ls.min()) - 0.6
            hi = max(float(ls.max()), float(np.percentile(lr, 99.5)) if len(lr) else -np.inf) + 0.15
            set_log_y(self.plot, lo, hi)
        end = max(float(steps[-1]) if x_end is None else float(x_end), float(steps[0]) + 1)
        self.plot.setXRange(float(steps[0]), end, padding=0.02)


def color_title(entries) -> str:
    """HTML for a plot title that doubles as a legend: a coloured bar and a name per entry (the
    size is the title's own, so a canvas can scale it)."""
    parts = [f"<span style='color: rgb{tuple(c[:3])}'>&#9644;&#9644;</span>&nbsp;{name}" for c, name in entries]
    return "&nbsp;&nbsp;&nbsp;".join(parts)


def _font(points: int, bold: bool = False):
    from pyqtgraph.Qt import QtGui

    f = QtGui.QFont()
    f.setPointSize(points)
    f.setBold(bold)
    return f
