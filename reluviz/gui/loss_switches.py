"""The switches under the loss panel: which evaluated curves it draws, and why the test loss
starts hidden (the notes keep the test set for one final check of the chosen model).

Each switch is a tool button bound to a View-menu action (``actionShowValLoss``,
``actionShowTestLoss``, ``actionShowTrueError``, ``actionShowObjective``), so the menu, the
button and the curve always agree; clicking a curve's legend entry hides it and unticks its switch.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

TEST_HIDDEN = ("The test loss starts hidden: the notes touch the test set once, to check the model "
               "chosen on validation data.")


class LossSwitches(QtWidgets.QWidget):
    """A row of toggle buttons for the loss panel's curves and a note while the test loss is hidden."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lossSwitches")
        self.row = QtWidgets.QHBoxLayout(self)
        self.row.setContentsMargins(6, 0, 6, 2)
        self.row.setSpacing(6)
        self.row.addWidget(QtWidgets.QLabel("loss panel:"))
        self.buttons: dict[str, QtWidgets.QToolButton] = {}
        self.note = QtWidgets.QLabel(TEST_HIDDEN)
        self.note.setObjectName("testHiddenNote")
        self.note.setStyleSheet("color: #555; font-style: italic;")
        self.note.setWordWrap(True)
        self._test: QtGui.QAction | None = None
        self._tail = QtWidgets.QHBoxLayout()
        self.row.addLayout(self._tail)
        self.row.addWidget(self.note, 1)

    def add_switch(self, key: str, action: QtGui.QAction) -> QtWidgets.QToolButton:
        """A toggle button for ``action`` (checkable); ``key`` 'test' drives the note."""
        button = QtWidgets.QToolButton()
        button.setObjectName(f"switch_{key}")
        button.setDefaultAction(action)
        button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # (Space and the arrows stay with playback)
        self._tail.addWidget(button)
        self.buttons[key] = button
        if key == "test":
            self._test = action
            action.toggled.connect(lambda on: self.note.setVisible(not on))
            self.note.setVisible(not action.isChecked())
        return button
