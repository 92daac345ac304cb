"""The timeline under the plots (a slider over the recorded steps and where the frame on screen is)
and the status line's text for a frame."""

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


def status_text(frame: Frame, steps_per_second: float | None = None, show_test: bool = False,
                compiling: bool = False) -> str:
    """The status line for ``frame``: step, epoch (points drawn / N), losses (train, the objective
    when a ridge is set, validation, and test only with ``show_test``: like its curve, the test loss
    is for the final check), rate, dead units, the training speed while playing
    (``steps_per_second``; None: not playing), and whether the fast kernels are still compiling
    (``compiling``: NumPy trains meanwhile)."""
    parts = [f"step {frame.step:,}", f"epoch {frame.epoch:,.1f}", f"minibatch {frame.batch_loss:.3g}",
             f"train {frame.train_loss:.3g}", f"objective {frame.objective:.3g}" if frame.config.ridge else "",
             f"validation {frame.val_loss:.3g}", f"test {frame.test_loss:.3g}" if show_test else "",
             f"lr {frame.lr:.3g}" if not frame.stopped else "stopped"]
    parts = [p for p in parts if p]
    st = frame.structure
    if st is not None:  # (a relu net of any depth: dead units per layer; saturated ones for tanh / sigmoid)
        counts = st.stats.dead_counts() if st.piecewise else st.stats.saturated_counts()
        text = ("dead units " if st.piecewise else "saturated units ") + " · ".join(f"{n}/{st.width}" for n in counts)
        parts.append(text + (f" (layers 1-{st.depth})" if st.depth > 1 else ""))
    if steps_per_second is not None:
        parts.append(f"{steps_per_second:,.0f} steps/s")
        if compiling:
            parts.append("compiling the fast kernels: NumPy trains meanwhile")
    elif not frame.live:
        parts.append("looking back")
    return "   \u00b7   ".join(parts)
