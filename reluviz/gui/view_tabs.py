"""The tabs: the Fit view first, then the lecture views, and what the visible one needs.

Lecture views follow ``reluviz.gui.views.base.LectureView``'s protocol: ``show_frame(frame)`` for
the visible tab, ``trail_spec(config)`` (how much of the past its frames must carry),
``select_unit(j)``, ``unitSelected(int)`` and ``shutdown()``.

Each lecture view sits in a scroll area of its own: a view's minimum size (rows of controls,
plots) never reaches the window, so switching tabs never resizes it and every tab fits a small
window (the view scrolls where it cannot shrink further).
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from reluviz.core.config import TrainConfig
from reluviz.core.frame import Frame, TrailSpec
from reluviz.gui.views.base import LectureView


class ViewPage(QtWidgets.QScrollArea):
    """A tab's page: its view fills the page, and scrolls only where the page is smaller than the
    view's minimum size. (QScrollArea's own widgetResizable sizes a view with word-wrapped text to
    its preferred height, not its minimum: every lecture view scrolled at 1280x720.)"""

    def __init__(self, view: QtWidgets.QWidget, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setWidget(view)
        view.installEventFilter(self)
        self._refit = QtCore.QTimer(self)  # (a timer of the page's own: it goes with the page)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self.fit_view)

    def fit_view(self) -> None:
        view = self.widget()
        if view is None:
            return
        room = self.maximumViewportSize()  # (without scroll bars)
        layout = view.layout()
        min_w = view.minimumSizeHint().width()
        width = max(room.width(), min_w)
        min_h = layout.totalMinimumHeightForWidth(width) if layout is not None and layout.hasHeightForWidth() \
            else view.minimumSizeHint().height()
        if min_h > room.height():  # a vertical scroll bar takes width from the view
            width = max(room.width() - self.verticalScrollBar().sizeHint().width(), min_w)
        if width > room.width() and min_h <= room.height():
            height = room.height() - self.horizontalScrollBar().sizeHint().height()
        else:
            height = room.height()
        view.resize(width, max(height, min_h))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.fit_view()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.LayoutRequest and obj is self.widget():
            self._refit.start()  # (after the layout has its new minimum)
        return False


class ViewTabs(QtWidgets.QTabWidget):
    """``fit`` (the training view) and the lecture views as tabs. ``unitSelected(int)`` when a
    lecture view picks a hidden unit (-1: none)."""

    unitSelected = QtCore.Signal(int)

    def __init__(self, fit: QtWidgets.QWidget, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("views")
        self.fit = fit
        self.views: list[LectureView] = []
        self._pages: dict[QtWidgets.QWidget, LectureView] = {}  # a tab's scroll area -> its view
        self._pending: tuple[str, dict] | None = None  # a preset's view key and view_options
        self.addTab(fit, "Fit")

    def add_view(self, title: str, view: LectureView) -> int:
        """Add a lecture view as a tab (inside a scroll area); returns its index."""
        page = ViewPage(view, self)
        page.setObjectName(f"page_{view.view_name or title}")
        index = self.addTab(page, title)
        self.views.append(view)
        self._pages[page] = view
        view.unitSelected.connect(self.unitSelected)
        self._hand_options(index)
        return index

    def view_at(self, index: int) -> QtWidgets.QWidget | None:
        """The view shown by tab ``index`` (the fit view, a lecture view or None)."""
        widget = self.widget(index)
        return self._pages.get(widget, widget)

    def page_of(self, view: QtWidgets.QWidget) -> QtWidgets.QWidget:
        """The tab page showing ``view`` (the fit view is its own page)."""
        return next((page for page, v in self._pages.items() if v is view), view)

    def setCurrentWidget(self, widget: QtWidgets.QWidget) -> None:  # noqa: N802 (Qt API)
        """Show ``widget``'s tab: a page, the fit view or a lecture view."""
        super().setCurrentWidget(self.page_of(widget))

    def indexOf(self, widget: QtWidgets.QWidget) -> int:  # noqa: N802 (Qt API)
        return super().indexOf(self.page_of(widget))

    def lecture_view(self) -> LectureView | None:
        """The visible lecture view (None when the Fit tab is shown)."""
        return self._pages.get(self.currentWidget())

    def open(self, key: str) -> bool:
        """Show the tab a preset's ``view`` key names ("fit" or unknown: the Fit tab); True if found."""
        for i in range(self.count()):
            if key and key != "fit" and self.matches(i, key):
                self.setCurrentIndex(i)
                return True
        self.setCurrentIndex(0)
        return key in ("", "fit")

    def matches(self, index: int, key: str) -> bool:
        name = getattr(self.view_at(index), "view_name", "") or self.tabText(index)
        return bool(key) and name.lower().startswith(key.lower())

    def configure(self, key: str, options: dict | None = None) -> None:
        """A preset's lecture view (its ``view`` key) and ``view_options``: the view gets the options,
        now or when it is added, and a view added later opens as the current tab."""
        self._pending = (key, dict(options or {})) if key and key != "fit" else None
        for index in range(1, self.count()):
            self._hand_options(index, open_tab=False)

    def _hand_options(self, index: int, open_tab: bool = True) -> None:
        if self._pending and self.matches(index, self._pending[0]):
            if open_tab:
                self.setCurrentIndex(index)
            if self._pending[1]:
                self.view_at(index).configure(dict(self._pending[1]))

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
