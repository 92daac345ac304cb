"""The switches under the loss panel: which evaluated curves it draws, and why the test loss
starts hidden (the notes keep the test set for one final check of the chosen model).

Each switch is a tool button bound to a View-menu action (``actionShowValLoss``,
``actionShowTestLoss``, ``actionShowTrueError``, ``actionShowObjective``): the action shows or hides
the curve in the ``LossPlot``, and a click on a curve's legend entry (which hides it) unticks the
action, so the menu, the button and the curve always agree. ``changed()`` follows every change
(the window's status line shows the test loss only while its curve is drawn).
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.gui.actions import LOSS_SWITCHES
from reluviz.plots.loss_plot import LossPlot

TEST_HIDDEN = ("The test loss starts hidden: the notes touch the test set once, to check the model "
               "chosen on validation data.")


class LossSwitches(QtWidgets.QWidget):
    """A row of toggle buttons for ``loss``'s curves and a note while the test loss is hidden."""

    changed = QtCore.Signal()

    def __init__(self, loss: LossPlot, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lossSwitches")
        self.loss = loss
        self.row = QtWidgets.QHBoxLayout(self)
        self.row.setContentsMargins(6, 0, 6, 2)
        self.row.setSpacing(6)
        self.row.addWidget(QtWidgets.QLabel("curves:"))  # (short: the window fits 900 px wide)
        self.buttons: dict[str, QtWidgets.QToolButton] = {}
        self.actions: dict[str, QtGui.QAction] = {}
        self._tail = QtWidgets.QHBoxLayout()
        self.row.addLayout(self._tail)
        self.note = QtWidgets.QLabel(TEST_HIDDEN)
        self.note.setObjectName("testHiddenNote")
        self.note.setStyleSheet("color: #555; font-style: italic;")
        self.note.setWordWrap(True)
        self.row.addWidget(self.note, 1)
        loss.visibilityChanged.connect(self._on_legend)
        loss.curvesChanged.connect(self._follow_objective)

    def under(self, view: QtWidgets.QWidget) -> QtWidgets.QWidget:
        """A widget holding ``view`` with this row under it (the Fit tab)."""
        tab = QtWidgets.QWidget()
        tab.setObjectName("fitTab")
        layout = QtWidgets.QVBoxLayout(tab)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(view, 1)
        layout.addWidget(self)
        return tab

    def add_switches(self, window) -> None:
        """A switch for each of ``LOSS_SWITCHES`` (the window's actions, by name)."""
        for key, name in LOSS_SWITCHES:
            self.add_switch(key, getattr(window, name))

    def add_switch(self, key: str, action: QtGui.QAction) -> QtWidgets.QToolButton:
        """A toggle button for the checkable ``action`` that shows or hides curve ``key``."""
        button = QtWidgets.QToolButton()
        button.setObjectName(f"switch_{key}")
        button.setDefaultAction(action)
        button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # (Space and the arrows stay with playback)
        self._tail.addWidget(button)
        self.buttons[key] = button
        self.actions[key] = action
        action.toggled.connect(lambda on, k=key: self._show(k, on))
        self._show(key, action.isChecked())
        return button

    def _show(self, key: str, on: bool) -> None:
        self.loss.set_curve_visible(key, on)
        if key == "test":
            self.note.setVisible(not on)
        self.changed.emit()

    def _follow_objective(self) -> None:
        """The objective's switch is off while there is no ridge (the objective is then the train loss)."""
        action = self.actions.get("objective")
        if action is not None and action.isEnabled() != self.loss.has_objective:
            action.setEnabled(self.loss.has_objective)

    def _on_legend(self, key: str, shown: bool) -> None:
        """A legend click hid a curve: its switch follows (and says so to the rest)."""
        action = self.actions.get(key)
        if action is not None and action.isChecked() != shown:
            action.setChecked(shown)
