"""Where the app remembers its last-used settings (QSettings, organisation "reluviz").

Set ``RELUVIZ_SETTINGS_DIR`` to keep them in another folder (the tests point it at a temporary
directory, so they neither read nor change a user's settings).
"""

from __future__ import annotations

import os

from PySide6 import QtCore

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
