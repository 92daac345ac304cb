"""Which steps become frames, and the parsing of export options (pure NumPy, no Qt)."""

from __future__ import annotations

import numpy as np

from reluviz.core.config import ConfigError

PANEL_NAMES = ("main", "loss")
MAX_FRAMES = 100_000
MAX_SIDE = 7680


class ExportError(ConfigError):
    """An export cannot be done as asked; the message is one line for the user."""


def select_steps(last_step: int, every: int | None = None, frames: int | None = None,
                 spacing: str = "linear", first_step: int = 0) -> np.ndarray:
    """Steps to draw, increasing and unique, always holding ``first_step`` and ``last_step``.

    ``every`` K: first, first + K, ... and the last step. ``frames`` F with ``spacing``:
    ``linear`` gives F evenly spaced steps; ``log`` spaces them evenly in log(1 + step), so the
    fast early change and the slow late dance get the same number of frames. Duplicates
    (rounding early log steps) are dropped, so fewer than F frames can come back.
    Default: about 100 evenly spaced frames.
    """
    if last_step < first_step:
        raise ExportError(f"nothing to export: last step {last_step} is before the first {first_step}")
    if every is not None and frames is not None:
        raise ExportError("give either --every or --frames, not both")
    if every is not None:
        if every < 1:
            raise ExportError(f"--every must be at least 1, got {every}")
        steps = np.arange(first_step, last_step + 1, every, dtype=np.int64)
    else:
        count = 100 if frames is None else frames
        if count < 1:
            raise ExportError(f"--frames must be at least 1, got {count}")
        if count > MAX_FRAMES:
            raise ExportError(f"--frames must be at most {MAX_FRAMES:,}, got {count}")
        if spacing == "log":
            lo, hi = np.log1p(first_step), np.log1p(last_step)
            steps = np.round(np.expm1(np.linspace(lo, hi, count))).astype(np.int64)
        elif spacing == "linear":
            steps = np.round(np.linspace(first_step, last_step, count)).astype(np.int64)
        else:
            raise ExportError(f"--spacing must be linear or log, got '{spacing}'")
    steps = np.unique(np.clip(np.r_[first_step, steps, last_step], first_step, last_step))
    if len(steps) > MAX_FRAMES:
        raise ExportError(f"that makes {len(steps):,} frames; at most {MAX_FRAMES:,} (use a larger --every)")
    return steps


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720); both sides even (video encoders need it), 64..7680 px."""
    try:
        w_text, h_text = text.lower().replace(" ", "").split("x")
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
