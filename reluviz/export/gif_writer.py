"""The GIF writer, by hand rather than Pillow's ``save_all``: streamed, exact palette, constant memory.

``GifWriter`` writes frame by frame as they arrive. One global palette: the theme's exact colours
and their blends with the white background, the first frame's most frequent exact colours, then
an adaptive (median cut) remainder; every frame is mapped to it without dithering (no flicker,
crisp lines). Later frames store only the rectangle that changed, unchanged pixels transparent
(an unchanged frame is still a frame, so frame k of the GIF is row k of ``frames.csv``). Delays
are whole centiseconds whose running sum stays on k / fps. Pillow encodes each frame's LZW data.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from reluviz.export.frames import ExportError
from reluviz.export.writers import AtomicWriter


def _blend(color: Sequence[int], background: Sequence[int], alpha: float) -> tuple[int, int, int]:
    return tuple(int(round(alpha * c + (1 - alpha) * b)) for c, b in zip(color, background))  # type: ignore[return-value]


BLEND_LEVELS = (1.0, 0.85, 0.7, 0.55, 0.4, 0.27, 0.15, 0.07)
FREQUENT_COLOURS = 64   # exact colours of the first frame kept as they are (flat fills, text)
TRANSPARENT = 255       # palette index left free: "unchanged since the last frame"


def build_palette(sample: np.ndarray, anchors: Iterable[Sequence[int]] = ((0, 0, 0),),
                  background: Sequence[int] = (255, 255, 255)) -> list[tuple[int, int, int]]:
    """255 colours for ``sample`` (H, W, 3): exact ``background`` and ``anchors``, each anchor
    blended with the background at a few levels (antialiased lines) and half with black, the
    sample's most frequent exact colours, a coarse 3x3x3 colour cube, then a median cut of the
    sample for the rest."""
    from PIL import Image

    chosen: dict[tuple[int, int, int], None] = {tuple(int(c) for c in background): None}  # type: ignore[misc]
    anchors = [tuple(int(c) for c in a[:3]) for a in anchors]
    for anchor in anchors:
        for alpha in BLEND_LEVELS:
            chosen.setdefault(_blend(anchor, background, alpha), None)
    for anchor in anchors:  # a coloured line or marker crossing the black network curve
        chosen.setdefault(_blend(anchor, (0, 0, 0), 0.5), None)
    pixels = np.ascontiguousarray(sample, dtype=np.uint8).reshape(-1, 3)
    packed = (pixels[:, 0].astype(np.uint32) << 16) | (pixels[:, 1].astype(np.uint32) << 8) | pixels[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    fixed = len(chosen)
    for v in values[np.argsort(-counts, kind="stable")]:
        if len(chosen) - fixed >= FREQUENT_COLOURS or len(chosen) >= 255:
            break
        chosen.setdefault((int(v >> 16), int((v >> 8) & 255), int(v & 255)), None)
    for r in (0, 128, 255):  # a coarse colour cube: a colour missing from all of the above keeps its hue
        for g in (0, 128, 255):
            for b in (0, 128, 255):
                chosen.setdefault((r, g, b), None)
    room = 255 - len(chosen)
    if room > 0:
        image = Image.fromarray(np.ascontiguousarray(sample, dtype=np.uint8))
        adaptive = image.quantize(colors=room, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        flat = adaptive.getpalette()[: 3 * room]
        for i in range(0, len(flat), 3):
            chosen.setdefault((flat[i], flat[i + 1], flat[i + 2]), None)
    colours = list(chosen)[:255]
    while len(colours) < 255:
        colours.append(colours[0])  # (a duplicate is never preferred over its first copy)
    return colours


def _pack(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) uint32 ``R | G << 8 | B << 16`` (one copy, no arithmetic)."""
    h, w = rgb.shape[:2]
    quad = np.zeros((h, w, 4), dtype=np.uint8)
    quad[..., :3] = rgb
    return quad.view("<u4")[..., 0]


