"""Export frames of a run as PNG/SVG images, a numbered PNG sequence, an animated GIF or an MP4.

Offscreen and usable without a window: frames are drawn by ``reluviz.plots.TrainingView`` (the
same drawing as the app) and grabbed as images. Never imports ``reluviz.gui``.

* ``frames``: which steps become frames (pure NumPy, no Qt).
* ``render``: a ``FrameRenderer`` that draws a snapshot to an RGB array.
* ``writers``: PNG-directory, GIF and MP4 writers that appear whole or not at all.
* ``command``: ``reluviz export`` (train headless, render, write, ``frames.csv`` sidecar).
"""

from reluviz.export.frames import ExportError, parse_panels, parse_size, select_steps

__all__ = ["ExportError", "parse_panels", "parse_size", "select_steps"]
