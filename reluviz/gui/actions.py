"""The window's actions in one table: name, text, shortcut, tooltip, the window method they call,
the menu they sit in. ``build_actions(window)`` makes them (``window.actionPlayPause``, ...) and
keeps the menus by title in ``window.menus``."""

from __future__ import annotations

import operator
from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets

K = QtCore.Qt.Key
CTRL = QtCore.Qt.KeyboardModifier.ControlModifier


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    slot: str                     # the window method called (toggled(bool) for checkable ones); a dotted
                                  # name is a piece's method ("files.save_dialog"), found when triggered;
                                  # "": wired elsewhere (the loss panel's switches)
    menu: str
    shortcut: object = None
    tip: str = ""
    checkable: bool = False
    checked: bool = False
    separator_before: bool = False


SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier

ACTIONS = (
    ActionSpec("actionOpenRun", "Open run...", "files.open_dialog", "&File", QtGui.QKeySequence(CTRL | SHIFT | K.Key_O),
               "Open a run file (.npz from `reluviz train` or Save run): scrub it, export it, resume from "
               "any step (Ctrl+Shift+O)"),
    ActionSpec("actionSaveRun", "Save run...", "files.save_dialog", "&File", QtGui.QKeySequence(CTRL | K.Key_S),
               "Save the run on screen (every recorded step, the data and the settings) as a run file "
               "to open again later (Ctrl+S)"),
    ActionSpec("actionLoadCsv", "Load CSV...", "load_csv_dialog", "&File", QtGui.QKeySequence(CTRL | K.Key_O),
               "Fit your own x,y data (Ctrl+O)", separator_before=True),
    ActionSpec("actionExport", "Export...", "open_export_dialog", "&File", QtGui.QKeySequence(CTRL | K.Key_E),
               "Render frames, a GIF or an MP4 (Ctrl+E)"),
    ActionSpec("actionQuit", "Quit", "close", "&File", QtGui.QKeySequence(CTRL | K.Key_Q), separator_before=True),
    ActionSpec("actionUndoRun", "Undo new run", "undo_new_run", "&Edit", QtGui.QKeySequence(CTRL | K.Key_Z),
               "Bring back the run that the last new run (a preset, a CSV file, Reset, a data or model "
               "setting) replaced, with its history and settings (Ctrl+Z)"),
    ActionSpec("actionPlayPause", "Play", "toggle_play", "&Run", K.Key_Space, "Play / pause training (Space)"),
    ActionSpec("actionStep", "Step \u25b6", "step", "&Run", K.Key_Right,
               "One frame forward: 'steps / frame' updates (Right)"),
    ActionSpec("actionStepBack", "\u25c0 Back", "step_back", "&Run", K.Key_Left,
               "One frame back through the recorded history (Left)"),
    ActionSpec("actionResume", "Resume from here", "resume_from_here", "&Run", QtGui.QKeySequence(CTRL | K.Key_Return),
               "Continue training from the displayed step with the current settings; the later history is "
               "discarded (Ctrl+Return)", separator_before=True),
    ActionSpec("actionReset", "Reset", "reset_run", "&Run", QtGui.QKeySequence(CTRL | K.Key_R),
               "A new run: new data, new init, current settings (Ctrl+R)"),
    ActionSpec("actionHome", "Go to start", "go_home", "&Run", K.Key_Home, "Show step 0 (Home)", separator_before=True),
    ActionSpec("actionEnd", "Go to newest", "go_end", "&Run", K.Key_End, "Show the newest step (End)"),
    ActionSpec("actionShowValidation", "Show validation points", "", "&View", None,
               "Show the validation points (pale purple): drawn like the training points, never trained on",
               checkable=True, checked=True),
    ActionSpec("actionShowTest", "Show test points", "", "&View", None,
               "Show the test points (pale green). Hidden at first: the notes keep the test set for one final "
               "check of the chosen model", checkable=True, checked=False),
    ActionSpec("actionShowValLoss", "validation", "", "&View", None,
               "Show the validation loss in the loss panel: the MSE on points never trained on, what "
               "hyperparameters (and when to stop) are chosen by", checkable=True, checked=True, separator_before=True),
    ActionSpec("actionShowTestLoss", "test", "", "&View", None,
               "Show the test loss in the loss panel. Hidden at first: the notes touch the test set once, to check "
               "the chosen model; looking at it while choosing makes it a second validation set",
               checkable=True, checked=False),
    ActionSpec("actionShowTrueError", "true-function error", "", "&View", None,
               "Show the error to the true function in the loss panel: the mean squared distance to the "
               "noiseless target, what a student cannot measure in real life (about the test loss minus the "
               "noise variance)", checkable=True, checked=False),
    ActionSpec("actionShowObjective", "objective", "", "&View", None,
               "Show the objective training minimises, MSE + λ‖θ‖² (drawn when the ridge λ is above 0; without "
               "a ridge it is the train loss)", checkable=True, checked=True),
    ActionSpec("actionShowUnits", "Show units and elbows", "show_units", "&View", None,
               "Draw each unit's contribution v_j relu(w_j x + b_j) and its elbow", checkable=True, checked=True),
    ActionSpec("actionShowConstantFit", "Piecewise-constant fit (Figure 4)", "view.fit.set_show_constant_fit",
               "&View", None,
               "Overlay the best piecewise-constant fit on the network's own linear pieces (least squares, red "
               "steps) and compare the two training errors: the notes' Figure 4", checkable=True, checked=False),
    ActionSpec("actionResetView", "Reset view", "reset_plot_view", "&View", QtGui.QKeySequence(CTRL | K.Key_0),
               "Undo zoom and pan (Ctrl+0)"),
    ActionSpec("actionFocusPlot", "Keys to the plot", "focus_plot", "", K.Key_Escape,
               "Leave a control so Space and the arrow keys drive playback again (Esc)"),
    ActionSpec("actionShortcuts", "Keyboard shortcuts", "show_shortcuts", "&Help", K.Key_F1),
    ActionSpec("actionAbout", "About reluviz", "show_about", "&Help"),
)

