"""The lecture views' common protocol: an explanation header, and what the window calls.

Protocol (what the main window relies on)
-----------------------------------------
* ``view_name``: the preset ``"view"`` key it answers to (``dance``, ``votes``, ``elbows``, ``layers``,
  ``bands``).
* ``title``: the tab title.  ``explanation``: one paragraph shown at the top of the view.
* ``show_frame(frame)``: draw a ``reluviz.core.frame.Frame``. Called on every drawn frame while the
  view is visible, in the GUI thread; it draws only what the frame carries (snapshot, config,
  ghost settings, data, the thinned past in ``frame.trail``) and computes through
  ``reluviz.core``. It takes a few milliseconds.
* ``trail_spec(config)``: how much of the past (``TrailSpec``) its frames should carry.
* ``select_unit(j)``: highlight hidden unit ``j`` (``None`` or -1 clears) without emitting signals;
  ``unitSelected(j)`` when the user picks one in the view.
* ``configure(options)``: a preset's ``view_options`` for the view it opens (e.g. which
  hyperparameter the model-selection view sweeps); unknown keys are ignored.
* ``shutdown()``: cancel and wait for background work; call before the window closes.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from reluviz.core.config import SETTINGS, TrainConfig
from reluviz.core.frame import Frame, TrailSpec

EXPLANATION_POINT_SIZE = 13


class LectureView(QtWidgets.QWidget):
    """Base class: an explanation label on top, a body below (``self.body``, a QVBoxLayout).

    ``self.frame`` is the last frame shown; ``self.config`` and ``self.compare`` its settings.
    """

    view_name = ""
    title = ""
    explanation = ""
    #: the user picked hidden unit j here (-1: none); the window follows it in every view
    unitSelected = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.frame: Frame | None = None
        self.selected_unit: int | None = None
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)
        self.explanation_label = QtWidgets.QLabel(self.explanation)
        self.explanation_label.setObjectName("explanation")
        self.explanation_label.setWordWrap(True)
        self.explanation_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        f = self.explanation_label.font()
        f.setPointSize(EXPLANATION_POINT_SIZE)
        self.explanation_label.setFont(f)
        self.explanation_label.setStyleSheet(
            "QLabel#explanation { background: #f4f6f9; color: #1c2a3a; border: 1px solid #d5dbe3; padding: 6px; }")
        self.explanation_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                                             QtWidgets.QSizePolicy.Policy.Maximum)
        outer.addWidget(self.explanation_label)
        self.body = QtWidgets.QVBoxLayout()
        self.body.setSpacing(4)
        outer.addLayout(self.body, 1)

    @property
    def config(self) -> TrainConfig | None:
        return self.frame.config if self.frame is not None else None

    @property
    def compare(self) -> dict:
        return dict(self.frame.compare) if self.frame is not None else {}

    # ------------------------------------------------------------------ protocol
    def show_frame(self, frame: Frame) -> None:
        raise NotImplementedError

    def trail_spec(self, config: TrainConfig) -> TrailSpec:
        """The past this view draws (none by default)."""
        return TrailSpec()

    def select_unit(self, unit: int | None) -> None:
        self.selected_unit = None if unit is None or unit < 0 else int(unit)

    def configure(self, options: dict) -> None:
        """A preset's ``view_options`` (none by default)."""

    def shutdown(self) -> None:
        """Stop background work (views with workers override this)."""


def big_font(widget: QtWidgets.QWidget, delta: int = 2) -> None:
    f = widget.font()
    f.setPointSize(f.pointSize() + delta)
    widget.setFont(f)


def settings_changes(old: TrainConfig, new: TrainConfig, ignore: tuple[str, ...] = ()) -> list[str]:
    """The settings ``new`` changed from ``old`` in the panel's words, e.g. "learning rate 0.1 →
    0.05"; fields in ``ignore`` and settings that mean nothing under either are left out."""
    a, b = old.to_dict(), new.to_dict()
    out = []
    for field, s in SETTINGS.items():
        if field in ignore or a[field] == b[field] or not (s.applies(a) or s.applies(b)):
            continue
        out.append(f"{s.label} {a[field]:g} \u2192 {b[field]:g}" if isinstance(a[field], float)
                   else f"{s.label} {a[field]} \u2192 {b[field]}")
    return out


def stale_note(what: str, changes: list[str], button: str) -> str:
    """Rich text saying results (``what``, a plural) were computed for earlier settings, which
    differ, and what redoes them."""
    listed = "; ".join(changes[:4]) + ("; ..." if len(changes) > 4 else "")
    return (f"<span style='color: #8a5300'><b>{what} are for earlier settings</b>: {listed}. "
            f"Press “{button}” for the current ones.</span>")
