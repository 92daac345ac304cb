"""File > Export... (Ctrl+E): the current frame as PNG/SVG, or an animation of recorded steps, of
the fit and loss panels or of a lecture view (the tab showing is offered first).

The dialog only collects choices; drawing goes through ``reluviz.export`` (the same
``TrainingView`` the window shows, or the lecture view's own canvas, offscreen) and files through
its atomic writers. A lecture view that needs a computation first (the side-by-side dance, the
seed bands) runs it on a worker thread before the frames are drawn (``compute_export``). An
animation is an ``AppExportJob`` (``reluviz.gui.export_job``): training may go on meanwhile and the
window stays usable. Only recorded steps exist: where the history was thinned, a frame shows the nearest recorded step
(no frame twice), the dialog says so, and ``frames.csv`` lists the steps shown.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PySide6 import QtWidgets

from reluviz.core.loss_trace import LossTrace
from reluviz.core.metrics import dataset_losses
from reluviz.export.frames import ExportError, select_steps
from reluviz.export.plan import LossColumns, plan_history
from reluviz.export.render import FrameRenderer
from reluviz.export.view_render import ViewRenderer, frame_caption
from reluviz.export.writers import check_encoder, check_target, format_for, save_image_atomic
from reluviz.gui.export_job import AppExportJob, ExportRequest
from reluviz.plots.canvases import CANVASES

SIZES = ("1280x720", "1920x1080", "960x540", "800x450", "640x360")


def export_view_frame(window, view: str, path: Path, size, caption: bool, force: bool, legends: bool = True) -> Path:
    """The displayed step drawn by the lecture view ``view``'s canvas, as PNG or SVG, atomically."""
    snap = window.displayed_snapshot
    session = window.session
    renderer = ViewRenderer(view, size, legends, caption)
    try:
        with session.locked():
            ghost = session.ghost_history if session.ghost is not None else None
            plan = plan_history(session.history, session.dataset, np.array([snap.step]), ghost_history=ghost,
                                compare=session.compare, config=session.config)
            plan.detach(renderer.trail_spec(session.config))
        frame = plan.frame_at(plan.frames[0])
        rgb = renderer.render(frame, frame_caption(frame, size[0]))
        return save_image_atomic(path, rgb, force=force, svg_source=renderer)
    finally:
        renderer.close()


def export_current_frame(window, path: Path, size, panels, caption: bool, force: bool, legends: bool = True) -> Path:
    """The frame on screen (the fit and loss ``panels``) as PNG or SVG (by the path's ending), written atomically."""
    snap = window.displayed_snapshot
    session = window.session
    with session.locked():
        hist = session.history
        k = int(np.searchsorted(hist.steps, snap.step, side="right"))
        curves = LossColumns(hist.steps[:k].copy(), hist.batch_losses[:k].copy(), hist.lrs[:k].copy())
        ghost = session.ghost_history.at(snap.step) if session.ghost is not None else None
        trace = LossTrace()
        t = session.trace
        for k in np.flatnonzero(t.steps <= snap.step):
            trace.add(int(t.steps[k]), float(t.train[k]), float(t.test[k]), val=float(t.val[k]),
                      true=float(t.true[k]), objective=float(t.objective[k]))
    ds = session.dataset
    with np.errstate(all="ignore"):
        lo = dataset_losses(snap, ds)
    renderer = FrameRenderer(ds, size, panels, caption, compare=session.compare if session.ghost is not None else None,
                             constant_fit=window.view.fit.structure.show_constant, legends=legends)
    try:
        rgb = renderer.render(snap, curves, trace, ghost=ghost,
                              caption=renderer.caption_for(snap, lo.train, val_loss=lo.val))
        return save_image_atomic(path, rgb, force=force, svg_source=renderer)
    finally:
        renderer.close()


