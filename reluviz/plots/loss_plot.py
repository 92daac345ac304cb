"""The loss panel: minibatch, full-train and test MSE against step (log scale), and the learning
rate on a second (right, log) axis. A vertical line marks the displayed step; hovering shows values.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from reluviz.plots import theme

MAX_POINTS = 4000  # curves are decimated to about this many points before drawing


def _positive_log10(values: np.ndarray) -> np.ndarray:
    """log10 of values, NaN where not positive and finite (log axes cannot show those)."""
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values) & (values > 0)
    out[ok] = np.log10(values[ok])
    return out


def _positive(values: np.ndarray) -> np.ndarray:
    """Values with non-positive or non-finite entries replaced by NaN (a log axis skips them)."""
    values = np.array(values, dtype=float)
    values[~(np.isfinite(values) & (values > 0))] = np.nan
    return values


def _decimate(x: np.ndarray, y: np.ndarray, limit: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= limit:
        return x, y
    stride = int(np.ceil(len(x) / limit))
    keep = np.r_[np.arange(0, len(x) - 1, stride), len(x) - 1]
    return x[keep], y[keep]


class LossPlot:
    """Loss curves on ``plot`` (its y axis shows log10 of MSE as powers of ten)."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        theme.style_axes(plot)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "MSE")
        plot.setLogMode(x=False, y=True)
        plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = plot.addLegend(offset=(-10, 10), labelTextSize="10pt")
        self.batch = plot.plot(pen=theme.pen(theme.BATCH_LOSS, 1.0), name="minibatch loss")
        self.train = plot.plot(pen=theme.pen(theme.TRAIN_LOSS, 2.5), name="train loss")
        self.test = plot.plot(pen=theme.pen(theme.TEST_LOSS, 2.0), name="test loss")
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
        self.lr = pg.PlotCurveItem(pen=theme.pen(theme.LR, 1.5, "dot"))
        self.lr_view.addItem(self.lr)
        self.legend.addItem(self.lr, "learning rate (right axis)")
        plot.vb.sigResized.connect(self._sync_views)
        self.hover = pg.TextItem(anchor=(0, 1), color=theme.FOREGROUND)
        self.hover.setZValue(100)
        plot.addItem(self.hover, ignoreBounds=True)
        self._curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lr_data = (np.empty(0), np.empty(0))
        self._proxy = None

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
        """Update every curve. ``lr`` is aligned with ``batch_steps``."""
        bx, by = _decimate(np.asarray(batch_steps), _positive(batch_loss))
        self.batch.setData(bx, by, connect="finite")
        self.train.setData(eval_steps, _positive(train_loss), connect="finite")
        self.test.setData(eval_steps, _positive(test_loss), connect="finite")
        lx, ly = _decimate(np.asarray(batch_steps), _positive_log10(lr))
        self.lr.setData(lx, ly, connect="finite")
        self._curves = {"minibatch": (bx, _positive_log10(by)),
                        "train": (np.asarray(eval_steps), _positive_log10(train_loss)),
                        "test": (np.asarray(eval_steps), _positive_log10(test_loss))}
        self._lr_data = (lx, ly)
        finite = ly[np.isfinite(ly)]
        if len(finite):
            lo, hi = float(finite.min()), float(finite.max())
            self.lr_view.setYRange(lo - 0.3, hi + 0.3, padding=0)
        self._sync_views()

    def set_cursor(self, step: int) -> None:
        self.cursor.setValue(step)

    def clear(self) -> None:
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

