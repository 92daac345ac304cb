"""The frame of a lecture view's drawing: text and legends in rows of their own, outside the plots.

A lecture view (dance, votes, elbows, bands) draws into a ``ViewCanvas``: one
``pg.GraphicsLayoutWidget`` holding its plots, a caption (``TextRow``) and its legends
(``LegendRow``). The app embeds the canvas beside its controls; the exporter draws the same canvas
offscreen (``reluviz.export.view_render``): the same items, so the same pixels.

Legends and notes sit in rows of the layout, never over a plot's data: a ``LegendRow`` lays its
entries out in as many columns as its width holds and grows to the rows that need (so nothing is cut
off at any size), and a ``TextRow`` wraps its text to its width and takes the height the lines need.
``ViewCanvas.set_legends_shown(False)`` drops every legend row (``reluviz export --no-legend``).

Exports of any size: ``ViewCanvas.set_scale(s)`` multiplies every font (caption, legends, axes,
text items) and every line width and marker size by ``s`` (``scale_for(size)``: 1 at 1280x720),
so a 1920x1080 frame looks like a 1280x720 one enlarged and a 640x360 one stays legible.
``set_header(html)`` puts a line above the caption (the export's step / rate / loss line).
A view that needs a computation before its frames can be drawn (a dance run, seed bands)
does it in ``prepare_export(frame, progress, should_stop)``; ``trail_spec(config)`` says how
much of the past its frames must carry (as the app's view does).
"""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

