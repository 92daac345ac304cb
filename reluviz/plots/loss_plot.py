"""The loss panel: minibatch, full-train, validation and test MSE against step (log scale), the
error to the true function, the objective (MSE + ridge term), and the learning rate on a second
(right, log) axis. A vertical line marks the displayed step, a star the step with the best
validation loss (where early stopping would stop); hovering shows values.

x is the step (updates done). Values are given as plain MSE and learning rates; both y axes are
log10 (the losses through pyqtgraph's log mode, the rate as log10 on its own view box), and
values <= 0, inf and NaN are gaps. The legend lists the curves that are drawn (clicking an entry
hides its curve); ``set_curve_visible`` shows or hides an evaluated curve. The test loss and the
error to the true function start hidden: the notes keep the test set for one final check, and the
true function is what a student cannot measure (the app says so beside its switches).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import isQObjectAlive, QtCore, QtGui, QtWidgets

from reluviz.core.thinning import thin_index
from reluviz.plots import theme
from reluviz.plots.fast_items import FastDataItem, watch_view
from reluviz.plots.lecture_common import log10_positive, positive
from reluviz.plots.legend_room import lay_out_legend, legend_height, top_for_legend

MAX_POINTS = 4000  # the minibatch loss and the learning rate are thinned to about this many points

#: The curves evaluated on whole data sets, in legend order: key -> (legend label, hover name,
#: colour, width, pen style, shown at first).
EVAL_CURVES = {
    "train": ("train", "train", theme.TRAIN_LOSS, 2.5, None, True),
    "objective": ("objective", "objective (MSE + λ‖θ‖²)", theme.OBJECTIVE, 2.0, "dot", True),
    "val": ("validation", "validation", theme.VAL_LOSS, 2.5, None, True),
    "test": ("test", "test", theme.TEST_LOSS, 2.0, None, False),
    "true": ("true-function error", "error to the true function", theme.TRUTH, 2.0, "dash", False),
}
MAX_LEGEND_COLUMNS = 6


def _corners(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of a polyline where y changes: inside a stretch of equal values (a constant
    learning rate) only its two ends are kept, so a flat dashed line is one segment, not 4,000."""
    if len(y) < 3:
        return x, y
    same = y[1:] == y[:-1]  # (NaN != NaN: gaps are kept)
    keep = np.ones(len(y), dtype=bool)
    keep[1:-1] = ~(same[:-1] & same[1:])
    return x[keep], y[keep]


