"""The reluviz window: a thin shell that builds the widgets and wires the pieces together.

Pieces (each one job): ``Session`` (core: the run), ``TrainingWorker`` (the training thread),
``Playback`` (which step is shown, training on/off), ``RunControl`` (settings, presets, CSV
files), ``actions.ACTIONS`` (the menu/keyboard table), ``NoticeBar``, ``ControlPanel``, the
``TrainingView`` (fit + loss) and the lecture views (tabs). Every frame reaches the screen through
``Playback`` -> ``_draw_frame``, which hands the same immutable ``Frame`` to every visible view.

Automation surface (stable, used by the tests and by scripts)
-------------------------------------------------------------
``MainWindow(config=None, preset=None)`` builds the window and an idle training thread; nothing
trains until ``play()`` / ``step()`` (or the actions) are used. With ``config`` None the window
starts from the last-used settings (or the ``notebook`` preset).

QActions (``window.findChild(QAction, name)`` or ``window.<name>``): see ``reluviz.gui.actions``:
``actionPlayPause`` (Space), ``actionStep`` (Right), ``actionStepBack`` (Left), ``actionReset``,
``actionResume``, ``actionHome``, ``actionEnd``, ``actionExport`` (Ctrl+E), ``actionLoadCsv``,
``actionOpenRun`` (Ctrl+Shift+O), ``actionSaveRun`` (Ctrl+S), ``actionUndoRun`` (Ctrl+Z), ``actionQuit``,
``actionShowValidation``, ``actionShowTest``, the loss panel's switches (``LOSS_SWITCHES``), ``actionShowUnits``,
``actionShowConstantFit``, ``actionResetView``, ``actionAbout``, ``actionShortcuts``, ``actionFocusPlot``.
Run files: ``files.open(path)``, ``files.save(path)`` (``files``: ``RunFiles``; ``files.busy`` while one is in use).

Attributes: ``displayed_frame`` (the ``Frame`` on screen), ``displayed_snapshot`` (its core
``Snapshot``), ``history`` (the run's ``HistoryChain``), ``dataset``, ``config``, ``worker``,
``session``, ``playback``, ``runs`` (``RunControl``), ``view`` (the ``TrainingView``), ``panel``,
``notice``, ``frames_drawn``.

Lecture views: ``add_view(title, widget)`` adds a tab; the visible tab's ``show_frame(frame)`` is
called for every drawn frame (see ``reluviz.gui.views.base``).
"""

from __future__ import annotations

import time

import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core import backend
from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.elbow_stats import elbow_trail
from reluviz.core.frame import Frame, TrailSpec
from reluviz.core.session import Session
from reluviz.gui.actions import PANEL_BUTTONS, build_actions
from reluviz.gui.controls import ControlPanel
from reluviz.gui.help_text import ABOUT_HTML, IDLE_HINT, SHORTCUTS_HTML, message_box
from reluviz.gui.input_guard import guard_wheel
from reluviz.gui.loss_switches import LossSwitches
from reluviz.gui.notices import NoticeArea
from reluviz.gui.playback import Playback
from reluviz.gui.run_control import DEFAULT_PRESET, Notice, Outcome, RunControl, preset_display, starting_point
from reluviz.gui.run_files import RunFiles
from reluviz.gui.settings import open_settings, restore_window, save_window
from reluviz.gui.timeline import TimelineBar, status_text
from reluviz.gui.view_tabs import ViewTabs
from reluviz.gui.views import create_views
from reluviz.gui.views.base import LectureView
from reluviz.gui.worker import TrainingWorker
from reluviz.plots.training_view import TrainingView

DEFAULT_SPEED = 10  # updates per frame on first launch: a 30,000-step run takes under a minute
PANEL_WIDTH = 370
LOSS_PANEL_INTERVAL = 0.12  # seconds between loss-curve redraws while playing
ELBOW_TRAIL = TrailSpec(300, 900)  # the past a selected unit's elbow trail is drawn from

