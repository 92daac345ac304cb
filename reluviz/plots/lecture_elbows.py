"""Plots of the elbow view: where the elbows -b/w are, which units are dead, one unit over time.

* ``ElbowHistogramPlot``: stacked bars of elbow positions by unit status (bending inside the data,
  dead, always active), the expected counts at initialisation (the Cauchy density for the gaussian
  init) as a dashed curve, the data's x range shaded, and one clickable marker per unit under the
  axis (``unitClicked``; an arrow at the edge for an elbow beyond the plotted range).
* ``ElbowTrailPlot``: every unit's elbow against step (where the kinks move), coloured by what
  the unit does now, and the selected unit's thick, dead stretches in grey.

Neither holds a legend: the canvas (``reluviz.plots.elbows_canvas``) lists what is drawn in a
legend row outside the plots (``ElbowHistogramPlot.legend_entries``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore

from reluviz.plots import theme
from reluviz.plots.lecture_common import style_plot

BENDING = (31, 119, 180)
ALWAYS = (152, 200, 235)
DEAD = (150, 150, 150)
EXPECTED = (20, 20, 20)
DATA_RANGE = (44, 160, 44)


class ElbowHistogramPlot(QtCore.QObject):
    """Histogram of elbows; emits ``unitClicked(int)`` when a unit marker is clicked."""

    unitClicked = QtCore.Signal(int)

    KINDS = (("bending", "bends inside the data"), ("always", "always active (a line)"),
             ("dead", "dead (on no point)"))

    def __init__(self, plot: pg.PlotItem):
        super().__init__(plot)  # owned by the plot item
        self.plot = plot
        style_plot(plot, bottom="elbow position  x = −b/w", left="units")
        self.region = pg.LinearRegionItem(values=(0, 1), movable=False,
                                          brush=pg.mkBrush(*DATA_RANGE, 35), pen=theme.pen(DATA_RANGE, 1.5))
        self.region.setZValue(-10)
        plot.addItem(self.region, ignoreBounds=True)
        self.bars = {k: pg.BarGraphItem(x=[], height=[], width=1.0, brush=theme.brush(c), pen=pg.mkPen("w", width=0.6))
                     for k, c in (("bending", BENDING), ("always", ALWAYS), ("dead", DEAD))}
        for item in self.bars.values():
            plot.addItem(item)
        self.expected = pg.PlotDataItem(pen=theme.pen(EXPECTED, 2.5, "dash"))
        plot.addItem(self.expected)
        self.selected = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.SELECTED, 3.0))
        self.selected.setVisible(False)
        plot.addItem(self.selected, ignoreBounds=True)
        self.markers = pg.ScatterPlotItem(size=14, pen=pg.mkPen("w", width=0.8), hoverable=True)
        self.markers.setZValue(20)
        plot.addItem(self.markers)
        self.markers.sigClicked.connect(self._on_click)
        self.expected_label = "expected at initialisation"
        self.scale = 1.0  # marker sizes (the canvas's ``set_scale``)
        self.kind_counts: dict[str, int] = {}
        # (a LinearRegionItem in a legend crashes the painter: an empty bar item stands in for it)
        self.region_key = pg.BarGraphItem(x=[], height=[], width=1.0, brush=pg.mkBrush(*DATA_RANGE, 60),
                                          pen=theme.pen(DATA_RANGE, 1.5))
        plot.addItem(self.region_key)
        self._brushes = {k: theme.brush(c) for k, c in (("bending", BENDING), ("always", ALWAYS), ("dead", DEAD))}
        self._sel_brush = theme.brush(theme.SELECTED)
        self._ymax = 1.0
        plot.vb.disableAutoRange()

    def set_frame(self, edges: np.ndarray, data_range: tuple[float, float], expected_x: np.ndarray,
                  expected_y: np.ndarray, step_mode: bool, label: str) -> None:
        """Things that depend only on the data and the config (set once per run)."""
        self.edges = np.asarray(edges, dtype=float)
        self.region.setRegion(data_range)
        if step_mode:
            self.expected.setData(expected_x, expected_y, stepMode="center")
        else:  # (stepMode must be cleared explicitly: PlotDataItem keeps the last one given)
            self.expected.setData(expected_x, expected_y, stepMode=None)
        self.expected_label = label
        self._exp_max = float(np.max(expected_y)) if len(expected_y) else 0.0
        self._ymax = 1.0

    def show(self, counts: dict[str, np.ndarray], unit_x: np.ndarray, unit_kind: list[str],
             selected: int | None) -> None:
        """``counts[kind]`` per bin; unit markers at ``unit_x`` (clipped to the plotted range)."""
        e = self.edges
        centers, width = 0.5 * (e[:-1] + e[1:]), np.diff(e)
        base = np.zeros(len(centers))
        for kind in ("bending", "always", "dead"):
            h = np.asarray(counts[kind], dtype=float)
            self.bars[kind].setOpts(x=centers, height=h, width=width * 0.92, y0=base.copy())
            base += h
        top = max(float(base.max(initial=0.0)), self._exp_max, 1.0)
        if top > self._ymax or top < 0.4 * self._ymax:
            self._ymax = top * 1.15
        lo_y = -0.09 * self._ymax
        pad = 0.012 * (e[-1] - e[0])  # (room for a whole marker at either edge)
        self.plot.setRange(xRange=(e[0] - pad, e[-1] + pad), yRange=(lo_y * 1.6, self._ymax), padding=0)
        h = len(unit_x)
        x0, x1 = e[0], e[-1]
        shown = np.clip(np.where(np.isfinite(unit_x), unit_x, x0), x0, x1)
        symbols = np.where(unit_x < x0, "arrow_left", np.where(unit_x > x1, "arrow_right", "t1"))
        symbols = np.where(np.isfinite(unit_x), symbols, "x")
        brushes = [self._brushes[k] for k in unit_kind]
        sizes = np.full(h, 14.0 * self.scale)
        if selected is not None and 0 <= selected < h:
            brushes[selected] = self._sel_brush
            sizes[selected] = 22.0 * self.scale
            self.selected.setValue(float(shown[selected]))
            self.selected.setVisible(True)
        else:
            self.selected.setVisible(False)
        self.markers.setData(x=shown, y=np.full(h, lo_y), symbol=list(symbols), brush=brushes, size=sizes,
                             data=np.arange(h))
        self.kind_counts = {k: int(sum(1 for u in unit_kind if u == k)) for k, _label in self.KINDS}

    def legend_entries(self) -> list[tuple[object, str]]:
        """What the histogram draws, for a legend row: the kinds of unit there are, the expected
        counts and the data's range."""
        out = [(self.bars[k], label) for k, label in self.KINDS if self.kind_counts.get(k, 0)]
        return out + [(self.expected, self.expected_label), (self.region_key, "training x range")]

    def _on_click(self, _item, points, _event=None) -> None:
        if len(points):
            self.unitClicked.emit(int(points[0].data()))


