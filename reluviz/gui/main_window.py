"""The reluviz window: a ReLU network learning live, a side panel of controls, a timeline.

Automation surface (stable, used by the tests and by scripts)
-------------------------------------------------------------
``MainWindow(config=None, preset=None)`` builds the window and an idle training thread; nothing
trains until ``play()`` / ``step()`` (or the actions) are used. With ``config`` None the window
starts from the last-used settings (or the ``notebook`` preset).

QActions, found with ``window.findChild(QAction, name)``:
``actionPlayPause`` (Space), ``actionStep`` (Right: ``speed`` updates, 1 at "max"),
``actionStepBack`` (Left), ``actionReset``, ``actionResume`` (resume from the displayed step),
``actionHome``, ``actionEnd``, ``actionExport`` (Ctrl+E), ``actionLoadCsv``, ``actionQuit``,
``actionShowTest``, ``actionShowUnits``, ``actionResetView``, ``actionAbout``, ``actionShortcuts``.

Attributes: ``displayed_snapshot`` (the core ``Snapshot`` being drawn), ``displayed_frame``
(the whole ``Frame``: losses, dead units, ...), ``history`` (the run's ``HistoryChain``), ``dataset``,
``config``, ``worker`` (the ``TrainingWorker`` QThread), ``session``, ``view`` (the ``TrainingView``),
``panel`` (the ``ControlPanel``), ``frames_drawn``.

Lecture views: ``add_view(title, widget)`` adds a tab; ``widget.show_state(snapshot, history,
dataset)`` is called for the visible tab on every drawn frame (with the session lock held: keep it
quick and do not keep references to history arrays).
"""

from __future__ import annotations

import time

import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core.config import ConfigError, TrainConfig, parse_json
from reluviz.core.presets import load_preset
from reluviz.gui.controls import ControlPanel
from reluviz.gui.session import Frame, Session, needs_reset
from reluviz.gui.settings import open_settings
from reluviz.gui.views.elbows_view import unit_elbow_trail
from reluviz.gui.worker import TrainingWorker
from reluviz.plots.fit_plot import ghost_label
from reluviz.plots.training_view import TrainingView

DEFAULT_PRESET = "notebook"
DEFAULT_SPEED = 10  # updates per frame on first launch: a 30,000-step run takes under a minute
REPLAY_INTERVAL_MS = 16
PANEL_WIDTH = 370
LOSS_PANEL_INTERVAL = 0.12  # seconds between loss-curve redraws while playing

NOTICE_STYLES = {
    "info": "background: #e8f1fb; color: #13406b; border: 1px solid #a9c8ea;",
    "warn": "background: #fff4d6; color: #5c4300; border: 1px solid #e6c466;",
    "error": "background: #fde7e7; color: #7a1010; border: 1px solid #e8a0a0;",
}

SHORTCUTS_HTML = """
<table cellspacing=6>
<tr><td><b>Space</b></td><td>play / pause</td></tr>
<tr><td><b>Right</b></td><td>step forward (steps per frame updates; replays the history when looking back)</td></tr>
<tr><td><b>Left</b></td><td>step back through the recorded history</td></tr>
<tr><td><b>Home / End</b></td><td>jump to the start / to the newest step</td></tr>
<tr><td><b>Ctrl+Return</b></td><td>resume training from the displayed step (the later history is discarded)</td></tr>
<tr><td><b>Ctrl+R</b></td><td>reset: a new run with the current settings</td></tr>
<tr><td><b>Ctrl+0</b></td><td>reset the plot's zoom</td></tr>
<tr><td><b>Esc</b></td><td>leave a text field, so Space and the arrows drive playback again</td></tr>
<tr><td><b>Ctrl+E</b></td><td>export frames, GIF or MP4</td></tr>
<tr><td><b>Ctrl+O</b></td><td>load a CSV of x,y rows</td></tr>
</table>
<p>Click an elbow marker (the triangles on the x axis) to follow one unit. Drag to pan, wheel to zoom.</p>
"""


