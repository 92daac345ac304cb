"""Draw a snapshot offscreen through the app's own ``TrainingView`` and read it as an image.

``FrameRenderer`` owns one hidden ``TrainingView`` of a fixed pixel size. Each ``render`` call
updates its items with ``setData`` (as the app does) and returns an (H, W, 3) uint8 RGB array of
exactly that size, whatever the screen's device pixel ratio.
A QApplication is needed; ``ensure_qt_app`` makes one, offscreen when there is no display.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from reluviz.core.compare import ghost_text
from reluviz.core.data import Dataset
from reluviz.core.history import History
from reluviz.core.loss_trace import LossTrace
from reluviz.core.snapshot import Snapshot


def ensure_qt_app():
    """The running QApplication, or a new one (offscreen without a display, so it never aborts)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform == "win32":
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(["reluviz-export"])
    return app


def palette_anchors() -> list[tuple[int, int, int]]:
    """The theme's colours (pens, brushes, text): exact entries of a GIF palette."""
    from PySide6 import QtGui

    from reluviz.plots import theme

    colours = []
    for name in dir(theme):
        value = getattr(theme, name)
        if name.isupper() and name not in ("BACKGROUND",):
            if isinstance(value, tuple) and len(value) in (3, 4) and all(isinstance(c, int) for c in value):
                colours.append(tuple(value[:3]))
            elif isinstance(value, str) and QtGui.QColor.isValidColorName(value):
                c = QtGui.QColor(value)
                colours.append((c.red(), c.green(), c.blue()))
    return sorted(set(colours))


def background_colour() -> tuple[int, int, int]:
    from PySide6 import QtGui

    from reluviz.plots import theme

    c = QtGui.QColor(theme.BACKGROUND) if theme.BACKGROUND != "w" else QtGui.QColor(255, 255, 255)
    return (c.red(), c.green(), c.blue())


def caption_text(snap: Snapshot, train_loss: float | None = None, test_loss: float | None = None,
                 compact: int = 0, val_loss: float | None = None, full_batch: bool = False) -> str:
    """One caption line: step, learning rate and losses (HTML for the caption label): train,
    validation and test MSE, those given (the exporter gives train and validation: the test set
    is for the final check, not for every frame).

    ``compact`` 1 leaves out the minibatch loss, 2 also the word MSE and shortens validation (for
    narrow frames). ``full_batch``: the step used every training point, so there is no minibatch loss to name.
    """
    parts = [f"<b>step {snap.step:,}</b>", f"lr {float(snap.lr[0]):.3g}"]
    if compact == 0 and not full_batch:
        parts.append(f"minibatch MSE {float(snap.batch_loss[0]):.3g}")
    mse = " MSE" if compact < 2 else ""
    if train_loss is not None:
        parts.append(f"train{mse} {train_loss:.3g}")
    if val_loss is not None:
        parts.append(f"{'validation' if compact < 2 else 'val'}{mse} {val_loss:.3g}")
    if test_loss is not None:
        parts.append(f"test{mse} {test_loss:.3g}")
    return " &nbsp;·&nbsp; ".join(parts)


def _plain(html: str) -> str:
    return html.replace("<b>", "").replace("</b>", "").replace("&nbsp;", " ")


def settle_layout(widget, rounds: int = 4) -> None:
    """Apply the layout changes a frame asked for before its pixels are read: a row that grew (a
    caption or legend row wrapping to more lines) or an axis that widened for its tick labels only
    posts a layout request, which an export, with no event loop, would otherwise paint a frame late
    (the row drawn over the plot below it, tick labels under the axis's title)."""
    from PySide6 import QtCore

    layout = getattr(getattr(widget, "ci", None), "layout", None)
    for _ in range(rounds):
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
        if layout is None or layout.isActivated():
            break
        layout.activate()


def _geometries(widget) -> list:
    """Where every laid-out item of ``widget``'s scene is (to tell whether painting moved any)."""
    from PySide6 import QtWidgets

    scene = widget.scene() if hasattr(widget, "scene") else None
    if scene is None:
        return []
    return [item.geometry().getRect() for item in scene.items() if isinstance(item, QtWidgets.QGraphicsWidget)]


