"""Guard against the PySide6 6.12.0 / Python 3.11 bug: every Qt call returning None dropped a
reference to None (its count falls by one per call), and a pyqtgraph app died with
`Fatal Python error: none_dealloc` after a few thousand calls. Checked against 6.12.0: this test
sees a change of -4,000 there, and about 0 on the pinned 6.11."""

import sys

import pytest

from PySide6 import QtCore, QtWidgets
import PySide6


def test_qt_calls_returning_none_keep_the_refcount_of_none(qapp):
    widget = QtWidgets.QWidget()
    timer = QtCore.QTimer()
    for _ in range(100):  # warm up caches
        widget.setToolTip("x")
    before = sys.getrefcount(None)
    for _ in range(2_000):  # few enough that the broken binding cannot free None during the test
        widget.setToolTip("x")
        timer.setInterval(5)
    change = sys.getrefcount(None) - before
    assert abs(change) < 100, f"4,000 Qt calls changed None's refcount by {change} (PySide6 {PySide6.__version__})"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_pinned_binding_is_not_the_broken_release():
    assert not PySide6.__version__.startswith("6.12.0"), "PySide6 6.12.0 leaks None on Python 3.11; see pyproject"
