"""The export pipeline: check the output, draw a plan's frames, write them and ``frames.csv``.

Frame k shows the state after step s_k (``frames.csv`` lists frame, step, lr, batch_loss,
train_loss, val_loss, test_loss, true_error, objective). ``export_run`` trains first (``plan.plan_training``
keeps the exact state at each frame's step), ``export_recorded`` reads the steps from a run file instead
(``plan.plan_recorded``: the same frames for the same run), then ``export_plan`` draws the frames through
the app's ``TrainingView``
offscreen and hands them to a writer whose encoder runs on its own thread. The app's export
dialog drives the same steps itself (``check_outputs``, ``open_frame_writer``, ``iter_render``,
``finish``) between its events; ``reluviz export`` is ``reluviz.cli.export_command``. Lecture views
are drawn by ``reluviz.export.view_render``; both write through ``reluviz.export.output``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

from reluviz.core.config import TrainConfig
from reluviz.export.frames import ExportError
from reluviz.export.output import (check_outputs, finish, open_frame_writer, open_writer,  # noqa: F401 (the
                                   sidecar_path, write_csv_atomic, write_plan)            # dialog's and the CLI's)
from reluviz.export.plan import ExportPlan, plan_recorded, plan_training


def iter_render(plan: ExportPlan, renderer, writer) -> Iterator[int]:
    """Draw each frame of ``plan`` with ``renderer`` into ``writer``; yields frames done so far.

    Drawing happens on the calling (GUI) thread; the writer encodes on its own. The caller
    finishes with ``finish(plan, writer)`` or, on error or cancel, ``writer.abort()``.
    """
    for k, frame in enumerate(plan.frames):
        text = renderer.caption_for(frame.snapshot, frame.train_loss, val_loss=frame.val_loss)
        writer.add(renderer.render(frame.snapshot, plan.curves, plan.trace, ghost=frame.ghost, caption=text))
        yield k + 1


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
