"""The side panel's spin boxes: typed values out of range are refused with a signal, never clamped.

Qt's spin boxes clamp a typed value to their range without a word and drop a minus sign when the
minimum is not negative (typing -5 into "points N" gave 5). These accept any number while it is
typed, apply it on Enter when it is in range, and otherwise emit ``rejected(text)`` and show the
value in force again; the panel turns that into a notice naming the allowed range.
"""

from __future__ import annotations

import math
import re

from PySide6 import QtCore, QtGui, QtWidgets

_NUMBER_START = re.compile(r"^[-+]?(\d[\d,]*)?\.?\d*([eE][-+]?\d*)?$")


def parse_number(text: str) -> float | None:
    """The number typed in ``text`` ("1,000", "-5", "1e-3"), or None when it is not one (yet)."""
    t = text.strip().replace(",", "").replace("_", "")
    try:
        value = float(t)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _check(box: QtWidgets.QAbstractSpinBox, text: str, pos: int, decimals: int):
    """A spin box's validate: in range -> Acceptable; a number out of range, or the start of one
    ("-", "1e") -> Intermediate, so the minus sign stays and Enter reports it (``fixup``), never
    clamps; anything else -> Invalid (the key is refused)."""
    stripped = text.strip()
    if box.specialValueText() and stripped == box.specialValueText():
        return QtGui.QValidator.State.Acceptable, text, pos
    value = parse_number(stripped)
    if value is None:
        ok = stripped == "" or _NUMBER_START.match(stripped) is not None
        return (QtGui.QValidator.State.Intermediate if ok else QtGui.QValidator.State.Invalid), text, pos
    if decimals == 0 and not value.is_integer():
        return QtGui.QValidator.State.Intermediate, text, pos
    value = round(value, decimals)
    ok = box.minimum() <= value <= box.maximum()
    return (QtGui.QValidator.State.Acceptable if ok else QtGui.QValidator.State.Intermediate), text, pos


class IntSpinBox(QtWidgets.QSpinBox):
    """A whole-number spin box that refuses typed values out of its range with ``rejected(text)``
    (the display goes back to the value in force) instead of clamping them or dropping a minus."""

    rejected = QtCore.Signal(str)

    def validate(self, text, pos):  # noqa: D102 (Qt API)
        return _check(self, text, pos, 0)

    def fixup(self, text: str) -> str:  # noqa: D102 - called by Qt with text validate did not accept
        if text.strip():
            self.rejected.emit(text.strip())
        return text

    def valueFromText(self, text: str) -> int:  # noqa: N802
        if self.specialValueText() and text.strip() == self.specialValueText():
            return self.minimum()
        value = parse_number(text)
        return int(value) if value is not None else self.value()


class FloatSpinBox(QtWidgets.QDoubleSpinBox):
    """``IntSpinBox`` for numbers with decimals (accepts 1e-3 too)."""

    rejected = QtCore.Signal(str)

    def validate(self, text, pos):  # noqa: D102
        return _check(self, text, pos, self.decimals())

    def fixup(self, text: str) -> str:  # noqa: D102
        if text.strip():
            self.rejected.emit(text.strip())
        return text

    def valueFromText(self, text: str) -> float:  # noqa: N802
        value = parse_number(text)
        return value if value is not None else self.value()


class LrSpinBox(FloatSpinBox):
    """A spin box that shows a rate as 0.02 or 1e-05, not 0.020000."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        return f"{value:.4g}"


def shown_number(x: float) -> str:
    """1000000 -> "1,000,000", 1e-08 -> "1e-08"."""
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"