def nice_ceiling(x: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) >= ``x`` > 0."""
    power = 10.0 ** np.floor(np.log10(x))
    for m in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if m * power >= x * (1 - 1e-12):
            return float(m * power)
    return float(10 * power)


class LossPlot(QtCore.QObject):
    """Loss curves on ``plot`` (its y axis shows log10 of MSE as powers of ten).

    ``set_data`` gives the curves, ``set_cursor`` the displayed step, ``set_step_range`` the
    step axis, ``set_curve_visible`` shows or hides an evaluated curve (``EVAL_CURVES``). Signals
    (with ``draw_curves_in_background``): ``curvesChanged()`` when the curves' data or the
    ranges changed (draw the background under the plot again), ``backgroundChanged()`` when
    anything else the curves' drawing depends on did (the plot's place or size, visibility);
    ``visibilityChanged(key, shown)`` when the user hid a curve by its legend entry.
    """

    curvesChanged = QtCore.Signal()
    backgroundChanged = QtCore.Signal()
    visibilityChanged = QtCore.Signal(str, bool)

    def __init__(self, plot: pg.PlotItem):
        super().__init__(plot)  # owned by the plot item, so Qt tears both down together
        self.plot = plot
        theme.style_axes(plot)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        # no grid (see FitPlot); the ranges below change in whole decades / 1-2-5 steps only, so the
        # axes are stable while training and are not redrawn on every frame
        plot.vb.disableAutoRange()
        self._y_range: tuple[float, float] | None = None
        self._lr_range: tuple[float, float] | None = None
        self._x_max: float | None = None
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "MSE")
        plot.setLogMode(x=False, y=True)
        plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = plot.addLegend(offset=(10, 4), labelTextSize="10pt",
                                     brush=theme.brush((255, 255, 255), 210))  # readable over the data
        self.batch = plot.plot(pen=theme.pen(theme.BATCH_LOSS, 1.0))
        # (wide antialiased lines: drawn as segments, see FastCurve)
        self.curves: dict[str, FastDataItem] = {}
        for key, (_label, _name, colour, width, style, shown) in EVAL_CURVES.items():
            item = FastDataItem(pen=theme.pen(colour, width, style))
            item.setVisible(shown)
            plot.addItem(item)
            self.curves[key] = item
        self.train, self.test, self.val = self.curves["train"], self.curves["test"], self.curves["val"]
        self.best = pg.PlotDataItem(pen=None, symbol="star", symbolSize=16, symbolPen=theme.pen((255, 255, 255), 1.0),
                                    symbolBrush=theme.brush(theme.BEST))  # (a data item: it follows the log axis)
        plot.addItem(self.best)
        self._best: tuple[int, float] | None = None
        self._has_objective = False  # (a ridge makes the objective differ from the train loss)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=theme.pen(theme.CURSOR, 1.0, "dash"))
        plot.addItem(self.cursor)
        # learning rate on its own view box with a right-hand log axis
        self.lr_view = pg.ViewBox()
        plot.showAxis("right")
        right = plot.getAxis("right")
        right.linkToView(self.lr_view)
        right.setLabel("learning rate")
        right.setLogMode(False, True)
        right.enableAutoSIPrefix(False)
        if plot.scene() is not None:
            plot.scene().addItem(self.lr_view)
        self.lr_view.setXLink(plot)
        self.lr = pg.PlotCurveItem(pen=theme.pen(theme.LR, 1.0, "dash"))  # 1 px: wider dashes cost ~2 ms a frame
        self.lr_view.addItem(self.lr)
        plot.vb.sigResized.connect(self._sync_views)
        plot.vb.sigResized.connect(self._resized)
        self.hover = pg.TextItem(anchor=(0, 1), color=theme.FOREGROUND)
        self.hover.setZValue(100)
        plot.addItem(self.hover, ignoreBounds=True)
        self._eval: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # key -> (steps, log10 loss), for the hover
        self._batch_data = (np.empty(0), np.empty(0))
        self._lr_data = (np.empty(0), np.empty(0))
        self._lr_ticks_shown = False
        plot.getAxis("right").setTicks([[], []])
        self._proxy = None
        #: the curves under the cursor, legend and hover text, in drawing order (the learning rate's
        #: view box is a scene item of its own at pyqtgraph's view box depth, under the whole plot)
        self.background_items = (self.lr, self.batch.curve, *(c.curve for c in self.curves.values()),
                                 self.best.scatter)
        self._background = False
        # The cursor moves every frame, the curves a few times a second: cached as pixmaps, the
        # strips the cursor uncovers are blitted, not stroked again (so are the legend and axes).
        cached = [*self.background_items, self.legend,
                  plot.getAxis("left"), plot.getAxis("bottom"), plot.getAxis("right")]
        for item in cached:
            item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._listed: list[tuple[object, str]] = []
        #: the legend over the plot's top (None) or in a ``LegendRow`` outside it (see ``FitPlot``)
        self.legend_row = None
        self.legend_shown = True
        self.full_batch = False  # (no minibatch: its curve would repeat the train loss)
        self._relist()

    def draw_curves_in_background(self) -> None:
        """Leave the curves to the view's background (``paint_background``), which the view
        keeps as one opaque pixmap: a curve update draws them once into it, and a cursor move
        copies two strips of it. The items keep their data, visibility and legend entries; they
        only stop painting themselves."""
        self._background = True
        for item in self.background_items:
            item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
            item.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        for item in (self.batch, *self.curves.values(), self.best, self.lr):
            item.visibleChanged.connect(self.backgroundChanged)  # (the legend's samples toggle them)
        for vb in (self.plot.vb, self.lr_view):  # a new range redraws the loss panel's part only
            watch_view(vb, self.plot, ranged=self.curvesChanged, placed=self.backgroundChanged)

    def paint_background(self, painter: QtGui.QPainter) -> None:
        """Draw the curves with ``painter`` in scene coordinates (a view's drawBackground)."""
        if not self._background or self.plot.scene() is None or not self.plot.isVisible():
            return
        scene_to_device = painter.transform()
        option = QtWidgets.QStyleOptionGraphicsItem()
        for item in self.background_items:
            vb = item.getViewBox()
            if not item.isVisible() or vb is None:
                continue
            painter.save()
            try:
                painter.setClipRect(vb.sceneBoundingRect(), QtCore.Qt.ClipOperation.IntersectClip)  # as its view box clips
                painter.setTransform(item.sceneTransform() * scene_to_device)
                item.paint(painter, option, None)
            finally:
                painter.restore()

    def attach_hover(self) -> None:
        """Show values under the mouse (needs the plot to be in a scene)."""
        scene = self.plot.scene()
        if scene is not None and self.lr_view.scene() is None:
            scene.addItem(self.lr_view)
        if scene is not None and self._proxy is None:
            scene.sigMouseMoved.connect(self._on_mouse)
            self._proxy = True

    def _sync_views(self) -> None:
        if self.lr_view.scene() is None and self.plot.scene() is not None:
            self.plot.scene().addItem(self.lr_view)
        self.lr_view.setGeometry(self.plot.vb.sceneBoundingRect())
        self.lr_view.linkedViewChanged(self.plot.vb, self.lr_view.XAxis)

    def set_data(self, batch_steps: np.ndarray, batch_loss: np.ndarray, eval_steps: np.ndarray,
                 train_loss: np.ndarray, test_loss: np.ndarray, lr: np.ndarray, *,
                 val_loss: np.ndarray | None = None, true_error: np.ndarray | None = None,
                 objective: np.ndarray | None = None, best: tuple[int, float] | None = None) -> None:
        """Update every curve: ``batch_steps``, ``batch_loss`` and ``lr`` (T,) at recorded steps,
        ``eval_steps`` and the evaluated losses (E,) where the full losses were evaluated (None:
        not known). ``objective`` None (or equal to the train loss: no ridge) is not drawn.
        ``best``: (step, validation loss) to mark, or None. The minibatch loss and the rate are
        thinned to about ``MAX_POINTS``."""
        keep = thin_index(len(batch_steps), MAX_POINTS)
        bx, by = np.asarray(batch_steps)[keep], positive(np.asarray(batch_loss)[keep])
        self.batch.setData(bx, by, connect="finite")
        ex = np.asarray(eval_steps)
        train = np.asarray(train_loss, dtype=float)
        if objective is not None and np.array_equal(np.asarray(objective, dtype=float), train, equal_nan=True):
            objective = None  # no ridge: the objective is the train loss
        values = {"train": train, "val": val_loss, "test": test_loss, "true": true_error, "objective": objective}
        self._has_objective = objective is not None
        for key, item in self.curves.items():
            v = values[key]
            v = np.full(len(ex), np.nan) if v is None else np.asarray(v, dtype=float)
            item.setData(ex, positive(v), connect="finite")
            self._eval[key] = (ex, log10_positive(v))
        self._batch_data = (bx, log10_positive(by))
        self._set_best(best)
        self._relist()
        lx, ly = bx, log10_positive(np.asarray(lr)[keep])
        self.lr.setData(*_corners(lx, ly), connect="finite")
        self._lr_data = (lx, ly)
        self._fit_y_range(self._shown_values())
        finite = ly[np.isfinite(ly)]
        if bool(len(finite)) != self._lr_ticks_shown:  # no rate, no made-up ticks (2 ... 9 of a default range)
            self._lr_ticks_shown = bool(len(finite))
            self.plot.getAxis("right").setTicks(None if len(finite) else [[], []])
        if len(finite):
            lo, hi = float(np.floor(finite.min())), float(np.ceil(finite.max()))
            if hi - lo < 3:  # at least three decades, so the axis labels powers of ten, not crowded minor ticks
                mid = np.floor((lo + hi) / 2)
                lo, hi = mid - 1.5, mid + 1.5
            lr_range = (lo, hi)
            if lr_range != self._lr_range:
                self._lr_range = lr_range
                self._apply_lr_range()
        self._sync_views()
        self.curvesChanged.emit()

    def _set_best(self, best: tuple[int, float] | None) -> None:
        """The star at the best validation step (in log mode the item takes the loss itself)."""
        if best is not None and not (best[0] >= 0 and np.isfinite(best[1]) and best[1] > 0):
            best = None
        self._best = best
        if best is None:
            self.best.setData([], [])
        else:
            self.best.setData([float(best[0])], [float(best[1])])

    @property
    def has_objective(self) -> bool:
        """Whether the last curves had an objective other than the train loss (a ridge)."""
        return self._has_objective

    def _shown_values(self) -> list[np.ndarray]:
        """The drawn losses (plain MSE), for the y range."""
        batch = [] if self.full_batch else [10 ** self._batch_data[1]]
        return batch + [10 ** self._eval[k][1] for k in self._shown_keys() if k in self._eval]

    # ------------------------------------------------------------------ the legend: the curves drawn
    def _shown_keys(self) -> list[str]:
        """The evaluated curves drawn (the objective only while a ridge makes it differ)."""
        return [k for k, item in self.curves.items() if item.isVisible() and (k != "objective" or self._has_objective)]

    def _relist(self) -> None:
        """List the drawn curves in the legend (rebuilt only when that changes), in as many
        columns as fit the plot's width."""
        wanted: list[tuple[object, str]] = [] if self.full_batch else [(self.batch, "minibatch")]
        wanted += [(self.curves[k], EVAL_CURVES[k][0]) for k in self._shown_keys()]
        if self._best is not None and self.val.isVisible():
            wanted.append((self.best, "best val."))
        wanted.append((self.lr, "lr (right)"))
        if wanted == self._listed:
            return
        self._listed = wanted
        if self.legend_row is not None:
            self.legend_row.set_entries(wanted)
            return
        self.legend.clear()
        for item, label in wanted:
            self.legend.addItem(item, label)
            sample, text = self.legend.items[-1]
            sample.sigClicked.connect(self._on_legend_click)
            for part in (sample, text):
                part.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._fit_columns(force=True)

    def set_full_batch(self, full: bool) -> None:
        """A full-batch run has no minibatch loss (each step's loss is the train loss): its curve and
        legend entry go (the legend lists only what is drawn)."""
        if bool(full) != self.full_batch:
            self.full_batch = bool(full)
            self.batch.setVisible(not self.full_batch)
            self._after_toggle()

    def set_legend_row(self, row) -> None:
        """List the legend in ``row`` (a ``LegendRow`` outside the plot; None: over the plot's top).
        Out of the plot, the ranges are the data's alone (no room above them for a legend)."""
        self.legend_row = row
        self.legend.setVisible(row is None and self.legend_shown)
        self._listed = []
        self._relist()
        self._apply_y_range()
        self._apply_lr_range()

    def set_legend_shown(self, shown: bool) -> None:
        """Show or drop the legend (``--no-legend``); without it the curves get the room."""
        self.legend_shown = bool(shown)
        self.legend.setVisible(self.legend_row is None and self.legend_shown)
        self._apply_y_range()
        self._apply_lr_range()

    def _fit_columns(self, force: bool = False) -> None:
        """As many legend columns as fit the view's width (the legend stays short: the data below it)."""
        if self.legend_row is not None:
            return
        room = self.plot.vb.width() - 20
        before = (self.legend.columnCount, legend_height(self.legend))
        for cols in range(min(len(self.legend.items), MAX_LEGEND_COLUMNS), 0, -1):
            lay_out_legend(self.legend, cols)
            if room <= 0 or self.legend.boundingRect().width() <= room:
                break
        if force or (self.legend.columnCount, legend_height(self.legend)) != before:
            self._apply_y_range()
            self._apply_lr_range()

    # ------------------------------------------------------------------ showing and hiding curves
    def curve_visible(self, key: str) -> bool:
        return self.curves[key].isVisible()

    def set_curve_visible(self, key: str, shown: bool) -> None:
        """Show or hide the evaluated curve ``key`` (``EVAL_CURVES``)."""
        item = self.curves[key]
        if item.isVisible() != shown:
            item.setVisible(shown)
            self._after_toggle()

    def _on_legend_click(self, item) -> None:
        """pyqtgraph's legend sample hid ``item``: say so, and list the legend again (later: the
        sample is still handling its click)."""
        for key, curve in self.curves.items():
            if curve is item:
                self.visibilityChanged.emit(key, curve.isVisible())
        QtCore.QTimer.singleShot(0, self._after_toggle)

    def _after_toggle(self) -> None:
        if not isQObjectAlive(self.plot.vb):
            return
        self._relist()
        self._fit_y_range(self._shown_values())
        self.curvesChanged.emit()

    def _fit_y_range(self, curves) -> None:
        """Log-y range from whole decades around the data (changes only when a decade is crossed)."""
        logs = [log10_positive(c) for c in curves if len(c)]
        logs = [v[np.isfinite(v)] for v in logs]
        logs = [v for v in logs if len(v)]
        if not logs:
            return
        lo = float(np.floor(min(v.min() for v in logs)))
        hi = float(np.ceil(max(v.max() for v in logs)))
        if hi - lo < 3:  # (fewer decades and pyqtgraph labels crowded minor ticks)
            lo = hi - 3
        if (lo, hi) != self._y_range:
            self._y_range = (lo, hi)
            self._apply_y_range()

    def _top(self, lo: float, hi: float) -> float:
        """At least half a decade above the data, more if the legend over the plot needs it at this size."""
        if self.legend_row is not None or not self.legend_shown:
            return hi + 0.5
        return top_for_legend(lo, hi, legend_height(self.legend), self.plot.vb.height(), hi + 0.5)

    def _apply_y_range(self) -> None:
        if self._y_range is not None:
            lo, hi = self._y_range
            self.plot.setYRange(lo, self._top(lo, hi), padding=0.02)

    def _apply_lr_range(self) -> None:
        if self._lr_range is not None:
            lo, hi = self._lr_range
            self.lr_view.setYRange(lo, self._top(lo, hi), padding=0)  # (the same room as the losses)

    def _resized(self) -> None:
        if not isQObjectAlive(self.plot.vb):  # (a resize while the window is torn down)
            return
        self._fit_columns()
        self._apply_y_range()
        self._apply_lr_range()

    def set_step_range(self, last_step: float) -> None:
        """Show steps 0 .. a round number at or above ``last_step`` (the axis moves only now and then)."""
        x_max = nice_ceiling(max(float(last_step), 10.0))
        if x_max != self._x_max:
            self._x_max = x_max
            self.plot.setXRange(0, x_max, padding=0.01)

    def set_cursor(self, step: int) -> None:
        self.cursor.setValue(step)

    def clear(self) -> None:
        self._y_range = self._lr_range = self._x_max = None
        empty = np.empty(0)
        self.set_data(empty, empty, empty, empty, empty, empty)

    def _on_mouse(self, pos) -> None:
        if not self.plot.sceneBoundingRect().contains(pos):
            self.hover.setText("")
            return
        point = self.plot.vb.mapSceneToView(pos)
        step = point.x()
        lines = []
        shown = {} if self.full_batch else {"minibatch": self._batch_data}
        shown.update((EVAL_CURVES[k][1], self._eval[k]) for k in self._shown_keys() if k in self._eval)
        for name, (xs, ys) in shown.items():
            if len(xs):
                i = int(np.clip(np.searchsorted(xs, step), 0, len(xs) - 1))
                if np.isfinite(ys[i]):
                    lines.append(f"{name}: {10 ** ys[i]:.4g}")
        xs, ys = self._lr_data
        if len(xs):
            i = int(np.clip(np.searchsorted(xs, step), 0, len(xs) - 1))
            if np.isfinite(ys[i]):
                lines.append(f"lr: {10 ** ys[i]:.3g}")
        if self._best is not None and self.val.isVisible():
            lines.append(f"best validation: step {self._best[0]:,}")
        self.hover.setText(f"step {int(round(step))}\n" + "\n".join(lines) if lines else "")
        self.hover.setPos(point.x(), point.y())  # view coordinates: y is already log10
