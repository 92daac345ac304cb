"""The "Run dance" controls of the dance view: the run as set against a ghost, side by side.

Both runs train from the same start (theta* or the initialisation) on the same data and
minibatches in a background thread (``reluviz.core.dance.dance_task``); their distances to theta*
and excess losses are drawn as they come by the view's ``DanceCanvas`` (``draw(result)``). The
ghost's settings are the preset's ``compare``, else ``reluviz.core.dance.default_ghost`` (a
decaying rate).
"""

from __future__ import annotations

from typing import Callable

from PySide6 import QtCore, QtWidgets

from reluviz.core.compare import ghost_config
from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.dance import DanceResult, dance_task, default_ghost
from reluviz.core.model import Layout
from reluviz.core.optimum import optimum_too_big
from reluviz.gui.views.base import big_font, settings_changes, stale_note
from reluviz.gui.views.workers import TaskSlot, TaskWorker
from reluviz.plots.dance_row import dance_start


class DanceComparePanel(QtWidgets.QGroupBox):
    """Start, steps, Run / Cancel, progress, the ghost's settings and a status line; ``draw(result)``
    draws a result (the view's canvas), None clears it."""

    def __init__(self, draw: Callable[[DanceResult | None], None], parent: QtWidgets.QWidget | None = None):
        super().__init__("Side by side (below): the run as set against a ghost with a decaying learning rate", parent)
        self.draw = draw
        big_font(self, 1)
        self.config: TrainConfig | None = None
        self.dataset = None
        self.compare: dict = {}
        self.result: DanceResult | None = None
        #: what the curves shown were computed for: (config, ghost settings, data), or None
        self.computed_for: tuple | None = None
        self._done_text = ""
        bl = QtWidgets.QVBoxLayout(self)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("start:"))
        self.start_combo = QtWidgets.QComboBox()
        self.start_combo.setObjectName("danceStart")
        self.start_combo.addItem("at θ* (only the minibatch noise acts)", "optimum")
        self.start_combo.addItem("at the initialisation", "init")
        row.addWidget(self.start_combo)
        row.addWidget(QtWidgets.QLabel("steps:"))
        self.steps_spin = QtWidgets.QSpinBox()
        self.steps_spin.setObjectName("danceSteps")
        self.steps_spin.setRange(10, 1_000_000)
        self.steps_spin.setSingleStep(1000)
        self.steps_spin.setValue(20000)
        row.addWidget(self.steps_spin)
        self.run_button = QtWidgets.QPushButton("Run dance")
        self.run_button.setObjectName("runDance")
        self.run_button.clicked.connect(lambda: self.run_dance())
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelDance")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.cancel_dance())
        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("danceProgress")
        self.progress.setRange(0, 1000)
        self.tasks = TaskSlot(self, (self.run_button,), self.cancel_button, self.progress, wait_ms=30000)
        self.progress.setValue(0)
        self.progress.setMaximumWidth(220)
        self.progress.setMinimumWidth(60)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        self.compare_label = QtWidgets.QLabel("")
        self.compare_label.setObjectName("danceGhost")
        self.compare_label.setWordWrap(True)
        row.addWidget(self.compare_label, 2)
        bl.addLayout(row)
        self.status = QtWidgets.QLabel("Press “Run dance” to train the run and its ghost side by side.")
        self.status.setObjectName("danceStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(QtCore.Qt.TextFormat.RichText)
        big_font(self.status, 1)
        bl.addWidget(self.status)
        self._update_compare_label()

    # ------------------------------------------------------------------ context
    def overrides(self) -> dict:
        """The ghost's settings: the preset's ``compare``, else ``default_ghost``."""
        return dict(self.compare) if self.compare else default_ghost(self.config)

    def set_context(self, config: TrainConfig, dataset, compare: dict, new_run: bool) -> None:
        """The run the dance starts from (``new_run``: its length sets the default step count, and
        the start: theta*, or the initialisation for a full-batch run).
        Curves computed for other settings or data are labelled as such (see ``is_stale``)."""
        changed = dataset is not self.dataset or config != self.config or dict(compare) != self.compare
        self.config, self.dataset, self.compare = config, dataset, dict(compare)
        if new_run:
            self.steps_spin.setValue(max(10, min(config.steps or 20000, 1_000_000)))
            if dataset is not None:  # (a full-batch run would stand still at theta*: from its initialisation)
                self.start_combo.setCurrentIndex(self.start_combo.findData(dance_start(config, dataset)))
        self._update_compare_label()
        if changed:
            self._label_result()

    def is_stale(self) -> bool:
        """Whether the curves shown were computed for other settings, ghost or data than the run's."""
        if self.computed_for is None:
            return False
        cfg, overrides, data = self.computed_for
        return (settings_changes(cfg, self.config, ignore=("steps",)) != [] or overrides != self.overrides()
                or data.name != self.dataset.name or data.n != self.dataset.n)

    def _label_result(self) -> None:
        if self.computed_for is None:
            return
        if not self.is_stale():
            self.status.setText(self._done_text)
            return
        cfg, overrides, data = self.computed_for
        changes = settings_changes(cfg, self.config, ignore=("steps",))
        if overrides != self.overrides():
            changes.append("ghost " + ", ".join(f"{k}={v}" for k, v in self.overrides().items()))
        if not changes:
            changes.append("other data")
        self.status.setText(stale_note("These curves", changes, "Run dance"))

    def _update_compare_label(self) -> None:
        self.compare_label.setText("ghost: " + ", ".join(f"{k}={v}" for k, v in self.overrides().items()))

    # ------------------------------------------------------------------ running
    def run_dance(self, start: str | None = None, steps: int | None = None) -> TaskWorker | None:
        """Start the dance worker (returns it, e.g. for tests); None if there is nothing to run."""
        cfg, ds = self.config, self.dataset
        if cfg is None or ds is None:
            self.status.setText("No run to compare yet.")
            return None
        self.cancel_dance(wait=True)
        start = start or self.start_combo.currentData()
        steps = int(steps or self.steps_spin.value())
        overrides = self.overrides()
        try:
            ghost = ghost_config(cfg, overrides)
        except ConfigError as exc:
            self.status.setText(f"Cannot run the ghost: {exc}")
            return None
        layout = Layout.for_config(cfg)
        too_big = optimum_too_big(layout, ds.n, cfg.train) or optimum_too_big(layout, ds.n, ghost.train)
        if too_big:  # the dance measures both runs against theta*, found before it starts
            self.status.setText(f"Cannot run the dance: {too_big}")
            return None
        self.computed_for = (cfg, dict(overrides), ds)
        self._done_text = ""
        self.result = None
        self.draw(None)
        where = "θ*" if start == "optimum" else "the initialisation"
        self.status.setText(f"Training both runs from {where} for {steps:,} steps …")
        return self.tasks.start(dance_task(cfg, overrides, ds, start, steps), self._on_done, self._on_failed,
                                self._on_partial)

    @property
    def worker(self) -> TaskWorker | None:
        return self.tasks.worker

    def cancel_dance(self, wait: bool = False) -> None:
        self.tasks.cancel(wait)

    def shutdown(self) -> None:
        self.tasks.shutdown()

    # ------------------------------------------------------------------ results (GUI thread)

    def _on_partial(self, res: DanceResult) -> None:
        if self.tasks.is_current(self.sender()):
            self._show(res)

    def _show(self, res: DanceResult) -> None:
        self.draw(res)

    def _on_done(self, res: DanceResult) -> None:
        if not self.tasks.is_current(self.sender()):
            return
        self.result = res
        self._show(res)
        self.tasks.finish()
        secs = self.worker.seconds if self.worker is not None else 0.0
        if res.complete:
            self.progress.setValue(1000)
            self._done_text = (
                f"{res.steps_total:,} steps in {secs:.1f} s. RMS distance to θ* over the second half (dashed): "
                f"{res.floor:.3g} at a constant rate; the ghost ends at {res.final_ghost:.3g}. "
                f"Thick: RMS over {res.window} recorded points; thin: each point.")
        else:
            n = int(res.trace.steps[-1]) if len(res.trace.steps) else 0
            self._done_text = f"Stopped at step {n:,} of {res.steps_total:,}."
        self.status.setText(self._done_text)
        self._label_result()

    def _on_failed(self, msg: str) -> None:
        self.tasks.finish()
        self.status.setText(f"The dance failed: {msg}")
