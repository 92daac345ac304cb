"""``reluviz`` with no subcommand: open the window (``run_app``)."""

from __future__ import annotations

import os
import sys

from reluviz.core.config import TrainConfig

NO_DISPLAY = ("reluviz: no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset). "
              "For headless work use `reluviz export --preset notebook --out run.gif` "
              "(or `reluviz train`), or set QT_QPA_PLATFORM to choose a Qt platform.")


def display_available() -> bool:
    """False where Qt would abort for want of a display (Linux without DISPLAY / WAYLAND_DISPLAY)."""
    if not sys.platform.startswith("linux"):
        return True
    env = os.environ
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def run_app(config: TrainConfig | None = None, preset: str | None = None, argv: list[str] | None = None,
            recorded=None) -> int:
    """Open the window and run until it closes; returns the exit code (1 without a display).

    ``config`` None starts from the last-used settings; ``preset`` names the preset the config
    came from (its description, lecture view and ghost run); ``recorded``: a run read from a run
    file (``reluviz.core.runfile.read_run``) to show.
    """
    if not display_available():
        print(NO_DISPLAY, file=sys.stderr)
        return 1
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from PySide6 import QtCore, QtWidgets

    from reluviz.gui.gc_policy import GuiThreadCollector
    from reluviz.gui.main_window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or ["reluviz"])
    app.setOrganizationName("reluviz")
    app.setApplicationName("reluviz")
    collector = GuiThreadCollector().start()  # (see gc_policy: no collection in the training thread)
    window = MainWindow(config, preset=preset)
    window.show()
    if recorded is not None:
        window.files.show_recorded(recorded)
    code = app.exec()
    collector.stop()
    window.shutdown()
    window.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    del window
    return int(code)
