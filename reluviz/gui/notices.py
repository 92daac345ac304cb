"""The notice bar above the plots: one sentence about what just happened (info, warn, error)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

STYLES = {
    "info": "background: #e8f1fb; color: #13406b; border: 1px solid #a9c8ea;",
    "warn": "background: #fff4d6; color: #5c4300; border: 1px solid #e6c466;",
    "error": "background: #fde7e7; color: #7a1010; border: 1px solid #e8a0a0;",
}
SHOWN_MS = 6000  # a notice that is not sticky goes after this long


class NoticeBar(QtWidgets.QLabel):
    """``show_notice(text, kind, sticky)``; sticky notices stay until ``clear`` or ``clear_sticky``."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("", parent)
        self.setObjectName("notice")
        self.setWordWrap(True)
        self.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.setVisible(False)
        f = self.font()
        f.setPointSize(f.pointSize() + 2)
        self.setFont(f)
        self.sticky = False
        self.kind = ""
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)

    def show_notice(self, text: str, kind: str = "info", sticky: bool = False) -> None:
        self.setText(text)
        self.setStyleSheet(STYLES.get(kind, STYLES["info"]) + " padding: 6px; border-radius: 4px;")
        self.setVisible(True)
        self.sticky, self.kind = sticky, kind
        self._timer.stop()
        if not sticky:
            self._timer.start(SHOWN_MS)

    def clear(self) -> None:
        self.setVisible(False)
        self.setText("")
        self.sticky = False

    def clear_sticky(self) -> None:
        if self.isVisible() and self.sticky:
            self.clear()