from reluviz.plots import theme
from reluviz.plots.canvas_rows import LEGEND_TEXT, MIN_POINTS, LegendRow, ScaledSample, TextRow, scale_for  # noqa: F401

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
        self.scale = 1.0
        self._header = ""
        self._caption = ""
        self._scaled: dict[tuple, tuple[object, float, float]] = {}  # (id, what) -> (item, base, value set)

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
        self._caption = text
        self._show_caption()

    def set_header(self, text: str) -> None:
        """A line above the caption (an export's step, rate and losses); "" removes it."""
        self._header = text
        self._show_caption()

    def _show_caption(self) -> None:
        self.caption.setText("<br>".join(t for t in (self._header, self._caption) if t))

    # ------------------------------------------------------------------ what subclasses provide
    def show_frame(self, frame) -> None:
        raise NotImplementedError

    def trail_spec(self, config) -> "TrailSpec":
        """The past this view's frames must carry (none by default; see ``reluviz.core.frame.TrailSpec``)."""
        from reluviz.core.frame import TrailSpec

        return TrailSpec()

    def prepare_export(self, frame, progress=None, should_stop=None) -> str:
        """Compute what the view needs before an export draws ``frame`` and the frames before it,
        then take it in (``compute_export``, ``apply_export``), in the calling thread. Returns a
        note for the user, or ""."""
        return self.apply_export(self.compute_export(frame, progress, should_stop))

    def compute_export(self, frame, progress=None, should_stop=None):
        """The computation an export needs first (``progress(done, total)``, ``should_stop()``):
        NumPy only, no Qt call, so the app may run it on a worker thread. None by default."""
        return None

    def apply_export(self, computed) -> str:
        """Take in what ``compute_export`` returned (GUI thread); a note for the user, or ""."""
        return ""

    # ------------------------------------------------------------------ size
    def settle(self) -> None:
        """Lay the rows out now (``settle_layout``): an export calls it before each grab."""
        self.settle_layout()

    def set_scale(self, scale: float) -> None:
        """Fonts, line widths and marker sizes ``scale`` times their size at 1280x720."""
        self.scale = float(scale)
        self.caption.set_scale(self.scale)
        for row in self.legend_rows:
            row.set_scale(self.scale)
            row._relayout()
        self.rescale_items()

    def rescale_items(self) -> None:
        """Apply the scale to the scene's axes (ticks and labels), plot titles, text items, curve
        pens and markers (call after a frame is drawn: items a frame created or restyled get it
        too), then lay the canvas out again (``settle_layout``)."""
        if self.scale == 1.0 and not self._scaled:
            self.settle_layout()
            return
        for item in self.scene().items():
            if isinstance(item, pg.AxisItem):
                self._scale_axis(item)
            elif isinstance(item, pg.PlotItem):
                self._scale_title(item.titleLabel)
            elif isinstance(item, pg.TextItem):
                font = item.textItem.font()
                size = self._scaled_value(item, font.pointSizeF(), "font")
                if size is not None:
                    font.setPointSizeF(max(MIN_POINTS, size))
                    item.setFont(font)
            elif isinstance(item, pg.PlotCurveItem):
                pen = item.opts.get("pen")
                pen = pg.mkPen(pen) if pen is not None else None
                if pen is not None and pen.style() != QtCore.Qt.PenStyle.NoPen:
                    width = self._scaled_value(item, pen.widthF(), "pen")
                    if width is not None:
                        pen.setWidthF(width)
                        item.setPen(pen)
            elif isinstance(item, pg.ScatterPlotItem):
                size = self._scaled_value(item, float(item.opts.get("size", 7)), "size")
                if size is not None:
                    item.setSize(size)
            elif (isinstance(item, pg.LabelItem) and not isinstance(item.parentItem(), (pg.LegendItem, pg.PlotItem))):
                size = self._scaled_points(item, item.opts.get("size"), "label")  # (a free label: a note)
                if size is not None:
                    item.setText(item.text, size=size)
        self.settle_layout()

    def settle_layout(self) -> None:
        """Lay the rows out for what the frame just set (a caption that wraps to more lines, a
        legend row that grew), now: an offscreen canvas gets no event loop between drawing a
        frame and painting it, and would paint rows at their old heights, overlapping."""
        layout = self.ci.layout
        self._measure_axes()
        for _ in range(4):  # (a row's new width can change its wrapped height once more)
            before = [layout.itemAt(i).geometry() for i in range(layout.count())]
            # (the plots' own layouts, e.g. an axis grown for bigger tick labels, wait for a posted request)
            QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
            layout.invalidate()
            layout.activate()
            rows = [item for item in list(self.ci.items) if isinstance(item, (TextRow, LegendRow))]
            heights = [item.minimumHeight() for item in rows]
            for item in rows:  # (rows measured at their new widths)
                item._fit() if isinstance(item, TextRow) else item._relayout()
            if (before == [layout.itemAt(i).geometry() for i in range(layout.count())]
                    and heights == [item.minimumHeight() for item in rows]):
                break

    def _measure_axes(self) -> None:
        """Let each axis measure its tick labels now: pyqtgraph widens an axis for longer labels
        only while painting it, a frame late for an export (its new labels were cut off)."""
        image = QtGui.QImage(1, 1, QtGui.QImage.Format.Format_RGB32)
        painter = QtGui.QPainter(image)
        try:
            for item in self.scene().items():
                if isinstance(item, pg.AxisItem) and item.isVisible():
                    item.paint(painter, None, None)  # (builds its cached picture; the real paint reuses it)
        finally:
            painter.end()

    def _scaled_value(self, item, current: float, what: str) -> float | None:
        """The scaled value of ``item``'s ``what`` (None: already right). A value changed since it
        was last scaled (the view set a new pen or font) is the new base."""
        key = (id(item), what)
        held = self._scaled.get(key)
        if held is not None and held[0] is item and abs(held[2] - current) < 1e-6:
            base = held[1]
        else:
            base = current
        value = base * self.scale
        self._scaled[key] = (item, base, value)
        return None if abs(value - current) < 1e-6 else value

    def _scaled_points(self, item, size, what: str) -> str | None:
        """``size`` ("13pt") of ``item``'s ``what`` scaled, as a string (None: already right)."""
        if not isinstance(size, str) or not size.endswith("pt"):
            return None
        value = self._scaled_value(item, float(size[:-2]), what)
        if value is None:
            return None
        shown = round(max(MIN_POINTS, value), 2)
        key = (id(item), what)
        self._scaled[key] = (item, self._scaled[key][1], shown)  # (what is set: not a new base next time)
        return None if abs(shown - float(size[:-2])) < 1e-6 else f"{shown}pt"

    def _scale_title(self, label: pg.LabelItem) -> None:
        """A plot title's size (``setTitle(size=...)``) scaled, and its row (pyqtgraph fixes it at
        30 px: a fifth of a 640x360 plot's height); an empty title is left alone."""
        if label.text:
            size = self._scaled_points(label, label.opts.get("size"), "title")
            if size is not None:
                label.setText(label.text, size=size)
            plot = label.parentItem()
            if isinstance(plot, pg.PlotItem) and label.isVisible():
                height = max(12.0, 30.0 * self.scale)
                label.setMaximumHeight(height)
                plot.layout.setRowFixedHeight(0, height)

    def _scale_axis(self, axis: pg.AxisItem) -> None:
        if isinstance(axis.labelStyle, dict):  # (a label styled in html ignores setFont)
            size = self._scaled_points(axis, axis.labelStyle.get("font-size"), "label")
            if size is not None:
                axis.labelStyle = {**axis.labelStyle, "font-size": size}
                axis._updateLabel()
        key = (id(axis), "axis")
        if key in self._scaled and self._scaled[key][0] is axis and self._scaled[key][2] == self.scale:
            return
        tick_font = axis.style.get("tickFont")  # (the axis's own size at 1280x720, e.g. 12 pt in lecture plots)
        own = tick_font.pointSizeF() if tick_font is not None and tick_font.pointSizeF() > 0 else 10.0
        base = own if key not in self._scaled else self._scaled[key][1]
        self._scaled[key] = (axis, base, self.scale)
        font = QtGui.QFont()
        font.setPointSizeF(max(MIN_POINTS, base * self.scale))
        axis.setStyle(tickFont=font, tickLength=int(round(5 * self.scale)))
        if axis.orientation in ("bottom", "top"):  # (pyqtgraph keeps room for its first, 18 px text)
            axis.textHeight = QtGui.QFontMetricsF(font).height()
            axis._updateHeight()
        axis.label.setFont(font)
        axis.setPen(pg.mkPen(axis.pen().color(), width=max(1.0, self.scale)))


