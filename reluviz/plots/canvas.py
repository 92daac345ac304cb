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
        """Compute what the view needs before an export draws ``frame`` and the frames before it
        (headless, in the calling thread; ``progress(done, total)``, ``should_stop()``). Returns a
        note for the user, or "". Nothing to do by default."""
        return ""

    # ------------------------------------------------------------------ size
    def settle(self) -> None:
        """Lay the rows out now (``settle_layout``): an export calls it before each grab."""
        self.settle_layout()

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
        """Compute what the view needs before an export draws ``frame`` and the frames before it
        (headless, in the calling thread; ``progress(done, total)``, ``should_stop()``). Returns a
        note for the user, or "". Nothing to do by default."""
        return ""

    # ------------------------------------------------------------------ size
    def settle(self, passes: int = 4) -> None:
        """Lay the rows out now (an offscreen export has no event loop to do it before the grab): a
        caption or legend row that changed its height, or a plot whose axis fonts grew, moves the
        rows below it; each pass may change a wrapped row's width and so its height again."""
        app = QtCore.QCoreApplication.instance()
        for _ in range(passes):
            if app is not None:
                app.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
            self.ci.layout.activate()
            for item in list(self.ci.items):
                if isinstance(item, TextRow):
                    item._fit()
                elif isinstance(item, LegendRow):
                    item._relayout()

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
