"""The tabs: the Fit view first, then the lecture views, and what the visible one needs.

Lecture views follow ``reluviz.gui.views.base.LectureView``'s protocol: ``show_frame(frame)`` for
the visible tab, ``trail_spec(config)`` (how much of the past its frames must carry),
``select_unit(j)``, ``unitSelected(int)`` and ``shutdown()``.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from reluviz.core.config import TrainConfig
from reluviz.core.frame import Frame, TrailSpec
from reluviz.gui.views.base import LectureView


class ViewTabs(QtWidgets.QTabWidget):
    """``fit`` (the training view) and the lecture views as tabs. ``unitSelected(int)`` when a
    lecture view picks a hidden unit (-1: none)."""

    unitSelected = QtCore.Signal(int)

    def __init__(self, fit: QtWidgets.QWidget, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("views")
        self.fit = fit
        self.views: list[LectureView] = []
        self.addTab(fit, "Fit")

    def add_view(self, title: str, view: LectureView) -> int:
        """Add a lecture view as a tab; returns its index."""
        view.setParent(self)
        index = self.addTab(view, title)
        self.views.append(view)
        view.unitSelected.connect(self.unitSelected)
        return index

    def lecture_view(self) -> LectureView | None:
        """The visible lecture view (None when the Fit tab is shown)."""
        widget = self.currentWidget()
        return widget if widget is not self.fit else None

    def open(self, key: str) -> bool:
        """Show the tab a preset's ``view`` key names ("fit" or unknown: the Fit tab); True if found."""
        for i in range(self.count()):
            if key and key != "fit" and self.matches(i, key):
                self.setCurrentIndex(i)
                return True
        self.setCurrentIndex(0)
        return key in ("", "fit")

    def matches(self, index: int, key: str) -> bool:
        name = getattr(self.widget(index), "view_name", "") or self.tabText(index)
        return bool(key) and name.lower().startswith(key.lower())

    def trail_needed(self, config: TrainConfig) -> TrailSpec:
        view = self.lecture_view()
        return view.trail_spec(config) if view is not None else TrailSpec()

    def show_frame(self, frame: Frame) -> None:
        """Draw ``frame`` in the visible lecture view (the Fit tab is drawn by the window)."""
        view = self.lecture_view()
        if view is not None:
            view.show_frame(frame)

    def select_unit(self, unit: int | None) -> None:
        for view in self.views:
            view.select_unit(unit)

    def shutdown(self) -> None:
        for view in self.views:
            view.shutdown()
