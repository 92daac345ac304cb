"""``TrainingView``: the fit plot above the loss panel, plus an optional caption line.

It is a ``pg.GraphicsLayoutWidget`` so the app can embed it and the exporter can render it
offscreen with ``grab()``: both show the same pixels. It draws a snapshot and loss arrays it is
given; it computes nothing beyond what ``reluviz.core`` offers.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from reluviz.core.data import Dataset
from reluviz.core.frame import Frame, best_validation
from reluviz.core.history import History
from reluviz.core.loss_trace import LossTrace
from reluviz.core.snapshot import Snapshot
from reluviz.plots import theme
from reluviz.plots.canvas import MIN_POINTS, LegendRow, SceneScaler
from reluviz.plots.fit_plot import FitPlot
from reluviz.plots.loss_plot import LossPlot

PANELS = ("main", "loss")


class TrainingView(pg.GraphicsLayoutWidget):
    """Fit plot (``fit``, a ``FitPlot``) above the loss panel (``loss``, a ``LossPlot``);
    ``panels`` picks which are shown, ``caption`` adds a line of text on top (the exporter's
    step, rate and losses). ``show_frame`` draws a frame's state and moves the loss cursor;
    ``show_loss_curves`` redraws the loss curves (the app does that less often than frames).

    ``painted()`` is emitted after each paint (the app tells its training thread that the frame
    is drawn, see ``reluviz.gui.worker``).
    """

    painted = QtCore.Signal()

    def __init__(self, parent=None, panels: tuple[str, ...] = PANELS, caption: bool = False,
                 legend_rows: bool = False):
        theme.configure_pyqtgraph()
        super().__init__(parent)
        self.setBackground(theme.BACKGROUND)
        self.ci.setContentsMargins(6, 6, 6, 6)
        self.caption = pg.LabelItem(justify="left", color=theme.FOREGROUND, size="12pt")
        row = 0
        if caption:
            self.addItem(self.caption, row=row, col=0)
            row += 1
        self.fit_item = pg.PlotItem()
        self.loss_item = pg.PlotItem()
        self.fit = FitPlot(self.fit_item)
        self.loss = LossPlot(self.loss_item)
        self.panels = tuple(panels)
        #: each panel's legend in a row of its own above it (exports: never over the data at any
        #: size) instead of over the plot's top with room made for it (the app)
        self.legend_rows: list[LegendRow] = []
        plot_rows = {}
        for name, item, plot in (("main", self.fit_item, self.fit), ("loss", self.loss_item, self.loss)):
            if name not in panels:
                continue
            if legend_rows:
                legend = LegendRow(size="10pt", max_columns=8)
                self.addItem(legend, row=row, col=0)
                self.legend_rows.append(legend)
                plot.set_legend_row(legend)
                row += 1
            self.addItem(item, row=row, col=0)
            plot_rows[name] = row
            row += 1
        if "main" in panels and "loss" in panels:
            self.ci.layout.setRowStretchFactor(plot_rows["main"], 3)
            self.ci.layout.setRowStretchFactor(plot_rows["loss"], 2)
        self.legends_shown = True
        self.scaler = SceneScaler(self)
        self.loss.attach_hover()
        if "main" in panels:
            self.fit.draw_static_in_background()
            self.fit.staticChanged.connect(self._static_changed)
        if "loss" in panels:
            self.loss.draw_curves_in_background()
            self.loss.curvesChanged.connect(self._loss_curves_changed)
            self.loss.backgroundChanged.connect(self._static_changed)

    def paintEvent(self, ev):  # noqa: N802 (Qt API)
        super().paintEvent(ev)
        self.painted.emit()

    def drawBackground(self, painter, rect):  # noqa: N802 (Qt API)
        """The white ground, the fit plot's static items (``FitPlot.draw_static_in_background``)
        and the loss curves (``LossPlot.draw_curves_in_background``): the view caches this as one
        opaque pixmap (pyqtgraph sets ``CacheBackground``) and draws parts of it again when told."""
        super().drawBackground(painter, rect)
        if "main" in self.panels and rect.intersects(self.fit_item.vb.sceneBoundingRect()):
            self.fit.paint_static(painter)
        if "loss" in self.panels and rect.intersects(self.loss_item.vb.sceneBoundingRect()):
            self.loss.paint_background(painter)

    def render(self, painter, *args, **kwargs):
        """QGraphicsView.render; onto a vector device (SVG, PDF) every item draws itself as vectors
        (pyqtgraph's export mode, no cached pixmaps or caching effects), as pyqtgraph's exporters do."""
        engine = painter.paintEngine() if painter is not None else None
        if engine is None or engine.type() == QtGui.QPaintEngine.Type.Raster:
            return super().render(painter, *args, **kwargs)
        items = self.scene().items()
        modes = [(item, item.cacheMode()) for item in items
                 if item.cacheMode() != QtWidgets.QGraphicsItem.CacheMode.NoCache]
        exporting = [item for item in items if hasattr(item, "setExportMode")]
        effects = [item.graphicsEffect() for item in items
                   if item.graphicsEffect() is not None and item.graphicsEffect().isEnabled()]
        try:
            for effect in effects:  # (a CachedSubtreeEffect would draw its pixmap)
                effect.setEnabled(False)
            for item, _ in modes:
                item.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
            for item in exporting:
                item.setExportMode(True, {"antialias": True, "painter": painter})
            return super().render(painter, *args, **kwargs)
        finally:
            for item in exporting:
                item.setExportMode(False)
            for item, mode in modes:
                item.setCacheMode(mode)
            for effect in effects:
                effect.setEnabled(True)

    def _loss_curves_changed(self) -> None:
        """Only the loss panel's part of the background is drawn again."""
        rect = self.loss_item.vb.sceneBoundingRect().adjusted(-2, -2, 2, 2)
        self.invalidateScene(rect, QtWidgets.QGraphicsScene.SceneLayer.BackgroundLayer)

    def _static_changed(self) -> None:
        self.resetCachedContent()  # the whole background is drawn again at the next paint
        self.viewport().update()

    def set_dataset(self, ds: Dataset) -> None:
        self.fit.set_dataset(ds)

    def show_frame(self, frame: Frame) -> None:
        """Draw ``frame`` in the fit plot and move the loss panel's cursor to its step."""
        self.fit.show_frame(frame)
        self.loss.set_full_batch(frame.snapshot.full_batch(frame.dataset))
        self.loss.set_cursor(frame.step)

    def show_loss_curves(self, frame: Frame) -> None:
        """The loss panel's curves from ``frame.curves``, its step axis to the recorded end."""
        c = frame.curves
        self.loss.set_data(c.batch_steps, c.batch_loss, c.eval_steps, c.train, c.test, c.lr, val_loss=c.val,
                           true_error=c.true, objective=c.objective,
                           best=(c.best_step, c.best_val) if c.best_step >= 0 else None)
        self.loss.set_step_range(frame.last_step)

    def show_snapshot(self, snap: Snapshot, ghost: Snapshot | None = None) -> None:
        """Draw ``snap`` (and a ``ghost`` run faintly) and move the loss cursor to its step."""
        self.fit.show_snapshot(snap, ghost=ghost)
        self.loss.set_full_batch(snap.full_batch(self.fit.dataset))
        self.loss.set_cursor(snap.step)

    def show_losses(self, history: History, trace: LossTrace, run: int = 0, upto: int | None = None) -> None:
        """Loss panel from the history's minibatch losses and rates (run ``run``) and the
        trace's evaluated losses, up to step ``upto`` (None: all); the best validation step so far
        is marked."""
        steps = history.steps
        batch = history.batch_losses[:, run]
        lrs = history.lrs[:, run]
        cols = (trace.steps, trace.train, trace.test, trace.val, trace.true, trace.objective)
        if upto is not None:
            k = int(np.searchsorted(steps, upto, side="right"))
            steps, batch, lrs = steps[:k], batch[:k], lrs[:k]
            j = int(np.searchsorted(trace.steps, upto, side="right"))
            cols = tuple(c[:j] for c in cols)
        tsteps, train, test, val, true, objective = cols
        best_step, best_val = best_validation(tsteps, val)
        self.loss.set_data(steps, batch, tsteps, train, test, lrs, val_loss=val, true_error=true, objective=objective,
                           best=(best_step, best_val) if best_step >= 0 else None)
        if len(steps):
            self.loss.set_step_range(float(steps[-1]))

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    # ------------------------------------------------------------------ exports: legends and size
    def set_legends_shown(self, shown: bool) -> None:
        """Show or drop both panels' legends (``reluviz export --no-legend``): their rows go, or
        over the plots the room made for them goes to the data."""
        self.legends_shown = bool(shown)
        for legend in self.legend_rows:
            legend.setVisible(self.legends_shown)
        self.fit.set_legend_shown(self.legends_shown)
        self.loss.set_legend_shown(self.legends_shown)

    @property
    def scale(self) -> float:
        return self.scaler.scale

    def set_scale(self, scale: float) -> None:
        """Fonts, line widths and marker sizes ``scale`` times their size at 1280x720
        (``reluviz.plots.canvas.scale_for``; the app stays at 1)."""
        self.scaler.scale = float(scale)
        self.fit.structure.set_text_points(max(MIN_POINTS, 11.0 * self.scaler.scale))
        for legend in self.legend_rows:
            legend.set_scale(self.scaler.scale)
        self.rescale_items()

    def rescale_items(self) -> None:
        """Apply the scale to what the last frame drew (new or restyled items get it too), and
        name the right axis "lr" where "learning rate" is taller than the loss panel."""
        if self.scaler.scale == 1.0 and not self.scaler._scaled:
            return
        before = {key: held[2] for key, held in self.scaler._scaled.items()}
        self.scaler.rescale_items()
        changed = before != {key: held[2] for key, held in self.scaler._scaled.items()}
        right = self.loss_item.getAxis("right")
        want = "learning rate"
        if right.label.boundingRect().width() > max(self.loss_item.vb.height(), 1.0) - 4 or right.labelText == "lr":
            full = QtGui.QFontMetricsF(right.label.font()).horizontalAdvance(want) + 12
            want = want if full <= self.loss_item.vb.height() else "lr"
        if right.labelText != want:
            right.labelText = want
            right._updateLabel()
            changed = True
        if changed:  # (restyled static items: the cached background is drawn again)
            self._static_changed()

    def caption_points(self) -> float:
        """The caption's size in points at this scale (the exporter measures its line with it)."""
        return max(MIN_POINTS, 12.0 * self.scaler.scale)