class SceneScaler:
    """``ViewCanvas``'s scaling (fonts, line widths, marker sizes of a scene's items, see
    ``ViewCanvas.rescale_items``) for another ``GraphicsLayoutWidget``: the fit view's
    ``reluviz.plots.training_view.TrainingView`` in an export (which settles its own layout)."""

    rescale_items = ViewCanvas.rescale_items
    _scaled_value = ViewCanvas._scaled_value
    _scaled_points = ViewCanvas._scaled_points
    _scale_axis = ViewCanvas._scale_axis
    _scale_title = ViewCanvas._scale_title

    def __init__(self, widget):
        self._widget = widget
        self.scale = 1.0
        self._scaled: dict[tuple, tuple[object, float, float]] = {}

    def scene(self):
        return self._widget.scene()

    def settle_layout(self) -> None:
        """(The exporter's ``grab_widget`` settles the fit view's layout before it paints.)"""


def plain(html_text: str) -> str:
    """Rich text without its tags (for tests and terminal output)."""
    doc = QtGui.QTextDocument()
    doc.setHtml(html_text)
    return doc.toPlainText()


def center_text_item(item: pg.TextItem, plot: pg.PlotItem) -> None:
    """Place ``item`` (anchored at its centre) in the middle of the plot's visible range."""
    (x0, x1), (y0, y1) = plot.vb.viewRange()
    item.setPos(0.5 * (x0 + x1), 0.5 * (y0 + y1))


__all__ = ["LegendRow", "SceneScaler", "TextRow", "ViewCanvas", "center_text_item", "plain", "scale_for", "QtCore"]
