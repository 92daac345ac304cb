"""Which steps become frames, and the parsing of export options (pure NumPy, no Qt).

An animation covers the steps ``first .. last``. Its frames are chosen as

* ``every=K``: ``first, first + K, first + 2K, ...`` and always ``last``;
* ``frames=F, spacing="linear"``: F steps evenly spread over the range (rounded);
* ``frames=F, spacing="log"``: F steps evenly spread in ``log(1 + step - first)``, so the fast
  early change and the slow late dance around the optimum get about as many frames each.

Every selection is increasing, has no repeats, holds ``first`` and ``last`` (one frame,
``frames=1``, is ``last``: the trained result) and has exactly ``min(F, last - first + 1)`` steps:
where log-spaced steps would round onto the same integer near the start, consecutive steps are
taken, and the remaining frames are spread log-evenly over the rest of the range.

In the app only recorded steps exist (a long history is thinned); ``snap_to_recorded`` maps a
selection onto them without repeating a frame.
"""

from __future__ import annotations

import math

import numpy as np

from reluviz.core.config import ConfigError

PANEL_NAMES = ("main", "loss")
SPACINGS = ("linear", "log")
MAX_FRAMES = 100_000
MAX_SIDE = 7680
LOSS_POINTS = 500  # train/test loss is evaluated at about this many steps for the loss panel

#: what ``reluviz export --view`` draws: the fit and loss panels, or a lecture view (its canvas in
#: ``reluviz.plots.canvases``), in the app's tab order
EXPORT_VIEWS: tuple[str, ...] = ("fit", "dance", "votes", "elbows", "bands")


class ExportError(ConfigError):
    """An export cannot be done as asked; the message is one line for the user."""


def select_steps(last_step: int, every: int | None = None, frames: int | None = None,
                 spacing: str = "linear", first_step: int = 0) -> np.ndarray:
    """Steps to draw (int64, increasing, unique) from ``first_step`` to ``last_step``.

    Give ``every`` or ``frames`` (neither: 100 frames with ``spacing``). See the module docstring.
    """
    first, last = int(first_step), int(last_step)
    if first < 0:
        raise ExportError(f"the first step must be >= 0, got {first}")
    if last < first:
        raise ExportError(f"nothing to export: last step {last} is before the first {first}")
    if every is not None and frames is not None:
        raise ExportError("give either --every or --frames, not both")
    if spacing not in SPACINGS:
        raise ExportError(f"--spacing must be linear or log, got '{spacing}'")
    span = last - first
    if every is not None:
        every = int(every)
        if every < 1:
            raise ExportError(f"--every must be at least 1, got {every}")
        if spacing == "log":
            raise ExportError("--spacing log goes with --frames F (log-spaced F frames), not with --every")
        if span // every + 2 > MAX_FRAMES:
            raise ExportError(f"that makes {span // every + 1:,} frames; at most {MAX_FRAMES:,} (use a larger --every)")
        offsets = np.arange(0, span + 1, every, dtype=np.int64)
        if offsets[-1] != span:
            offsets = np.append(offsets, np.int64(span))
        return offsets + first
    count = 100 if frames is None else int(frames)
    if count < 1:
        raise ExportError(f"--frames must be at least 1, got {count}")
    if count > MAX_FRAMES:
        raise ExportError(f"--frames must be at most {MAX_FRAMES:,}, got {count}")
    if count == 1:
        return np.array([last], dtype=np.int64)
    if count >= span + 1:
        return np.arange(first, last + 1, dtype=np.int64)
    if spacing == "linear":
        offsets = np.floor(np.linspace(0.0, span, count) + 0.5).astype(np.int64)
    else:
        offsets = _log_offsets(span, count)
    return np.unique(offsets) + first


def _log_offsets(span: int, count: int) -> np.ndarray:
    """``count`` offsets 0 = u_0 < u_1 < ... = span, evenly spaced in log(1 + u) where rounding allows.

    Each next offset is where a geometric sequence from the previous one to ``span`` with the
    frames still to place would go, at least one more than the previous and leaving room for the
    rest. Past the crowded start this is exactly geometric in 1 + u.
    """
    out = np.empty(count, dtype=np.int64)
    out[0] = prev = 0
    log_end = math.log1p(span)
    for i in range(1, count):
        remaining = count - i
        ideal = math.expm1(math.log1p(prev) + (log_end - math.log1p(prev)) / remaining)
        prev = min(max(int(math.floor(ideal + 0.5)), prev + 1), span - (remaining - 1))
        out[i] = prev
    return out


def snap_to_recorded(wanted: np.ndarray, recorded: np.ndarray) -> np.ndarray:
    """Each wanted step moved to the nearest recorded step (ties go earlier), without repeats.

    Fewer steps come back than were wanted where the history is thinner than the selection.
    """
    wanted = np.asarray(wanted, dtype=np.int64)
    recorded = np.asarray(recorded, dtype=np.int64)
    if len(recorded) == 0:
        raise ExportError("nothing is recorded yet: train a few steps first")
    if len(wanted) == 0:
        return np.empty(0, dtype=np.int64)
    if len(recorded) == 1:
        return recorded.copy()
    j = np.clip(np.searchsorted(recorded, wanted), 1, len(recorded) - 1)
    left, right = recorded[j - 1], recorded[j]
    return np.unique(np.where(wanted - left <= right - wanted, left, right))


def loss_steps(first_step: int, last_step: int, frame_steps: np.ndarray, points: int = LOSS_POINTS) -> np.ndarray:
    """Steps at which the loss panel's train/test curves are evaluated: an even grid of about
    ``points`` steps plus every frame's step (so the curve is as fine as the run, whatever frames
    were chosen, and passes through each frame's own loss)."""
    grid = np.floor(np.linspace(first_step, last_step, min(points, last_step - first_step + 1)) + 0.5)
    return np.unique(np.concatenate([grid.astype(np.int64), np.asarray(frame_steps, dtype=np.int64)]))


def gif_delays_cs(count: int, fps: float) -> list[int]:
    """GIF frame delays in hundredths of a second whose running sum stays on ``k / fps``.

    GIF delays are whole centiseconds, so 30 frames/s becomes 3, 4, 3, 3, 4, 3, ... (no drift)
    and 12 frames/s 8, 9, 8, ... (not 8 throughout, which would play at 12.5).
    """
    ends = [int(math.floor(100.0 * (k + 1) / fps + 0.5)) for k in range(count)]
    return [max(e - s, 1) for s, e in zip([0] + ends[:-1], ends)]


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720); both sides even (video encoders need it), 64..7680 px."""
    try:
        w_text, h_text = str(text).lower().replace(" ", "").split("x")
        width, height = int(w_text), int(h_text)
    except ValueError:
        raise ExportError(f"--size must look like 1280x720, got '{text}'") from None
    for side in (width, height):
        if not 64 <= side <= MAX_SIDE:
            raise ExportError(f"--size sides must be between 64 and {MAX_SIDE} pixels, got '{text}'")
    return width - width % 2, height - height % 2


def parse_panels(text: str) -> tuple[str, ...]:
    """``"main,loss"`` -> ("main", "loss"); unknown names are an error."""
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    if not names:
        raise ExportError("--panels needs at least one of: main, loss")
    for name in names:
        if name not in PANEL_NAMES:
            raise ExportError(f"unknown panel '{name}' (panels: {', '.join(PANEL_NAMES)})")
    return tuple(p for p in PANEL_NAMES if p in names)


def parse_fps(value: float) -> float:
    if not (value > 0 and value <= 120):
        raise ExportError(f"--fps must be above 0 and at most 120, got {value}")
    return float(value)
