"""Frame writers that make their output appear whole or not at all.

Each writer renders into a temporary name beside the target (``.NAME.part-XXXX``) and renames it
into place in ``close()``; ``abort()`` (or any exception inside a ``with`` block) removes it.
An existing target is refused unless ``force`` is given. OS errors (no permission, disk full)
become ``ExportError`` with a plain sentence.

* ``PngSequenceWriter``: a directory of ``frame_00000.png``, ...
* ``GifWriter``: Pillow; one adaptive palette taken from the first frame (plus the theme's pure
  colours), every frame mapped to it without dithering: fast, small, no flicker between frames.
* ``Mp4Writer``: imageio-ffmpeg (its wheel carries ffmpeg), H.264, yuv420p.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from reluviz.export.frames import ExportError

FORMATS = ("png", "gif", "mp4")


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
    return path


class _AtomicWriter:
    """Shared life cycle: temp name, write frames, rename on close, clean up on abort."""

    is_dir = False

    def __init__(self, path: str | Path, fps: float = 20.0, force: bool = False):
        self.path = check_target(path, force)
        self.fps = fps
        self.force = force
        self.count = 0
        prefix = f".{self.path.name}.part-"
        try:
            if self.is_dir:
                self.tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=self.path.parent))
            else:
                fd, name = tempfile.mkstemp(prefix=prefix, suffix=self.path.suffix, dir=self.path.parent)
                os.close(fd)
                self.tmp = Path(name)
            os.chmod(self.tmp, (0o777 if self.is_dir else 0o666) & ~_umask())  # (mkstemp makes it private)
        except OSError as exc:
            raise ExportError(os_error_message(exc, self.path)) from None
        self._open = True

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.close()
        else:
            self.abort()
        return False

    def add(self, rgb: np.ndarray) -> None:
        """Append one frame, (H, W, 3) uint8."""
        try:
            self._add(np.ascontiguousarray(rgb, dtype=np.uint8))
        except OSError as exc:
            self.abort()
            raise ExportError(os_error_message(exc, self.path)) from None
        self.count += 1

    def close(self) -> Path:
        """Finish the file and move it into place; returns the final path."""
        if not self._open:
            return self.path
        try:
            self._finish()
            if self.path.exists():  # (force) replace what was there
                if self.path.is_dir():
                    shutil.rmtree(self.path)
                else:
                    self.path.unlink()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise ExportError(os_error_message(exc, self.path)) from None
        except BaseException:
            self.abort()
            raise
        self._open = False
        return self.path

    def abort(self) -> None:
        """Drop everything written so far."""
        if not self._open:
            return
        self._open = False
        try:
            self._discard()
        finally:
            if self.tmp.is_dir():
                shutil.rmtree(self.tmp, ignore_errors=True)
            elif self.tmp.exists():
                self.tmp.unlink()

    def _add(self, rgb: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        pass

    def _discard(self) -> None:
        pass


class PngSequenceWriter(_AtomicWriter):
    """``frame_00000.png``, ``frame_00001.png``, ... in a directory (plus any sidecar files)."""

    is_dir = True

    def _add(self, rgb: np.ndarray) -> None:
        from PIL import Image

        Image.fromarray(rgb).save(self.tmp / f"frame_{self.count:05d}.png", compress_level=1)

    def sidecar(self, name: str) -> Path:
        """Where a file that travels with the frames goes (inside the directory)."""
        return self.tmp / name


class GifWriter(_AtomicWriter):
    """An animated GIF looping forever at ``fps`` frames per second."""

    def __init__(self, path, fps: float = 20.0, force: bool = False):
        super().__init__(path, fps, force)
        self._frames = []
        self._palette = None

    def _add(self, rgb: np.ndarray) -> None:
        from PIL import Image

        image = Image.fromarray(rgb)
        if self._palette is None:
            self._palette = image.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        self._frames.append(image.quantize(palette=self._palette, dither=Image.Dither.NONE))

    def _finish(self) -> None:
        if not self._frames:
            raise ExportError("no frames to write")
        duration = max(20, int(round(1000.0 / self.fps)))  # ms; GIF timing has 10 ms steps
        first, rest = self._frames[0], self._frames[1:]
        first.save(self.tmp, format="GIF", save_all=True, append_images=rest, duration=duration, loop=0,
                   optimize=False, disposal=1)
        self._frames = []

    def _discard(self) -> None:
        self._frames = []


class Mp4Writer(_AtomicWriter):
    """H.264 MP4 through imageio-ffmpeg's bundled ffmpeg."""

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
        self._gen.close()
        self._gen = None

    def _discard(self) -> None:
        if self._gen is not None:
            try:
                self._gen.close()
            except Exception:  # noqa: BLE001 (ffmpeg already failed; the temp file goes anyway)
                pass
            self._gen = None


def open_writer(path: str | Path, fps: float = 20.0, force: bool = False) -> _AtomicWriter:
    kind = format_for(path)
    return {"png": PngSequenceWriter, "gif": GifWriter, "mp4": Mp4Writer}[kind](path, fps, force)


def save_image_atomic(path: str | Path, rgb: np.ndarray, force: bool = False, svg_source=None) -> Path:
    """One picture: PNG from ``rgb``, or SVG (by the ending) from ``svg_source.save_svg(path)``."""
    path = check_target(path, force) if Path(path).suffix.lower() in (".png", ".svg") else Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ExportError(f"a single frame is saved as .png or .svg, not '{path.name}'")
    if suffix == ".svg" and svg_source is None:
        raise ExportError("SVG needs the drawing itself")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.part-", suffix=suffix, dir=path.parent)
        os.close(fd)
        if suffix == ".png":
            from PIL import Image

            Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(tmp, format="PNG")
        else:
            svg_source.save_svg(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise ExportError(os_error_message(exc, path)) from None
    return path