class GifWriter(AtomicWriter):
    """An animated GIF looping forever at ``fps`` frames per second, written as frames arrive."""

    def __init__(self, path, fps: float = 20.0, force: bool = False,
                 anchors: Iterable[Sequence[int]] = ((0, 0, 0), (34, 34, 34)),
                 background: Sequence[int] = (255, 255, 255)):
        try:
            import PIL.GifImagePlugin  # noqa: F401
        except ImportError:
            raise ExportError("GIF export needs the Pillow package: pip install Pillow "
                              "(or export an .mp4 or PNG frames)") from None
        super().__init__(path, fps, force)
        self.anchors = [tuple(a[:3]) for a in anchors]
        self.background = tuple(background[:3])
        self._fh = None
        self._previous: np.ndarray | None = None
        self._frames_in = 0
        self._shown_cs = 0

    def _start(self, rgb: np.ndarray) -> None:
        colours = build_palette(rgb, self.anchors, self.background)
        flat = [c for colour in colours for c in colour]
        self._palette = np.array(colours, dtype=np.int32)  # 255 entries: mapping never yields TRANSPARENT
        self._lut = np.full(1 << 24, TRANSPARENT, dtype=np.uint8)  # packed RGB -> index, filled as colours appear
        h, w = rgb.shape[:2]
        table = bytes(flat) + bytes((255, 0, 255))  # index 255: transparent, its colour never shows
        header = (b"GIF89a" + w.to_bytes(2, "little") + h.to_bytes(2, "little")
                  + bytes((0xF7, 0, 0)) + table  # global colour table of 256 entries
                  + b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")  # loop forever
        self._fh = open(self.tmp, "wb")
        self._fh.write(header)

    def _add(self, rgb: np.ndarray) -> None:
        if self._fh is None:
            self._start(rgb)
        self._frames_in += 1
        ends = int(np.floor(100.0 * self._frames_in / self.fps + 0.5))
        delay, self._shown_cs = max(ends - self._shown_cs, 1), max(ends, self._shown_cs + 1)
        packed = _pack(rgb)
        previous, self._previous = self._previous, packed
        if previous is None:
            self._push(self._map(packed), (0, 0), False, delay)
            return
        if packed.shape != previous.shape:
            raise ExportError(f"frame size changed from {previous.shape[::-1]} to {packed.shape[::-1]}")
        changed = packed != previous
        rows = np.flatnonzero(changed.any(axis=1))
        if len(rows) == 0:  # the same picture: a one-pixel transparent frame keeps frame k = row k of frames.csv
            self._push(np.full((1, 1), TRANSPARENT, dtype=np.uint8), (0, 0), True, delay)
            return
        y0, y1 = rows[0], rows[-1] + 1
        cols = np.flatnonzero(changed[y0:y1].any(axis=0))
        x0, x1 = cols[0], cols[-1] + 1
        patch = self._map(packed[y0:y1, x0:x1])  # only the rectangle that changed is mapped and stored
        patch[~changed[y0:y1, x0:x1]] = TRANSPARENT
        self._push(patch, (int(x0), int(y0)), True, delay)

    def _map(self, packed: np.ndarray) -> np.ndarray:
        """Palette indices of the nearest palette colour to each packed pixel (exact: a colour in
        the palette maps to itself; Pillow's own mapping rounds colours to a coarse grid first,
        which turned the white background into (252, 252, 252))."""
        index = self._lut[packed]
        missing = index == TRANSPARENT
        if missing.any():
            new = np.unique(packed[missing])
            for start in range(0, len(new), 4096):
                chunk = new[start:start + 4096]
                colours = np.stack([chunk & 255, (chunk >> 8) & 255, (chunk >> 16) & 255], axis=1).astype(np.int32)
                dist = ((colours[:, None, :] - self._palette[None, :, :]) ** 2).sum(axis=2)
                self._lut[chunk] = np.argmin(dist, axis=1).astype(np.uint8)
            index = self._lut[packed]
        return index

    def _push(self, indices: np.ndarray, offset, transparent: bool, delay: int) -> None:
        """Write one frame: palette indices at ``offset`` on the canvas, shown for ``delay`` cs."""
        from PIL import GifImagePlugin, Image

        h, w = indices.shape
        image = Image.frombytes("P", (w, h), np.ascontiguousarray(indices).tobytes())
        params = {"duration": 10 * min(delay, 65535), "disposal": 1}
        if transparent:
            params["transparency"] = TRANSPARENT
        for chunk in GifImagePlugin.getdata(image, offset=offset, **params):
            self._fh.write(chunk)

    def _finish(self) -> None:
        if self._fh is None:
            raise ExportError("no frames to write")
        self._fh.write(b";")
        self._fh.close()
        self._fh = None

    def _discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
