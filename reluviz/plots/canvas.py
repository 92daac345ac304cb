"""The frame of a lecture view's drawing: text and legends in rows of their own, outside the plots.

A lecture view (dance, votes, elbows, bands) draws into a ``ViewCanvas``: one
``pg.GraphicsLayoutWidget`` holding its plots, a caption (``TextRow``) and its legends
(``LegendRow``). The app embeds the canvas beside its controls; the exporter draws the same canvas
offscreen (``reluviz.export.view_render``): the same items, so the same pixels.

Legends and notes sit in rows of the layout, never over a plot's data: a ``LegendRow`` lays its
entries out in as many columns as its width holds and grows to the rows that need (so nothing is cut
off at any size), and a ``TextRow`` wraps its text to its width and takes the height the lines need.
``ViewCanvas.set_legends_shown(False)`` drops every legend row (``reluviz export --no-legend``).
"""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from reluviz.plots import theme

LEGEND_TEXT = "12pt"


class TextRow(pg.GraphicsWidget):
    """Rich text that wraps to the row's width; the row is exactly as tall as its lines."""

    def __init__(self, text: str = "", size: str = "13pt", parent=None):
        super().__init__(parent)
        self.item = QtWidgets.QGraphicsTextItem(self)
        self.item.setDefaultTextColor(QtGui.QColor(theme.FOREGROUND))
        self._size = size
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


class LegendRow(pg.GraphicsWidget):
    """A legend in a layout row of its own: entries in as many columns as the row is wide, and the
    row as tall as its lines. ``set_entries`` lists exactly what is drawn (item, label) in order."""

    def __init__(self, size: str = LEGEND_TEXT, max_columns: int = 6, parent=None):
        super().__init__(parent)
        self.legend = pg.LegendItem(labelTextSize=size, brush=None, pen=None)  # (offset None: placed here)
        self.legend.setParentItem(self)
        self.max_columns = max_columns
        self._entries: list[tuple[object, str]] = []
        self._columns = 0
        self._height = -1.0
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

    def set_entries(self, entries: list[tuple[object, str]]) -> None:
        if [(id(i), t) for i, t in entries] == [(id(i), t) for i, t in self._entries]:
            return
        self._entries = list(entries)
        self.legend.clear()
        for item, text in entries:  # (rich text: the caller escapes a plain "<")
            self.legend.addItem(item, text)
        self._columns = 0
        self._relayout()

    @property
    def labels(self) -> list[str]:
        return [label.text for _sample, label in self.legend.items]

    def _entry_width(self, i: int) -> float:
        sample, label = self.legend.items[i]
        return sample.boundingRect().width() + label.item.boundingRect().width() + 2 * self.legend.layout.horizontalSpacing()

    def _fits(self, columns: int, room: float) -> bool:
        widths = [0.0] * columns
        for i in range(len(self.legend.items)):
            widths[i % columns] = max(widths[i % columns], self._entry_width(i))
        return sum(widths) + 16 <= room

    def resizeEvent(self, ev):  # noqa: N802 (Qt API)
        super().resizeEvent(ev)
        self._relayout()

    def _relayout(self) -> None:
        from reluviz.plots.legend_room import lay_out_legend

        n = len(self.legend.items)
        room = self.size().width()
        columns = max(1, min(self.max_columns, n))
        while columns > 1 and room > 0 and not self._fits(columns, room):
            columns -= 1
        if columns != self._columns:
            self._columns = columns
            if n:
                lay_out_legend(self.legend, columns)
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


class ViewCanvas(pg.GraphicsLayoutWidget):
    """A lecture view's drawing: ``caption`` on top, then the subclass's plots and legend rows.

    Subclasses add their items to ``self.grid`` (a ``GraphicsLayout``) and list their legend rows
    in ``self.legend_rows``; ``show_frame(frame)`` draws a ``reluviz.core.frame.Frame``.
    """

    def __init__(self, parent=None, columns: int = 1):
        theme.configure_pyqtgraph()
        super().__init__(parent)
        self.setBackground(theme.BACKGROUND)
        self.ci.setContentsMargins(6, 6, 6, 6)
        self.grid = self.ci
        self.caption = TextRow("", size="14pt")
        self.grid.addItem(self.caption, row=0, col=0, colspan=columns)
        self.legend_rows: list[LegendRow] = []
        self.legends_shown = True

    def add_legend_row(self, row: int, col: int = 0, colspan: int = 1) -> LegendRow:
        legend = LegendRow()
        self.grid.addItem(legend, row=row, col=col, colspan=colspan)
        self.legend_rows.append(legend)
        legend.setVisible(self.legends_shown)
        return legend

    def set_legends_shown(self, shown: bool) -> None:
        """Show or drop every legend row (their room goes to the plots)."""
        self.legends_shown = bool(shown)
        for legend in self.legend_rows:
            legend.setVisible(self.legends_shown)

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def show_frame(self, frame) -> None:
        raise NotImplementedError


def plain(html_text: str) -> str:
    """Rich text without its tags (for tests and terminal output)."""
    doc = QtGui.QTextDocument()
    doc.setHtml(html_text)
    return doc.toPlainText()


def center_text_item(item: pg.TextItem, plot: pg.PlotItem) -> None:
    """Place ``item`` (anchored at its centre) in the middle of the plot's visible range."""
    (x0, x1), (y0, y1) = plot.vb.viewRange()
    item.setPos(0.5 * (x0 + x1), 0.5 * (y0 + y1))


__all__ = ["LegendRow", "TextRow", "ViewCanvas", "center_text_item", "plain", "QtCore"]
