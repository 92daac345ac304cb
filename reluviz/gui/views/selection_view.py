"""Model selection (notes, Lecture 2, Figure 3.1): sweep one hyperparameter, fit each setting on the
training set, choose by the validation loss, report the chosen setting's test error once.

"Run sweep" trains the current settings once per value of the hyperparameter in a worker thread
(``reluviz.core.selection``: the ridge lambdas side by side as one vectorised trainer, widths one
after another, training steps as one run evaluated along the way: early stopping), with a progress
bar and Cancel, and draws train and validation MSE against the hyperparameter (test and the error
to the true function on request) with the validation's choice marked. "Save..." writes the table
(.csv) or the plot (.png, .svg). Nothing here changes the run on the Fit tab.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from reluviz.core.config import ConfigError
from reluviz.core.frame import Frame
from reluviz.core.selection import (PARAMETER_LABELS, PARAMETERS, SelectionResult, check_sweep, default_values,
                                    format_value, selection_task)
from reluviz.gui.controls import LrSpinBox
from reluviz.gui.views.base import LectureView, big_font
from reluviz.gui.views.workers import TaskSlot, TaskWorker
from reluviz.plots import theme
from reluviz.plots.selection_plot import SelectionPlot

MAX_SEEDS = 50
MAX_POINTS = 60
MAX_STEPS = 10_000_000

TIPS = {
    "param": "The hyperparameter to choose. ridge λ: the regulariser's weight (a log grid); width H: the number "
             "of hidden units; training steps: how long to train (early stopping).",
    "range": "The settings tried: from, to, and how many (log-spaced).",
    "steps": "Training steps of each setting (a training-steps sweep trains once, to its last setting).",
    "seeds": "Initialisations per setting: each setting's losses are the mean over this many runs (smoother "
             "curves, a fairer choice).",
    "test": "Draw the test loss of every setting too. In practice you would not compute it: the notes use the "
            "test set once, for the setting validation chose (reported below the plot).",
    "true": "Draw the error to the noiseless true function: what a student cannot measure in real life.",
}


class SelectionView(LectureView):
    view_name = "selection"
    title = "Model selection"
    explanation = (
        "<b>Parameters are fit on training data; hyperparameters are chosen on validation data.</b> "
        "A hyperparameter (the ridge λ, the width, how long to train) cannot be fit by the optimizer: the "
        "training loss always prefers λ = 0, the widest net, the longest run. So each setting is trained on "
        "the training set, and the one with the lowest loss on the <i>validation</i> set wins (notes, "
        "Figure 3.1, eqs. 3.2–3.3). The test set is touched once, to report the chosen setting's error. "
        "Too little capacity underfits, too much overfits: the validation curve is U-shaped.")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.result: SelectionResult | None = None
        self.last_seconds = 0.0
        self._job: tuple | None = None
        self._grid_param = ""
        self._configured = False  # (a preset chose the grid: the first frame keeps it)
        self._build()
        self._set_grid("ridge")

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("sweep:"))
        self.param_combo = QtWidgets.QComboBox()
        self.param_combo.setObjectName("selectionParam")
        for key in PARAMETERS:
            self.param_combo.addItem(PARAMETER_LABELS[key], key)
        self.param_combo.setToolTip(TIPS["param"])
        self.param_combo.currentIndexChanged.connect(lambda _i: self._set_grid(self.param()))
        self.param_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.param_combo.setMinimumContentsLength(12)  # (the view reflows to 1280x720's tab width)
        row.addWidget(self.param_combo)
        row.addWidget(QtWidgets.QLabel("from"))
        self.lo_spin = self._spin("selectionFrom", TIPS["range"])
        row.addWidget(self.lo_spin)
        row.addWidget(QtWidgets.QLabel("to"))
        self.hi_spin = self._spin("selectionTo", TIPS["range"])
        row.addWidget(self.hi_spin)
        self.points_spin = QtWidgets.QSpinBox()
        self.points_spin.setObjectName("selectionPoints")
        self.points_spin.setRange(2, MAX_POINTS)
        self.points_spin.setSuffix(" settings")
        self.points_spin.setToolTip(TIPS["range"])
        row.addWidget(self.points_spin)
        row.addSpacing(10)
        self.steps_label = QtWidgets.QLabel("steps each:")
        row.addWidget(self.steps_label)
        self.steps_spin = QtWidgets.QSpinBox()
        self.steps_spin.setObjectName("selectionSteps")
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setSingleStep(1000)
        self.steps_spin.setValue(20000)
        self.steps_spin.setToolTip(TIPS["steps"])
        row.addWidget(self.steps_spin)
        row.addWidget(QtWidgets.QLabel("seeds:"))
        self.seeds_spin = QtWidgets.QSpinBox()
        self.seeds_spin.setObjectName("selectionSeeds")
        self.seeds_spin.setRange(1, MAX_SEEDS)
        self.seeds_spin.setValue(3)
        self.seeds_spin.setToolTip(TIPS["seeds"])
        row.addWidget(self.seeds_spin)
        row.addStretch(1)
        self.body.addLayout(row)
        row = QtWidgets.QHBoxLayout()  # (a second row: one row was wider than a tab at 1280x720)
        self.run_button = QtWidgets.QPushButton("Run sweep")
        self.run_button.setObjectName("runSelection")
        self.run_button.setToolTip("Train every setting on the training set (in the background) and choose by "
                                   "validation loss.")
        self.run_button.clicked.connect(lambda: self.run_sweep())
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelSelection")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.cancel())
        self.save_button = QtWidgets.QPushButton("Save...")
        self.save_button.setObjectName("saveSelection")
        self.save_button.setToolTip("Write the sweep's table (.csv) or its plot (.png, .svg).")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_dialog)
        for w in (self.run_button, self.cancel_button, self.save_button):
            row.addWidget(w)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("selectionProgress")
        self.progress.setRange(0, 1000)
        row.addWidget(self.progress, 1)
        self.tasks = TaskSlot(self, (self.run_button,), self.cancel_button, self.progress)
        shown = row
        shown.addSpacing(10)
        shown.addWidget(QtWidgets.QLabel("also draw:"))
        self.test_box = QtWidgets.QCheckBox("test loss")
        self.test_box.setObjectName("selectionShowTest")
        self.test_box.setToolTip(TIPS["test"])
        self.true_box = QtWidgets.QCheckBox("true-function error")
        self.true_box.setObjectName("selectionShowTrue")
        self.true_box.setToolTip(TIPS["true"])
        for box, key in ((self.test_box, "test"), (self.true_box, "true")):
            box.toggled.connect(lambda on, k=key: self.plot.set_visible(k, on))
            shown.addWidget(box)
        self.body.addLayout(shown)

        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("selectionStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(QtCore.Qt.TextFormat.RichText)
        big_font(self.status, 2)
        self.body.addWidget(self.status)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(theme.BACKGROUND)
        self.plot = SelectionPlot(self.plots.addPlot(row=0, col=0))
        self.body.addWidget(self.plots, 1)

    @staticmethod
    def _spin(name: str, tip: str) -> QtWidgets.QDoubleSpinBox:
        box = LrSpinBox()  # (shows 1e-06 and 30000, not 0.00000100)
        box.setDecimals(8)
        box.setObjectName(name)
        box.setToolTip(tip)
        box.setKeyboardTracking(False)
        return box

    # ------------------------------------------------------------------ the grid
    def param(self) -> str:
        return self.param_combo.currentData()

    def _set_grid(self, param: str, values: np.ndarray | None = None) -> None:
        """The controls for ``param``'s grid (its default for the current settings when ``values`` is None)."""
        self._grid_param = param
        if self.param_combo.currentData() != param:
            self.param_combo.blockSignals(True)
            self.param_combo.setCurrentIndex(self.param_combo.findData(param))
            self.param_combo.blockSignals(False)
        if values is None:
            values = default_values(param, self.config) if self.config is not None else \
                default_values(param, _NoConfig())
        log = param == "ridge"
        for box in (self.lo_spin, self.hi_spin):
            box.setRange(1e-8 if log else 1, 1e4 if log else MAX_STEPS)
            box.setSingleStep(1.0)
        self.lo_spin.setValue(float(np.min(values)))
        self.hi_spin.setValue(float(np.max(values)))
        self.points_spin.setValue(min(len(values), MAX_POINTS))
        steps_sweep = param == "steps"
        self.steps_spin.setEnabled(not steps_sweep)
        self.steps_label.setEnabled(not steps_sweep)

    def values(self) -> np.ndarray:
        """The settings the controls describe: log-spaced from..to (whole numbers for widths and steps)."""
        lo, hi, n = self.lo_spin.value(), self.hi_spin.value(), self.points_spin.value()
        lo, hi = min(lo, hi), max(lo, hi)
        grid = np.logspace(math.log10(lo), math.log10(hi), n)
        if self.param() == "ridge":
            return np.array([float(f"{v:.3g}") for v in grid])
        return np.unique(np.round(grid))

    def configure(self, options: dict) -> None:
        """A preset's choices: ``param``, ``values`` (or ``from``/``to``/``points``), ``steps``, ``seeds``."""
        param = str(options.get("param", self.param()))
        if param not in PARAMETERS:
            return
        values = options.get("values")
        if values is None and "from" in options:
            values = np.logspace(math.log10(float(options["from"])), math.log10(float(options["to"])),
                                 int(options.get("points", 13)))
        self._set_grid(param, np.asarray(values, dtype=float) if values is not None else None)
        if "steps" in options:
            self.steps_spin.setValue(int(options["steps"]))
        if "seeds" in options:
            self.seeds_spin.setValue(int(options["seeds"]))
        self._configured = True

    # ------------------------------------------------------------------ protocol
    def show_frame(self, frame: Frame) -> None:
        old = self.config
        self.frame = frame
        cfg = frame.config
        if old is None or cfg.to_dict() != old.to_dict():
            if (old is None and not self._configured) or (old is not None and old.steps != cfg.steps):
                self.steps_spin.setValue(max(1, min(cfg.steps, MAX_STEPS)))
                if self.param() == "steps" and not self.busy():
                    self._set_grid("steps")
            if not self.busy():
                self._describe()

    def _describe(self) -> None:
        cfg = self.config
        if cfg is None:
            return
        stale = " (the settings changed since: run it again to update)" if self.result is not None else ""
        model = f"relu width {cfg.width}" if cfg.model == "relu" else f"{cfg.model} model"
        data = f"{cfg.target} data" if cfg.target != "csv" else "your CSV data"
        text = (f"Current settings: {data} ({cfg.n_train} training, {cfg.n_val} validation, {cfg.n_test} test "
                f"points, noise {cfg.noise:g}), {model}, {cfg.optimizer} lr {cfg.lr:g}, ridge λ {cfg.ridge:g}.")
        if self.result is None:
            self.status.setText(text + " Each setting of the sweep replaces one of these.")
        else:
            self.status.setText(self._result_text(self.result) + stale)

    # ------------------------------------------------------------------ running
    def busy(self) -> bool:
        return self.tasks.running()

    def run_sweep(self, param: str | None = None, values=None, steps: int | None = None,
                  seeds: int | None = None) -> TaskWorker | None:
        """Start the sweep (arguments default to the controls); returns the worker, or None (and says
        why) when the sweep cannot run with the current settings."""
        cfg = self.config
        if cfg is None:
            self.status.setText("No run to take the settings from yet.")
            return None
        param = param or self.param()
        values = self.values() if values is None else np.asarray(values, dtype=float)
        steps = int(steps or self.steps_spin.value())
        seeds = int(seeds or self.seeds_spin.value())
        try:
            values = check_sweep(cfg, param, values, steps, seeds)
        except ConfigError as exc:
            self.status.setText(f"<b>Cannot run this sweep:</b> {exc}")
            return None
        self.cancel(wait=True)
        self.plot.clear()
        self.result = None
        self.save_button.setEnabled(False)
        what = f"{len(values)} settings of {PARAMETER_LABELS[param].split(' (')[0]}"
        how = f"to step {int(values[-1]):,}" if param == "steps" else f"× {steps:,} steps"
        self.status.setText(f"Training {what} {how} × {seeds} seed{'s' if seeds > 1 else ''} …")
        self._job = (param, cfg)
        return self.tasks.start(selection_task(cfg, param, values, steps=steps, seeds=seeds), self._on_done,
                                self._on_failed, self._on_partial)

    @property
    def worker(self) -> TaskWorker | None:
        return self.tasks.worker

    def cancel(self, wait: bool = False) -> None:
        self.tasks.cancel(wait)

    def shutdown(self) -> None:
        self.tasks.shutdown()

    # ------------------------------------------------------------------ results (GUI thread)
    def _on_partial(self, result: SelectionResult) -> None:
        if self.tasks.is_current(self.sender()) and len(result.values):
            self.plot.show(result)

    def _on_failed(self, msg: str) -> None:
        if not self.tasks.is_current(self.sender()):
            return
        self.tasks.finish()
        self.status.setText(f"Stopped by an error: {msg}")

    def _on_done(self, result: SelectionResult) -> None:
        if not self.tasks.is_current(self.sender()):
            return
        self.result = result
        self.last_seconds = self.worker.seconds
        self.tasks.finish()
        self.save_button.setEnabled(len(result.values) > 0)
        if len(result.values):
            self.plot.show(result)
        if result.complete:
            self.progress.setValue(1000)
        self.status.setText(self._result_text(result))

    def _result_text(self, r: SelectionResult) -> str:
        secs = f"{r.seconds:.1f} s"
        if not r.complete:
            head = f"Cancelled after {secs}: {len(r.values)} settings done."
        else:
            head = f"{len(r.values)} settings × {r.seeds} seed{'s' if r.seeds > 1 else ''} in {secs}."
        div = int(r.diverged.sum())
        if div:
            head += f" {div} setting{'s' if div > 1 else ''} diverged (not chosen)."
        if r.best < 0:
            return head + " No setting to choose."
        k = r.best
        name = PARAMETER_LABELS[r.param].split(" (")[0]
        return (f"{head} <b>Validation picks {name} = {format_value(r.param, r.values[k])}</b> (validation MSE "
                f"{r.val[k]:.4g}, train {r.train[k]:.4g}). <b>Its test MSE: {r.test[k]:.4g}</b>, the one look at "
                "the test set." + ("" if r.complete else " (Among the settings done.)"))

    # ------------------------------------------------------------------ saving
    def save_dialog(self) -> None:
        if self.result is None:
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the sweep", "model-selection.png",
                                                        "PNG image (*.png);;SVG drawing (*.svg);;Table (*.csv)")
        if path:
            self.save(path, force=True)

    def save(self, path: str, force: bool = False):
        """Write the sweep to ``path`` (.csv, .png, .svg) with the curves shown; the path, or None
        (and the reason in the status line)."""
        from reluviz.export.frames import ExportError
        from reluviz.export.selection_export import save_selection

        if self.result is None:
            return None
        shown = tuple(k for k, box in (("test", self.test_box), ("true", self.true_box)) if box.isChecked())
        size = (max(self.plots.width(), 640), max(self.plots.height(), 400))
        try:
            out = save_selection(self.result, path, size=size, force=force, show=shown)
        except ExportError as exc:
            self.status.setText(f"Not saved: {exc}")
            return None
        self.status.setText(self._result_text(self.result) + f" Saved {out.name}.")
        return out


class _NoConfig:
    steps = 30000
