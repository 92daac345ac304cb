"""The lecture views an export can draw: ``reluviz export --view NAME`` and the app's File > Export.

``CANVASES`` maps a view's name (a preset's ``"view"`` key) to its ``ViewCanvas`` class, by import
path so that naming a view loads only its own module. ``"fit"`` is not here: the fit and loss
panels are ``reluviz.plots.training_view.TrainingView`` (``reluviz.export.render.FrameRenderer``).
``reluviz.export.frames.EXPORT_VIEWS`` lists the names ``--view`` takes (a test keeps the two
lists in step).
"""

from __future__ import annotations

import importlib

#: view name -> "module:Class" of its canvas (a ``reluviz.plots.canvas.ViewCanvas``)
CANVASES: dict[str, str] = {
    "dance": "reluviz.plots.dance_canvas:DanceCanvas",
    "votes": "reluviz.plots.votes_canvas:VotesCanvas",
    "elbows": "reluviz.plots.elbows_canvas:ElbowsCanvas",
    "bands": "reluviz.plots.bands_canvas:BandsCanvas",
}


def canvas_class(name: str) -> type:
    """The canvas class drawing the view ``name`` (KeyError for an unknown one)."""
    module, cls = CANVASES[name].split(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["CANVASES", "canvas_class"]
