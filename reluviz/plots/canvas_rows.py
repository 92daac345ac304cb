"""The rows a lecture view's canvas lays out around its plots: wrapped text and legends.

``TextRow`` wraps rich text to the row's width and is exactly as tall as its lines; ``LegendRow``
lists (item, label) entries in as many columns as its width holds and grows to the lines it needs,
so at any frame size nothing is cut off and nothing lies over a plot's data. Both scale their text
with the frame (``scale_for``; ``reluviz.plots.canvas.ViewCanvas.set_scale``).
"""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from reluviz.plots import theme

LEGEND_TEXT = "12pt"
MIN_POINTS = 6.5   # no text is scaled below this (a 640x360 frame stays legible)


def scale_for(size: tuple[int, int]) -> float:
    """Font and line scale of a frame of ``size`` (width, height) pixels: 1 at 1280x720, growing
    a little slower than the frame (0.62 at 640x360, 1.33 at 1920x1080) so small frames keep
    readable text."""
    w, h = size
    return float(min(w / 1280.0, h / 720.0) ** 0.7)


def _points(text_size: str, scale: float) -> str:
    return f"{max(MIN_POINTS, float(text_size.rstrip('pt')) * scale):.1f}pt"


class TextRow(pg.GraphicsWidget):
    """Rich text that wraps to the row's width; the row is exactly as tall as its lines."""

    def __init__(self, text: str = "", size: str = "13pt", parent=None):
        super().__init__(parent)
        self.item = QtWidgets.QGraphicsTextItem(self)
        self.item.setDefaultTextColor(QtGui.QColor(theme.FOREGROUND))
        self._size = size
        self._base_size = size
        self._html = None
        self._height = -1.0
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (pyqtgraph's spelling)
        if text == self._html:
            return
        self._html = text
        self.item.setHtml(f"<div style='font-size:{self._size}'>{text}</div>" if text else "")
        self._fit()

    def html(self) -> str:
        return self._html or ""

    def set_scale(self, scale: float) -> None:
        """Text ``scale`` times its base size (see ``ViewCanvas.set_scale``)."""
        self._size = _points(self._base_size, scale)
        text, self._html = self._html, None
        self.setText(text or "")

    def text(self) -> str:
        """The text without its markup (as a QLabel's ``text()`` reads for plain text)."""
        return self.item.toPlainText()

    def resizeEvent(self, ev):  # noqa: N802 (Qt API)
        super().resizeEvent(ev)
        self._fit()

    def _fit(self) -> None:
        width = self.size().width()
        if width > 0:
            self.item.setTextWidth(max(width, 40.0))
        h = self.item.boundingRect().height() if self._html else 0.0
        if abs(h - self._height) > 0.5:
            self._height = h
            self.setMinimumHeight(h)
            self.setMaximumHeight(h)
            self.updateGeometry()


class ScaledSample(pg.ItemSample):
    """pyqtgraph's legend sample (a fixed 20 x 20 px) drawn ``k`` times as big, so a legend row of
    a small frame is not taller than its text."""

    k = 1.0

    def set_k(self, k: float) -> None:
        self.k = float(k)
        self.setFixedWidth(20.0 * self.k)
        self.setFixedHeight(20.0 * self.k)
        self.update()

    def boundingRect(self):  # noqa: N802 (Qt API)
        return QtCore.QRectF(0, 0, 20.0 * self.k, 20.0 * self.k)

    def paint(self, p, *args):
        p.scale(self.k, self.k)
        super().paint(p, *args)


class LegendRow(pg.GraphicsWidget):
    """A legend in a layout row of its own: entries in as many columns as the row is wide, and the
    row as tall as its lines. ``set_entries`` lists exactly what is drawn (item, label) in order."""

    def __init__(self, size: str = LEGEND_TEXT, max_columns: int = 6, parent=None):
        super().__init__(parent)
        self._base_size = size
        self.legend = pg.LegendItem(labelTextSize=size, brush=None, pen=None,  # (offset None: placed here)
                                    sampleType=ScaledSample)
        self.legend.setParentItem(self)
        self.max_columns = max_columns
        self._entries: list[tuple[object, str]] = []
        self._columns = 0
        self._laid_for: tuple[int, int] | None = None
        self._scale = 1.0
        self._height = -1.0
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

    def set_entries(self, entries: list[tuple[object, str]]) -> None:
        if [(id(i), t) for i, t in entries] == [(id(i), t) for i, t in self._entries]:
            return
        self._entries = list(entries)
        self.legend.clear()
        for item, text in entries:  # (rich text: the caller escapes a plain "<")
            self.legend.addItem(item, text)
        for sample, _label in self.legend.items:
            sample.set_k(min(1.0, self._scale))  # (never bigger than pyqtgraph's: the markers are sized for it)
        self._columns = 0
        self._laid_for = None
        self._relayout()

    def set_scale(self, scale: float) -> None:
        """Labels ``scale`` times their base size (entries drawn again at that size)."""
        self.legend.opts["labelTextSize"] = _points(self._base_size, scale)
        self._scale = float(scale)
        entries, self._entries = self._entries, []
        self.set_entries(entries)

    @property
    def labels(self) -> list[str]:
        return [label.text for _sample, label in self.legend.items]

    def _lay_out(self, columns: int) -> None:
        """Entries in ``columns``: a small gap between a sample and its label, a wider one between
        entries (pyqtgraph's one spacing of 25 px for both wastes a small frame's width)."""
        from reluviz.plots.legend_room import lay_out_legend

        lay_out_legend(self.legend, columns)
        grid = self.legend.layout
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setHorizontalSpacing(max(2.0, 4.0 * self._scale))
        for k in range(columns - 1):
            grid.setColumnSpacing(2 * k + 1, 18.0 * self._scale)

    def _laid_out_width(self) -> float:
        """The width the legend's grid needs as laid out (its items' size hints, spacing, margins)."""
        return float(self.legend.layout.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width())

    def resizeEvent(self, ev):  # noqa: N802 (Qt API)
        super().resizeEvent(ev)
        self._relayout()

    def _relayout(self) -> None:
        n = len(self.legend.items)
        room = self.size().width()
        if (n, round(room)) != self._laid_for:  # as many columns as fit, measured on the laid-out grid
            self._laid_for = (n, round(room))
            self._columns = max(1, min(self.max_columns, n))
            if n:
                self._lay_out(self._columns)
            while n and self._columns > 1 and room > 0 and self._laid_out_width() > room - 8:
                self._columns -= 1
                self._lay_out(self._columns)
        if n:  # the legend exactly as big as its grid needs (its own sizing keeps stretched widths)
            hint = self.legend.layout.effectiveSizeHint(QtCore.Qt.SizeHint.PreferredSize)
            self.legend.setGeometry(QtCore.QRectF(0, 0, hint.width(), hint.height()))
        self.legend.setPos(4, 0)
        h = self.legend.boundingRect().height() if n and self.isVisible() else 0.0
        if abs(h - self._height) > 0.5:
            self._height = h
            self.setMinimumHeight(h)
            self.setMaximumHeight(h)
            self.updateGeometry()

    def setVisible(self, visible: bool) -> None:  # noqa: N802 (Qt API)
        super().setVisible(visible)
        self._height = -1.0
        self._relayout()


__all__ = ["LEGEND_TEXT", "MIN_POINTS", "LegendRow", "ScaledSample", "TextRow", "scale_for"]