class ElbowTrailPlot:
    """Every unit's elbow over the recorded steps (thin, coloured by what the unit does now), and
    the selected unit's (thick, grey dots where it was dead)."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        style_plot(plot, bottom="step", left="elbow x")
        self.region = pg.LinearRegionItem(values=(0, 1), orientation="horizontal", movable=False,
                                          brush=pg.mkBrush(*DATA_RANGE, 35), pen=theme.pen(DATA_RANGE, 1.0))
        self.region.setZValue(-10)
        plot.addItem(self.region, ignoreBounds=True)
        self.units = {k: pg.PlotCurveItem(pen=theme.pen(c, 1.0), connect="finite")
                      for k, c in (("bending", BENDING), ("always", ALWAYS), ("dead", DEAD))}
        for item in self.units.values():
            plot.addItem(item)
        self.curve = pg.PlotDataItem(pen=theme.pen(theme.SELECTED, 3.0), connect="finite")
        self.curve.setZValue(10)
        self.dead = pg.ScatterPlotItem(size=6, pen=None, brush=theme.brush(DEAD))
        self.dead.setZValue(11)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.CURSOR, 1.0, "dash"))
        plot.addItem(self.curve)
        plot.addItem(self.dead)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.title_points = 13.0  # (the canvas scales it with the frame)
        self._data = (0.0, 1.0)
        plot.vb.disableAutoRange()

    def set_data_range(self, lo: float, hi: float) -> None:
        self._data = (float(lo), float(hi))
        self.region.setRegion((lo, hi))

    def _title(self, text: str) -> None:
        self.plot.setTitle(text, size=f"{self.title_points:.1f}pt", color=theme.FOREGROUND)
        # (a title's width is otherwise the plot's minimum width: a long one widened the whole
        # canvas past its window or frame, cutting everything at the right)
        label = self.plot.titleLabel
        label.setMinimumWidth(0)
        label._sizeHint[QtCore.Qt.SizeHint.MinimumSize] = (0, label._sizeHint[QtCore.Qt.SizeHint.MinimumSize][1])
        label.updateGeometry()

    def show_units(self, steps: np.ndarray, elbows: dict[str, np.ndarray], clip: tuple[float, float]) -> None:
        """``elbows[kind]``: (U, K) elbows of the units of that kind (what they do now) at ``steps``
        (K,), drawn as one thin line per unit; a line is cut where it leaves ``clip`` (the
        histogram's range) by more than 1."""
        steps = np.asarray(steps, dtype=float)
        for kind, item in self.units.items():
            e = elbows.get(kind)
            if e is None or e.size == 0 or len(steps) == 0:
                item.setData([], [])
                continue
            u = e.shape[0]
            xs = np.concatenate([np.broadcast_to(steps, (u, len(steps))), np.full((u, 1), np.nan)], axis=1)
            # (beyond the range a line stops: an elbow jumps through infinity where w changes sign)
            inside = np.where((e >= clip[0] - 1.0) & (e <= clip[1] + 1.0), e, np.nan)
            ys = np.concatenate([inside, np.full((u, 1), np.nan)], axis=1)
            item.setData(xs.ravel(), ys.ravel(), connect="finite")

    def show(self, steps: np.ndarray, elbow: np.ndarray, dead: np.ndarray | None, step: int, title: str) -> None:
        """The selected unit's ``elbow`` (K,) at ``steps`` (K,), ``dead`` (K,) bool or None."""
        self.curve.setData(steps, elbow)
        if dead is not None and dead.any():
            self.dead.setData(steps[dead], elbow[dead])
        else:
            self.dead.setData([], [])
        self.cursor.setValue(step)
        self._title(title)

    def clear(self, message: str, upto: int | None = None) -> None:
        """No unit followed: ``message`` as the title; with ``upto``, the cursor there."""
        self.curve.setData([], [])
        self.dead.setData([], [])
        self._title(message)
        if upto is not None:
            self.cursor.setValue(upto)

    def set_range(self, first: int, last: int, lo: float, hi: float) -> None:
        """Steps ``first`` .. ``last`` (at least 10 wide) and elbows ``lo`` .. ``hi`` (the data's
        x range at least)."""
        self.plot.setXRange(first, max(int(last), first + 10), padding=0.02)
        lo, hi = min(lo, self._data[0]), max(hi, self._data[1])
        self.plot.setYRange(lo, hi, padding=0.08)
