"""The export pipeline: check the output, draw a plan's frames, write them and ``frames.csv``.

Frame k shows the state after step s_k (``frames.csv`` lists frame, step, lr, batch_loss,
train_loss, val_loss, test_loss, true_error, objective). ``export_run`` trains first (``plan.plan_training``
keeps the exact state at each frame's step), ``export_recorded`` reads the steps from a run file instead
(``plan.plan_recorded``: the same frames for the same run), then ``export_plan`` draws the frames through
the app's ``TrainingView``
offscreen and hands them to a writer whose encoder runs on its own thread. The app's export
dialog drives the same steps itself (``check_outputs``, ``open_frame_writer``, ``iter_render``,
``finish``) between its events; ``reluviz export`` is ``reluviz.cli.export_command``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable, Iterator

from reluviz.core.atomic import write_text_atomic
from reluviz.core.config import TrainConfig
from reluviz.export.frames import ExportError
from reluviz.export.plan import CSV_HEADER, ExportPlan, plan_recorded, plan_training
from reluviz.export.gif_writer import GifWriter
from reluviz.export.writers import (AtomicWriter, Mp4Writer, PngSequenceWriter, check_encoder, check_target,
                                    format_for, os_error_message)


def write_csv_atomic(path: Path, rows: list[tuple]) -> None:
    """``frames.csv`` written to a temporary name and renamed."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([f"{v:.9g}" if isinstance(v, float) else v for v in row])
    try:
        write_text_atomic(path, text.getvalue())
    except OSError as exc:
        raise ExportError(os_error_message(exc, path)) from None


def sidecar_path(out: Path) -> Path:
    """Where ``frames.csv`` goes for a .gif/.mp4 output: ``NAME.gif.frames.csv`` beside it (the
    format stays in the name, so run.gif and run.mp4 do not share one)."""
    out = Path(out)
    return out.with_name(out.name + ".frames.csv")


def check_outputs(out: Path, force: bool) -> str:
    """The output's format, after checking it and its sidecar can be written (before any work)."""
    kind = format_for(out)
    check_encoder(kind)
    check_target(out, force)
    if kind != "png" and sidecar_path(out).exists() and not force:
        raise ExportError(f"{sidecar_path(out)} already exists (use --force to overwrite it)")
    return kind


def open_writer(path: str | Path, fps: float = 20.0, force: bool = False, **gif_options) -> AtomicWriter:
    """The writer for ``path``'s format; ``gif_options`` (``anchors``, ``background``) go to GIFs."""
    kind = format_for(path)
    if kind == "gif":
        return GifWriter(path, fps, force, **gif_options)
    return {"png": PngSequenceWriter, "mp4": Mp4Writer}[kind](path, fps, force)


def open_frame_writer(out: Path, fps: float, force: bool):
    """A writer for ``out``; GIFs get the theme's colours as exact palette entries."""
    if format_for(out) == "gif":
        from reluviz.export.render import background_colour, palette_anchors

        return open_writer(out, fps=fps, force=force, anchors=palette_anchors(), background=background_colour())
    return open_writer(out, fps=fps, force=force)


def iter_render(plan: ExportPlan, renderer, writer) -> Iterator[int]:
    """Draw each frame of ``plan`` with ``renderer`` into ``writer``; yields frames done so far.

    Drawing happens on the calling (GUI) thread; the writer encodes on its own. The caller
    finishes with ``finish(plan, writer)`` or, on error or cancel, ``writer.abort()``.
    """
    for k, frame in enumerate(plan.frames):
        text = renderer.caption_for(frame.snapshot, frame.train_loss, val_loss=frame.val_loss)
        writer.add(renderer.render(frame.snapshot, plan.curves, plan.trace, ghost=frame.ghost, caption=text))
        yield k + 1


def finish(plan: ExportPlan, writer) -> Path:
    """Close ``writer`` (the output appears) and write ``frames.csv`` beside or inside it."""
    rows = plan.csv_rows()
    if isinstance(writer, PngSequenceWriter):
        write_csv_atomic(writer.sidecar("frames.csv"), rows)
        return writer.close()
    final = writer.close()
    write_csv_atomic(sidecar_path(final), rows)
    return final


def loss_axis_end(plan: ExportPlan, spacing: str) -> int | None:
    """Where the loss panel's step axis ends in every frame: the last frame's step (a still axis),
    or None (it grows with each frame) for log-spaced frames, half of which fall in the first few
    percent of the run and would show their loss curves squeezed against the left edge."""
    return None if spacing == "log" else plan.last_step


