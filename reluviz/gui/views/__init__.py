"""Lecture views: self-contained widgets shown as tabs beside the fit plot.

``create_views(parent)`` builds them in the lecture's order (after the main window's own "Fit"
tab): dance, votes, elbows, layers, bands, selection. Every view follows the protocol of
``reluviz.gui.views.base.LectureView``: ``view_name`` (a preset's ``"view"`` key), ``title``,
``explanation``, ``show_frame(frame)``, ``trail_spec(config)``, ``select_unit(j)``,
``configure(options)`` (a preset's ``view_options``), the signal ``unitSelected(int)`` and ``shutdown()``.

``VIEW_KEYS`` maps a preset's ``"view"`` value to the view class (``"fit"`` maps to None: the main
window's own fit tab); ``view_for_key(views, key)`` finds the widget among created views.
"""

from __future__ import annotations

from PySide6 import QtWidgets

from reluviz.gui.views.bands_view import BandsView
from reluviz.gui.views.base import LectureView
from reluviz.gui.views.dance_view import DanceView
from reluviz.gui.views.elbows_view import ElbowsView
from reluviz.gui.views.layers_view import LayersView
from reluviz.gui.views.selection_view import SelectionView
from reluviz.gui.views.votes_view import VotesView

#: In tab order (the main window's "Fit" tab comes first).
VIEW_CLASSES: tuple[type[LectureView], ...] = (DanceView, VotesView, ElbowsView, LayersView, BandsView, SelectionView)

#: A preset's "view" key -> the view class showing it (None: the fit tab).
VIEW_KEYS: dict[str, type[LectureView] | None] = {"fit": None, **{cls.view_name: cls for cls in VIEW_CLASSES}}


def create_views(parent: QtWidgets.QWidget | None = None) -> list[LectureView]:
    """One instance of every lecture view, children of ``parent``, in tab order."""
    return [cls(parent) for cls in VIEW_CLASSES]


def view_for_key(views: list[QtWidgets.QWidget], key: str) -> QtWidgets.QWidget | None:
    """The view among ``views`` that a preset's ``"view"`` value names (None for "fit" or unknown)."""
    for view in views:
        if getattr(view, "view_name", None) == key:
            return view
    return None


__all__ = ["BandsView", "DanceView", "ElbowsView", "LayersView", "LectureView", "SelectionView", "VIEW_CLASSES",
           "VIEW_KEYS", "VotesView", "create_views", "view_for_key"]
