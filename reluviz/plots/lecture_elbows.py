"""Plots of the elbow view: where the elbows -b/w are, which units are dead, one unit over time.

* ``ElbowHistogramPlot``: stacked bars of elbow positions by unit status (bending inside the data,
  dead, always active), the expected counts at initialisation (the Cauchy density for the gaussian
  init) as a dashed curve, the data's x range shaded, counts beyond the plotted range written at
  its edges, and one clickable marker per unit under the axis (``unitClicked``).
* ``ElbowTrailPlot``: the selected unit's elbow against step, dead stretches in grey.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore

from reluviz.plots import theme
from reluviz.plots.lecture_common import add_legend, note_item, style_plot

BENDING = (31, 119, 180)
ALWAYS = (152, 200, 235)
DEAD = (150, 150, 150)
EXPECTED = (20, 20, 20)
DATA_RANGE = (44, 160, 44)


class ElbowHistogramPlot(QtCore.QObject):
    """Histogram of elbows; emits ``unitClicked(int)`` when a unit marker is clicked."""

    unitClicked = QtCore.Signal(int)

    def __init__(self, plot: pg.PlotItem, legend: pg.LegendItem | None = None):
        """``legend``: where to list the items (e.g. a LegendItem in a row above the plot, so that
        it covers no bar); by default a legend inside the plot."""
        super().__init__(plot)  # owned by the plot item
        self.plot = plot
        style_plot(plot, bottom="elbow position  x = −b/w", left="number of units")
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
        self.legend = legend if legend is not None else add_legend(plot, offset=(-10, 10))
        self.legend.addItem(self.bars["bending"], "bends inside the data")
        self.legend.addItem(self.bars["always"], "always active (a line)")
        self.legend.addItem(self.bars["dead"], "dead (on no point)")
        self.legend.addItem(self.expected, "expected at initialisation")
        # (a LinearRegionItem in a legend crashes the painter: an empty bar item stands in for it)
        self.region_key = pg.BarGraphItem(x=[], height=[], width=1.0, brush=pg.mkBrush(*DATA_RANGE, 60),
                                          pen=theme.pen(DATA_RANGE, 1.5))
        plot.addItem(self.region_key)
        self.legend.addItem(self.region_key, "training x range")
        self.left_note = note_item(plot, anchor=(0, 0))
        self.right_note = note_item(plot, anchor=(1, 0))
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
        self.legend.removeItem(self.expected)
        self.legend.addItem(self.expected, label)
        self._exp_max = float(np.max(expected_y)) if len(expected_y) else 0.0
        self._ymax = 1.0

    def show(self, counts: dict[str, np.ndarray], unit_x: np.ndarray, unit_kind: list[str],
             selected: int | None, beyond: tuple[int, int]) -> None:
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
        self.plot.setRange(xRange=(e[0], e[-1]), yRange=(lo_y * 1.6, self._ymax), padding=0)
        h = len(unit_x)
        x0, x1 = e[0], e[-1]
        shown = np.clip(np.where(np.isfinite(unit_x), unit_x, x0), x0, x1)
        symbols = np.where(unit_x < x0, "arrow_left", np.where(unit_x > x1, "arrow_right", "t1"))
        symbols = np.where(np.isfinite(unit_x), symbols, "x")
        brushes = [self._brushes[k] for k in unit_kind]
        sizes = np.full(h, 14.0)
        if selected is not None and 0 <= selected < h:
            brushes[selected] = self._sel_brush
            sizes[selected] = 22.0
            self.selected.setValue(float(shown[selected]))
            self.selected.setVisible(True)
        else:
            self.selected.setVisible(False)
        self.markers.setData(x=shown, y=np.full(h, lo_y), symbol=list(symbols), brush=brushes, size=sizes,
                             data=np.arange(h))
        below, above = beyond
        self.left_note.setText(f"← {below} more\nleft of {x0:g}" if below else "")
        self.right_note.setText(f"{above} more →\nright of {x1:g}" if above else "")
        self.left_note.setPos(x0, self._ymax * 0.78)
        self.right_note.setPos(x1, self._ymax * 0.55)

    def _on_click(self, _item, points, _event=None) -> None:
        if len(points):
            self.unitClicked.emit(int(points[0].data()))


class ElbowTrailPlot:
    """The selected unit's elbow over the recorded steps."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        style_plot(plot, bottom="step", left="elbow x = −b/w")
        self.region = pg.LinearRegionItem(values=(0, 1), orientation="horizontal", movable=False,
                                          brush=pg.mkBrush(*DATA_RANGE, 35), pen=theme.pen(DATA_RANGE, 1.0))
        self.region.setZValue(-10)
        plot.addItem(self.region, ignoreBounds=True)
        self.curve = pg.PlotDataItem(pen=theme.pen(theme.SELECTED, 3.0), connect="finite")
        self.dead = pg.ScatterPlotItem(size=6, pen=None, brush=theme.brush(DEAD))
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.CURSOR, 1.0, "dash"))
        plot.addItem(self.curve)
        plot.addItem(self.dead)
        plot.addItem(self.cursor, ignoreBounds=True)
        self.note = note_item(plot, anchor=(0, 0))
        plot.enableAutoRange()

    def set_data_range(self, lo: float, hi: float) -> None:
        self.region.setRegion((lo, hi))

    def show(self, steps: np.ndarray, elbow: np.ndarray, dead: np.ndarray | None, step: int, title: str) -> None:
        self.curve.setData(steps, elbow)
        if dead is not None and dead.any():
            self.dead.setData(steps[dead], elbow[dead])
        else:
            self.dead.setData([], [])
        self.cursor.setValue(step)
        self.plot.setTitle(title, size="13pt", color=theme.FOREGROUND)

    def clear(self, message: str, upto: int | None = None) -> None:
        """No unit followed: ``message`` as the title; with ``upto``, the steps 0 .. ``upto`` and
        the data's x range shown (not pyqtgraph's 0 .. 1 of an empty plot)."""
        self.curve.setData([], [])
        self.dead.setData([], [])
        self.plot.setTitle(message, size="13pt", color=theme.FOREGROUND)
        if upto is not None:
            self.cursor.setValue(upto)
            self.plot.setXRange(0, max(int(upto), 10), padding=0.02)
            lo, hi = self.region.getRegion()
            self.plot.setYRange(lo, hi, padding=0.1)
