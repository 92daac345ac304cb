"""The timeline under the plots: a slider over the recorded steps and where the frame on screen is."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from reluviz.core.frame import Frame


class TimelineBar(QtWidgets.QWidget):
    """``scrubbed(step)`` when the user drags the slider; ``pressed()`` when they grab it."""

    scrubbed = QtCore.Signal(int)
    pressed = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setObjectName("timeline")
        self.slider.setToolTip("The recorded history: drag to look back at any step (training pauses).")
        self.slider.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.label = QtWidgets.QLabel("")
        self.label.setObjectName("timelineLabel")
        self.label.setMinimumWidth(200)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QtWidgets.QLabel("history"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        self.slider.valueChanged.connect(self.scrubbed)
        self.slider.sliderPressed.connect(self.pressed)

    def set_step_size(self, speed: int) -> None:
        self.slider.setSingleStep(max(1, speed))

    def show_frame(self, frame: Frame) -> None:
        s = self.slider
        s.blockSignals(True)
        s.setRange(frame.first_step, max(frame.last_step, frame.first_step))
        s.setValue(frame.step)
        s.setPageStep(max(1, (frame.last_step - frame.first_step) // 20))
        s.blockSignals(False)
        where = "newest" if frame.live else f"of {frame.last_step:,}"
        self.label.setText(f"step {frame.step:,} ({where})")
