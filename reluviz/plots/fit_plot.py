"""The main plot: data, true function, prediction, every unit's elbow and the current minibatch.

Everything is drawn in data coordinates (x, y of the data set). Items are created once in
``__init__`` and updated with ``setData`` on each snapshot. Axis ranges are fixed from the data
(no jumping autoscale while training), with room above for the legend; the user may still zoom
and pan, and ``reset_view`` puts the fixed range back.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets, isQObjectAlive

from reluviz.core.compare import ghost_text
from reluviz.core.data import Dataset
from reluviz.core.frame import Frame
from reluviz.core.kinks import drawing_range, find_kinks
from reluviz.core.polylines import kink_polylines, relu_polyline
from reluviz.core.snapshot import Snapshot
from reluviz.core.structure import Structure, network_structure
from reluviz.plots import theme
from reluviz.plots.data_points import MAX_DRAWN_POINTS, DataPoints  # noqa: F401 (MAX_DRAWN_POINTS: tests)
from reluviz.plots.fast_items import (CachedSubtreeEffect, FastCurve, cache, move_points, set_curve,
                                       watch_view)
from reluviz.plots.elbow_markers import ElbowMarkers, drawn_units, subset_stride
from reluviz.plots.fit_structure import StructureOverlay, contribution_lines
from reluviz.plots.legend_room import lay_out_legend, legend_height, top_for_legend

CURVE_POINTS = 400
MAX_DRAWN_BATCH = 2_000     # minibatch points circled at most
EXACT_CURVE_WIDTH = 512     # wider nets draw f(x) from running sums (relu_polyline), not H evaluations


class FitPlot(QtCore.QObject):
    """Draws a snapshot of a relu net (or a constant / linear model) on ``plot``.

    ``set_dataset`` first (points, true function, view range), then ``show_frame`` or
    ``show_snapshot`` for each state: the prediction f(x), each unit's v_j relu(w_j x + b_j) as
    a polyline through its elbow x = -b_j / w_j, a marker per elbow at the bottom of the view,
    and the rings of the next minibatch. Signals: ``unitClicked(int)`` when the user clicks an
    elbow marker (-1 clears the selection).
    """

    unitClicked = QtCore.Signal(int)
    #: The static layer (see ``draw_static_in_background``) must be drawn again.
    staticChanged = QtCore.Signal()

    def __init__(self, plot: pg.PlotItem):
        super().__init__(plot)  # owned by the plot item, so Qt tears both down together
        self.plot = plot
        # No grid: pyqtgraph draws it with the axes, over the whole plot at every frame.
        plot.setLabel("bottom", "x")
        plot.setLabel("left", "y")
        theme.style_axes(plot)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self.legend = plot.addLegend(offset=(10, 4), labelTextSize="10pt",
                                     brush=theme.brush((255, 255, 255), 210))  # readable over the data
        self.truth = plot.plot(pen=theme.pen(theme.TRUTH, 2.5, "dash"), name="true function")
        # training, validation and test points (plots/data_points.py; the legend follows the View menu)
        self.points = DataPoints(lambda: getattr(self, "_legend_key", None) is not None and self._sync_legend())
        self.test, self.val, self.train = self.points.items
        self.batch = pg.ScatterPlotItem(size=11, pen=theme.pen(theme.BATCH, 2.0), brush=None)
        # Unit lines are 1 px wide: Qt strokes wider pens of NaN-separated polylines ~50x slower.
        self.units_pos = pg.PlotCurveItem(pen=theme.pen(theme.POSITIVE, 1.0, alpha=210), connect="finite")
        self.units_neg = pg.PlotCurveItem(pen=theme.pen(theme.NEGATIVE, 1.0, alpha=210), connect="finite")
        self.units_dead = pg.PlotCurveItem(pen=theme.pen(theme.DEAD, 1.0, "dot"), connect="finite")
        self.unit_selected = FastCurve(pen=theme.pen(theme.SELECTED, 3.0))
        self.ghost = FastCurve(pen=theme.pen(theme.GHOST, 2.5, "dash"))
        self.prediction = FastCurve(pen=theme.pen(theme.PREDICTION, 3.0))
        self.elbow_markers = ElbowMarkers()
        self.elbows = self.elbow_markers.item
        self.elbow_trail = pg.PlotCurveItem(pen=theme.pen(theme.SELECTED, 1.5, alpha=200))
        for item in (self.test, self.val, self.train, self.units_dead, self.units_pos, self.units_neg, self.unit_selected,
                     self.ghost, self.prediction, self.batch, self.elbow_trail, self.elbows):
            plot.addItem(item)
        self.show_units = True
        self.show_batch = True
        self.structure = StructureOverlay(plot)  # kinks by layer, regions against units, Figure 4
        self._frame: Frame | None = None  # the frame last drawn (drawn again when an overlay is toggled)
        self._legend_key: tuple | None = None
        self._legend_columns = 0
        self.legend_row = None  # (None: the legend over the plot's top; a LegendRow: outside, see set_legend_row)
        self.legend_shown = True
        # what the last state drew: units, a minibatch, grey units' name, layers of kinks, Figure 4's steps
        self._drawn_kinds = (True, True, "dead unit", 0, False, 1)
        self._ghost_label: str | None = None
        self.dataset: Dataset | None = None
        self._sync_legend()
        plot.vb.sigResized.connect(self._place_legend)  # (fewer columns in a narrow plot; then _refit)
        plot.vb.sigResized.connect(self._refit)
        plot.vb.sigRangeChanged.connect(self._place_structure)
        # says so when the network's curve leaves the plot (a diverging run): otherwise it just vanishes
        # (over everything, the legend included, on an opaque box: it was drawn faint under the legend)
        self.offscale = pg.TextItem("", color=theme.NEGATIVE, anchor=(1, 0.5), fill=theme.brush((255, 255, 255), 235),
                                    border=theme.pen(theme.NEGATIVE, 1.5))
        self.offscale.setZValue(1000)
        font = self.offscale.textItem.font()
        font.setPointSize(theme.FONT_POINT_SIZE + 1)
        self.offscale.setFont(font)
        plot.addItem(self.offscale, ignoreBounds=True)
        # (items with nothing to draw are hidden: an empty item still costs Python calls a frame)
        for item in (self.offscale, self.unit_selected, self.elbow_trail):
            item.hide()
        # Static items are cached as pixmaps, blitted at each frame instead of drawn again (per
        # item: the true function is the PlotDataItem's child curve; the legend: _layout_legend).
        #: the items under everything else that change only with the data set or the view: the
        #: true function and the data points, in drawing order
        self.static_items = (self.truth.curve, self.truth.scatter, self.test, self.val, self.train)
        self._static_background = False
        for item in self.static_items:
            cache(item)
        # the axes' ticks reach into the plot area, so each frame repaints them too: from a pixmap
        for name in ("left", "bottom"):
            cache(plot.getAxis(name))
        self.elbows.sigClicked.connect(self._on_elbow_clicked)
        self.selected_unit: int | None = None
        self.grid = np.linspace(0.0, 1.0, CURVE_POINTS)
        self._range = ((0.0, 1.0), (-1.0, 1.0))
        self._base: tuple | None = None  # (x range, usual y range, highest data y) of the data set

    # ------------------------------------------------------------------ static layer
    def draw_static_in_background(self) -> None:
        """Leave the static items to the view's background (``paint_static``), drawn once into
        the view's cached background pixmap until they or the view change (``staticChanged``).
        The items keep their data, visibility and legend entries; they only stop painting
        themselves. (Why: the background is an opaque copy the view makes anyway, so a frame
        no longer blends the data points over the plot.)"""
        self._static_background = True
        for item in self.static_items:
            item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
            item.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
            item.visibleChanged.connect(self.staticChanged)  # (the legend's samples toggle them)
        watch_view(self.plot.vb, self.plot, self.staticChanged)

    def paint_static(self, painter: QtGui.QPainter) -> None:
        """Draw the static items with ``painter`` in scene coordinates (a view's drawBackground)."""
        vb = self.plot.vb
        if not self._static_background or vb.scene() is None or not self.plot.isVisible():
            return
        scene_to_device = painter.transform()
        option = QtWidgets.QStyleOptionGraphicsItem()
        painter.save()
        try:
            painter.setClipRect(vb.sceneBoundingRect(), QtCore.Qt.ClipOperation.IntersectClip)  # as the view box clips
            for item in self.static_items:
                if item.isVisible():
                    painter.save()
                    painter.setTransform(item.sceneTransform() * scene_to_device)
                    item.paint(painter, option, None)
                    painter.restore()
        finally:
            painter.restore()

    def set_ghost_label(self, label: str | None) -> None:
        """Name the ghost run in the legend, plain text (``ghost_text``; None: no ghost entry)."""
        if label == self._ghost_label:
            return
        if label is None:
            self.ghost.setData([], [])
        self._ghost_label = label
        self._sync_legend()

    def legend_entries(self) -> list[tuple[pg.GraphicsObject, str]]:
        """What the legend lists: exactly the kinds of thing drawn for the data, the model, the
        batch and the ghost of the last state (no units for the constant / linear models, no
        minibatch at full batch, no true function for CSV data)."""
        units, minibatch, off_units, _layers, _steps, stride = self._drawn_kinds
        ds = self.dataset
        entries = [] if ds is not None and ds.true_x is None else [(self.truth, "true function")]
        entries += self.points.legend_entries(ds)
        if minibatch and self.show_batch:
            entries.append((self.batch, "minibatch"))
        entries.append((self.prediction, "network f(x)"))
        if units:
            sample = f" (1 in {stride} drawn)" if stride > 1 else ""
            entries += [(self.units_pos, f"unit, v > 0{sample}"), (self.units_neg, f"unit, v &lt; 0{sample}"),
                        (self.units_dead, off_units + sample)]
        entries += self.structure.legend_entries()
        if self._ghost_label is not None:
            entries.append((self.ghost, html.escape(self._ghost_label)))
        return entries

    def set_legend_row(self, row) -> None:
        """List the legend in ``row`` (a ``LegendRow`` outside the plot, where the y range is the data's alone)."""
        self.legend_row, self._legend_key = row, None
        self._sync_legend()
        self.set_legend_shown(self.legend_shown)

    def set_legend_shown(self, shown: bool) -> None:
        """Show or drop the legend (``--no-legend``); without it the data get the room."""
        self.legend_shown = bool(shown)
        self.legend.setVisible(self._legend_in_plot())
        self._refit()

    def _legend_in_plot(self) -> bool:
        return self.legend_row is None and self.legend_shown

    def _sync_legend(self) -> None:
        """Rebuild the legend when what it should list changed. (pyqtgraph's removeItem leaves the
        grid's old rows and columns behind: entries then spread across the plot and fall off it,
        so the legend gets a new grid and its entries again, in order.)"""
        entries = self.legend_entries()
        key = tuple((id(item), name) for item, name in entries)
        if key == self._legend_key:
            return
        self._legend_key = key
        if self.legend_row is not None:
            self.legend_row.set_entries(entries)
            return
        legend = self.legend
        legend.clear()
        for item, name in entries:  # (as LegendItem.addItem makes them; _place_legend lays them out)
            sample = legend.sampleType(item)
            sample.sigClicked.connect(legend.sigSampleClicked)
            label = pg.LabelItem(name, color=legend.opts["labelTextColor"], justify="left",
                                 size=legend.opts["labelTextSize"])
            legend.items.append((sample, label))
        self._legend_columns = 0
        self._place_legend()

    def _legend_width(self, columns: int) -> float:
        """Pixels the legend's entries take in ``columns`` aligned columns."""
        widths = [0.0] * columns
        for i, (sample, label) in enumerate(self.legend.items):
            w = sample.boundingRect().width() + label.item.boundingRect().width() + 2 * self.legend.layout.horizontalSpacing()
            widths[i % columns] = max(widths[i % columns], w)
        return sum(widths) + 12

    def _place_legend(self) -> None:
        """A wide, short legend: as many columns (4 at most) as fit the plot's width."""
        legend = self.legend
        room = self.plot.vb.width() - (legend.offset[0] if legend.offset else 0) - 4
        columns = 4
        while columns > 1 and room > 0 and self._legend_width(columns) > room:
            columns -= 1
        if columns == self._legend_columns:
            return
        self._legend_columns = columns
        lay_out_legend(legend, columns)  # (a fresh grid: the old one's stale rows and columns go)
        self._layout_legend()

    def _layout_legend(self) -> None:
        """Cache the legend's parts as pixmaps and make room for it above the data."""
        cache(self.legend)
        for sample, label in self.legend.items:
            cache(sample)
            cache(label)
        if self.legend.graphicsEffect() is None:
            self.legend.setGraphicsEffect(CachedSubtreeEffect(self.legend))
        self._refit()  # (pyqtgraph sized the legend just now: LegendItem.updateSize)

    # ------------------------------------------------------------------ data
    def set_dataset(self, ds: Dataset) -> None:
        """New data: points, true function and the fixed view range."""
        self.dataset = ds
        self.points.set_data(ds)  # (an even subset of big data sets)
        if ds.true_x is not None:
            self.truth.setData(ds.true_x, ds.true_y)
            self.truth.show()
        else:
            self.truth.setData([], [])
        lo, hi = drawing_range(ds.x_range)  # (the range the frame's kinks are computed on)
        ys = np.concatenate([ds.y_train, ds.y_val])  # (not the 1,000 test points: hidden, and their noisiest stretch it)
        y0, y1 = float(ys.min()), float(ys.max())
        ypad = 0.25 * max(y1 - y0, 1e-6)
        self._base = ((lo, hi), (y0 - ypad, y1 + ypad), y1)
        self._range = self._fitted_range()
        self.grid = np.linspace(lo, hi, CURVE_POINTS)
        self._sync_legend()
        self.reset_view()
        self.staticChanged.emit()

    def _fitted_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The data's range with room above it for the legend at the view's present size."""
        xr, (bottom, top), data_top = self._base
        if not self._legend_in_plot():  # (the legend is elsewhere or dropped: the data's range)
            return xr, (bottom, data_top + 0.05 * (data_top - bottom))
        top = top_for_legend(bottom, data_top, legend_height(self.legend), self.plot.vb.height(), top)
        return xr, (bottom, top)

    def _refit(self) -> None:
        """The view or the legend changed size: the range follows (unless the user zoomed or panned)."""
        if getattr(self, "_base", None) is None or not isQObjectAlive(self.plot.vb):  # (not yet, or torn down)
            return
        new = self._fitted_range()
        if new == self._range:
            return
        shown = self.plot.vb.viewRange()
        untouched = np.allclose(shown, self._range, rtol=0, atol=1e-9 * (self._range[1][1] - self._range[1][0]))
        self._range = new
        if untouched:
            self.reset_view()

    def reset_view(self) -> None:
        (x0, x1), (y0, y1) = self._range
        self.plot.vb.disableAutoRange()
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    @property
    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return self._range

    def set_show_units(self, show: bool) -> None:
        self.show_units = show
        self.structure.show_kinks = show
        for item in (self.units_pos, self.units_neg, self.units_dead, self.elbows):
            item.setVisible(show)

    def set_show_constant_fit(self, show: bool) -> None:
        """Overlay Figure 4's piecewise-constant fit on the network's pieces (the frame shown is drawn again)."""
        self.structure.show_constant = show
        if self._frame is not None:
            self.show_frame(self._frame)

    def select_unit(self, unit: int | None) -> None:
        self.selected_unit = unit
        if unit is None:
            set_curve(self.unit_selected, [], [])
            set_curve(self.elbow_trail, [], [])

    def set_elbow_trail(self, xs: np.ndarray) -> None:
        """The selected unit's elbow positions over time (oldest first), drawn rising from the axis."""
        (y0, y1) = self._range[1]
        xs = np.asarray(xs, dtype=float)
        finite = np.isfinite(xs)
        ys = y0 + 0.02 * (y1 - y0) + np.linspace(0.12, 0.0, len(xs)) * (y1 - y0)
        set_curve(self.elbow_trail, xs[finite], ys[finite])

    # ------------------------------------------------------------------ drawing
    def show_frame(self, frame: Frame) -> None:
        """Draw ``frame``: its data set (when new), its ghost's legend entry, the network."""
        self._frame = frame
        if frame.dataset is not self.dataset:
            self.set_dataset(frame.dataset)
        self.set_ghost_label(ghost_text(frame.compare) if frame.compare else None)
        self.show_snapshot(frame.snapshot, ghost=frame.ghost, dead=frame.dead, structure=frame.structure)

    def show_snapshot(self, snap: Snapshot, run: int = 0, ghost: Snapshot | None = None,
                      dead: np.ndarray | None = None, structure: Structure | None = None) -> None:
        """Draw ``snap`` (run ``run``); ``ghost`` is a second run drawn faintly; ``dead`` (H,) the
        units active on no training point (computed from the data set when not given);
        ``structure`` its kinks, regions and layers (computed when not given, for a relu net)."""
        ds = self.dataset
        grid = self.grid
        if structure is None and snap.layout.model == "relu" and ds is not None:
            structure = network_structure(snap, ds, run)
        self.structure.show(structure if snap.layout.model == "relu" else None, snap.layout.general)
        off = "saturated unit" if structure is not None and not structure.piecewise else "dead unit"
        kinds = (snap.layout.model == "relu", not snap.full_batch(ds), off,
                 self.structure.kink_layers, self.structure.constant_shown,
                 subset_stride(snap.layout.width) if snap.layout.model == "relu" and not snap.layout.general else 1)
        if kinds != self._drawn_kinds:
            self._drawn_kinds = kinds
            self._sync_legend()
        if snap.layout.general:
            self._show_general(snap, run, ghost, structure)
            return
        elbows = snap.elbows(run) if snap.layout.model == "relu" else None
        xs, ys = self._curve(snap, run, elbows)
        self.prediction.setData(xs, ys)
        self._note_offscale(ys)
        self._show_ghost_and_batch(snap, run, ghost)
        if snap.layout.model != "relu":
            for item in (self.units_pos, self.units_neg, self.units_dead, self.elbows):
                item.setData([], [])
            set_curve(self.unit_selected, [], [])
            return
        x0, x1 = float(grid[0]), float(grid[-1])
        ends = snap.units(np.array([x0, x1]), run)
        v = snap.get("v", run)
        if dead is None:
            dead = snap.dead_units(ds.x_train, run) if ds is not None else np.zeros(len(v), bool)
        drawn = drawn_units(len(v), self.selected_unit)  # (a wide net: a sample of its units, said in the legend)
        pos = (v >= 0) & ~dead
        neg = (v < 0) & ~dead
        px, py = kink_polylines(x0, x1, ends[drawn], elbows[drawn])
        px, py = px.reshape(-1, 4), py.reshape(-1, 4)  # each drawn unit's 4 points, split by kind below
        for item, mask in ((self.units_pos, pos), (self.units_neg, neg), (self.units_dead, dead)):
            item.setData(px[mask[drawn]].ravel(), py[mask[drawn]].ravel(), connect="finite")
        if self.selected_unit is not None and self.selected_unit < len(v):
            k = int(np.searchsorted(drawn, self.selected_unit))
            set_curve(self.unit_selected, px[k], py[k], connect="finite")
        self.elbow_markers.draw(elbows, snap.get("w", run), v, dead, drawn, self.selected_unit, self._range)

    def _show_general(self, snap: Snapshot, run: int, ghost: Snapshot | None, st: Structure) -> None:
        """A deep net or other activation: f and the last layer's contributions v_j h_L,j(x) through every
        breakpoint (exact polylines; a grid for tanh/sigmoid); no elbow markers (a layer-2 unit has none)."""
        k = st.kinks
        self.prediction.setData(k.xs, k.fx)
        self._note_offscale(k.fx)
        self._show_ghost_and_batch(snap, run, ghost)
        v = snap.get("v", run)
        xs, lines, off = contribution_lines(st, v[:, None] * k.layers[-1] if k.layers is not None else
                                            snap.units(k.xs, run))
        for item, mask in ((self.units_pos, (v >= 0) & ~off), (self.units_neg, (v < 0) & ~off), (self.units_dead, off)):
            item.setData(xs[mask].ravel(), lines[mask].ravel(), connect="finite")
        j = self.selected_unit
        if j is not None and j < len(v):
            set_curve(self.unit_selected, xs[j], lines[j], connect="finite")
        self.elbow_markers.clear()

    def _show_ghost_and_batch(self, snap: Snapshot, run: int, ghost: Snapshot | None) -> None:
        ds = self.dataset
        if ghost is not None:
            self.ghost.setData(*self._curve(ghost, 0))
        elif self.ghost.xData is not None and len(self.ghost.xData):
            self.ghost.setData([], [])
        if ds is not None and self.show_batch and not snap.full_batch(ds):
            idx = snap.batch[run][:MAX_DRAWN_BATCH]
            if not move_points(self.batch, ds.x_train[idx], ds.y_train[idx]):
                self.batch.setData(ds.x_train[idx], ds.y_train[idx])
        else:
            self.batch.setData([], [])

    def _place_structure(self, *_args) -> None:
        """The overlay's text keeps to its corner (a method: a lambda held by the signal would keep the plot alive)."""
        self.structure.place()

    def _note_offscale(self, ys: np.ndarray) -> None:
        (x0, x1), (y0, y1) = self._range
        finite = ys[np.isfinite(ys)]
        if len(finite) == len(ys) and finite.min() >= y0 and finite.max() <= y1:
            if self.offscale.toPlainText():
                self.offscale.setText("")
                self.offscale.hide()
            return
        inside = np.count_nonzero((finite >= y0) & (finite <= y1))
        if inside > len(ys) // 2:
            text = ""
        elif not len(finite):
            text = "network f(x) is not a number here (the run blew up)"
        else:
            lo, hi = float(finite.min()), float(finite.max())
            where = "below the chart" if hi < y0 else "above the chart" if lo > y1 else "mostly off the chart"
            text = (f"network f(x) is {where}: its values run from {lo:.3g} to {hi:.3g};\n"
                    f"the chart shows y from {y0:.3g} to {y1:.3g}")
        self.offscale.setText(text)
        self.offscale.setVisible(bool(text))
        self.offscale.setPos(x1 - 0.01 * (x1 - x0), 0.5 * (y0 + y1))

    def _curve(self, snap: Snapshot, run: int, elbows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The network's output as a polyline: at the ends of the view and at every elbow inside
        it for a relu net (exact, since f is linear between elbows), else on the grid.
        ``elbows``: ``snap.elbows(run)`` if already at hand."""
        if snap.layout.model != "relu":
            return self.grid, snap.predict(self.grid, run)
        x0, x1 = float(self.grid[0]), float(self.grid[-1])
        if snap.layout.general:
            k = find_kinks(snap.layout, snap.params[run], x0, x1)
            return k.xs, k.fx
        if snap.layout.width > EXACT_CURVE_WIDTH:
            return relu_polyline(snap.get("w", run), snap.get("b", run), snap.get("v", run), snap.get("c", run), x0, x1)
        e = snap.elbows(run) if elbows is None else elbows
        e = e[np.isfinite(e) & (e > x0) & (e < x1)]
        xs = np.concatenate([[x0], np.sort(e), [x1]])
        return xs, snap.predict(xs, run)

    def _on_elbow_clicked(self, _item, points, _event=None):
        if len(points):
            j = self.elbow_markers.unit_of(points[0])
            self.unitClicked.emit(-1 if self.selected_unit == j else j)
