"""The app's export at work: ``ExportRequest`` (what the dialog asked for) and ``AppExportJob``.

The job copies what it needs from the run's recorded history under the session lock
(``reluviz.export.plan.plan_history``; a lecture view's frames' trails too, ``ExportPlan.detach``),
so training may go on meanwhile. Qt must draw on the GUI thread, so the job draws frames for a
few tens of milliseconds per timer tick (the window stays usable, Cancel is honoured between
frames); the writer encodes on its own thread. A lecture view that needs a computation first
(the side-by-side dance, the seed bands) runs it on a worker thread before the frames are drawn
(``ViewCanvas.compute_export``: NumPy only; ``ViewCanvas.apply_export`` on the GUI thread).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from reluviz.export.frames import ExportError
from reluviz.export.pipeline import finish, iter_render, loss_axis_end, open_frame_writer
from reluviz.export.plan import plan_history
from reluviz.export.render import FrameRenderer
from reluviz.export.view_render import ViewRenderer, iter_view_render

TICK_SECONDS = 0.015  # drawing time per timer tick before the window gets its events again (about one frame)
WAIT_MS = 5           # timer interval while the encoder's queue is full or the file is being finished


@dataclass(frozen=True)
class ExportRequest:
    """What to export. ``steps`` empty means: the frame on screen only."""

    path: Path
    size: tuple[int, int]
    panels: tuple[str, ...]
    caption: bool
    fps: float
    steps: np.ndarray
    force: bool = False
    spacing: str = "linear"  # how the steps were chosen: "log", "linear" or "every"
    view: str = "fit"        # "fit" (the panels) or a lecture view's name (``reluviz.plots.canvases``)
    legends: bool = True


class AppExportJob(QtCore.QObject):
    """Renders ``request.steps`` from the window's session, a few per timer tick, into a writer."""

    progress = QtCore.Signal(int, int)
    preparing = QtCore.Signal(int, int)  # the lecture view's own computation (done, total)
    finished = QtCore.Signal(str)   # the path written
    failed = QtCore.Signal(str)     # a sentence for the user

    def __init__(self, window, request: ExportRequest, parent=None):
        super().__init__(parent or window)
        self.window = window
        self.request = request
        self.session = window.session
        self.plan = None
        self.note = ""
        self._cancelled = False
        self._frames = None
        self._renderer = None
        self._writer = None
        self._prepare_thread: threading.Thread | None = None
        self._preparing: dict = {}
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        session = self.session
        try:
            with session.locked():  # copies only: drawing happens without the lock
                ghost = session.ghost_history if session.ghost is not None else None
                self.plan = plan_history(session.history, session.dataset, self.request.steps, ghost_history=ghost,
                                         compare=session.compare, config=session.config)
                if self.request.view != "fit":
                    self._renderer = ViewRenderer(self.request.view, self.request.size, self.request.legends,
                                                  self.request.caption)
                    self.plan.detach(self._renderer.trail_spec(session.config))
            self.note = self.plan.note
            self._writer = open_frame_writer(self.request.path, self.request.fps, self.request.force)
            if self.request.view == "fit":
                self._renderer = FrameRenderer(self.plan.dataset, self.request.size, self.request.panels,
                                               self.request.caption,
                                               final_step=loss_axis_end(self.plan, self.request.spacing),
                                               compare=self.plan.compare,
                                               constant_fit=self.window.view.fit.structure.show_constant,
                                               legends=self.request.legends)
                self._frames = iter_render(self.plan, self._renderer, self._writer)
            else:
                self._start_preparing()
        except ExportError as exc:
            self._abort_writer()
            self._fail(str(exc))
            return
        self._timer.start()

    def _start_preparing(self) -> None:
        """The view's own computation (``ViewCanvas.compute_export``: NumPy only, no drawing) on a
        worker thread; ``_tick`` draws the frames once it is done."""
        plan, renderer = self.plan, self._renderer
        last = plan.frame_at(plan.frames[-1])
        state = self._preparing = {"done": 0, "total": 0, "error": None, "computed": None}

        def prepare() -> None:  # (NumPy only: the canvas takes the result in on the GUI thread, in _tick)
            try:
                state["computed"] = renderer.compute(last, lambda d, t: state.update(done=d, total=t),
                                                     lambda: self._cancelled)
            except Exception as exc:  # noqa: BLE001 (reported in the dialog, never a traceback)
                state["error"] = exc

        self._prepare_thread = threading.Thread(target=prepare, name="reluviz-export-prepare", daemon=True)
        self._prepare_thread.start()

    def cancel(self) -> None:
        self._cancelled = True

    def _tick(self) -> None:
        if self._frames is None and self._prepare_thread is not None:  # the view's computation first
            state = self._preparing
            if self._prepare_thread.is_alive():
                if state["total"]:
                    self.preparing.emit(int(state["done"]), int(state["total"]))
                self._timer.setInterval(WAIT_MS * 4)
                return
            self._prepare_thread = None
            if self._cancelled:
                self._abort_writer()
                self._fail("export cancelled; nothing was written")
                return
            if state["error"] is not None:
                self._abort_writer()
                self._fail(f"export failed: {state['error']}")
                return
            try:
                note = self._renderer.apply(state["computed"])
            except Exception as exc:  # noqa: BLE001 (reported in the dialog, never a traceback)
                self._abort_writer()
                self._fail(f"export failed: {exc}")
                return
            if note:
                self.note = "; ".join(n for n in (self.note, note) if n)
            self._frames = iter_view_render(self.plan, self._renderer, self._writer)
        total = len(self.plan.frames)
        deadline = time.perf_counter() + TICK_SECONDS
        try:
            while True:
                if self._cancelled:
                    self._abort_writer()
                    self._fail("export cancelled; nothing was written")
                    return
                if self._writer.busy:  # the encoder is behind: let the window breathe instead of waiting
                    self._timer.setInterval(WAIT_MS)
                    return
                self._timer.setInterval(0)
                done = next(self._frames, None)
                if done is None:
                    self._finish()
                    return
                self.progress.emit(done, total)
                if time.perf_counter() >= deadline:
                    return
        except ExportError as exc:
            self._abort_writer()
            self._fail(str(exc))
        except Exception as exc:  # noqa: BLE001 (never a traceback in the GUI; nothing half-written)
            self._abort_writer()
            self._fail(f"export failed: {exc}")

    def _finish(self) -> None:
        """Close the writer on a thread (the encoder may still hold frames, ffmpeg flushes its
        look-ahead: up to a second at 720p) and report when it is done."""
        self._timer.stop()
        self._close_renderer()
        result: dict = {}

        def close() -> None:
            try:
                result["path"] = str(finish(self.plan, self._writer))
            except ExportError as exc:
                result["error"] = str(exc)
            except Exception as exc:  # noqa: BLE001 (reported, never a traceback)
                self._abort_writer()
                result["error"] = f"export failed: {exc}"

        closer = threading.Thread(target=close, name="reluviz-export-close", daemon=True)
        closer.start()
        poll = QtCore.QTimer(self)
        poll.setInterval(WAIT_MS * 4)

        def check() -> None:
            if closer.is_alive():
                return
            poll.stop()
            poll.deleteLater()
            if "path" in result:
                self.finished.emit(result["path"])
            else:
                self.failed.emit(result.get("error", "export failed"))

        poll.timeout.connect(check)
        poll.start()

    def _abort_writer(self) -> None:
        if self._writer is not None:
            self._writer.abort()

    def _fail(self, message: str) -> None:
        self._timer.stop()
        self._close_renderer()
        self.failed.emit(message)

    def _close_renderer(self) -> None:
        self._frames = None
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
