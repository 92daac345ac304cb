"""Frame writers that make their output appear whole or not at all, encoding on a worker thread.

Each writer renders into a temporary name beside the target (``reluviz.core.atomic``) and renames
it into place in ``close()``; ``abort()`` (or any exception inside a ``with`` block) removes it.
An existing target is refused unless ``force`` is given, and even then a folder is replaced only
when it holds nothing but exported frames (``frame_*.png``, ``frames.csv``). OS errors (no
permission, disk full) become ``ExportError`` with a plain sentence.

``add(rgb)`` hands the frame to the writer's own thread (a queue of a few frames), so drawing the
next frame on the GUI thread and encoding this one overlap; an encoder error comes back from the
next ``add`` or from ``close``. Encoders (Pillow, Qt's PNG writer, ffmpeg) release the GIL.

* ``AtomicWriter``: the life cycle all of them share (temporary name, encoder thread, rename).
* ``PngSequenceWriter``: a directory of ``frame_00000.png``, ... (Qt's PNG writer, fast zlib level).
* ``Mp4Writer``: imageio-ffmpeg (its wheel carries ffmpeg), H.264, yuv420p, even sides.
* ``GifWriter`` is in ``gif_writer``; ``pipeline.open_writer`` picks the writer for an output path.
"""

from __future__ import annotations

import errno
import os
import queue
import re
import threading
from pathlib import Path

import numpy as np

from reluviz.core.atomic import atomic_path, discard, make_temp, move_into_place
from reluviz.export.frames import ExportError

FRAME_NAME = re.compile(r"frame_\d+\.png$")
QUEUE_FRAMES = 3  # frames waiting for the encoder thread (bounded memory, some overlap)


