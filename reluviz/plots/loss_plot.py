"""The loss panel: minibatch, full-train and test MSE against step (log scale), and the learning
rate on a second (right, log) axis. A vertical line marks the displayed step; hovering shows values.

x is the step (updates done). Values are given as plain MSE and learning rates; both y axes are
log10 (the losses through pyqtgraph's log mode, the rate as log10 on its own view box), and
values <= 0, inf and NaN are gaps.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import isQObjectAlive, QtCore, QtGui, QtWidgets

from reluviz.core.thinning import thin_index
from reluviz.plots import theme
from reluviz.plots.fast_items import FastDataItem, watch_view
from reluviz.plots.lecture_common import log10_positive, positive
from reluviz.plots.legend_room import legend_height, top_for_legend

MAX_POINTS = 4000  # the minibatch loss and the learning rate are thinned to about this many points


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
    step axis. Signals (with ``draw_curves_in_background``): ``curvesChanged()`` when the curves'
    data or the ranges changed (draw the background under the plot again),
    ``backgroundChanged()`` when anything else the curves' drawing depends on did (the plot's
    place or size, visibility).
    """

    curvesChanged = QtCore.Signal()
    backgroundChanged = QtCore.Signal()

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
        self.legend.setColumnCount(4)  # a wide, short legend in the headroom above the data
        self.batch = plot.plot(pen=theme.pen(theme.BATCH_LOSS, 1.0), name="minibatch loss")
        # (wide antialiased lines: drawn as segments, see FastCurve)
        self.train = FastDataItem(pen=theme.pen(theme.TRAIN_LOSS, 2.5), name="train loss")
        self.test = FastDataItem(pen=theme.pen(theme.TEST_LOSS, 2.0), name="test loss")
        plot.addItem(self.train)
        plot.addItem(self.test)
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
        self.legend.addItem(self.lr, "learning rate (right axis)")
        plot.vb.sigResized.connect(self._sync_views)
        plot.vb.sigResized.connect(self._resized)  # (the legend's size is fixed from here on)
        self.hover = pg.TextItem(anchor=(0, 1), color=theme.FOREGROUND)
        self.hover.setZValue(100)
        plot.addItem(self.hover, ignoreBounds=True)
        self._curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lr_data = (np.empty(0), np.empty(0))
        self._lr_ticks_shown = False
        plot.getAxis("right").setTicks([[], []])
        self._proxy = None
        #: the curves under the cursor, legend and hover text, in drawing order (the learning rate's
        #: view box is a scene item of its own at pyqtgraph's view box depth, under the whole plot)
        self.background_items = (self.lr, self.batch.curve, self.train.curve, self.test.curve)
        self._background = False
        # The cursor moves every frame, the curves a few times a second: cached as pixmaps, the
        # strips the cursor uncovers are blitted, not stroked again (so are the legend and axes).
        cached = [*self.background_items, self.legend,
                  plot.getAxis("left"), plot.getAxis("bottom"), plot.getAxis("right")]
        for sample, label in self.legend.items:
            cached += [sample, label]
        for item in cached:
            item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def draw_curves_in_background(self) -> None:
        """Leave the curves to the view's background (``paint_background``), which the view
        keeps as one opaque pixmap: a curve update draws them once into it, and a cursor move
        copies two strips of it. The items keep their data, visibility and legend entries; they
        only stop painting themselves."""
        self._background = True
        for item in self.background_items:
            item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
            item.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
        for item in (self.batch, self.train, self.test, self.lr):
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
                 train_loss: np.ndarray, test_loss: np.ndarray, lr: np.ndarray) -> None:
        """Update every curve: ``batch_steps``, ``batch_loss`` and ``lr`` (T,) at recorded steps,
        ``eval_steps``, ``train_loss`` and ``test_loss`` (E,) where the full losses were
        evaluated. The minibatch loss and the rate are thinned to about ``MAX_POINTS``."""
        keep = thin_index(len(batch_steps), MAX_POINTS)
        bx, by = np.asarray(batch_steps)[keep], positive(np.asarray(batch_loss)[keep])
        self.batch.setData(bx, by, connect="finite")
        self.train.setData(eval_steps, positive(train_loss), connect="finite")
        self.test.setData(eval_steps, positive(test_loss), connect="finite")
        lx, ly = bx, log10_positive(np.asarray(lr)[keep])
        self.lr.setData(*_corners(lx, ly), connect="finite")
        self._curves = {"minibatch": (bx, log10_positive(by)),
                        "train": (np.asarray(eval_steps), log10_positive(train_loss)),
                        "test": (np.asarray(eval_steps), log10_positive(test_loss))}
        self._lr_data = (lx, ly)
        self._fit_y_range([by, train_loss, test_loss])
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
        """At least half a decade above the data, more if the legend needs it at this size."""
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
        for name, (xs, ys) in self._curves.items():
            if len(xs):
                i = int(np.clip(np.searchsorted(xs, step), 0, len(xs) - 1))
                if np.isfinite(ys[i]):
                    lines.append(f"{name}: {10 ** ys[i]:.4g}")
        xs, ys = self._lr_data
        if len(xs):
            i = int(np.clip(np.searchsorted(xs, step), 0, len(xs) - 1))
            if np.isfinite(ys[i]):
                lines.append(f"lr: {10 ** ys[i]:.3g}")
        self.hover.setText(f"step {int(round(step))}\n" + "\n".join(lines) if lines else "")
        self.hover.setPos(point.x(), point.y())  # view coordinates: y is already log10

