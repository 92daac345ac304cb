"""Seed bands: many seeds of the current settings per optimizer, median and interquartile band.

"Run bands" trains R seeds (default 30) of the current config for each checked optimizer in a
worker thread (``reluviz.core.bands.seed_bands``: all seeds of one optimizer train at once as one
vectorised trainer, with the same data, initialisations and minibatch order for every optimizer),
with a progress bar and Cancel, and draws the median and the 25-75% band of train and validation
loss against step on log axes (settings are compared on validation data, as the notes teach; the
test set stays for the final check). "Notebook sweep" runs the course notebook's whole experiment
(``reluviz.core.bands.sweep``: widths 10/20/40 x sgd/momentum/adam x 30 seeds x 30,000 steps on
the ``notebook`` preset, over both cores in worker processes) and shows one column per width and
the wall time it took.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from reluviz.core.bands import (BAND_OPTIMIZERS, NOTEBOOK_MINUTES, SWEEP_SEEDS, SWEEP_STEPS, SWEEP_WIDTHS, BandsResult,
                                SweepResult, sweep_task)
from reluviz.core.frame import Frame
from reluviz.gui.views.base import LectureView, big_font, settings_changes, stale_note
from reluviz.gui.views.workers import TaskSlot, TaskWorker
from reluviz.plots.bands_canvas import BandsCanvas, SweepCanvas, bands_job


class BandsView(LectureView):
    view_name = "bands"
    title = "Seed bands"
    explanation = (
        "<b>One run is one draw of the dice.</b> The initialisation and the order of the minibatches are "
        "random, so a single loss curve can make one optimizer look better than it is. Train many seeds with "
        "the same data and show, at every step, the median and the middle half of the runs (25th to 75th "
        "percentile). Every optimizer gets the same seeds: same initialisations, same minibatches. The course "
        "notebook did this for widths 10, 20 and 40 with SGD, momentum and Adam over 30 seeds and waited "
        "35 minutes; here all seeds of a setting train at once as one vectorised run. Optimizers are compared "
        "on the <i>validation</i> loss (a sample the runs never trained on): choosing by the test loss would "
        "use up the test set, which the notes keep for one final check.")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.result: BandsResult | SweepResult | None = None
        self._bands_for: object | None = None  # the settings the bands shown were computed for
        self._done_text = ""
        self.last_seconds = 0.0
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("seeds:"))
        self.seeds_spin = QtWidgets.QSpinBox()
        self.seeds_spin.setObjectName("bandSeeds")
        self.seeds_spin.setRange(1, 500)
        self.seeds_spin.setValue(30)
        row.addWidget(self.seeds_spin)
        row.addWidget(QtWidgets.QLabel("steps:"))
        self.steps_spin = QtWidgets.QSpinBox()
        self.steps_spin.setObjectName("bandSteps")
        self.steps_spin.setRange(10, 1_000_000)
        self.steps_spin.setSingleStep(1000)
        self.steps_spin.setValue(30000)
        row.addWidget(self.steps_spin)
        self.opt_boxes: dict[str, QtWidgets.QCheckBox] = {}
        for opt in BAND_OPTIMIZERS:
            box = QtWidgets.QCheckBox(opt)
            box.setObjectName(f"band_{opt}")
            box.setChecked(True)
            self.opt_boxes[opt] = box
            row.addWidget(box)
        self.run_button = QtWidgets.QPushButton("Run bands")
        self.run_button.setObjectName("runBands")
        self.run_button.clicked.connect(lambda: self.run_bands())
        self.sweep_button = QtWidgets.QPushButton("Notebook sweep")
        self.sweep_button.setObjectName("runSweep")
        self.sweep_button.setToolTip(f"The course notebook's experiment: widths 10/20/40 × sgd/momentum/adam × "
                                     f"{SWEEP_SEEDS} seeds × {SWEEP_STEPS:,} steps on the notebook preset, "
                                     "on both cores (the notebook took 35.2 minutes).")
        self.sweep_button.clicked.connect(lambda: self.run_sweep())
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelBands")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("bandProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.tasks = TaskSlot(self, (self.run_button, self.sweep_button), self.cancel_button, self.progress)
        for w in (self.run_button, self.sweep_button, self.cancel_button):
            row.addWidget(w)
        row.addWidget(self.progress, 1)
        self.body.addLayout(row)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("bandStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(QtCore.Qt.TextFormat.RichText)
        big_font(self.status, 2)
        self.body.addWidget(self.status)
        self.stack = QtWidgets.QStackedWidget()
        # the drawing: the canvases the exporter draws too (reluviz.plots.bands_canvas)
        self.canvas = self.bands_page = BandsCanvas()
        self.train_plot, self.val_plot = self.canvas.train_plot, self.canvas.val_plot
        self.sweep_page = SweepCanvas()
        self.sweep_plots = self.sweep_page.plots
        self.stack.addWidget(self.bands_page)
        self.stack.addWidget(self.sweep_page)
        self.body.addWidget(self.stack, 1)
        self._describe()
        self._show_empty(True)
        for spin in (self.steps_spin, self.seeds_spin):
            spin.valueChanged.connect(lambda _v: self._show_empty(self._bands_for is None and not self.busy()))

    def _show_empty(self, empty: bool) -> None:
        """Before any band: both plots say what "Run bands" will draw, over its steps (not -0.4..0.4)."""
        if not empty or self.stack.currentWidget() is not self.bands_page:
            return
        text = (f"Press “Run bands”:\n{self.seeds_spin.value()} seeds per checked optimizer,\n"
                f"{self.steps_spin.value():,} steps each;\nhere their median and middle half.")
        self.canvas.show_empty(text, self.steps_spin.value())

    # ------------------------------------------------------------------ protocol
    def show_frame(self, frame: Frame) -> None:
        old = self.config
        self.frame = frame
        cfg = frame.config
        if cfg is not old and (old is None or cfg.to_dict() != old.to_dict()):
            if old is None or old.steps != cfg.steps:
                self.steps_spin.setValue(max(10, min(cfg.steps or 30000, 1_000_000)))
            if self._bands_for is not None:
                self._label_bands()
            elif not self.tasks.running():
                self._describe()

    #: settings a seed-band run does not take from the run (its own steps; each optimizer replaces the run's)
    BAND_OWN = ("steps", "optimizer")

    def _label_bands(self) -> None:
        """The bands shown were computed for the settings in ``_bands_for``: say so when they changed."""
        changes = settings_changes(self._bands_for, self.config, ignore=self.BAND_OWN)
        if changes:
            self.status.setText(stale_note("The bands below", changes, "Run bands"))
        elif self._done_text:
            self.status.setText(self._done_text)

    def _describe(self) -> None:
        cfg = self.config
        if cfg is None:
            self.status.setText("Run bands trains many seeds of the current settings per optimizer.")
            return
        shape = ((f", depth {cfg.depth}" if cfg.depth > 1 else "")
                 + (f", {cfg.activation}" if cfg.activation != "relu" else ""))
        model = f"relu width {cfg.width}{shape}, train {cfg.train}" if cfg.model == "relu" else f"{cfg.model} model"
        batch = "full batch" if cfg.batch_size == 0 else f"batch {cfg.batch_size}"
        self.status.setText(f"Current settings: {cfg.target} data (n = {cfg.n_train}), {model}, lr {cfg.lr:g}, "
                            f"{batch}, {cfg.schedule} schedule. Each checked optimizer replaces the run's optimizer.")

    # ------------------------------------------------------------------ running
    def optimizers(self) -> list[str]:
        return [o for o, box in self.opt_boxes.items() if box.isChecked()]

    def busy(self) -> bool:
        return self.tasks.running()

    @property
    def worker(self) -> TaskWorker | None:
        return self.tasks.worker

    def _start(self, task, on_done, on_partial=None) -> TaskWorker:
        return self.tasks.start(task, on_done, self._on_failed, on_partial)

    def run_bands(self, seeds: int | None = None, steps: int | None = None,
                  optimizers: list[str] | None = None) -> TaskWorker | None:
        """Start the seed bands (arguments default to the controls); returns the worker."""
        cfg = self.config
        if cfg is None:
            self.status.setText("No run to take the settings from yet.")
            return None
        opts = optimizers if optimizers is not None else self.optimizers()
        if not opts:
            self.status.setText("Check at least one optimizer.")
            return None
        seeds = int(seeds or self.seeds_spin.value())
        steps = int(steps or self.steps_spin.value())
        self.stack.setCurrentWidget(self.bands_page)
        self.canvas.clear_bands()
        compare = dict(self.compare)
        also = " and the ghost's settings" if compare else ""
        self.status.setText(f"Training {seeds} seeds × {steps:,} steps for {', '.join(opts)}{also} …")
        self._bands_for, self._done_text = cfg, ""
        self._job = (seeds, steps, opts)
        self.canvas.compare = compare
        return self._start(bands_job(cfg, opts, seeds, steps, compare), self._on_bands_done, self._on_bands_partial)

    def run_sweep(self, seeds: int = SWEEP_SEEDS, steps: int = SWEEP_STEPS, processes: int = 2) -> TaskWorker:
        """Start the notebook sweep (widths 10/20/40 x sgd/momentum/adam); returns the worker."""
        self.stack.setCurrentWidget(self.sweep_page)
        self._bands_for, self._done_text = None, ""  # (the sweep is the notebook's, whatever the settings)
        self.sweep_page.clear_bands()
        self.status.setText(f"Notebook sweep: 3 widths × 3 optimizers × {seeds} seeds × {steps:,} steps on "
                            f"{processes} processes …")
        return self._start(sweep_task(seeds, steps, processes), self._on_sweep_done)

    def cancel(self, wait: bool = False) -> None:
        self.tasks.cancel(wait)

    def shutdown(self) -> None:
        self.tasks.shutdown()

    # ------------------------------------------------------------------ results (GUI thread)
    def _on_failed(self, msg: str) -> None:
        self.tasks.finish()
        self.status.setText(f"Stopped by an error: {msg}")

    def _draw_bands(self, res: BandsResult) -> None:
        self.canvas.show_bands(res)

    def _on_bands_partial(self, res: BandsResult) -> None:
        if self.tasks.is_current(self.sender()):
            self._draw_bands(res)

    def _on_bands_done(self, res: BandsResult) -> None:
        if not self.tasks.is_current(self.sender()):
            return
        self.result = res
        self.last_seconds = self.worker.seconds
        self._draw_bands(res)
        self.tasks.finish()
        seeds, steps, opts = self._job
        finals = "; ".join(f"{o}: median validation MSE {r.band('val').median[-1]:.3g}" for o, r in res.runs.items())
        if res.complete:
            self.progress.setValue(1000)
            also = " and the ghost's settings" if "ghost" in res.runs else ""
            self._done_text = (f"{seeds} seeds × {steps:,} steps × {len(opts)} optimizers{also} in "
                               f"{self.last_seconds:.1f} s. Lines: median; bands: 25th–75th percentile. {finals}")
        else:
            self._done_text = f"Cancelled after {self.last_seconds:.1f} s; showing what was done. {finals}"
        self.status.setText(self._done_text)
        self._label_bands()

    def _on_sweep_done(self, res: SweepResult) -> None:
        if not self.tasks.is_current(self.sender()):
            return
        self.result = res
        self.last_seconds = secs = self.worker.seconds
        self.tasks.finish()
        self.sweep_page.show_sweep(res)
        what = f"{len(res.runs)} settings × {res.seeds} seeds × {res.steps:,} steps"
        if res.complete:
            self.progress.setValue(1000)
            self.status.setText(f"Notebook sweep ({what}) took {secs:.0f} s = {secs / 60:.1f} min "
                                f"(the course notebook: {NOTEBOOK_MINUTES} min). Lines: median over seeds; "
                                "bands: 25th–75th percentile.")
        else:
            self.status.setText(f"Sweep cancelled after {secs:.0f} s ({what} started); finished parts shown.")