class ExportDialog(QtWidgets.QDialog):
    """Choices for an export of ``window``'s run; runs it with a progress dialog."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Export")
        self.setModal(False)
        self.job: AppExportJob | None = None
        self.progress_dialog: QtWidgets.QProgressDialog | None = None
        self.last_message = ""
        form = QtWidgets.QFormLayout(self)

        self.view_choice = QtWidgets.QComboBox()
        self.view_choice.setObjectName("exportView")
        self.view_choice.addItem("Fit and loss panels", "fit")
        from reluviz.gui.views import VIEW_KEYS

        for name in CANVASES:
            cls = VIEW_KEYS.get(name)
            self.view_choice.addItem(f"{cls.title if cls else name} view", name)
        showing = window.tabs.lecture_view()
        i = self.view_choice.findData(getattr(showing, "view_name", "fit"))
        self.view_choice.setCurrentIndex(max(i, 0))  # (the tab on screen; the fit panels for the others)
        self.view_choice.setToolTip("What each frame draws: the fit and loss panels, or a lecture view as its tab "
                                    "draws it. Views that compute something first (the side-by-side dance, seed "
                                    "bands) do it before the frames are drawn.")
        form.addRow("view", self.view_choice)

        self.what = QtWidgets.QComboBox()
        self.what.addItem("Animation of recorded steps", "animation")
        self.what.addItem("The frame on screen", "frame")
        self.what.setToolTip("A whole stretch of training as GIF/MP4/PNG frames, or just the picture now on screen.")
        form.addRow("export", self.what)

        self.format = QtWidgets.QComboBox()
        form.addRow("format", self.format)

        path_row = QtWidgets.QHBoxLayout()
        self.path = QtWidgets.QLineEdit()
        self.path.setToolTip("Where to write. An animation as PNG frames goes into a new folder of that name.")
        browse = QtWidgets.QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form.addRow("file", path_row)

        hist = window.session.history
        first, last = hist.first_step(), hist.last_step()
        self.first = QtWidgets.QSpinBox()
        self.last = QtWidgets.QSpinBox()
        for box, value in ((self.first, first), (self.last, last)):
            box.setRange(first, max(last, first))
            box.setValue(value)
            box.setGroupSeparatorShown(True)
        range_row = QtWidgets.QHBoxLayout()
        range_row.addWidget(self.first)
        range_row.addWidget(QtWidgets.QLabel("to"))
        range_row.addWidget(self.last)
        form.addRow("steps", range_row)

        self.spacing = QtWidgets.QComboBox()
        self.spacing.addItem("log-spaced (early change and late dance alike)", "log")
        self.spacing.addItem("evenly spaced", "linear")
        self.spacing.addItem("every K-th step", "every")
        self.spacing.setToolTip("Log spacing gives the fast first steps as many frames as the slow end of training.")
        form.addRow("frames", self.spacing)
        self.count = QtWidgets.QSpinBox()
        self.count.setRange(1, 100_000)
        self.count.setValue(100)
        self.count.setToolTip("Number of frames (log or even spacing), or K (every K-th step).")
        form.addRow("frames / K", self.count)

        self.size = QtWidgets.QComboBox()
        self.size.addItems(SIZES)
        self.size.setEditable(True)
        self.size.setToolTip("Pixel size WxH of each frame (even numbers; video encoders need them).")
        form.addRow("size", self.size)
        self.fps = QtWidgets.QDoubleSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(20)
        self.fps.setToolTip("Frames per second of the GIF or MP4.")
        form.addRow("frames/second", self.fps)
        panels_row = QtWidgets.QHBoxLayout()
        self.main_panel = QtWidgets.QCheckBox("fit")
        self.loss_panel = QtWidgets.QCheckBox("loss")
        self.main_panel.setChecked(True)
        self.loss_panel.setChecked(True)
        panels_row.addWidget(self.main_panel)
        panels_row.addWidget(self.loss_panel)
        form.addRow("panels", panels_row)
        self.caption = QtWidgets.QCheckBox("step, learning rate and losses on each frame")
        self.caption.setChecked(True)
        form.addRow("caption", self.caption)
        self.legends = QtWidgets.QCheckBox("legends")
        self.legends.setChecked(True)
        self.legends.setToolTip("Leave them out for more room (a slide that explains the colours itself).")
        form.addRow("", self.legends)
        self.note = QtWidgets.QLabel("")
        self.note.setWordWrap(True)
        form.addRow(self.note)
        buttons = QtWidgets.QDialogButtonBox()
        self.export_button = buttons.addButton("Export", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QtWidgets.QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start_export)
        buttons.rejected.connect(self.close)
        form.addRow(buttons)

        self.what.currentIndexChanged.connect(self._update_choices)
        self.view_choice.currentIndexChanged.connect(self._update_choices)
        self.format.currentIndexChanged.connect(self._update_path)
        self.spacing.currentIndexChanged.connect(self._update_choices)
        self._update_choices()
        stride = getattr(getattr(hist, "current", None), "stride", 1)
        if stride > 1:
            self.note.setText(f"The history keeps older steps every {stride} steps (to bound memory): frames "
                              "there show the nearest recorded step, and frames.csv lists the steps shown.")

    # ------------------------------------------------------------------ choices
    def _update_choices(self) -> None:
        animation = self.what.currentData() == "animation"
        current = self.format.currentData()
        self.format.blockSignals(True)
        self.format.clear()
        options = (("GIF", "gif"), ("MP4 video", "mp4"), ("PNG frames (folder)", "png")) if animation else \
            (("PNG image", "png1"), ("SVG drawing", "svg"))
        for label, key in options:
            self.format.addItem(label, key)
        i = self.format.findData(current)
        self.format.setCurrentIndex(max(i, 0))
        self.format.blockSignals(False)
        for w in (self.first, self.last, self.spacing, self.count, self.fps):
            w.setEnabled(animation)
        for w in (self.main_panel, self.loss_panel):
            w.setEnabled(self.view_choice.currentData() == "fit")
        self.count.setPrefix("K = " if self.spacing.currentData() == "every" else "")
        self._update_path()

    def _update_path(self) -> None:
        """Match the file name's ending to the format; a name the user chose keeps its stem."""
        ext = {"gif": ".gif", "mp4": ".mp4", "png": "", "png1": ".png", "svg": ".svg"}[self.format.currentData()]
        current = self.path.text().strip()
        if current and current != getattr(self, "_suggested", None):  # (a name the user typed or browsed to)
            path = Path(current)
            stem = path.name[: -len(path.suffix)] if path.suffix.lower() in (".gif", ".mp4", ".png", ".svg") else path.name
            self.path.setText(str(path.with_name(stem + ext)))
            return
        name = self.window.preset_name or "reluviz"
        step = self.window.displayed_snapshot.step if self.window.displayed_snapshot is not None else 0
        view = self.view_choice.currentData()
        name = name if view == "fit" else f"{name}-{view}"
        stem = f"{name}-step{step}" if self.what.currentData() == "frame" else f"{name}-animation"
        self._suggested = str(Path.home() / (stem + ext))  # (follows the choices until the user names the file)
        self.path.setText(self._suggested)

    def _browse(self) -> None:
        if self.format.currentData() == "png":
            chosen = QtWidgets.QFileDialog.getSaveFileName(self, "Folder for PNG frames", self.path.text())[0]
        else:
            chosen = QtWidgets.QFileDialog.getSaveFileName(self, "Export to", self.path.text())[0]
        if chosen:
            self.path.setText(chosen)

    def request(self, force: bool = False) -> ExportRequest:
        """The choices as an ``ExportRequest`` (``ExportError`` for bad ones)."""
        from reluviz.export.frames import parse_size

        size = parse_size(self.size.currentText())
        view = self.view_choice.currentData()
        panels = tuple(p for p, box in (("main", self.main_panel), ("loss", self.loss_panel)) if box.isChecked())
        if not panels and view == "fit":
            raise ExportError("choose at least one panel (fit or loss)")
        path = Path(self.path.text().strip()).expanduser()
        if not path.name:
            raise ExportError("choose a file name")
        steps = np.empty(0, dtype=np.int64)
        if self.what.currentData() == "animation":
            first, last = self.first.value(), self.last.value()
            kind = self.spacing.currentData()
            if kind == "every":
                steps = select_steps(last, every=self.count.value(), first_step=first)
            else:
                steps = select_steps(last, frames=self.count.value(), spacing=kind, first_step=first)
            spacing = kind
        else:
            spacing = "linear"
        return ExportRequest(path, size, panels or ("main",), self.caption.isChecked(), self.fps.value(), steps, force,
                             spacing, view=view, legends=self.legends.isChecked())

    # ------------------------------------------------------------------ running
    def start_export(self) -> None:
        try:
            req = self.request()
            if self.what.currentData() == "animation":
                check_encoder(format_for(req.path))
            if req.path.exists():
                answer = QtWidgets.QMessageBox.question(self, "Overwrite?", f"{req.path} exists. Replace it?")
                if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                    return
                req = dataclasses.replace(req, force=True)
            check_target(req.path, req.force) if self.what.currentData() == "animation" else None
        except ExportError as exc:
            self._report(str(exc), error=True)
            return
        if self.what.currentData() == "frame":
            try:
                if req.view == "fit":
                    path = export_current_frame(self.window, req.path, req.size, req.panels, req.caption, req.force,
                                                req.legends)
                else:
                    path = export_view_frame(self.window, req.view, req.path, req.size, req.caption, req.force,
                                             req.legends)
            except ExportError as exc:
                self._report(str(exc), error=True)
                return
            self._report(f"wrote {path}")
            return
        self.job = AppExportJob(self.window, req, self)
        dialog = QtWidgets.QProgressDialog("Rendering frames...", "Cancel", 0, len(req.steps), self)
        dialog.setWindowTitle("Exporting")
        dialog.setMinimumDuration(300)
        dialog.canceled.connect(self.job.cancel)
        self.job.progress.connect(lambda k, n: (dialog.setLabelText("Rendering frames..."), dialog.setMaximum(n),
                                                dialog.setValue(k)))
        self.job.preparing.connect(lambda k, n: (dialog.setLabelText(f"Computing the {req.view} view first..."),
                                                 dialog.setMaximum(n), dialog.setValue(min(k, n - 1))))
        self.job.finished.connect(lambda p: (dialog.reset(), self._report(self._written(p))))
        self.job.failed.connect(lambda m: (dialog.reset(), self._report(m, error=True)))
        self.progress_dialog = dialog
        self.export_button.setEnabled(False)
        self.job.finished.connect(lambda _p: self.export_button.setEnabled(True))
        self.job.failed.connect(lambda _m: self.export_button.setEnabled(True))
        self.job.start()

    def _written(self, path: str) -> str:
        plan = self.job.plan
        text = f"wrote {path} ({len(plan.frames)} frames)"
        return f"{text}. Note: {self.job.note}" if self.job.note else text

    def _report(self, message: str, error: bool = False) -> None:
        self.last_message = message
        self.note.setText(message)
        self.window.show_notice("Export: " + message, "error" if error else "info")

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self.job is not None:
            self.job.cancel()
        super().closeEvent(event)
