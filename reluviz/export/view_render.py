"""Lecture views as animations: ``reluviz export --view dance|votes|elbows|bands``.

``ViewRenderer`` owns one hidden canvas of a lecture view (``reluviz.plots.canvases``), the class
the app's tab embeds, at an exact pixel size with fonts and lines scaled to it
(``reluviz.plots.canvas.scale_for``). ``export_view_plan`` draws every frame of an ``ExportPlan``
through it: each frame is rebuilt as the full ``reluviz.core.frame.Frame`` the app's view gets
(the past its ``trail_spec`` asks for, the ghost's too), after the view's own computation
(``prepare_export``: a dance run, seed bands) has run headless with progress.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from reluviz.export.frames import ExportError
from reluviz.export.plan import ExportCancelled, ExportPlan
from reluviz.export.render import caption_text, ensure_qt_app, grab_widget, save_widget_svg


class ViewRenderer:
    """Renders frames of the lecture view ``view`` at ``size`` (width, height) pixels."""

    def __init__(self, view: str, size: tuple[int, int], legends: bool = True, caption: bool = True):
        ensure_qt_app()
        from PySide6 import QtCore

        from reluviz.plots.canvas import scale_for
        from reluviz.plots.canvases import CANVASES, canvas_class

        if view not in CANVASES:
            raise ExportError(f"unknown view {view!r} (choose from fit, {', '.join(CANVASES)})")
        self._qt_core = QtCore
        self.size = size
        self.caption = caption
        self.canvas = canvas_class(view)()
        self.canvas.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.canvas.resize(*size)
        self.canvas.set_legends_shown(legends)
        self.canvas.set_scale(scale_for(size))
        self.canvas.show()  # laid out but never on screen

    def trail_spec(self, config):
        return self.canvas.trail_spec(config)

    def prepare(self, frame, progress=None, should_stop=None) -> str:
        """The view's computation before the frames, and taking it in (``ViewCanvas.prepare_export``)."""
        return self.canvas.prepare_export(frame, progress, should_stop)

    def compute(self, frame, progress=None, should_stop=None):
        """The computation alone (NumPy only: any thread); ``apply`` it on the GUI thread."""
        return self.canvas.compute_export(frame, progress, should_stop)

    def apply(self, computed) -> str:
        return self.canvas.apply_export(computed)

    def render(self, frame, caption: str = "") -> np.ndarray:
        """Draw ``frame`` (a ``reluviz.core.frame.Frame``) and return RGB pixels (H, W, 3) uint8."""
        self.canvas.set_header(caption if self.caption else "")
        self.canvas.show_frame(frame)
        self.canvas.rescale_items()
        self.canvas.settle()
        return grab_widget(self.canvas, self.size)

    def save_svg(self, path: str) -> None:
        """The current drawing as SVG (vector)."""
        save_widget_svg(self.canvas, self.size, path)

    def close(self) -> None:
        self.canvas.close()
        self.canvas.deleteLater()
        self._qt_core.QCoreApplication.sendPostedEvents(None, self._qt_core.QEvent.Type.DeferredDelete)


def frame_caption(frame, width: int) -> str:
    """The step / rate / loss line of ``frame``, as short as ``width`` pixels need."""
    compact = 0 if width >= 1200 else 1 if width >= 900 else 2
    return caption_text(frame.snapshot, frame.train_loss, compact=compact,
                        val_loss=frame.val_loss if np.isfinite(frame.val_loss) else None,
                        full_batch=frame.snapshot.full_batch(frame.dataset))


def export_view_plan(plan: ExportPlan, view: str, out: str | Path, size=(1280, 720), fps: float = 20.0,
                     caption: bool = True, legends: bool = True, force: bool = False,
                     progress: Callable[[int, int], None] | None = None,
                     prepare_progress: Callable[[int, int], None] | None = None,
                     should_stop: Callable[[], bool] | None = None) -> tuple[Path, str]:
    """Draw the plan's frames through the lecture view ``view`` and write them; returns (output
    path, the view's note or ""). Nothing is left behind on failure or cancel."""
    from reluviz.export.output import check_outputs, write_plan

    out = Path(out)
    check_outputs(out, force)
    if not plan.frames:
        raise ExportError("no frames to export")
    if plan.history is None and plan._parts is None:
        raise ExportError("this plan carries no recorded history to draw a lecture view from")
    renderer = ViewRenderer(view, size, legends=legends, caption=caption)
    try:
        spec = renderer.trail_spec(plan.config_at(plan.last_step))
        note = renderer.prepare(plan.frame_at(plan.frames[-1], spec), prepare_progress, should_stop)
        final = write_plan(plan, out, fps, force, lambda writer: iter_view_render(plan, renderer, writer, spec,
                                                                                  should_stop), progress)
        return final, note
    finally:
        renderer.close()


def iter_view_render(plan: ExportPlan, renderer: ViewRenderer, writer, spec=None,
                     should_stop: Callable[[], bool] | None = None) -> Iterator[int]:
    """Draw each frame of ``plan`` through the lecture view's canvas into ``writer`` (the frames
    carry the past ``spec`` asks for); yields frames done so far."""
    for k, state in enumerate(plan.frames):
        if should_stop is not None and should_stop():
            raise ExportCancelled("export cancelled; nothing was written")
        frame = plan.frame_at(state, spec)
        writer.add(renderer.render(frame, frame_caption(frame, renderer.size[0])))
        yield k + 1


__all__ = ["ViewRenderer", "export_view_plan", "frame_caption", "iter_view_render"]