class MainWindow(QtWidgets.QMainWindow):
    """The app window (see the module docstring for the public surface)."""

    TITLE = "reluviz: watch a ReLU network learn"

    def __init__(self, config: TrainConfig | None = None, preset: str | None = None,
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.TITLE)
        self.settings = open_settings(self)
        self.frames_drawn = 0
        self._closed = False
        self._loss_drawn_at = 0.0
        start = starting_point(config, preset, self.settings.value("run/config", "", str),
                               self.settings.value("run/preset", "", str))
        problem = ""
        backend.warm_up()  # compiles (or loads) the fast kernels; NumPy trains meanwhile
        try:
            self.session = Session(start.config, start.compare, wait_for_compile=False)
        except ConfigError as exc:  # e.g. the last run's CSV file is gone: start from the default preset
            problem = f"Could not start the last run ({exc}); started the {DEFAULT_PRESET} preset instead."
            start = starting_point(None, DEFAULT_PRESET)
            self.session = Session(start.config, start.compare, wait_for_compile=False)
        self._build_ui()
        self.worker = TrainingWorker(self.session, self)
        self.playback = Playback(self.session, self.worker, self._draw_frame, self)
        self.runs = RunControl(self.session, self.playback, start.preset)
        build_actions(self)
        self._resume_tip = self.actionResume.toolTip()
        self.files = RunFiles(self)
        self.panel.add_action_buttons([getattr(self, name) for name in PANEL_BUTTONS])
        self.actionUndoRun.setEnabled(False)
        self.loss_switches.add_switches(self)  # (each shows and hides its curve)
        self._connect()
        self._restore_view_settings()
        self.actionShowConstantFit.setChecked("piecewise-constant" in start.overlays)
        self.worker.start()
        self.tabs.configure(start.view, start.view_options)  # (the preset's view opens when added)
        self._install_lecture_views()
        self.panel.set_config(start.config)
        self._show_preset(start.preset)
        with self.session.locked():
            self.session.checkpoint()
            frame = self.session.frame(trail=self.playback.trail)
        self.playback.show(frame)
        if problem:
            self.show_notice(problem, "warn", sticky=True)
        elif frame.stopped and config is None and preset is None:
            self.show_notice("Restored the last session's settings, and this run cannot train: "
                             + frame.divergence + ". Or pick a preset to start afresh.", "error", sticky=True)
        elif start.notes:
            self.show_notice(start.notice, "info")
        QtWidgets.QApplication.instance().aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ public properties
    @property
    def displayed_frame(self) -> Frame | None:
        return self.playback.frame

    @property
    def displayed_snapshot(self):
        """The core ``Snapshot`` being drawn (None before the first frame)."""
        frame = self.playback.frame
        return frame.snapshot if frame is not None else None

    @property
    def history(self):
        """The run's recorded history (a ``HistoryChain``; read it under ``session.locked()``)."""
        return self.session.history

    @property
    def dataset(self):
        return self.session.dataset

    @property
    def config(self) -> TrainConfig:
        """The settings in force (the run's configuration)."""
        return self.session.config

    @property
    def preset_name(self) -> str | None:
        return self.runs.preset_name

    @property
    def playing(self) -> bool:
        return self.playback.playing

    # ------------------------------------------------------------------ building
    def _build_ui(self) -> None:
        self.resize(1600, 1000)
        font = self.font()
        font.setPointSize(max(font.pointSize(), 10))
        self.setFont(font)
        self.panel = ControlPanel()
        self.panel.setObjectName("controlPanel")
        scroll = QtWidgets.QScrollArea()
        scroll.setObjectName("controlScroll")
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.panel.setMinimumWidth(PANEL_WIDTH)
        scroll.setMinimumWidth(PANEL_WIDTH + scroll.verticalScrollBar().sizeHint().width() + 4)
        scroll.setMaximumWidth(PANEL_WIDTH + 200)
        self.view = TrainingView()
        self.view.setObjectName("trainingView")
        self.view.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.loss_switches = LossSwitches(self.view.loss)
        self.tabs = ViewTabs(self.loss_switches.under(self.view))
        notice_area = NoticeArea(IDLE_HINT)
        self.notice, self.hint = notice_area.bar, notice_area.hint
        self.timeline_bar = TimelineBar()
        self.timeline, self.timeline_label = self.timeline_bar.slider, self.timeline_bar.label
        central = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(central)
        v.setContentsMargins(4, 4, 4, 4)
        v.addWidget(notice_area)
        v.addWidget(self.tabs, 1)
        v.addWidget(self.timeline_bar)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.splitter.setObjectName("splitter")
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(central)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([PANEL_WIDTH + 20, 1200])
        self.setCentralWidget(self.splitter)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("statusText")
        self.statusBar().addWidget(self.status, 1)

    def _connect(self) -> None:
        self.panel.edited.connect(self._on_edited)
        self.panel.presetChosen.connect(self.load_preset)
        self.panel.speedChanged.connect(self._on_speed)
        self.panel.csvRequested.connect(self.load_csv_dialog)
        self.panel.rejected.connect(lambda _field, message: self.show_notice(message, "warn"))
        self.view.fit.unitClicked.connect(self._on_unit_clicked)
        self.loss_switches.changed.connect(lambda: self.displayed_frame and self._update_status(self.displayed_frame))
        for name, points in (("actionShowValidation", self.view.fit.val), ("actionShowTest", self.view.fit.test)):
            getattr(self, name).toggled.connect(points.setVisible)  # (the legend and the cached background follow)
        self.view.painted.connect(self.worker.frame_drawn)
        self.tabs.currentChanged.connect(lambda _i: self._update_trail())
        self.tabs.unitSelected.connect(self._on_unit_clicked)
        self.timeline_bar.scrubbed.connect(self.scrub_to)
        self.timeline_bar.pressed.connect(self.pause)
        self.playback.playingChanged.connect(self._on_playing_changed)
        self.playback.runStopped.connect(self._on_run_stopped)
        self.playback.refused.connect(lambda text: self.show_notice(text, "warn"))

    def _restore_view_settings(self) -> None:
        restore_window(self, self.settings, DEFAULT_SPEED)
        self._on_speed(self.panel.speed())

    def save_settings(self) -> None:
        save_window(self, self.settings)

    # ------------------------------------------------------------------ lecture views
    def add_view(self, title: str, view: LectureView) -> int:
        """Add a lecture view as a tab; returns its index. A preset whose ``view`` matches ``title``
        (or ``view.view_name``) opens on that tab (``ViewTabs.configure``)."""
        index = self.tabs.add_view(title, view)
        self._update_trail()
        return index

    def _install_lecture_views(self) -> None:
        for view in create_views(self.tabs):
            guard_wheel(view)
            self.add_view(view.title or view.view_name, view)

    def _update_trail(self) -> None:
        """Frames carry the past the visible views draw (a selected unit's elbow trail, the visible
        lecture view's); when that grows while paused, the displayed step is drawn again with it."""
        spec = ELBOW_TRAIL if self.view.fit.selected_unit is not None else TrailSpec()
        spec = spec.union(self.tabs.trail_needed(self.session.config))
        if spec != self.playback.trail:
            grown = spec.union(self.playback.trail) != self.playback.trail
            self.playback.set_trail(spec)
            if grown and not self.playing:
                self.playback.redraw()
                return
        if self.displayed_frame is not None:
            self.tabs.show_frame(self.displayed_frame)

    # ------------------------------------------------------------------ drawing
    def _draw_frame(self, frame: Frame) -> None:
        """Show ``frame`` in every visible view, the timeline and the status line."""
        if self._closed:
            return
        view = self.view
        view.show_frame(frame)
        self._draw_elbow_trail(frame)
        now = time.perf_counter()
        if not self.worker.playing or now - self._loss_drawn_at >= LOSS_PANEL_INTERVAL:
            # while playing, the loss curves are redrawn about 8 times a second (the cursor every frame)
            view.show_loss_curves(frame)
            self._loss_drawn_at = now
        self.tabs.show_frame(frame)
        if self.tabs.lecture_view() is not None:
            QtCore.QTimer.singleShot(0, self.worker.frame_drawn)  # (the fit view says so when it paints)
        self.timeline_bar.show_frame(frame)
        self._update_status(frame)
        self._update_resume(frame)
        if frame.step > frame.config.steps or not frame.live:
            self.notice.clear_topic("horizon")  # (the run went on past it, or the user looks back)
        if frame.divergence:
            self.show_notice("Training stopped: " + frame.divergence, "error", sticky=True)
        self.frames_drawn += 1

    def _draw_elbow_trail(self, frame: Frame) -> None:
        """The selected unit's elbow over the recorded steps up to the frame's step, on the fit plot."""
        unit = self.view.fit.selected_unit
        layout = frame.snapshot.layout
        if unit is None or layout.model != "relu" or layout.general or unit >= frame.width:
            return
        trail = frame.trail
        elbows = elbow_trail(frame.snapshot.layout, trail.params, trail.steps, unit).elbow if len(trail) else []
        self.view.fit.set_elbow_trail(elbows)

    def _update_resume(self, frame: Frame) -> None:
        """Resume from here is off (its tooltip says why) at a step whose state a run file lacks."""
        note = frame.resume_note
        self.actionResume.setEnabled(not note)
        self.actionResume.setToolTip(f"Resume from here is off: {note}." if note else self._resume_tip)

    def _update_status(self, frame: Frame) -> None:
        rate = self.worker.steps_per_second if self.worker.playing else None
        self.status.setText(status_text(frame, rate, show_test=self.view.loss.curve_visible("test"),
                                        compiling=backend.compiling()))

    def show_notice(self, text: str, kind: str = "info", sticky: bool = False, topic: str = "") -> None:
        """A message above the plot (``sticky`` ones stay until the next run change; one with a
        ``topic`` goes when that stops being true, see ``NoticeBar.clear_topic``)."""
        self.notice.show_notice(text, kind, sticky, topic)

    def _say(self, notice: Notice | None) -> None:
        if notice is not None:
            self.show_notice(notice.text, notice.kind, notice.sticky, notice.topic)

    # ------------------------------------------------------------------ playback (see gui.playback)
    def toggle_play(self) -> None:
        self.playback.toggle()

    def play(self) -> None:
        """Train (or replay the history from a step looked back at, then train on)."""
        self.playback.play()

    def pause(self) -> None:
        """Stop training; the last trained step is drawn."""
        self.playback.pause()

    def step(self, n: int | None = None) -> None:
        """Forward ``n`` updates (default: the steps-per-frame speed; 1 at max)."""
        self.playback.step(n)

    def step_back(self, n: int | None = None) -> None:
        self.playback.step_back(n)

    def scrub_to(self, step: int) -> None:
        """Show the recorded state at (or just before) ``step``; pauses training."""
        self.playback.scrub_to(step)

    def go_home(self) -> None:
        self.playback.scrub_to(0)

    def go_end(self) -> None:
        self.playback.go_end()

    def resume_from_here(self) -> None:
        """Continue from the displayed step with the current settings, discarding the later history."""
        at = self.playback.resume_from_here()
        if at is not None:
            self.notice.clear()
            self.show_notice(f"Resumed from step {at:,}: the history after it was discarded.", "info")

    def _on_playing_changed(self, playing: bool) -> None:
        self.actionPlayPause.setText("Pause" if playing else "Play")
        if playing:
            self.notice.clear_sticky()
            self.notice.clear_topic("horizon")
        else:
            self.notice.clear_topic("playing")  # ("... the run goes on" is no longer true)

    def _on_run_stopped(self, reason: str) -> None:
        if self.session.stopped:
            self.show_notice("Training stopped: " + self.session.divergence_reason, "error", sticky=True)
        elif reason == "horizon":
            self.show_notice(f"Reached the run length ({self.session.config.steps:,} steps): training paused. "
                             "Press Play to train on past it.", "info", topic="horizon")
        if self.displayed_frame is not None:
            self._update_status(self.displayed_frame)

    def _on_speed(self, speed: int) -> None:
        self.playback.set_speed(speed)
        self.timeline_bar.set_step_size(speed)

    # ------------------------------------------------------------------ settings, presets, files
    def _after(self, outcome: Outcome) -> None:
        """Show what a run change did: the settings in force, a new run's cleared state, the notice."""
        if outcome.new_run:
            self._select_unit(None)
            self.notice.clear()
            self.files.forget_path()
        self.panel.set_config(self.session.config)
        self._show_preset(self.preset_name)
        self.actionUndoRun.setEnabled(self.session.can_undo_reset)
        frame = self.displayed_frame
        if outcome.new_run and frame is not None and frame.divergence:  # (a run that stops at once: why, first)
            self.show_notice("This run cannot train: " + frame.divergence + ".", "error", sticky=True)
            return
        self._say(outcome.notice)

    def _on_edited(self, field: str) -> None:
        adjusted = self.panel.take_adjustments()  # (e.g. B lowered to the new N: said with the outcome)
        try:
            config = self.panel.config(self.session.config)
        except ConfigError as exc:
            self.show_notice(f"Not applied: {exc}", "warn")
            self.panel.set_config(self.session.config)  # the controls show the settings in force
            return
        self._after(self.runs.apply(config, field, adjusted))

    def apply_config(self, config: TrainConfig, field: str = "") -> None:
        """Use ``config``: data/model changes start a new run, the rest applies from the next step."""
        self._after(self.runs.apply(config, field))

    def reset_run(self) -> None:
        """A new run with the settings in the controls."""
        try:
            config = self.panel.config(self.session.config)
        except ConfigError as exc:
            self.show_notice(f"Not reset: {exc}", "warn")
            return
        self._after(self.runs.new_run(config))

    def load_preset(self, name: str) -> None:
        """Start the preset ``name`` (its settings, its ghost run, its description)."""
        outcome = self.runs.load_preset(name)
        self._after(outcome)
        if outcome.new_run:
            self.actionShowConstantFit.setChecked("piecewise-constant" in outcome.overlays)
            self.tabs.open(outcome.view)
            self.tabs.configure(outcome.view, outcome.view_options)

    def undo_new_run(self) -> None:
        """Bring back the run the last new run replaced (Edit > Undo new run, Ctrl+Z)."""
        self._after(self.runs.undo())

    def _show_preset(self, name: str | None) -> None:
        """The preset box: ``name``'s title and paragraph, "(modified)" with what differs."""
        self.panel.set_preset(*preset_display(name, self.session.config))

    def load_csv_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load x,y data", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.load_csv(path)

    def load_csv(self, path: str) -> None:
        """Fit the x,y rows of ``path`` (a new run)."""
        self._after(self.runs.load_csv(path))

    # ------------------------------------------------------------------ view toggles
    def show_units(self, on: bool) -> None:
        self.view.fit.set_show_units(on)
        if self.displayed_frame is not None:
            self.view.show_frame(self.displayed_frame)

    def reset_plot_view(self) -> None:
        self.view.fit.reset_view()

    def focus_plot(self) -> None:
        self.view.setFocus()

    def _on_unit_clicked(self, unit: int) -> None:
        self._select_unit(None if unit < 0 else unit)

    def _select_unit(self, unit: int | None) -> None:
        """Follow hidden unit ``unit`` (None: none) in the fit plot and every lecture view."""
        self.view.fit.select_unit(unit)
        self.tabs.select_unit(unit)
        self._update_trail()
        if self.displayed_frame is not None:
            self.view.show_frame(self.displayed_frame)
            self._draw_elbow_trail(self.displayed_frame)

    # ------------------------------------------------------------------ dialogs
    def open_export_dialog(self) -> None:
        """Open the export dialog (File > Export..., Ctrl+E); training pauses while it is open."""
        from reluviz.gui.export_dialog import ExportDialog  # (imports Pillow and the exporter: not at start-up)

        self.pause()
        self._export_dialog = ExportDialog(self)
        self._export_dialog.show()

    def show_about(self) -> None:
        self.last_message = message_box(self, "About reluviz", ABOUT_HTML)

    def show_shortcuts(self) -> None:
        self.last_message = message_box(self, "Keyboard shortcuts", SHORTCUTS_HTML)

    # ------------------------------------------------------------------ closing
    def shutdown(self) -> None:
        """Stop the training thread (idempotent); called on close and when the app quits."""
        if self._closed:
            return
        self._closed = True
        self.playback.close()
        dialog = getattr(self, "_export_dialog", None)
        if dialog is not None and shiboken6.isValid(dialog):
            dialog.close()  # cancels a running export (nothing half-written is left behind)
        self.files.shutdown()  # a run being saved is finished (it would be lost)
        self.worker.stop()
        self.tabs.shutdown()
        try:
            self.save_settings()
        except Exception:  # settings are a convenience; never block closing
            pass

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.shutdown()
        super().closeEvent(event)
