"""A model-selection sweep written to a file: its table (``.csv``) or its plot (``.png``, ``.svg``).

The plot is drawn offscreen through the app's own ``SelectionPlot`` (the same pixels as the Model
selection tab), with a caption line saying what validation picked and that setting's test error.
Files appear whole or not at all (written to a temporary name and renamed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reluviz.core.atomic import write_text_atomic
from reluviz.core.selection import SelectionResult
from reluviz.export.frames import ExportError
from reluviz.export.render import ensure_qt_app, grab_widget, save_widget_svg
from reluviz.export.writers import check_target, os_error_message, save_image_atomic

FORMATS = (".csv", ".png", ".svg")


class SelectionRenderer:
    """A hidden view of ``size`` pixels drawing one ``SelectionResult``."""

    def __init__(self, result: SelectionResult, size: tuple[int, int] = (960, 600),
                 show: tuple[str, ...] = ("test",)):
        ensure_qt_app()
        import pyqtgraph as pg
        from PySide6 import QtCore

        from reluviz.plots import theme
        from reluviz.plots.selection_plot import SelectionPlot

        theme.configure_pyqtgraph()
        self.size = size
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(theme.BACKGROUND)
        self.view.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.caption = pg.LabelItem("", justify="left", color=theme.FOREGROUND, size="11pt")
        self.caption.item.setTextWidth(size[0] - 30)  # (wrapped: a long line would widen the layout past the image)
        self.caption.setText(result.summary())
        self.view.addItem(self.caption, row=0, col=0)
        self.plot = SelectionPlot(self.view.addPlot(row=1, col=0))
        for key in show:
            self.plot.set_visible(key, True)
        self.view.resize(*size)
        self.view.show()
        self.plot.show(result)

    def grab(self) -> np.ndarray:
        """(H, W, 3) uint8 pixels at exactly ``size``."""
        return grab_widget(self.view, self.size)

    def save_svg(self, path: str) -> None:
        save_widget_svg(self.view, self.size, path, title="reluviz model selection")

    def close(self) -> None:
        from PySide6 import QtCore

        self.view.close()
        self.view.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def save_selection(result: SelectionResult, path: str | Path, size: tuple[int, int] = (960, 600),
                   force: bool = False, show: tuple[str, ...] = ("test",)) -> Path:
    """Write ``result`` to ``path``: the table (.csv) or the plot (.png, .svg) with the curves
    ``show`` asks for besides train and validation. ``ExportError`` (one line) when it cannot."""
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"a model-selection sweep is saved as {', '.join(FORMATS)}, not '{path.name}'")
    if len(result.values) == 0:
        raise ExportError("the sweep has no finished setting to save")
    if suffix == ".csv":
        path = check_target(path, force)
        try:
            write_text_atomic(path, result.csv_text())
        except OSError as exc:
            raise ExportError(os_error_message(exc, path)) from None
        return path
    renderer = SelectionRenderer(result, size, show)
    try:
        return save_image_atomic(path, renderer.grab(), force=force, svg_source=renderer)
    finally:
        renderer.close()
