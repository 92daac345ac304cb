"""pyqtgraph items and helpers that draw the same pixels with less work, shared by the fit and loss plots.

* ``FastCurve`` / ``FastDataItem``: a wide antialiased curve stroked as line segments in device pixels.
* ``CachedSubtreeEffect``: an item and its children drawn from one pixmap (the legends).
* ``watch_view``: signals when a view box's range or place really changed.
* ``move_points``, ``set_curve``, ``subset``, ``cache``: small ``setData`` helpers.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets, internals

MAX_FLAT_TURN = 0.15        # FastCurve: joints turning more than this (radians) get a round dot
SEAM_OVERLAP = 0.5          # FastCurve: pixels each segment reaches past its ends (no seams at joints)


def subset(n: int, limit: int) -> slice:
    """An even subset of ``n`` items, at most ``limit`` of them."""
    return slice(None) if n <= limit else slice(None, None, -(-n // limit))


def cache(item: QtWidgets.QGraphicsItem) -> None:
    """Keep ``item``'s drawing as a pixmap until it changes (or the view's scale does)."""
    item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)


def watch_view(vb: pg.ViewBox, owner: pg.GraphicsObject, ranged, placed=None) -> None:
    """Emit ``ranged`` when ``vb``'s range really changed and ``placed`` (default ``ranged``) when
    its place or size in the scene did (as its geometry, its transform or ``owner``'s geometry
    change). pyqtgraph emits sigTransformChanged at every matrix update, changed or not: the loss
    panel's learning-rate view box did at each curve update, redrawing the cached background."""
    placed = ranged if placed is None else placed
    last = [None, None]

    def check(*_args) -> None:
        rect, view = vb.sceneBoundingRect(), vb.viewRect()
        if rect != last[0]:
            last[0], last[1] = rect, view
            placed.emit()
        elif view != last[1]:
            last[1] = view
            ranged.emit()

    vb.sigTransformChanged.connect(check)
    vb.geometryChanged.connect(check)
    owner.geometryChanged.connect(check)