def format_for(path: str | Path) -> str:
    """``png`` (a directory), ``gif`` or ``mp4`` from the output path's ending."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gif":
        return "gif"
    if suffix == ".mp4":
        return "mp4"
    if suffix == "":
        return "png"
    raise ExportError(f"--out must end in .gif or .mp4, or name a directory for PNG frames; got '{Path(path).name}'")


def os_error_message(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"the disk is full: cannot write {path} (nothing was left behind)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to write {path}"
    return f"cannot write {path}: {exc.strerror or exc}"


def is_frames_folder(path: Path) -> bool:
    """True for a folder holding only what an export writes there (or nothing)."""
    try:
        return all(FRAME_NAME.match(name) or name == "frames.csv" for name in os.listdir(path))
    except OSError:
        return False


def check_target(path: str | Path, force: bool) -> Path:
    """The output path, checked: its folder exists and is writable, it exists only with ``force``."""
    path = Path(path).expanduser()
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"no permission to write in {parent}")
    if path.exists() and not force:
        raise ExportError(f"{path} already exists (use --force to overwrite it)")
    if path.exists() and path.is_dir() != (path.suffix == ""):  # (PNG frames go in a folder)
        raise ExportError(f"{path} exists and is a {'folder' if path.is_dir() else 'file'}; choose another name")
    if path.is_dir() and not is_frames_folder(path):
        raise ExportError(f"{path} is a folder with other files in it; --force replaces only a folder of "
                          "exported frames (frame_*.png, frames.csv): choose a new folder name")
    return path


class AtomicWriter:
    """Shared life cycle: temp name, frames encoded on a thread, rename on close, clean up on abort."""

    is_dir = False
    threaded = True

    def __init__(self, path: str | Path, fps: float = 20.0, force: bool = False):
        self.path = check_target(path, force)
        self.fps = fps
        self.force = force
        self.count = 0
        try:  # (the file keeps the output's ending: ffmpeg picks the container by it)
            self.tmp = make_temp(self.path, suffix="" if self.is_dir else self.path.suffix, directory=self.is_dir)
        except OSError as exc:
            raise ExportError(os_error_message(exc, self.path)) from None
        self._open = True
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.close()
        else:
            self.abort()
        return False

    # ------------------------------------------------------------------ frames
    def add(self, rgb: np.ndarray) -> None:
        """Append one frame, (H, W, 3) uint8 (the writer keeps its own reference: do not modify it)."""
        if not self._open:
            raise ExportError("the export was already closed or cancelled")
        self._raise_error()
        frame = np.ascontiguousarray(rgb, dtype=np.uint8)
        if not self.threaded:
            self._encode(frame)
            self._raise_error()
        else:
            if self._thread is None:
                self._queue = queue.Queue(maxsize=QUEUE_FRAMES)
                self._thread = threading.Thread(target=self._work, name="reluviz-export-encoder", daemon=True)
                self._thread.start()
            self._queue.put(frame)
        self.count += 1

    @property
    def busy(self) -> bool:
        """True while the encoder's queue is full (``add`` would wait): a GUI draws the next frame later."""
        return self._queue is not None and self._queue.full() and self._error is None

    def _encode(self, frame: np.ndarray) -> None:
        if self._error is None:
            try:
                self._add(frame)
            except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
                self._error = exc

    def _work(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            self._encode(frame)  # after an error, frames are drained unencoded so add() never blocks

    def _join(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _raise_error(self) -> None:
        """Re-raise an encoder error here (after removing everything written)."""
        exc = self._error
        if exc is None:
            return
        self.abort()
        if isinstance(exc, OSError):
            raise ExportError(os_error_message(exc, self.path)) from None
        raise exc

    # ------------------------------------------------------------------ end
    def close(self) -> Path:
        """Finish the file and move it into place; returns the final path."""
        if not self._open:
            return self.path
        try:
            self._join()
            self._raise_error()
            self._finish()
            move_into_place(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise ExportError(os_error_message(exc, self.path)) from None
        except BaseException:
            self.abort()
            raise
        self._open = False
        return self.path

    def abort(self) -> None:
        """Drop everything written so far (stops the encoder thread first)."""
        if not self._open:
            return
        self._open = False
        if self._error is None:
            self._error = ExportError("cancelled")  # the thread drains the rest without encoding
        try:
            self._join()
            self._discard()
        finally:
            discard(self.tmp)

    def _add(self, rgb: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        pass

    def _discard(self) -> None:
        pass


class PngSequenceWriter(AtomicWriter):
    """``frame_00000.png``, ``frame_00001.png``, ... in a directory (plus any sidecar files)."""

    is_dir = True

    def __init__(self, path, fps: float = 20.0, force: bool = False):
        super().__init__(path, fps, force)
        self._index = 0

    def _add(self, rgb: np.ndarray) -> None:
        data = encode_png(rgb)
        with open(self.tmp / f"frame_{self._index:05d}.png", "wb") as fh:
            fh.write(data)
        self._index += 1

    def sidecar(self, name: str) -> Path:
        """Where a file that travels with the frames goes (inside the directory)."""
        return self.tmp / name


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 image: Qt's libpng writer at a fast zlib level (about twice
    as fast as Pillow's fastest level at the same size); writing the bytes is left to the caller,
    so a full disk is an ``OSError`` with its errno."""
    from PySide6 import QtCore, QtGui

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    image = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
    data = QtCore.QByteArray()
    buffer = QtCore.QBuffer(data)
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG", 80):  # quality 80: zlib level 1-2
        raise OSError(errno.EIO, "the PNG encoder failed")
    buffer.close()
    return data.data()


# ---------------------------------------------------------------------------- MP4
class Mp4Writer(AtomicWriter):
    """H.264 MP4 through imageio-ffmpeg's bundled ffmpeg (yuv420p: plays in slides and browsers)."""

    def __init__(self, path, fps: float = 20.0, force: bool = False):
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise ExportError("MP4 export needs the imageio-ffmpeg package: pip install imageio-ffmpeg "
                              "(or export a .gif or PNG frames)") from None
        super().__init__(path, fps, force)
        self._gen = None

    def _add(self, rgb: np.ndarray) -> None:
        import imageio_ffmpeg

        if self._gen is None:
            h, w = rgb.shape[:2]
            if w % 2 or h % 2:
                raise ExportError(f"MP4 needs even width and height, got {w}x{h}")
            try:
                self._gen = imageio_ffmpeg.write_frames(
                    str(self.tmp), (w, h), fps=self.fps, codec="libx264", pix_fmt_in="rgb24",
                    pix_fmt_out="yuv420p", quality=7, macro_block_size=2, ffmpeg_log_level="error",
                    output_params=["-movflags", "+faststart"])
                self._gen.send(None)
            except RuntimeError as exc:  # ffmpeg binary missing or not runnable
                self._gen = None
                raise ExportError(f"MP4 encoder unavailable ({exc}); export a .gif or PNG frames instead") from None
        try:
            self._gen.send(rgb)
        except (BrokenPipeError, RuntimeError) as exc:
            raise OSError(errno.EIO, f"ffmpeg stopped: {exc}") from None

    def _finish(self) -> None:
        if self._gen is None:
            raise ExportError("no frames to write")
        try:
            self._gen.close()
        except RuntimeError as exc:  # ffmpeg failed at the end (e.g. the disk filled up)
            raise OSError(errno.EIO, f"ffmpeg failed: {exc}") from None
        finally:
            self._gen = None

    def _discard(self) -> None:
        if self._gen is not None:
            try:
                self._gen.close()
            except Exception:  # noqa: BLE001 (ffmpeg already failed; the temp file goes anyway)
                pass
            self._gen = None


def check_encoder(kind: str) -> None:
    """``ExportError`` with what to install when the encoder for ``kind`` (png, gif, mp4) is missing."""
    try:
        if kind == "gif":
            import PIL.GifImagePlugin  # noqa: F401
        elif kind == "mp4":
            import imageio_ffmpeg

            imageio_ffmpeg.get_ffmpeg_exe()
    except ImportError:
        package = {"gif": "Pillow", "mp4": "imageio-ffmpeg"}[kind]
        raise ExportError(f"{kind.upper()} export needs the {package} package: pip install {package} "
                          "(or export PNG frames)") from None
    except RuntimeError as exc:  # imageio-ffmpeg without a usable ffmpeg binary
        raise ExportError(f"MP4 encoder unavailable ({exc}); export a .gif or PNG frames instead") from None


def save_image_atomic(path: str | Path, rgb: np.ndarray, force: bool = False, svg_source=None) -> Path:
    """One picture: PNG from ``rgb``, or SVG (by the ending) from ``svg_source.save_svg(path)``."""
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ExportError(f"a single frame is saved as .png or .svg, not '{path.name}'")
    path = check_target(path, force)
    if suffix == ".svg" and svg_source is None:
        raise ExportError("SVG needs the drawing itself")
    try:
        with atomic_path(path, suffix=suffix) as tmp:
            if suffix == ".png":
                with open(tmp, "wb") as fh:
                    fh.write(encode_png(rgb))
            else:
                svg_source.save_svg(str(tmp))
    except OSError as exc:
        raise ExportError(os_error_message(exc, path)) from None
    return path
