"""Export frames of a run as PNG/SVG images, a numbered PNG sequence, an animated GIF or an MP4.

Offscreen and usable without a window: frames are drawn by ``reluviz.plots.TrainingView`` (the
same drawing as the app) and read as images. Never imports ``reluviz.gui``.

* ``frames``: which steps become frames, option parsing (pure NumPy, no Qt).
* ``plan``: an ``ExportPlan`` (frames' snapshots and loss-panel data, copied) from a headless
  training run or from the app's recorded history (no Qt).
* ``render``: a ``FrameRenderer`` that draws a snapshot to an RGB array of an exact size.
* ``writers``: PNG-directory and MP4 writers that appear whole or not at all, encoding on their
  own thread; ``gif_writer``: the streamed GIF writer.
* ``pipeline``: check the output, draw a plan's frames, write them and the ``frames.csv`` sidecar
  (``export_run``, ``export_plan``; the app's export dialog drives the same steps).

``reluviz export`` is ``reluviz.cli.export_command``. Typical use without the CLI::

    from reluviz.export.pipeline import export_run
    from reluviz.export.frames import select_steps
    export_run(config, "run.gif", lambda last: select_steps(last, frames=60, spacing="log"),
               size=(800, 450), fps=12, train_steps=30000)
"""

from reluviz.export.frames import ExportError, parse_panels, parse_size, select_steps

__all__ = ["ExportError", "parse_panels", "parse_size", "select_steps"]