def move_points(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> bool:
    """Move ``item``'s points to (x, y) in place, keeping each point's style and data; False (and
    nothing done) when the number of points differs. ``setData`` rebuilds every point's record and
    looks its symbol up in the atlas again: about 0.4 ms a frame for 100 elbow markers."""
    d = item.data
    if len(d) != len(x):
        return False
    d["x"] = x
    d["y"] = y
    # what ScatterPlotItem.addPoints does after changing points
    item.prepareGeometryChange()
    item.informViewBoundsChanged()
    item.bounds = [None, None]
    item.invalidate()
    item.sigPlotChanged.emit(item)
    return True


def set_curve(item: pg.PlotCurveItem, x, y, **kwargs) -> None:
    """``item.setData``, and shown only when there is something to draw."""
    item.setData(x, y, **kwargs)
    item.setVisible(len(x) > 0)


class CachedSubtreeEffect(QtWidgets.QGraphicsEffect):
    """Draws an item *and its children* from one pixmap Qt keeps until one of them changes.

    An item's own DeviceCoordinateCache covers only the item: a legend is a box plus a sample
    and a label per entry, each a Python item that Qt asks for its bounding rectangle and
    blits separately whenever the plot under the legend is repainted (every frame for the fit
    plot): ~0.3 ms of the GUI thread a frame. Vector painters (SVG) get the items themselves."""

    def draw(self, painter: QtGui.QPainter) -> None:  # noqa: D102 (Qt API)
        engine = painter.paintEngine()
        if engine is None or engine.type() != QtGui.QPaintEngine.Type.Raster:
            self.drawSource(painter)
            return
        offset = QtCore.QPoint()
        pixmap = self.sourcePixmap(QtCore.Qt.CoordinateSystem.DeviceCoordinates, offset)
        painter.save()
        painter.setWorldTransform(QtGui.QTransform())
        painter.drawPixmap(offset, pixmap)
        painter.restore()


class FastCurve(pg.PlotCurveItem):
    """A ``PlotCurveItem`` that strokes a wide (> 1 px), opaque, antialiased pen quickly.

    Kept over pyqtgraph's ``setSegmentedLineMode('on')``: its square caps bulge at joints and it is 40% slower.

    Qt strokes a wide antialiased polyline path with its general stroker and polygon rasterizer;
    the same curve as separate line segments in device pixels goes through the raster engine's
    line rasterizer, about twice as fast. Each solid segment reaches ``SEAM_OVERLAP`` px past its
    ends and round dots sit at the vertices where it turns more than ``MAX_FLAT_TURN`` (they look
    like round joins). A dashed pen keeps its pattern across the segments (no dots). Anything else
    (SVG and other export painters, transparent or thin pens, fills, rotated views) is painted by
    pyqtgraph as before.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._segments = internals.PrimitiveArray(QtCore.QLineF, 4)
        self._dots = internals.PrimitiveArray(QtCore.QPointF, 2)

    def _fast_pen(self, p: QtGui.QPainter) -> QtGui.QPen | None:
        pen = self.opts["pen"]
        opts = self.opts
        if (self._exportOpts is not False or not opts["antialias"] or opts["fillLevel"] is not None
                or opts["stepMode"] or opts["connect"] not in ("all", "finite") or opts["shadowPen"] is not None
                or pen is None or not pen.isCosmetic() or pen.widthF() <= 1.0 or not pen.isSolid()
                or pen.color().alpha() != 255
                or pen.style() not in (QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenStyle.DashLine,
                                       QtCore.Qt.PenStyle.DotLine)
                or p.paintEngine() is None or p.paintEngine().type() != QtGui.QPaintEngine.Type.Raster
                or p.transform().type().value > QtGui.QTransform.TransformationType.TxScale.value):
            return None
        return pen

    @pg.debug.warnOnException  # (an exception out of paint() takes the process down)
    def paint(self, p, opt, widget):
        pen = self._fast_pen(p)
        if pen is None or self.xData is None or len(self.xData) < 2:
            return super().paint(p, opt, widget)
        t = p.transform()
        with np.errstate(all="ignore"):
            x = self.xData * t.m11() + t.dx()
            y = self.yData * t.m22() + t.dy()
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.all() and self.opts["connect"] == "all":
            return super().paint(p, opt, widget)  # (pyqtgraph joins across non-finite points)
        joined = ok[:-1] & ok[1:]
        solid = pen.style() == QtCore.Qt.PenStyle.SolidLine
        ax, ay, bx, by = x[:-1][joined], y[:-1][joined], x[1:][joined], y[1:][joined]
        if solid:
            # Two flat ends meeting at a joint each cover its edge pixels partly, and blended over
            # each other leave a lighter seam across the line: each segment reaches half a pixel
            # past both ends (where the curve turns, a round dot covers the joint as well)
            with np.errstate(all="ignore"):
                dx, dy = bx - ax, by - ay
                reach = SEAM_OVERLAP / np.hypot(dx, dy)
                reach[~np.isfinite(reach)] = 0.0
            ax, ay, bx, by = ax - dx * reach, ay - dy * reach, bx + dx * reach, by + dy * reach
        seg = self._segments
        seg.resize(len(ax))
        m = seg.ndarray()
        m[:, 0], m[:, 1], m[:, 2], m[:, 3] = ax, ay, bx, by
        p.save()
        try:
            p.resetTransform()
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            flat = QtGui.QPen(pen)
            flat.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
            p.setPen(flat)
            p.drawLines(*seg.drawargs())
            if solid:
                # joints (and ends) as round dots; only those on the device: Qt's point stroker
                # is not meant for coordinates far outside it
                dev = p.device()
                pad = pen.widthF()
                near = ok & (x > -pad) & (y > -pad) & (x < dev.width() + pad) & (y < dev.height() + pad)
                # only where the curve turns visibly (the gap a flat joint leaves is about
                # width/2 x the turn: under a quarter pixel below 0.15 rad) or a stretch ends
                with np.errstate(all="ignore"):
                    angle = np.arctan2(np.diff(y), np.diff(x))
                    turn = np.abs((angle[1:] - angle[:-1] + np.pi) % (2 * np.pi) - np.pi)
                marked = np.ones(len(x), dtype=bool)
                marked[1:-1] = (turn > MAX_FLAT_TURN) | ~(joined[:-1] & joined[1:])
                near &= marked
                dots = self._dots
                dots.resize(int(np.count_nonzero(near)))
                d = dots.ndarray()
                d[:, 0], d[:, 1] = x[near], y[near]
                rnd = QtGui.QPen(pen)
                rnd.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
                p.setPen(rnd)
                p.drawPoints(*dots.drawargs())
        finally:
            p.restore()


class FastDataItem(pg.PlotDataItem):
    """A ``PlotDataItem`` (log axes, legend entry, ``getData``) whose line is a ``FastCurve``."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.curve.sigClicked.disconnect(self.sigClicked)
        self.curve.setParentItem(None)
        self.curve = FastCurve()
        self.curve.setParentItem(self)
        self.curve.sigClicked.connect(self.sigClicked)
        if args or kwargs:
            self.setData(*args, **kwargs)
