"""Input widgets that change a setting only when the user meant to: the mouse wheel over a spin
box, combo box or slider that has not been clicked scrolls the panel around it instead.

Why: the side panel is a long scrolling column of spin boxes. Qt hands a wheel event to whatever
control is under the pointer, so scrolling the panel changed every setting that passed under it
(a width change even discarded the run). ``guard_wheel(widget)`` installs one event filter:

* a wheel event over a guarded control without keyboard focus goes to the nearest scroll area
  (its vertical scroll bar), or nowhere when there is none; with focus (the user clicked it or
  tabbed to it) the control takes the wheel as usual, unless it is marked ``no_wheel`` (a control
  whose change discards the run: a box keeps the focus after its value was typed, and a later
  scroll passing over it started a new run);
* the controls get focus by click or Tab, never by the wheel (``StrongFocus``);
* Ctrl+Z in a spin box that is not being edited goes to the window (Edit > Undo new run), not
  to the spin box's text undo.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

GUARDED = (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox, QtWidgets.QAbstractSlider)
NO_WHEEL = "reluvizNoWheel"  # a widget property: the wheel never changes this control


def no_wheel(widget: QtWidgets.QWidget) -> None:
    """The wheel never changes ``widget``, focused or not (it scrolls the panel around it)."""
    widget.setProperty(NO_WHEEL, True)


class _WheelGuard(QtCore.QObject):
    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind == QtCore.QEvent.Type.Wheel and isinstance(obj, QtWidgets.QWidget):
            if _popup_open(obj) or (obj.hasFocus() and not obj.property(NO_WHEEL)):
                return False
            area = _scroll_area(obj)
            if area is not None:
                QtCore.QCoreApplication.sendEvent(area.verticalScrollBar(), event)
            return True  # (never to the control itself)
        if kind == QtCore.QEvent.Type.ShortcutOverride and isinstance(obj, QtWidgets.QAbstractSpinBox):
            if event.matches(QtGui.QKeySequence.StandardKey.Undo) and not _editing(obj):
                return True  # not accepted by the spin box: the window's shortcut fires
        return False


_GUARD: _WheelGuard | None = None


def guard_wheel(root: QtWidgets.QWidget) -> int:
    """Guard ``root`` and every spin box, combo box and slider inside it; returns how many."""
    global _GUARD
    if _GUARD is None:
        _GUARD = _WheelGuard(QtCore.QCoreApplication.instance())
    widgets = [root] if isinstance(root, GUARDED) else []
    widgets += [w for w in root.findChildren(QtWidgets.QWidget) if isinstance(w, GUARDED)]
    for w in widgets:
        w.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        w.removeEventFilter(_GUARD)
        w.installEventFilter(_GUARD)
    return len(widgets)


def _scroll_area(widget: QtWidgets.QWidget) -> QtWidgets.QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QtWidgets.QAbstractScrollArea) and not isinstance(parent, QtWidgets.QAbstractItemView):
            return parent
        parent = parent.parentWidget()
    return None


def _popup_open(widget: QtWidgets.QWidget) -> bool:
    return isinstance(widget, QtWidgets.QComboBox) and widget.view().isVisible()


def _editing(spin: QtWidgets.QAbstractSpinBox) -> bool:
    """Whether the spin box shows typed text that is not its value yet."""
    line = spin.lineEdit()
    if line is None:
        return False
    if isinstance(spin, (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox)):
        return line.text() != spin.textFromValue(spin.value()) and line.text() != spin.specialValueText()
    return line.isModified()
