"""The desktop app (PySide6 + pyqtgraph). ``MainWindow`` is the window; ``run_app`` starts it.

Importing this package imports Qt; the training core (``reluviz.core``) does not need it.
"""

from reluviz.gui.main_window import MainWindow

__all__ = ["MainWindow"]
