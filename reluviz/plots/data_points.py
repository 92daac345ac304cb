"""The fit plot's data points: training (dark grey), validation (pale purple, never trained on) and
test (pale green, hidden unless asked for: the notes keep the test set for one final check).

Big data sets draw an even subset (their order is random, so it is a random sample): 800,000 dots
cost seconds and show nothing more than 10,000 do.
"""
from __future__ import annotations

from typing import Callable

import pyqtgraph as pg

from reluviz.core.data import Dataset
from reluviz.plots import theme
from reluviz.plots.fast_items import subset

MAX_DRAWN_POINTS = 10_000   # data points drawn at most (an even subset of bigger data sets)


class DataPoints:
    """Three scatters, created once; ``set_data`` fills them from a data set."""

    def __init__(self, on_shown: Callable[[], None]) -> None:
        self.test = pg.ScatterPlotItem(size=3, pen=None, brush=theme.brush(theme.TEST_POINTS, 160))
        self.test.setVisible(False)
        self.val = pg.ScatterPlotItem(size=5, pen=None, brush=theme.brush(theme.VAL_POINTS, 200))
        self.train = pg.ScatterPlotItem(size=6, pen=None, brush=theme.brush(theme.TRAIN_POINTS, 170))
        for item in (self.val, self.test):  # (shown or hidden by the View menu: the legend follows)
            item.visibleChanged.connect(on_shown)
        self.train_label = "training data"

    @property
    def items(self) -> tuple[pg.ScatterPlotItem, pg.ScatterPlotItem, pg.ScatterPlotItem]:
        """Test, validation and training points, in drawing order (training on top)."""
        return self.test, self.val, self.train

    def set_data(self, ds: Dataset) -> None:
        keep = subset(ds.n, MAX_DRAWN_POINTS)
        self.train.setData(ds.x_train[keep], ds.y_train[keep])
        self.train_label = ("training data" if ds.n <= MAX_DRAWN_POINTS else
                            f"training data ({len(range(ds.n)[keep]):,} of {ds.n:,} drawn)")
        for item, x, y in ((self.val, ds.x_val, ds.y_val), (self.test, ds.x_test, ds.y_test)):
            keep = subset(len(x), MAX_DRAWN_POINTS)
            item.setData(x[keep], y[keep])

    def legend_entries(self, ds: Dataset | None) -> list[tuple[pg.ScatterPlotItem, str]]:
        """The training points, and the validation and test points when shown (and the data has them)."""
        entries = [(self.train, self.train_label)]
        for item, name, n in ((self.val, "validation data", ds and ds.n_val), (self.test, "test data", ds and ds.n_test)):
            if item.isVisible() and (ds is None or n):
                entries.append((item, name))
        return entries
