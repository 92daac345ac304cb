"""``reluviz export``: train headless, draw the chosen steps, write PNG frames, a GIF or an MP4.

Frame k shows the state after step s_k (``frames.csv`` beside the output lists frame, step, lr,
batch_loss, train_loss, test_loss). Training and drawing interleave: the trainer runs up to the
next frame's step (recording every step, for the loss panel), then the frame is drawn.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from reluviz.core.config import TrainConfig
from reluviz.core.data import Dataset
from reluviz.core.history import History
from reluviz.core.loss_trace import LossTrace
from reluviz.core.snapshot import Snapshot
from reluviz.core.trainer import Trainer
from reluviz.export.frames import ExportError, parse_fps, parse_panels, parse_size, select_steps
from reluviz.export.writers import PngSequenceWriter, check_target, format_for, open_writer, os_error_message

CSV_HEADER = ("frame", "step", "lr", "batch_loss", "train_loss", "test_loss")


@dataclass(frozen=True)
class FrameState:
    """What one frame shows: the snapshot, its losses, and the run's history up to it."""

    snapshot: Snapshot
    train_loss: float
    test_loss: float
    history: History
    trace: LossTrace
    dataset: Dataset

    def csv_row(self, frame: int) -> tuple:
        s = self.snapshot
        return (frame, s.step, float(s.lr[0]), float(s.batch_loss[0]), self.train_loss, self.test_loss)


def train_frames(config: TrainConfig, steps: np.ndarray, should_stop: Callable[[], bool] | None = None
                 ) -> Iterator[FrameState]:
    """Train ``config`` and yield the state at each of ``steps`` (increasing). Stops early when the
    run diverges (the last finite state is the last frame) or ``should_stop()`` says so."""
    trainer = Trainer(config)
    history = History.for_trainer(trainer)
    trace = LossTrace()
    ds = trainer.dataset
    for step in steps:
        while trainer.step < step and not trainer.stopped:
            if trainer.run(int(step) - trainer.step, record=history, should_stop=should_stop) == 0:
                break
            if should_stop is not None and should_stop():
                return
        if trainer.step != step:
            return  # diverged before this step
        snap = trainer.snapshot()
        history.record_snapshot(snap)
        with np.errstate(all="ignore"):
            train, test = float(snap.loss(ds.x_train, ds.y_train)[0]), float(snap.loss(ds.x_test, ds.y_test)[0])
        trace.add(snap.step, train, test)
        yield FrameState(snap, train, test, history, trace, ds)


def write_csv_atomic(path: Path, rows: list[tuple]) -> None:
    """``frames.csv`` written to a temporary name and renamed."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([f"{v:.9g}" if isinstance(v, float) else v for v in row])
    tmp = None
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.part-", delete=False,
                                         encoding="utf-8", newline="") as fh:
            tmp = fh.name
            fh.write(text.getvalue())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise ExportError(os_error_message(exc, path)) from None


def sidecar_path(out: Path) -> Path:
    """Where ``frames.csv`` goes for a .gif/.mp4 output: ``NAME.gif.frames.csv`` beside it (the
    format stays in the name, so run.gif and run.mp4 do not share one)."""
    return out.with_name(out.name + ".frames.csv")


def export_run(config: TrainConfig, out: str | Path, steps: np.ndarray, size=(1280, 720), fps: float = 20.0,
               panels=("main", "loss"), caption: bool = True, force: bool = False,
               progress: Callable[[int, int], None] | None = None) -> tuple[Path, int, str]:
    """Train, render and write; returns (output path, frames written, stop reason or "")."""
    from reluviz.export.render import FrameRenderer, caption_text

    out = Path(out)
    kind = format_for(out)
    if kind != "png":
        side = sidecar_path(out)
        if side.exists() and not force:
            raise ExportError(f"{side} already exists (use --force to overwrite it)")
    check_target(out, force)
    renderer = None
    rows: list[tuple] = []
    stop_reason = ""
    writer = open_writer(out, fps=fps, force=force)
    try:
        for k, state in enumerate(train_frames(config, steps)):
            if renderer is None:
                renderer = FrameRenderer(state.dataset, size, panels, caption, final_step=int(steps[-1]))
            text = caption_text(state.snapshot, state.train_loss, state.test_loss)
            writer.add(renderer.render(state.snapshot, state.history, state.trace, caption=text))
            rows.append(state.csv_row(k))
            if progress:
                progress(k + 1, len(steps))
        if len(rows) < len(steps):
            stop_reason = _stop_reason(config, rows)
        if isinstance(writer, PngSequenceWriter):
            write_csv_atomic(writer.sidecar("frames.csv"), rows)
        final = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        if renderer is not None:
            renderer.close()
    if kind != "png":
        write_csv_atomic(sidecar_path(final), rows)
    return final, len(rows), stop_reason


def _stop_reason(config: TrainConfig, rows: list[tuple]) -> str:
    last = rows[-1][1] if rows else 0
    return f"training stopped at step {last} (the loss diverged: lr {config.lr:g} is too large); frames end there"


def export_command(config: TrainConfig, args) -> int:
    """The ``reluviz export`` subcommand (arguments from ``reluviz.cli``)."""
    from reluviz.cli import TerminalProgress

    size = parse_size(args.size)
    panels = parse_panels(args.panels)
    fps = parse_fps(args.fps)
    last = config.steps if args.steps is None else args.steps
    if last < 0:
        raise ExportError(f"--steps must be >= 0, got {last}")
    steps = select_steps(last, every=args.every, frames=args.frames, spacing=args.spacing)
    out = Path(args.out)
    format_for(out)
    check_target(out, args.force)
    final, count, reason = export_run(config, out, steps, size=size, fps=fps, panels=panels,
                                      caption=not args.no_caption, force=args.force,
                                      progress=TerminalProgress("exporting", args.quiet))
    if reason:
        print(f"reluviz: {reason}", file=sys.stderr)
    print(f"wrote {final} ({count} frames, {size[0]}x{size[1]}, steps {int(steps[0])}..{int(steps[min(count, len(steps)) - 1]) if count else 0})")
    return 0