#: The View menu's switches remembered between launches: settings key, action, default (the test
#: points are off at first: the notes keep the test set for one final check).
VIEW_TOGGLES = (("view/show_val_data", "actionShowValidation", True), ("view/show_test_data", "actionShowTest", False),
                ("view/show_units", "actionShowUnits", True))

#: The loss panel's switches (under it), in order: curve key -> action (``LossSwitches`` wires them).
LOSS_SWITCHES = (("val", "actionShowValLoss"), ("objective", "actionShowObjective"), ("test", "actionShowTestLoss"),
                 ("true", "actionShowTrueError"))

#: The playback buttons of the side panel, in order.
PANEL_BUTTONS = ("actionPlayPause", "actionReset", "actionStepBack", "actionStep", "actionResume")


def build_actions(window: QtWidgets.QMainWindow) -> dict[str, QtGui.QAction]:
    """Create every action of ``ACTIONS`` on ``window`` (as ``window.<name>``) and its menus."""
    actions: dict[str, QtGui.QAction] = {}
    menus: dict[str, QtWidgets.QMenu] = {}
    for spec in ACTIONS:
        a = QtGui.QAction(spec.text, window)
        a.setObjectName(spec.name)
        if spec.shortcut is not None:
            a.setShortcut(QtGui.QKeySequence(spec.shortcut))
            a.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        if spec.tip:
            a.setToolTip(spec.tip)
            a.setStatusTip(spec.tip)
        if spec.checkable:
            a.setCheckable(True)
            a.setChecked(spec.checked)
            if spec.slot:  # (a dotted one: a piece made before; "": wired elsewhere)
                a.toggled.connect(operator.attrgetter(spec.slot)(window))
        elif "." in spec.slot:  # (a piece made after the actions: found when triggered)
            a.triggered.connect(lambda _checked=False, name=spec.slot: operator.attrgetter(name)(window)())
        elif spec.slot:
            slot = getattr(window, spec.slot)
            a.triggered.connect(lambda _checked=False, s=slot: s())
        window.addAction(a)
        if spec.menu:
            if spec.menu not in menus:
                menus[spec.menu] = window.menuBar().addMenu(spec.menu)
            if spec.separator_before:
                menus[spec.menu].addSeparator()
            menus[spec.menu].addAction(a)
        setattr(window, spec.name, a)
        actions[spec.name] = a
    window.menus = menus
    return actions
