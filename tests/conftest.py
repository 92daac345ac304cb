"""Test setup: Qt runs offscreen (set before any Qt import; without a display Qt aborts)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
