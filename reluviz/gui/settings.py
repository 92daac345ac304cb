"""Where the app remembers its last-used settings (QSettings, organisation "reluviz").

Set ``RELUVIZ_SETTINGS_DIR`` to keep them in another folder (the tests point it at a temporary
directory, so they neither read nor change a user's settings).
"""

from __future__ import annotations

import os

from PySide6 import QtCore

from reluviz.gui.actions import VIEW_TOGGLES

ENV_DIR = "RELUVIZ_SETTINGS_DIR"
ORGANIZATION = "reluviz"
APPLICATION = "reluviz"


def open_settings(parent: QtCore.QObject | None = None) -> QtCore.QSettings:
    """The app's settings store (an INI file; in ``$RELUVIZ_SETTINGS_DIR`` when that is set)."""
    fmt = QtCore.QSettings.Format.IniFormat
    folder = os.environ.get(ENV_DIR)
    if folder:
        QtCore.QSettings.setPath(fmt, QtCore.QSettings.Scope.UserScope, folder)
    return QtCore.QSettings(fmt, QtCore.QSettings.Scope.UserScope, ORGANIZATION, APPLICATION, parent)


def restore_window(window, s: QtCore.QSettings, default_speed: int) -> None:
    """Bring back what the window remembers: speed, view toggles, geometry, splitter."""
    window.panel.set_speed(int(s.value("view/speed", default_speed, int)))
    for key, name, default in VIEW_TOGGLES:
        getattr(window, name).setChecked(s.value(key, default, bool))
    geometry = s.value("window/geometry")
    if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    state = s.value("window/splitter")
    if isinstance(state, QtCore.QByteArray) and not state.isEmpty():
        window.splitter.restoreState(state)


def save_window(window, s: QtCore.QSettings) -> None:
    """Remember the run's settings and preset, the speed, the view toggles, geometry and splitter."""
    s.setValue("run/config", window.session.config.to_json())
    s.setValue("run/preset", window.preset_name or "")
    s.setValue("view/speed", window.panel.speed())
    for key, name, _default in VIEW_TOGGLES:
        s.setValue(key, getattr(window, name).isChecked())
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/splitter", window.splitter.saveState())
    s.sync()
