"""Test setup: Qt runs offscreen (set before any Qt import; without a display Qt aborts), and
every test keeps the app's remembered settings in its own temporary folder, never the user's."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("RELUVIZ_SETTINGS_DIR", str(tmp_path / "settings"))
