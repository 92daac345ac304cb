"""Where exported frames go: check the output first, open its writer, finish it with ``frames.csv``.

``write_plan`` is the loop both the fit panels (``reluviz.export.pipeline``) and the lecture views
(``reluviz.export.view_render``) write through: the output and its ``frames.csv`` appear whole
on success, nothing is left on an error or a cancel.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable, Iterator

from reluviz.core.atomic import write_text_atomic
from reluviz.export.frames import ExportError
from reluviz.export.gif_writer import GifWriter
from reluviz.export.plan import CSV_HEADER, ExportPlan
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


def finish(plan: ExportPlan, writer) -> Path:
    """Close ``writer`` (the output appears) and write ``frames.csv`` beside or inside it."""
    rows = plan.csv_rows()
    if isinstance(writer, PngSequenceWriter):
        write_csv_atomic(writer.sidecar("frames.csv"), rows)
        return writer.close()
    final = writer.close()
    write_csv_atomic(sidecar_path(final), rows)
    return final


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