class MainWindow(QtWidgets.QMainWindow):
    """The app window (see the module docstring for the public surface)."""

    def __init__(self, config: TrainConfig | None = None, preset: str | None = None,
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("reluviz: watch a ReLU network learn")
        self.settings = open_settings(self)
        self.frames_drawn = 0
        self.displayed_frame: Frame | None = None
        self._views: list[QtWidgets.QWidget] = []
        self._preset_view = "fit"
        self._closed = False
        self._loss_drawn_at = 0.0
        config, preset, compare = self._starting_point(config, preset)
        startup_problem = ""
        try:
            self.session = Session(config, compare)
        except ConfigError as exc:  # e.g. the last run's CSV file is gone: start from the default preset
            startup_problem = f"Could not start the last run ({exc}); started the {DEFAULT_PRESET} preset instead."
            self._preset_view = "fit"
            config, preset, compare = self._starting_point(None, DEFAULT_PRESET)
            self.session = Session(config, compare)
        self.preset_name = preset
        self._build_ui()
        self._build_actions()
        self.worker = TrainingWorker(self.session, self)
        self.worker.frameReady.connect(self._on_frame_ready)
        self.worker.runStopped.connect(self._on_run_stopped)
        self._restore_view_settings()
        self.worker.set_speed(self.panel.speed())
        self.worker.start()
        self._replay_timer = QtCore.QTimer(self)
        self._replay_timer.setInterval(REPLAY_INTERVAL_MS)
        self._replay_timer.timeout.connect(self._replay_tick)
        self._notice_timer = QtCore.QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self._hide_notice)
        self._install_lecture_views()
        self.panel.set_config(config)
        self._show_preset(preset)
        self.view.set_dataset(self.session.dataset)
        self._update_ghost_label()
        with self.session.locked():
            frame = self.session.head_frame()
        self._show_frame(frame)
        if startup_problem:
            self.show_notice(startup_problem, "warn", sticky=True)
        QtWidgets.QApplication.instance().aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ public properties
    @property
    def displayed_snapshot(self):
        """The core ``Snapshot`` being drawn (None before the first frame)."""
        return self.displayed_frame.snapshot if self.displayed_frame is not None else None

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
    def playing(self) -> bool:
        return self.worker.playing or self._replay_timer.isActive()

    # ------------------------------------------------------------------ building
    def _starting_point(self, config, preset):
        compare: dict = {}
        if config is None and preset is None:
            saved = self.settings.value("run/config", "", str)
            preset = self.settings.value("run/preset", "", str) or None
            try:
                config = TrainConfig.from_dict(parse_json(saved, "the saved settings")) if saved else None
            except (ConfigError, ValueError, TypeError):
                config = None
            if config is None:
                preset = DEFAULT_PRESET
        if preset:
            try:
                p = load_preset(preset)
                compare = dict(p.compare)
                self._preset_view = p.view
                if config is None:
                    config = p.config
            except ConfigError:
                preset = None
        if config is None:
            config = TrainConfig()
        if compare:
            try:
                config.updated(compare)
            except ConfigError:
                compare = {}
        return config, preset, compare

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
        self.view.fit.unitClicked.connect(self._on_unit_clicked)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("views")
        self.tabs.addTab(self.view, "Fit")
        self.tabs.currentChanged.connect(lambda _i: self._refresh_views())
        self.notice = QtWidgets.QLabel("")
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.notice.setVisible(False)
        nf = self.notice.font()
        nf.setPointSize(nf.pointSize() + 2)
        self.notice.setFont(nf)
        self.timeline = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.timeline.setObjectName("timeline")
        self.timeline.setToolTip("The recorded history: drag to look back at any step (training pauses).")
        self.timeline.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.timeline.valueChanged.connect(self._on_timeline)
        self.timeline.sliderPressed.connect(self._on_timeline_pressed)
        self.timeline_label = QtWidgets.QLabel("")
        self.timeline_label.setObjectName("timelineLabel")
        self.timeline_label.setMinimumWidth(200)
        timeline_row = QtWidgets.QHBoxLayout()
        timeline_row.addWidget(QtWidgets.QLabel("history"))
        timeline_row.addWidget(self.timeline, 1)
        timeline_row.addWidget(self.timeline_label)
        central = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(central)
        v.setContentsMargins(4, 4, 4, 4)
        v.addWidget(self.notice)
        v.addWidget(self.tabs, 1)
        v.addLayout(timeline_row)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.splitter.setObjectName("splitter")
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(central)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)
        self.status = QtWidgets.QLabel("")
        self.status.setObjectName("statusLine")
        sf = self.status.font()
        sf.setPointSize(sf.pointSize() + 2)
        self.status.setFont(sf)
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.status, 1)
        self.panel.edited.connect(self._on_edited)
        self.panel.presetChosen.connect(self.load_preset)
        self.panel.speedChanged.connect(self._on_speed)
        self.panel.csvRequested.connect(self.load_csv_dialog)

    def _action(self, name: str, text: str, shortcut=None, slot=None, tip: str = "", checkable=False):
        a = QtGui.QAction(text, self)
        a.setObjectName(name)
        if shortcut is not None:
            a.setShortcut(QtGui.QKeySequence(shortcut))
            a.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        if slot is not None:
            (a.toggled if checkable else a.triggered).connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        K = QtCore.Qt.Key
        M = QtCore.Qt.KeyboardModifier
        self.actionPlayPause = self._action("actionPlayPause", "Play", K.Key_Space, lambda: self.toggle_play(),
                                            "Play / pause training (Space)")
        self.actionStep = self._action("actionStep", "Step \u25b6", K.Key_Right, lambda: self.step(),
                                       "One frame forward: 'steps / frame' updates (Right)")
        self.actionStepBack = self._action("actionStepBack", "\u25c0 Back", K.Key_Left, lambda: self.step_back(),
                                           "One frame back through the recorded history (Left)")
        self.actionReset = self._action("actionReset", "Reset", QtGui.QKeySequence(M.ControlModifier | K.Key_R),
                                        lambda: self.reset_run(), "A new run: new data, new init, current settings (Ctrl+R)")
        self.actionResume = self._action("actionResume", "Resume from here",
                                         QtGui.QKeySequence(M.ControlModifier | K.Key_Return),
                                         lambda: self.resume_from_here(),
                                         "Continue training from the displayed step with the current settings; "
                                         "the later history is discarded (Ctrl+Return)")
        self.actionHome = self._action("actionHome", "Go to start", K.Key_Home, lambda: self.go_home(), "Show step 0 (Home)")
        self.actionEnd = self._action("actionEnd", "Go to newest", K.Key_End, lambda: self.go_end(), "Show the newest step (End)")
        self.actionExport = self._action("actionExport", "Export...", QtGui.QKeySequence(M.ControlModifier | K.Key_E),
                                         lambda: self.open_export_dialog(), "Render frames, a GIF or an MP4 (Ctrl+E)")
        self.actionLoadCsv = self._action("actionLoadCsv", "Load CSV...", QtGui.QKeySequence(M.ControlModifier | K.Key_O),
                                          lambda: self.load_csv_dialog(), "Fit your own x,y data (Ctrl+O)")
        self.actionQuit = self._action("actionQuit", "Quit", QtGui.QKeySequence(M.ControlModifier | K.Key_Q),
                                       lambda: self.close())
        self.actionShowTest = self._action("actionShowTest", "Show test points", None, self._on_show_test,
                                           "Show the held-out test points (pale green)", checkable=True)
        self.actionShowUnits = self._action("actionShowUnits", "Show units and elbows", None, self._on_show_units,
                                            "Draw each unit's contribution v_j relu(w_j x + b_j) and its elbow", checkable=True)
        self.actionResetView = self._action("actionResetView", "Reset view", QtGui.QKeySequence(M.ControlModifier | K.Key_0),
                                            lambda: self.view.fit.reset_view(), "Undo zoom and pan (Ctrl+0)")
        self.actionFocusPlot = self._action("actionFocusPlot", "Keys to the plot", K.Key_Escape,
                                            lambda: self.view.setFocus(),
                                            "Leave a control so Space and the arrow keys drive playback again (Esc)")
        self.actionAbout = self._action("actionAbout", "About reluviz", None, lambda: self._about())
        self.actionShortcuts = self._action("actionShortcuts", "Keyboard shortcuts", K.Key_F1, lambda: self._shortcuts())
        self.actionShowTest.setChecked(True)
        self.actionShowUnits.setChecked(True)
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.actionLoadCsv, self.actionExport])
        m.addSeparator()
        m.addAction(self.actionQuit)
        m = mb.addMenu("&Run")
        m.addActions([self.actionPlayPause, self.actionStep, self.actionStepBack])
        m.addSeparator()
        m.addActions([self.actionResume, self.actionReset])
        m.addSeparator()
        m.addActions([self.actionHome, self.actionEnd])
        m = mb.addMenu("&View")
        m.addActions([self.actionShowTest, self.actionShowUnits, self.actionResetView])
        m = mb.addMenu("&Help")
        m.addActions([self.actionShortcuts, self.actionAbout])
        self.panel.add_action_buttons([self.actionPlayPause, self.actionReset, self.actionStepBack, self.actionStep,
                                       self.actionResume])

    def _restore_view_settings(self) -> None:
        s = self.settings
        self.panel.set_speed(int(s.value("view/speed", DEFAULT_SPEED, int)))
        self.actionShowTest.setChecked(s.value("view/show_test", True, bool))
        self.actionShowUnits.setChecked(s.value("view/show_units", True, bool))
        geometry = s.value("window/geometry")
        if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = s.value("window/splitter")
        if isinstance(state, QtCore.QByteArray) and not state.isEmpty():
            self.splitter.restoreState(state)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("run/config", self.session.config.to_json())
        s.setValue("run/preset", self.preset_name or "")
        s.setValue("view/speed", self.panel.speed())
        s.setValue("view/show_test", self.actionShowTest.isChecked())
        s.setValue("view/show_units", self.actionShowUnits.isChecked())
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.sync()

    # ------------------------------------------------------------------ lecture views
    def add_view(self, title: str, widget: QtWidgets.QWidget) -> int:
        """Add a lecture view as a tab; returns its index.

        ``widget.show_state(snapshot, history, dataset)`` is called for the visible tab on every
        drawn frame (``snapshot``: the core Snapshot on screen; ``history``: the run's
        ``HistoryChain``; ``dataset``: the core Dataset), with the session lock held. A preset whose
        ``view`` matches ``title`` (or ``widget.view_name``) opens on that tab.
        """
        widget.setParent(self.tabs)
        index = self.tabs.addTab(widget, title)
        self._views.append(widget)
        if hasattr(widget, "set_compare"):
            widget.set_compare(dict(self.session.compare))
        if hasattr(widget, "unitSelected"):
            widget.unitSelected.connect(self._on_view_unit)
        key = getattr(widget, "view_name", "") or title
        if self._preset_view and self._preset_view != "fit" and key.lower().startswith(self._preset_view.lower()):
            self.tabs.setCurrentIndex(index)
        self._refresh_views()
        return index

    def _install_lecture_views(self) -> None:
        """The lecture views of ``reluviz.gui.views`` (dance, votes, elbows, bands), when present."""
        try:
            from reluviz.gui.views import create_views
        except ImportError:
            return
        for view in create_views(self.tabs):
            self.add_view(getattr(view, "title", "") or view.view_name, view)

    def _refresh_views(self) -> None:
        widget = self.tabs.currentWidget()
        if widget is self.view or self.displayed_frame is None or not hasattr(widget, "show_state"):
            return
        with self.session.locked():
            if getattr(widget, "view_name", ""):  # the lecture views' protocol also takes the config
                widget.show_state(self.displayed_frame.snapshot, self.session.history, self.session.dataset,
                                  config=self.session.config)
            else:
                widget.show_state(self.displayed_frame.snapshot, self.session.history, self.session.dataset)

    def _sync_views(self) -> None:
        """Tell the lecture views the ghost settings (``set_compare``)."""
        for view in self._views:
            if hasattr(view, "set_compare"):
                view.set_compare(dict(self.session.compare))

    def _on_view_unit(self, unit: int) -> None:
        self._on_unit_clicked(unit, from_view=True)

    # ------------------------------------------------------------------ drawing
    def _on_frame_ready(self) -> None:
        frame = self.worker.take_frame()
        if frame is not None and not self._closed:
            self._show_frame(frame)

    def _show_frame(self, frame: Frame) -> None:
        self.displayed_frame = frame
        view = self.view
        view.show_snapshot(frame.snapshot, ghost=frame.ghost)
        self._update_elbow_trail(frame.snapshot.step)
        now = time.perf_counter()
        if not self.worker.playing or now - self._loss_drawn_at >= LOSS_PANEL_INTERVAL:
            # while playing, the loss curves are redrawn about 8 times a second (the cursor every frame)
            c = frame.curves
            view.loss.set_data(c.batch_steps, c.batch_loss, c.eval_steps, c.train, c.test, c.lr)
            view.loss.set_step_range(frame.last_step)
            self._loss_drawn_at = now
        self._refresh_views()
        self._update_timeline(frame)
        self._update_status(frame)
        if frame.divergence:
            self.show_notice("Training stopped: " + frame.divergence, "error", sticky=True)
        self.frames_drawn += 1

    def _update_timeline(self, frame: Frame) -> None:
        t = self.timeline
        t.blockSignals(True)
        t.setRange(frame.first_step, max(frame.last_step, frame.first_step))
        t.setValue(frame.step)
        t.setSingleStep(max(1, self.panel.speed()))
        t.setPageStep(max(1, (frame.last_step - frame.first_step) // 20))
        t.blockSignals(False)
        where = "newest" if frame.live else f"of {frame.last_step:,}"
        self.timeline_label.setText(f"step {frame.step:,} ({where})")

    def _update_status(self, frame: Frame) -> None:
        parts = [f"step {frame.step:,}", f"epoch {frame.epoch:,.1f}",
                 f"minibatch {frame.batch_loss:.3g}", f"train {frame.train_loss:.3g}", f"test {frame.test_loss:.3g}",
                 f"lr {frame.lr:.3g}" if not frame.snapshot.diverged.all() else "stopped"]
        if frame.snapshot.layout.model == "relu":
            parts.append(f"dead units {frame.dead_units}/{frame.width}")
        if self.worker.playing:
            parts.append(f"{frame.steps_per_second:,.0f} steps/s")
        elif not frame.live:
            parts.append("looking back")
        self.status.setText("   \u00b7   ".join(parts))

    def _update_play_action(self) -> None:
        self.actionPlayPause.setText("Pause" if self.playing else "Play")

    def show_notice(self, text: str, kind: str = "info", sticky: bool = False) -> None:
        """A message above the plot (``sticky`` ones stay until the next run change)."""
        self.notice.setText(text)
        self.notice.setStyleSheet(NOTICE_STYLES.get(kind, NOTICE_STYLES["info"]) + " padding: 6px; border-radius: 4px;")
        self.notice.setVisible(True)
        self._notice_sticky = sticky
        self._notice_timer.stop()
        if not sticky:
            self._notice_timer.start(6000)

    def _hide_notice(self) -> None:
        self.notice.setVisible(False)
        self.notice.setText("")

    # ------------------------------------------------------------------ playback
    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Train (or replay the history from a step looked back at, then train on)."""
        frame = self.displayed_frame
        self._replay_timer.stop()
        if self.session.stopped:
            # a stopped (diverged) run goes on from the displayed state with the current settings
            self._resume(frame.step if frame else self.session.head_step, quiet=True)
        elif frame is not None and not frame.live and self.panel.speed() > 0:
            self._replay_timer.start()
            self._update_play_action()
            return
        self._start_worker()

    def _start_worker(self) -> None:
        head = self.session.head_step
        horizon = self.session.config.steps if head < self.session.config.steps else None
        if self.notice.isVisible() and getattr(self, "_notice_sticky", False):
            self._hide_notice()
        self.worker.play(horizon)
        self._update_play_action()

    def pause(self) -> None:
        """Stop training; the last trained step is drawn."""
        self._replay_timer.stop()
        self.worker.pause(wait=True)
        self._update_play_action()
        self._draw_pending()

    def _draw_pending(self) -> None:
        frame = self.worker.take_frame()
        if frame is not None:
            self._show_frame(frame)

    def step(self, n: int | None = None) -> None:
        """Forward ``n`` updates (default: the steps-per-frame speed; 1 at max): through the
        recorded history when looking back, else by training."""
        if self.playing:
            self.pause()
        n = n or max(1, self.panel.speed())
        frame = self.displayed_frame
        if frame is not None and not frame.live:
            self._show_step(frame.step + n, forward=True)
            return
        if self.session.stopped:
            # as play does: go on from the displayed (last finite) state with the current settings;
            # with the same rate it stops again at once and says why
            self._resume(frame.step if frame is not None else self.session.head_step, quiet=True)
        self.worker.step(n)

    def step_back(self, n: int | None = None) -> None:
        """Back ``n`` updates through the recorded history (default: the speed setting)."""
        if self.playing:
            self.pause()
        frame = self.displayed_frame
        if frame is None:
            return
        n = n or max(1, self.panel.speed())
        self._show_step(max(frame.step - n, 0))

    def scrub_to(self, step: int) -> None:
        """Show the recorded state at (or just before) ``step``; pauses training."""
        if self.playing:
            self.pause()
        self._show_step(step)

    def go_home(self) -> None:
        self.scrub_to(0)

    def go_end(self) -> None:
        if self.playing:
            self.pause()
        with self.session.locked():
            frame = self.session.frame_at(self.session.history.last_step())
        self._show_frame(frame)

    def _show_step(self, step: int, forward: bool = False) -> None:
        with self.session.locked():
            frame = self.session.frame_at(step)
            current = self.displayed_frame.step if self.displayed_frame else -1
            if forward and frame.step <= current:  # thinned history: go to the next kept step
                steps = self.session.history.steps
                later = steps[steps > current]
                if len(later):
                    frame = self.session.frame_at(int(later[0]))
        self._show_frame(frame)

    def _replay_tick(self) -> None:
        frame = self.displayed_frame
        if frame is None or frame.live:
            self._replay_timer.stop()
            self._start_worker()
            return
        self._show_step(frame.step + max(1, self.panel.speed()), forward=True)

    def resume_from_here(self) -> None:
        """Continue from the displayed step with the current settings, discarding the later history
        (the trajectory equals an uninterrupted run when the settings are unchanged)."""
        frame = self.displayed_frame
        if frame is None:
            return
        self._resume(frame.step)

    def _resume(self, step: int, quiet: bool = False) -> None:
        was_playing = self.playing
        self.pause()
        with self.session.locked():
            at = self.session.resume_from(step)
            frame = self.session.head_frame()
        self._hide_notice()
        self._show_frame(frame)
        if not quiet:
            self.show_notice(f"Resumed from step {at:,}: the history after it was discarded.", "info")
        if was_playing:
            self._start_worker()

    def _on_run_stopped(self, reason: str) -> None:
        self._draw_pending()
        self._update_play_action()
        if self.session.stopped:
            # The signal may be late (from a run before a reset, queued behind other events) or
            # early (its frame not collected yet): either way the stopped state is what is drawn
            # under the notice, unless the user is looking back at an earlier step.
            frame = self.displayed_frame
            if frame is None or (frame.live and not frame.divergence):
                with self.session.locked():
                    frame = self.session.head_frame()
                self._show_frame(frame)
            self.show_notice("Training stopped: " + self.session.divergence_reason, "error", sticky=True)
        elif reason == "horizon":
            self.show_notice(f"Reached the run length ({self.session.config.steps:,} steps). "
                             "Press play to keep training.", "info")
        self._update_status(self.displayed_frame) if self.displayed_frame else None

    def _on_speed(self, speed: int) -> None:
        self.worker.set_speed(speed)
        self.timeline.setSingleStep(max(1, speed))

    def _on_timeline_pressed(self) -> None:
        if self.playing:
            self.pause()

    def _on_timeline(self, value: int) -> None:
        self.scrub_to(value)

    # ------------------------------------------------------------------ settings changes
    def _on_edited(self, field: str) -> None:
        try:
            config = self.panel.config(self.session.config)
        except ConfigError as exc:
            self.show_notice(f"Not applied: {exc}", "warn")
            self.panel.set_config(self.session.config)  # the controls show the settings in force
            return
        self.apply_config(config, field)

    def apply_config(self, config: TrainConfig, field: str = "") -> None:
        """Use ``config``: data/model changes start a new run, the rest applies from the next step."""
        if config == self.session.config:
            return
        changed = needs_reset(self.session.config, config)
        if changed:
            was_playing = self.playing
            self.pause()
            if not self._reset(config):
                return
            self.show_notice(f"New run: changing {', '.join(changed)} needs new data or a new network.", "info")
            if was_playing:
                self.play()
            return
        try:
            with self.session.locked():
                self.session.apply_config(config)
                head = self.session.head_step
                frame = None if self.worker.playing else self.session.frame_at(self.displayed_frame.step)
        except ConfigError as exc:
            self.show_notice(f"Not applied: {exc}", "warn")
            self.panel.set_config(self.session.config)
            return
        if frame is not None:
            self._show_frame(frame)
        what = field or "settings"
        where = f"step {head:,}" if self.displayed_frame is None or self.displayed_frame.live else \
            f"step {head:,} (or from the displayed step with Resume from here)"
        if self.session.stopped:
            self.show_notice(f"{what} changed. The run had stopped: press play (or Resume from here) "
                             "to go on from the displayed step with the new setting.", "info")
        else:
            self.show_notice(f"{what} changed: applies from {where}; the run goes on.", "info")

    def reset_run(self) -> None:
        """A new run with the settings in the controls."""
        was_playing = self.playing
        self.pause()
        try:
            config = self.panel.config(self.session.config)
        except ConfigError as exc:
            self.show_notice(f"Not reset: {exc}", "warn")
            return
        if self._reset(config):
            self.show_notice("New run from step 0.", "info")
            if was_playing:
                self.play()

    def _reset(self, config: TrainConfig, compare: dict | None = None) -> bool:
        try:
            with self.session.locked():
                self.session.reset(config, compare)
                frame = self.session.head_frame()
        except ConfigError as exc:
            self.show_notice(f"Could not start the run: {exc}", "error")
            self.panel.set_config(self.session.config)
            return False
        self.panel.set_config(config)
        self.view.set_dataset(self.session.dataset)
        self.view.fit.select_unit(None)
        self._update_ghost_label()
        self._sync_views()
        self._hide_notice()
        self._show_frame(frame)
        return True

    def load_preset(self, name: str) -> None:
        """Start the preset ``name`` (its settings, its ghost run, its description)."""
        try:
            preset = load_preset(name)
        except ConfigError as exc:
            self.show_notice(str(exc), "error")
            return
        self.pause()
        self.preset_name = name
        self._preset_view = preset.view
        if self._reset(preset.config, dict(preset.compare)):
            self._show_preset(name)
            for i in range(self.tabs.count()):
                w = self.tabs.widget(i)
                key = getattr(w, "view_name", "") or self.tabs.tabText(i)
                if preset.view != "fit" and key.lower().startswith(preset.view.lower()):
                    self.tabs.setCurrentIndex(i)
                    break
            else:
                self.tabs.setCurrentIndex(0)

    def _show_preset(self, name: str | None) -> None:
        desc = ""
        if name:
            try:
                p = load_preset(name)
                desc = p.description
                if p.compare:
                    desc += "\nGhost run (grey dashes): " + ", ".join(f"{k}={v}" for k, v in p.compare.items()) + "."
            except ConfigError:
                name = None
        self.panel.set_preset(name, desc)

    def _update_ghost_label(self) -> None:
        if self.session.ghost is not None:
            self.view.fit.set_ghost_label(ghost_label(self.session.compare))
        else:
            self.view.fit.set_ghost_label(None)

    def load_csv_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load x,y data", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.load_csv(path)

    def load_csv(self, path: str) -> None:
        """Fit the x,y rows of ``path`` (a new run)."""
        try:
            config = self.session.config.updated({"target": "csv", "csv_path": str(path), "batch_size": 0})
        except ConfigError as exc:
            self.show_notice(str(exc), "error")
            return
        was_playing = self.playing
        self.pause()
        if self._reset(config):
            self.preset_name = None
            self._show_preset(None)
            self.show_notice(f"Loaded {path}: {self.session.dataset.n} training points (full batch; "
                             "set a batch size to use SGD).", "info")
            if was_playing:
                self.play()

    # ------------------------------------------------------------------ view toggles
    def _on_show_test(self, on: bool) -> None:
        self.view.fit.set_show_test(on)

    def _on_show_units(self, on: bool) -> None:
        self.view.fit.set_show_units(on)
        if self.displayed_frame is not None:
            self.view.show_snapshot(self.displayed_frame.snapshot, ghost=self.displayed_frame.ghost)

    def _on_unit_clicked(self, unit: int, from_view: bool = False) -> None:
        self.view.fit.select_unit(None if unit < 0 else unit)
        for view in self._views:
            if hasattr(view, "select_unit"):
                view.select_unit(None if unit < 0 else unit)
        if self.displayed_frame is not None:
            self.view.show_snapshot(self.displayed_frame.snapshot, ghost=self.displayed_frame.ghost)
            self._update_elbow_trail(self.displayed_frame.snapshot.step)

    def _update_elbow_trail(self, step: int) -> None:
        """The selected unit's elbow over the recorded steps up to ``step``, on the fit plot."""
        unit = self.view.fit.selected_unit
        if unit is None or self.session.trainer.layout.model != "relu":
            return
        with self.session.locked():  # reads the history; a few ms at width 100
            trail = unit_elbow_trail(self.session.history, unit, step, x=self.session.dataset.x_train)
        self.view.fit.set_elbow_trail(trail.elbow if trail is not None else [])

    # ------------------------------------------------------------------ dialogs
    def open_export_dialog(self) -> None:
        """Open the export dialog (File > Export..., Ctrl+E); training pauses while it is open."""
        from reluviz.gui.export_dialog import ExportDialog  # (imports Pillow and the exporter: not at start-up)

        if self.playing:
            self.pause()
        self._export_dialog = ExportDialog(self)
        self._export_dialog.show()

    def _message(self, title: str, text: str, rich: bool = False) -> QtWidgets.QMessageBox:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, title, text,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(QtCore.Qt.TextFormat.RichText if rich else QtCore.Qt.TextFormat.PlainText)
        box.setObjectName("messageBox")
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_message = box
        return box

    def _about(self) -> None:
        self._message("About reluviz",
                      "<h3>reluviz</h3><p>Watch a ReLU network f(x) = &Sigma; v<sub>j</sub> relu(w<sub>j</sub> x + b<sub>j</sub>) + c "
                      "learn a 1-D function by SGD, step by step: every unit's elbow at x = -b/w, the minibatch, "
                      "the train and test loss.</p><p>Built for UC Berkeley CS 182's lectures on SGD and ReLU "
                      "networks.</p>", rich=True)

    def _shortcuts(self) -> None:
        self._message("Keyboard shortcuts", SHORTCUTS_HTML, rich=True)

    # ------------------------------------------------------------------ closing
    def shutdown(self) -> None:
        """Stop the training thread (idempotent); called on close and when the app quits."""
        if self._closed:
            return
        self._closed = True
        self._replay_timer.stop()
        dialog = getattr(self, "_export_dialog", None)
        if dialog is not None and shiboken6.isValid(dialog):
            dialog.close()  # cancels a running export (nothing half-written is left behind)
        self.worker.stop()
        for view in self._views:
            if hasattr(view, "shutdown"):
                view.shutdown()
        try:
            self.save_settings()
        except Exception:  # settings are a convenience; never block closing
            pass

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.shutdown()
        super().closeEvent(event)
