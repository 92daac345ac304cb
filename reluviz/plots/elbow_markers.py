"""The fit plot's elbow markers: a triangle at each unit's elbow x = -b_j / w_j at the bottom of
the view (an arrow at the edge when it lies off the chart), and which units a wide net draws.

A net wider than ``MAX_DRAWN_UNITS`` draws every k-th unit (``subset_stride``; the legend says
"1 in k drawn") and the selected one (``drawn_units``): stroking thousands of unit polylines took
~20 ms a frame at width 2,000, and the units are exchangeable, so every k-th one is a fair sample
of where the elbows sit.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from reluviz.plots import theme
from reluviz.plots.fast_items import move_points

MAX_DRAWN_UNITS = 300       # wider nets draw every k-th unit's curve and elbow (the legend says 1 in k)
SYMBOLS = np.array(["t1", "arrow_left", "arrow_right", "x"], dtype=object)  # in view, left, right, no elbow


def subset_stride(width: int, limit: int = MAX_DRAWN_UNITS) -> int:
    """k: a net of ``width`` units draws every k-th unit (1: all)."""
    return max(1, -(-int(width) // limit))


def drawn_units(width: int, selected: int | None = None, limit: int = MAX_DRAWN_UNITS) -> np.ndarray:
    """Indices of the units drawn (sorted): every ``subset_stride``-th, and the selected one."""
    idx = np.arange(0, width, subset_stride(width, limit))
    if selected is not None and 0 <= selected < width and selected not in idx:
        idx = np.sort(np.r_[idx, selected])
    return idx


class ElbowMarkers:
    """The markers (``item``, a ``ScatterPlotItem``), their tooltips, and the unit a click names."""

    def __init__(self):
        self.item = pg.ScatterPlotItem(size=13, pen=pg.mkPen("w", width=0.8), hoverable=True, tip=self.tip)
        # the drawn units' elbows, w, v, dead and their indices (tooltips and clicks)
        self.state = (np.empty(0), np.empty(0), np.empty(0), np.empty(0, bool), np.empty(0, np.int64))
        self._look: np.ndarray | None = None  # the markers' symbols and colours last set
        self._brushes = (theme.brush(theme.POSITIVE), theme.brush(theme.NEGATIVE), theme.brush(theme.DEAD),
                         theme.brush(theme.SELECTED))

    def clear(self) -> None:
        if len(self.item.data):
            self.item.setData([], [])
        self._look = None

    def draw(self, elbows: np.ndarray, w: np.ndarray, v: np.ndarray, dead: np.ndarray, units: np.ndarray,
             selected: int | None, view: tuple[tuple[float, float], tuple[float, float]]) -> None:
        """Markers for the units ``units`` (indices into the (H,) arrays ``elbows``, ``w``, ``v``,
        ``dead``), unit ``selected`` highlighted, in the view ``((x0, x1), (y0, y1))``."""
        elbows, w, v, dead = elbows[units], w[units], v[units], dead[units]
        (x0, x1), (y0, y1) = view
        y = np.full(len(v), y0 + 0.02 * (y1 - y0))
        shown = np.where(np.isfinite(elbows), np.clip(elbows, x0, x1), x0)
        # a marker's look: its symbol (0 inside the view, 1 left of it, 2 right of it, 3 no elbow)
        # and colour (0 v >= 0, 1 v < 0, 2 dead, 3 selected); while training it rarely changes
        symbol = np.where(elbows < x0, 1, np.where(elbows > x1, 2, 0))
        symbol[~np.isfinite(elbows)] = 3
        colour = np.where(dead, 2, np.where(v >= 0, 0, 1))
        row = int(np.searchsorted(units, selected)) if selected is not None and selected in units else -1
        if row >= 0:
            colour[row] = 3
        look = np.concatenate([symbol, colour])
        self.state = (elbows.copy(), w.copy(), v.copy(), dead.copy(), units.copy())
        if self._look is not None and np.array_equal(look, self._look) and move_points(self.item, shown, y):
            return
        self._look = look
        sizes = np.full(len(v), 13.0)
        if row >= 0:
            sizes[row] = 20.0
        brushes = np.array(self._brushes, dtype=object)[colour]
        self.item.setData(x=shown, y=y, symbol=list(SYMBOLS[symbol]), brush=list(brushes), size=sizes,
                          data=np.arange(len(v)))

    def tip(self, x, y, data) -> str:
        k = int(data)  # (the marker's row among the drawn units)
        elbows, w, v, dead, units = self.state
        if k >= len(v):
            return ""
        return (f"unit {int(units[k])}: elbow x = {elbows[k]:.3g}, w = {w[k]:.3g}, v = {v[k]:.3g}, "
                f"slope w*v = {w[k] * v[k]:.3g}" + (" (dead)" if dead[k] else ""))

    def unit_of(self, point) -> int:
        """The network's unit a clicked marker stands for."""
        return int(self.state[4][int(point.data())])


__all__ = ["ElbowMarkers", "MAX_DRAWN_UNITS", "drawn_units", "subset_stride"]