def grab_widget(widget, size: tuple[int, int]) -> np.ndarray:
    """``widget``'s pixels at exactly ``size`` (H, W, 3) uint8, its layout settled first.

    Painted into an image of device pixel ratio 1 rather than ``QWidget.grab()``, which on a
    HiDPI screen (ratio 2) would hand back twice the asked-for width and height. An axis sizes
    itself to its tick labels while it paints: when that moved anything (an export's first frame,
    scaled fonts, wider tick labels) the frame is painted again with the layout settled.
    """
    from PySide6 import QtCore, QtGui, QtWidgets

    w, h = size
    for _attempt in range(3):
        settle_layout(widget)
        before = _geometries(widget)
        image = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(1.0)
        image.fill(QtGui.QColor(*background_colour()))
        painter = QtGui.QPainter(image)
        try:
            QtWidgets.QWidget.render(widget, painter, QtCore.QPoint(0, 0))
        finally:
            painter.end()
        settle_layout(widget)
        if _geometries(widget) == before:
            break
    rgb = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    buf = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=rgb.sizeInBytes())
    return buf.reshape(h, rgb.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def save_widget_svg(widget, size: tuple[int, int], path: str, title: str = "reluviz frame") -> None:
    """``widget``'s drawing as SVG (vector), painted by Qt's SVG generator.

    (pyqtgraph's SVGExporter fails on the paths PySide6 6.11 writes: "not enough values to
    unpack" in its coordinate rewriting.)
    """
    from PySide6 import QtCore, QtGui, QtSvg

    w, h = size
    gen = QtSvg.QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QtCore.QSize(w, h))
    gen.setViewBox(QtCore.QRect(0, 0, w, h))
    gen.setTitle(title)
    painter = QtGui.QPainter(gen)
    try:
        widget.render(painter)
    finally:
        painter.end()


class FrameRenderer:
    """Renders frames of ``size`` (width, height) pixels with the chosen ``panels``."""

    def __init__(self, dataset: Dataset, size: tuple[int, int], panels: tuple[str, ...] = ("main", "loss"),
                 caption: bool = True, final_step: int | None = None, compare: dict | None = None,
                 constant_fit: bool = False, legends: bool = True):
        ensure_qt_app()
        from PySide6 import QtCore

        from reluviz.plots.canvas import scale_for
        from reluviz.plots.training_view import TrainingView

        self._qt_core = QtCore
        self.size = size
        # legends in rows above the panels (never over the data), fonts and lines scaled to the size
        self.view = TrainingView(panels=panels, caption=caption, legend_rows=True)
        self.view.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.view.resize(*size)
        self.view.set_scale(scale_for(size))
        self.view.set_dataset(dataset)
        self.dataset = dataset
        if compare:  # the ghost run's legend entry, as in the app
            self.view.fit.set_ghost_label(ghost_text(compare))
        self.view.fit.set_show_constant_fit(constant_fit)  # Figure 4's steps, as the app's View menu has them
        if not legends:
            self.view.set_legends_shown(False)
        self.final_step = final_step
        self.caption = caption
        self.view.show()  # laid out but never on screen (WA_DontShowOnScreen)

    def render(self, snap: Snapshot, history: History | None = None, trace: LossTrace | None = None,
               ghost: Snapshot | None = None, caption: str | None = None) -> np.ndarray:
        """Draw ``snap`` (and the loss curves up to its step) and return RGB pixels (H, W, 3) uint8."""
        view = self.view
        view.show_snapshot(snap, ghost=ghost)
        if history is not None and trace is not None and "loss" in view.panels:
            view.show_losses(history, trace, upto=snap.step)
            if self.final_step is not None:
                view.loss.set_step_range(self.final_step)  # a still x axis through the animation
        if self.caption:
            view.set_caption(caption if caption is not None else self.caption_for(snap))
        view.rescale_items()
        return self.grab()

    def caption_for(self, snap: Snapshot, train_loss: float | None = None, test_loss: float | None = None,
                    val_loss: float | None = None) -> str:
        """The fullest caption that fits the frame's width (at 640 px the full line was cut off)."""
        from PySide6 import QtGui

        font = QtGui.QFont()
        font.setPointSizeF(self.view.caption_points())
        font.setBold(True)  # (measuring all of it bold errs on the safe side)
        metrics = QtGui.QFontMetrics(font)
        room = self.size[0] - 24
        for compact in (0, 1, 2):
            text = caption_text(snap, train_loss, test_loss, compact, val_loss=val_loss,
                                full_batch=snap.full_batch(self.dataset))
            if metrics.horizontalAdvance(_plain(text)) <= room:
                return text
        return text

    def grab(self) -> np.ndarray:
        """The view's pixels at exactly ``size`` (H, W, 3) uint8 (``grab_widget``)."""
        return grab_widget(self.view, self.size)

    def save_svg(self, path: str) -> None:
        """The current drawing as SVG (vector): ``save_widget_svg``."""
        save_widget_svg(self.view, self.size, path)

    def close(self) -> None:
        self.view.close()
        self.view.deleteLater()
        self._qt_core.QCoreApplication.sendPostedEvents(None, self._qt_core.QEvent.Type.DeferredDelete)
