"""Test setup: Qt runs offscreen (set before any Qt import; without a display Qt aborts), and
every test keeps the app's remembered settings in its own temporary folder, never the user's."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("RELUVIZ_SETTINGS_DIR", str(tmp_path / "settings"))


@pytest.fixture
def make_window(qtbot):
    """``make_window(config=SMALL_APP, preset=None)``: a shown ``MainWindow`` (1400x900) closed after the test."""
    from helpers import SMALL_APP
    from PySide6 import QtCore

    from reluviz.gui import MainWindow

    # Widgets of earlier tests are deleted later, when an event loop runs: hundreds of graphics
    # items take ~0.5 s (1.7 s while a training thread holds the GIL), which a test that plays a
    # 100,000-step run would otherwise spend with a frozen window. Delete them now.
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)

    def make(config=SMALL_APP, preset=None) -> MainWindow:
        window = MainWindow(config, preset=preset)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        return window

    return make
