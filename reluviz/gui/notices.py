"""The notice bar above the plots: one sentence about what just happened (info, warn, error).

The bar keeps its room when it is empty (two lines of text), so a notice that comes or goes never
moves the plots and buttons below it (a click aimed at a button landed elsewhere when a banner
vanished). A notice longer than two lines grows the bar; it shrinks back to two lines only.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

STYLES = {
    "info": "background: #e8f1fb; color: #13406b; border: 1px solid #a9c8ea;",
    "warn": "background: #fff4d6; color: #5c4300; border: 1px solid #e6c466;",
    "error": "background: #fde7e7; color: #7a1010; border: 1px solid #e8a0a0;",
}
SHOWN_MS = 6000  # a notice that is not sticky goes after this long
PADDING = 6      # px inside the bar's border
LINES = 2        # lines of text the bar always has room for


class NoticeBar(QtWidgets.QLabel):
    """``show_notice(text, kind, sticky, topic)``; sticky notices stay until ``clear`` or
    ``clear_sticky``; ``clear_topic(topic)`` takes a notice back when what it says is no longer
    true (e.g. "reached the run length" once the run goes on)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("", parent)
        self.setObjectName("notice")
        self.setWordWrap(True)
        self.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
        f = self.font()
        f.setPointSize(f.pointSize() + 2)
        self.setFont(f)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the empty bar keeps its room
        policy.setVerticalPolicy(QtWidgets.QSizePolicy.Policy.Minimum)
        self.setSizePolicy(policy)
        self.setMinimumHeight(LINES * self.fontMetrics().lineSpacing() + 2 * PADDING + 4)
        self.setVisible(False)
        self.sticky = False
        self.kind = ""
        self.topic = ""
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)

    def show_notice(self, text: str, kind: str = "info", sticky: bool = False, topic: str = "") -> None:
        self.setText(text)
        self.setStyleSheet(STYLES.get(kind, STYLES["info"]) + f" padding: {PADDING}px; border-radius: 4px;")
        self.setVisible(True)
        self.sticky, self.kind, self.topic = sticky, kind, topic
        self._timer.stop()
        if not sticky:
            self._timer.start(SHOWN_MS)

    def clear(self) -> None:
        self.setVisible(False)
        self.setText("")
        self.sticky = False
        self.topic = ""

    def clear_sticky(self) -> None:
        if self.isVisible() and self.sticky:
            self.clear()

    def clear_topic(self, topic: str) -> None:
        if self.isVisible() and topic and self.topic == topic:
            self.clear()


class NoticeArea(QtWidgets.QWidget):
    """The bar's place above the plots: the ``NoticeBar`` (``bar``) over a greyed ``hint`` in the
    same cell, so the room it keeps is never a blank strip (the bar's background is opaque)."""

    def __init__(self, hint: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.hint = QtWidgets.QLabel(hint)
        self.hint.setObjectName("idleHint")
        self.hint.setStyleSheet("color: #8a8f96; padding-left: 8px;")
        self.hint.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.bar = NoticeBar()
        stack = QtWidgets.QGridLayout(self)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.addWidget(self.hint, 0, 0)
        stack.addWidget(self.bar, 0, 0)  # (on top)
