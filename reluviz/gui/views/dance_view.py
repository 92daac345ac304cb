"""Parameter space: the loss around theta*, the iterate dancing on it, and the side-by-side dance.

Top left, the landscape: for the constant and linear models the loss parabola L(theta) with the
current iterate on it and the current minibatch's own parabola; for a relu net training only its
output layer, the exact full-batch loss over two output weights (chosen in the combo boxes)
around theta*, with the recent iterates' shadow. Top right: ||theta_t - theta*|| and
L(theta_t) - L(theta*) of the live run against step (log scale). For a relu net training its
hidden layer too there is no closed-form theta*: "Find local optimum" runs a full-batch descent
from the displayed point in a worker thread and measures against that, labelled as such.

Bottom, "Run dance": the run's config and a ghost with the preset's ``compare`` settings (default
a decaying rate 1/(1 + 0.002 t)) trained side by side on the same data, start and minibatches in a
worker thread (``reluviz.core.compare.DanceRun``), both distances and excess losses drawn live.
Starting at theta* isolates what the minibatch noise does near the optimum (lecture note 2,
Figures 2-3).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core.config import TrainConfig
from reluviz.core.frame import Frame, TrailSpec
from reluviz.core.history_chain import thin_rows
from reluviz.core.landscape import OutputQuadratic, default_output_axes, loss_curve, output_loss_grid, project_trail
from reluviz.core.optimum import (Optimum, distance_to_optimum, excess_objective, objective, optimum,
                                  optimum_too_big)
from reluviz.core.step_cache import StepCache
from reluviz.gui.views.base import LectureView, big_font
from reluviz.gui.views.dance_compare import DanceComparePanel
from reluviz.gui.views.workers import TaskWorker
from reluviz.plots import theme
from reluviz.plots.lecture_dance import ContourPlot, DistancePlot, LossCurvePlot

TRAIL_ROWS = 40          # recent iterates drawn on the landscape
CONTOUR_POINTS = 81      # grid of the 2-D landscape (per axis)


PLACEHOLDER = ("No closed-form θ* when the hidden layer trains: the loss over all the weights is not a single "
               "bowl. “Find local optimum from here” runs a full-batch descent from the displayed point; the "
               "distances at right are then measured to that local optimum.")


class DanceView(LectureView):
    view_name = "dance"
    title = "Dance around θ*"
    explanation = (
        "<b>SGD dances around the optimum.</b> At the full-batch optimum θ* the pulls of all training points "
        "cancel, so full-batch descent would stop there. A minibatch hears only a few points, whose pulls do "
        "not cancel: even standing on θ* SGD steps away. With a constant learning rate the iterate keeps "
        "wandering in a cloud around θ* whose size grows with the rate; a decaying rate shrinks the cloud. "
        "<i>Top:</i> the loss around θ* with the iterate; its distance to θ* and excess loss (log scale). "
        "<i>Bottom:</i> the same data, start and minibatches, run twice: constant against decaying rate.")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._dataset = None
        self._ctx_key = None
        self._opt: Optimum | None = None
        self._quad: OutputQuadratic | None = None
        self._local: tuple[Optimum, int, tuple] | None = None
        self._cache = StepCache()
        self._mode = ""
        self._recent: tuple[np.ndarray, np.ndarray] | None = None
        self._snapshot = None
        self._hw_held: tuple[float, float] | None = None
        self._axes_width = -1
        self._too_big = ""
        self.optimum_worker: TaskWorker | None = None
        self._build()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        bar = QtWidgets.QHBoxLayout()
        self.landscape_caption = QtWidgets.QLabel("")
        self.landscape_caption.setObjectName("landscapeCaption")
        big_font(self.landscape_caption, 3)
        # It changes every frame: wrapped (never widening the view) in room kept for two lines
        # (the plots below do not jump when it wraps)
        self.landscape_caption.setWordWrap(True)
        self.landscape_caption.setMinimumHeight(2 * self.landscape_caption.fontMetrics().lineSpacing() + 2)
        bar.addWidget(self.landscape_caption, 1)
        self.axis_a = QtWidgets.QComboBox()
        self.axis_b = QtWidgets.QComboBox()
        self.axis_a.setObjectName("axisA")
        self.axis_b.setObjectName("axisB")
        self.axes_label = QtWidgets.QLabel("plane of output weights:")
        for w in (self.axes_label, self.axis_a, self.axis_b):
            bar.addWidget(w)
        self.axis_a.currentIndexChanged.connect(self._on_axes)
        self.axis_b.currentIndexChanged.connect(self._on_axes)
        self.local_button = QtWidgets.QPushButton("Find local optimum from here")
        self.local_button.setObjectName("findLocalOptimum")
        self.local_button.setToolTip("Full-batch descent from the displayed parameters (a few seconds at most, "
                                     "in the background); distances are then measured to that local optimum.")
        self.local_button.clicked.connect(self.find_local_optimum)
        self._local_tip = self.local_button.toolTip()
        bar.addWidget(self.local_button)
        top_box = QtWidgets.QWidget()
        tl = QtWidgets.QVBoxLayout(top_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(bar)

        self.top = pg.GraphicsLayoutWidget()
        self.top.setBackground(theme.BACKGROUND)
        self.land_item = self.top.addPlot(row=0, col=0)
        self.contour_item = pg.PlotItem()
        self.dist_item = self.top.addPlot(row=0, col=1)
        self.curve_plot = LossCurvePlot(self.land_item)
        self.contour_plot = ContourPlot(self.contour_item)
        self.distance_plot = DistancePlot(self.dist_item)
        self.placeholder = pg.TextItem(PLACEHOLDER, color=theme.FOREGROUND, anchor=(0.5, 0.5))
        self.placeholder.setFont(_qfont(14))
        self.placeholder.setTextWidth(430)
        self.land_item.addItem(self.placeholder, ignoreBounds=True)  # shown for the full network only
        self.placeholder.hide()
        self.land_item.vb.sigResized.connect(self._fit_placeholder)
        self.top.ci.layout.setColumnStretchFactor(0, 3)
        self.top.ci.layout.setColumnStretchFactor(1, 2)
        self._land_shown = self.land_item
        self.top.setMinimumHeight(210)  # (readable: below this the page scrolls)
        tl.addWidget(self.top, 1)

        self.dance_panel = DanceComparePanel()
        box = self.dance_panel
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.splitter.setObjectName("danceSplitter")
        self.splitter.addWidget(top_box)
        self.splitter.addWidget(box)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([520, 480])
        self.body.addWidget(self.splitter, 1)

    def _fit_placeholder(self) -> None:
        """The sentence in place of the landscape wraps to the plot's width and takes a smaller
        font where it would be taller than the plot (it was cut off in a small window)."""
        vb = self.land_item.vb
        self.placeholder.setTextWidth(max(120.0, min(430.0, vb.width() - 16)))
        for points in range(14, 8, -1):
            self.placeholder.setFont(_qfont(points))
            if self.placeholder.textItem.boundingRect().height() <= vb.height() - 8:
                break

    # ------------------------------------------------------------------ protocol
    def trail_spec(self, config: TrainConfig) -> TrailSpec:
        """Recent iterates for the landscape, and a thinned past for the distance curve."""
        return TrailSpec(200, 200)

    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        cfg, snapshot = frame.config, frame.snapshot
        self._snapshot = snapshot
        self._context(cfg, frame.dataset, snapshot, frame.run_id)
        self.dance_panel.set_context(cfg, frame.dataset, dict(frame.compare), self._new_run)
        self._rows = frame.trail
        self._draw(snapshot)

    # -------------------------------------------------- the "Run dance" panel (see dance_compare.py)
    def overrides(self) -> dict:
        return self.dance_panel.overrides()

    def run_dance(self, start: str | None = None, steps: int | None = None) -> TaskWorker | None:
        return self.dance_panel.run_dance(start, steps)

    def cancel_dance(self, wait: bool = False) -> None:
        self.dance_panel.cancel_dance(wait)

    @property
    def dance_result(self):
        return self.dance_panel.result

    @property
    def dance_worker(self) -> TaskWorker | None:
        return self.dance_panel.worker

    @property
    def progress(self) -> QtWidgets.QProgressBar:
        return self.dance_panel.progress

    # ------------------------------------------------------------------ context (cached per data/config)
    def _context(self, cfg: TrainConfig, dataset, snapshot, run_id: int = 0) -> None:
        layout = snapshot.layout
        mode = "1d" if layout.model in ("constant", "linear") else ("output" if cfg.train == "output" else "full")
        too_big = optimum_too_big(layout, dataset.n, cfg.train)
        if mode == "output" and too_big:
            mode = "big"  # drawn like the full network: no theta*, a sentence instead of the landscape
        params = np.asarray(snapshot.params[0])
        hidden = params[: layout.output_start].tobytes() if mode == "output" else b""
        key = (run_id, id(dataset), mode, layout, cfg.ridge, hidden)
        self._new_run = self._ctx_key is None or self._ctx_key[:2] != key[:2]
        if key == self._ctx_key:
            return
        new_run = self._new_run
        self._ctx_key = key
        self._dataset = dataset
        self._mode = mode
        self._cache.clear()
        self._hw_held = None
        self.curve_plot.reset()
        self.distance_plot.reset()
        if new_run:
            self._local = None
        self._too_big = too_big
        if mode in ("full", "big"):
            self._opt = self._local[0] if self._local and mode == "full" else None
            self._quad = None
        else:
            self._opt = optimum(cfg, dataset, params)
            self._quad = (OutputQuadratic(layout, params, dataset.x_train, dataset.y_train, cfg.ridge)
                          if mode == "output" else None)
        self._set_landscape(mode)
        if mode == "output" and self._axes_width != layout.width:
            self._fill_axes(layout)

    def _set_landscape(self, mode: str) -> None:
        want = self.contour_item if mode == "output" else self.land_item
        if want is not self._land_shown:
            self.top.removeItem(self._land_shown)
            self.top.addItem(want, row=0, col=0)
            self._land_shown = want
        for w in (self.axes_label, self.axis_a, self.axis_b):
            w.setVisible(mode == "output")
        self.local_button.setVisible(mode == "full")
        self.local_button.setEnabled(not (mode == "full" and self._too_big))
        self.local_button.setToolTip(self._too_big if mode == "full" and self._too_big else self._local_tip)
        full = mode in ("full", "big")
        self.placeholder.setText(self._too_big if mode == "big" else PLACEHOLDER)
        if full:
            for item in (self.curve_plot.full_curve, self.curve_plot.batch_curve, self.curve_plot.iterate,
                         self.curve_plot.trail, self.curve_plot.batch_min):
                item.setData([], [])
            self.land_item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.placeholder.setPos(0.5, 0.5)
        self.placeholder.setVisible(full)
        for item in (self.curve_plot.star_line, self.curve_plot.star_label, self.curve_plot.legend):
            item.setVisible(not full)
        for axis in ("left", "bottom"):
            self.land_item.showAxis(axis, not full)
        self.land_item.showGrid(x=not full, y=not full, alpha=0.18)

    def _fill_axes(self, layout) -> None:
        names = [f"v[{j}]" for j in range(layout.width)] + ["c"]
        a0, b0 = default_output_axes(self._quad)
        off = layout.output_start
        for combo, sel in ((self.axis_a, a0 - off), (self.axis_b, b0 - off)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(sel)
            combo.blockSignals(False)
        self._axes_width = layout.width

    def _on_axes(self, _i: int) -> None:
        self._hw_held = None
        self.contour_plot._key = None
        if self._snapshot is not None and self._mode == "output":
            self._draw(self._snapshot)

    def output_axes(self) -> tuple[int, int] | None:
        """Flat indices of the two output weights on the contour plot (None if not shown)."""
        if self._mode != "output" or self._quad is None:
            return None
        off = self._quad.layout.output_start
        a, b = self.axis_a.currentIndex(), self.axis_b.currentIndex()
        if a == b:
            b = (a + 1) % (self._quad.layout.width + 1)
        return off + a, off + b

    # ------------------------------------------------------------------ drawing
    def _values(self, rows: np.ndarray) -> np.ndarray:
        """(K, 2): distance to theta* and excess loss of parameter rows (through the core)."""
        opt, cfg, ds = self._opt, self.config, self._dataset
        dist = distance_to_optimum(rows, opt)
        if self._quad is not None:
            try:
                exc = self._quad.value(rows) - opt.objective
            except ValueError:  # rows with other hidden weights (train setting changed mid-run)
                exc = excess_objective(cfg, ds, rows, opt)
        else:
            exc = excess_objective(cfg, ds, rows, opt)
        return np.stack([dist, exc], axis=1)

    def _draw(self, snap) -> None:
        mode = self._mode
        steps, rows = self._rows.steps, self._rows.params
        if mode in ("full", "big") and (self._local is None or mode == "big"):
            steps, rows = steps[-TRAIL_ROWS:], rows[-TRAIL_ROWS:]  # no theta*: only the recent iterates
        elif mode == "full":  # each row costs a pass over the data (the excess loss): fewer of them
            keep = thin_rows(steps, snap.step, 60, 150)
            steps, rows = steps[keep], rows[keep]
        step = snap.step
        cur = np.asarray(snap.params[0])
        if self._opt is not None and len(steps):
            vals = self._cache.get(steps, rows, self._values)
            local = mode == "full"
            label = self._opt.label.replace("theta*", "θ*") + (f", from step {self._local[1]}" if local and self._local else "")
            note, at = f"θ*: {label}", 0.0
            d = vals[:, 0]
            if mode == "output" and len(d) > 20 and d[0] > 0 and d[-1] > 0.9 * d[0] and vals[-1, 1] < 0.9 * vals[0, 1]:
                # the bad-conditioning case: theta* sits far along directions the loss barely sees
                note = (note + "\nThe distance hardly moves: θ* lies far out along\ndirections the loss barely "
                        "sees, while the loss falls.\n“Run dance” from θ* (below) shows the dance.")
                at = 0.3
            self.distance_plot.show(steps, vals[:, 0], vals[:, 1], step, note=note, note_at=at)
            d_now = float(distance_to_optimum(cur, self._opt))
            e_now = float(self._values(cur[None, :])[0, 1])
            caption = f"step {step}:  ‖θ − θ*‖ = {d_now:.3g},  L(θ) − L(θ*) = {e_now:.3g}"
        elif mode == "big" or (mode == "full" and self._too_big):
            self.distance_plot.message("θ* is too costly to find\nfor a network this size", step)
            caption = f"step {step}: " + ("output layer of a wide network" if mode == "big" else
                                          "full network (hidden layer trains)")
        else:
            self.distance_plot.message("θ* not known yet:\npress “Find local optimum from here”", step)
            caption = f"step {step}: full network (hidden layer trains)"
        recent = rows[-TRAIL_ROWS:] if len(rows) else rows
        if mode == "1d":
            caption += self._draw_curve(snap, recent)
        self.landscape_caption.setText(caption)
        if mode == "output":
            self._draw_contour(snap, recent)

    def _draw_curve(self, snap, recent: np.ndarray) -> str:
        """Draw the parabola; returns words for the caption (theta, theta*, the minibatch's pull)."""
        cfg, ds, layout = self.config, self._dataset, snap.layout
        x, y, lam = ds.x_train, ds.y_train, cfg.ridge
        theta = float(snap.params[0, 0])
        batch = np.asarray(snap.batch[0])
        if len(batch) >= ds.n and cfg.batch_size == 0:
            batch = None
        around = [theta] + [float(t) for t in recent[:, 0]]
        probe = loss_curve(layout, x, y, batch=batch, around=around, points=3, ridge=lam)
        x0, x1 = self.curve_plot.xr.update(probe.theta[0], probe.theta[-1])
        curve = loss_curve(layout, x, y, batch=batch, theta_range=(x0, x1), points=301, ridge=lam)
        f_now = float(objective(layout, snap.params[0], x, y, lam))
        trail_f = np.asarray(objective(layout, recent, x, y, lam)) if len(recent) else np.empty(0)
        name = "θ (the constant prediction)" if layout.model == "constant" else "θ (the slope of y = θx)"
        self.curve_plot.set_param_label(name, lam)
        b = ""
        if batch is not None and curve.batch_theta_star is not None:
            b = f";  this minibatch pulls toward {curve.batch_theta_star:.3g}"
        self.curve_plot.show(curve.theta, curve.loss, curve.theta_star, curve.loss_star, curve.batch_loss,
                             curve.batch_theta_star, (theta, f_now), recent[:, 0] if len(recent) else np.empty(0),
                             trail_f, (probe.theta[0], probe.theta[-1]))
        return f"   ·   θ = {theta:.4g},  θ* = {curve.theta_star:.4g}{b}"

    def _draw_contour(self, snap, recent: np.ndarray) -> None:
        axes = self.output_axes()
        quad, opt = self._quad, self._opt
        if axes is None or quad is None or opt is None:
            return
        pts = np.vstack([recent, np.asarray(snap.params[0])[None, :]]) if len(recent) else np.asarray(snap.params)
        probe = output_loss_grid(quad, opt.params, axes, points=2, trail=pts)
        need = (0.5 * (probe.a[-1] - probe.a[0]), 0.5 * (probe.b[-1] - probe.b[0]))
        held = self._hw_held
        if held is None or any(n > h or n < 0.3 * h for n, h in zip(need, held)):
            held = (need[0] * 1.15, need[1] * 1.15)
            self._hw_held = held
        key = (axes, held, id(opt))
        if self.contour_plot.grid_key() != key:
            grid = output_loss_grid(quad, opt.params, axes, points=CONTOUR_POINTS, half_width=held)
            self.contour_plot.set_grid(key, grid.a, grid.b, grid.loss - opt.objective,
                                       (opt.params[axes[0]], opt.params[axes[1]]), grid.names)
        trail = project_trail(pts, axes)
        cur = trail[-1]
        self.contour_plot.set_iterates(trail, (float(cur[0]), float(cur[1])),
                                       note="plane through θ*;\nother weights at θ*")

    # ------------------------------------------------------------------ local optimum (full network)
    def find_local_optimum(self) -> None:
        snap, cfg, ds = self._snapshot, self.config, self._dataset
        if snap is None or cfg is None or ds is None or self._mode != "full":
            return
        if self._too_big:
            self.landscape_caption.setText(self._too_big)
            return
        if self.optimum_worker is not None and self.optimum_worker.isRunning():
            return
        params = np.array(snap.params[0])
        step = snap.step
        key = self._ctx_key

        def task(progress, should_stop, partial):
            return optimum(cfg, ds, params, max_iter=5000, time_budget=3.0), step, key

        self.local_button.setEnabled(False)
        self.local_button.setText("Descending …")
        w = TaskWorker(task, self)
        w.finished_ok.connect(self._on_local)
        w.failed.connect(lambda msg: self._on_local_failed(msg))
        self.optimum_worker = w
        w.start()

    def _on_local(self, result) -> None:
        self.local_button.setEnabled(True)
        self.local_button.setText("Find local optimum from here")
        opt, step, key = result
        if key != self._ctx_key:
            return
        self._local = (opt, step, key)
        self._opt = opt
        self._cache.clear()
        self.distance_plot.reset()
        if self._snapshot is not None:
            self._draw(self._snapshot)

    def _on_local_failed(self, msg: str) -> None:
        self.local_button.setEnabled(True)
        self.local_button.setText("Find local optimum from here")
        self.landscape_caption.setText(f"Local optimum failed: {msg}")

    def shutdown(self) -> None:
        self.dance_panel.shutdown()
        if self.optimum_worker is not None:
            self.optimum_worker.cancel_and_wait()


def _qfont(points: int) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPointSize(points)
    return f
