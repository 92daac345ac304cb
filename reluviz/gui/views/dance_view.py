"""Parameter space: the loss around theta*, the iterates dancing on it, and the side-by-side dance.

The drawing is ``reluviz.plots.dance_canvas.DanceCanvas`` (the exporter draws the same canvas);
this widget adds the controls: the plane's two output weights for a relu net training its output
layer, "Find local optimum from here" when the hidden layer trains (a full-batch descent from the
displayed point in a worker thread, distances then measured to it, labelled as such), and the
"Run dance" panel (``DanceComparePanel``: the run's config and a ghost with the preset's
``compare`` settings, default a decaying rate, trained side by side on the same data, start and
minibatches in a worker thread). Starting at theta* isolates what the minibatch noise does near
the optimum (lecture note 2, Figures 2-3).
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtWidgets

from reluviz.core.config import TrainConfig
from reluviz.core.frame import Frame, TrailSpec
from reluviz.core.optimum import optimum
from reluviz.gui.views.base import LectureView
from reluviz.gui.views.dance_compare import DanceComparePanel
from reluviz.gui.views.workers import TaskWorker
from reluviz.plots.dance_canvas import TRAIL, DanceCanvas


class DanceView(LectureView):
    view_name = "dance"
    title = "Dance around θ*"
    explanation = (
        "<b>SGD dances around the optimum.</b> At the full-batch optimum θ* the pulls of all training points "
        "cancel, so full-batch descent would stop there. A minibatch hears only a few points, whose pulls do "
        "not cancel: even standing on θ* SGD steps away. With a constant learning rate the iterate keeps "
        "wandering in a cloud around θ* whose size grows with the rate; a decaying rate shrinks the cloud. "
        "Full-batch GD with a rate near 2/curvature does something else: it overshoots θ* every step and "
        "zigzags across it, with no randomness. <i>Top:</i> the loss around θ* with the run (red) and its "
        "ghost (blue); distances to θ* and excess loss (log scale). <i>Bottom:</i> “Run dance”.")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.optimum_worker: TaskWorker | None = None
        self._filled_for = None
        bar = QtWidgets.QHBoxLayout()
        self.axis_a = QtWidgets.QComboBox()
        self.axis_b = QtWidgets.QComboBox()
        self.axis_a.setObjectName("axisA")
        self.axis_b.setObjectName("axisB")
        self.axes_label = QtWidgets.QLabel("plane of output weights:")
        bar.addStretch(1)
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
        self.bar_box = QtWidgets.QWidget()
        self.bar_box.setLayout(bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self.body.addWidget(self.bar_box)
        self.canvas = DanceCanvas(with_dance=True)
        self.canvas.setMinimumHeight(560)  # (two rows of plots, each readable, and the tab still fits 1280x720)
        self.dance_panel = DanceComparePanel(self.canvas.show_dance)
        self.body.addWidget(self.dance_panel)
        self.body.addWidget(self.canvas, 1)
        # the canvas's parts, by the names the window and the tests use
        self.curve_plot = self.canvas.curve_plot
        self.contour_plot = self.canvas.contour_plot
        self.distance_plot = self.canvas.distance_plot
        self.placeholder = self.canvas.placeholder
        self.contour_item = self.canvas.contour_item
        self.land_item = self.canvas.land_item
        self.landscape_caption = self.canvas.caption
        self._update_controls()

    # ------------------------------------------------------------------ protocol
    def trail_spec(self, config: TrainConfig) -> TrailSpec:
        """Recent iterates for the landscape (the ghost's too), and a thinned past for the distances."""
        return TRAIL

    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        self.canvas.show_frame(frame)
        self.dance_panel.set_context(frame.config, frame.dataset, dict(frame.compare), self.canvas.new_run)
        self._update_controls()

    @property
    def _mode(self) -> str:
        return self.canvas.mode

    @property
    def _opt(self):
        return self.canvas.opt

    @property
    def _local(self):
        return self.canvas.local

    def output_axes(self) -> tuple[int, int] | None:
        return self.canvas.output_axes()

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

    def dance_for_export(self):
        """The dance result shown, if it was computed for the run's current settings (else None)."""
        res = self.dance_panel.result
        return None if res is None or self.dance_panel.is_stale() else res

    # ------------------------------------------------------------------ controls
    def _update_controls(self) -> None:
        c = self.canvas
        mode = c.mode
        for w in (self.axes_label, self.axis_a, self.axis_b):
            w.setVisible(mode == "output")
        self.local_button.setVisible(mode == "full")
        self.local_button.setEnabled(not (mode == "full" and c.too_big))
        self.local_button.setToolTip(c.too_big if mode == "full" and c.too_big else self._local_tip)
        self.bar_box.setVisible(mode in ("output", "full"))
        if mode == "output" and c.quad is not None:
            layout = c.quad.layout
            if self._filled_for != layout.width:
                self._fill_axes(layout)

    def _fill_axes(self, layout) -> None:
        names = [f"v[{j}]" for j in range(layout.width)] + ["c"]
        a0, b0 = self.canvas.output_axes()
        off = layout.output_start
        for combo, sel in ((self.axis_a, a0 - off), (self.axis_b, b0 - off)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(sel)
            combo.blockSignals(False)
        self._filled_for = layout.width

    def _on_axes(self, _i: int) -> None:
        quad = self.canvas.quad
        if quad is None or self.canvas.mode != "output":
            return
        off = quad.out.start
        self.canvas.set_axes(off + self.axis_a.currentIndex(), off + self.axis_b.currentIndex())

    # ------------------------------------------------------------------ local optimum (full network)
    def find_local_optimum(self) -> None:
        frame, c = self.frame, self.canvas
        if frame is None or c.mode != "full":
            return
        if c.too_big:
            c.set_caption(c.too_big)
            return
        if self.optimum_worker is not None and self.optimum_worker.isRunning():
            return
        cfg, ds = frame.config, frame.dataset
        params = np.array(frame.snapshot.params[0])
        step = frame.snapshot.step
        key = c._ctx_key

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
        if key != self.canvas._ctx_key:
            return
        self.canvas.set_local_optimum(opt, step)

    def _on_local_failed(self, msg: str) -> None:
        self.local_button.setEnabled(True)
        self.local_button.setText("Find local optimum from here")
        self.canvas.set_caption(f"Local optimum failed: {msg}")

    def shutdown(self) -> None:
        self.dance_panel.shutdown()
        if self.optimum_worker is not None:
            self.optimum_worker.cancel_and_wait()