def export_plan(plan: ExportPlan, out: str | Path, size=(1280, 720), fps: float = 20.0, panels=("main", "loss"),
                caption: bool = True, force: bool = False,
                progress: Callable[[int, int], None] | None = None, spacing: str = "linear",
                constant_fit: bool = False, legends: bool = True) -> Path:
    """Draw and write a ready plan; returns the output path. Nothing is left behind on failure.
    ``spacing`` (how the frames were chosen) decides the loss panel's axis (``loss_axis_end``);
    ``constant_fit``: Figure 4's piecewise-constant steps on the fit (a preset's overlay)."""
    from reluviz.export.render import FrameRenderer

    out = Path(out)
    check_outputs(out, force)
    if not plan.frames:
        raise ExportError("no frames to export")
    renderer = FrameRenderer(plan.dataset, size, panels, caption, final_step=loss_axis_end(plan, spacing),
                             compare=plan.compare, constant_fit=constant_fit, legends=legends)
    try:
        return write_plan(plan, out, fps, force, lambda writer: iter_render(plan, renderer, writer), progress)
    finally:
        renderer.close()


def write_plan(plan: ExportPlan, out: Path, fps: float, force: bool,
               draw: Callable[[object], Iterator[int]], progress: Callable[[int, int], None] | None = None) -> Path:
    """Open the writer for ``out``, let ``draw(writer)`` add the plan's frames (yielding frames
    done), then finish (the output and ``frames.csv`` appear); on any error or cancel nothing is
    left behind."""
    writer = None
    try:
        writer = open_frame_writer(out, fps, force)
        for done in draw(writer):
            if progress:
                progress(done, len(plan.frames))
        return finish(plan, writer)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise


def export_run(config: TrainConfig, out: str | Path, steps, size=(1280, 720), fps: float = 20.0,
               panels=("main", "loss"), caption: bool = True, force: bool = False, train_steps: int | None = None,
               progress: Callable[[int, int], None] | None = None,
               train_progress: Callable[[int, int], None] | None = None,
               compare: dict | None = None, spacing: str = "linear", constant_fit: bool = False,
               view: str = "fit", legends: bool = True,
               prepare_progress: Callable[[int, int], None] | None = None) -> tuple[Path, int, str]:
    """Train, render and write; returns (output path, frames written, stop note or "").

    ``steps``: the frame steps, or ``choose(last_step) -> steps`` so they can be chosen again
    over the steps that exist when the run stops early (``train_steps`` is then the run length).
    ``compare``: the settings of a ghost run drawn beside the main one (as in the app).
    ``view``: ``fit`` (the fit and loss ``panels``) or a lecture view (``reluviz.plots.canvases``),
    whose own computation reports to ``prepare_progress``; ``legends`` False drops the legends.
    """
    out = Path(out)
    check_outputs(out, force)
    check_view(view)
    plan = plan_training(config, steps, steps=train_steps, progress=train_progress, compare=compare)
    return _export(plan, out, size, fps, panels, caption, force, progress, spacing, constant_fit, view, legends,
                   prepare_progress)


def export_recorded(run, out: str | Path, steps, size=(1280, 720), fps: float = 20.0, panels=("main", "loss"),
                    caption: bool = True, force: bool = False, ghost: bool = True,
                    progress: Callable[[int, int], None] | None = None, spacing: str = "linear",
                    view: str = "fit", legends: bool = True,
                    prepare_progress: Callable[[int, int], None] | None = None) -> tuple[Path, int, str]:
    """Render ``steps`` of a recorded run (``reluviz.core.runfile.RecordedRun``) without training;
    returns (output path, frames written, note or "")."""
    out = Path(out)
    check_outputs(out, force)
    check_view(view)
    plan = plan_recorded(run, steps, ghost=ghost)
    return _export(plan, out, size, fps, panels, caption, force, progress, spacing, False, view, legends,
                   prepare_progress)


def check_view(view: str) -> None:
    """An ``ExportError`` naming the choices for a view an export cannot draw."""
    from reluviz.export.frames import EXPORT_VIEWS

    if view not in EXPORT_VIEWS:
        raise ExportError(f"unknown view {view!r}: choose from {', '.join(EXPORT_VIEWS)}")


def _export(plan, out, size, fps, panels, caption, force, progress, spacing, constant_fit, view, legends,
            prepare_progress) -> tuple[Path, int, str]:
    if view == "fit":
        final = export_plan(plan, out, size=size, fps=fps, panels=panels, caption=caption, force=force,
                            progress=progress, spacing=spacing, constant_fit=constant_fit, legends=legends)
        return final, len(plan.frames), plan.note
    from reluviz.export.view_render import export_view_plan

    final, view_note = export_view_plan(plan, view, out, size=size, fps=fps, caption=caption, legends=legends,
                                        force=force, progress=progress, prepare_progress=prepare_progress)
    return final, len(plan.frames), "; ".join(n for n in (plan.note, view_note) if n)
