"""Files and folders that appear whole or not at all.

Each is written under a temporary name beside its target (``.NAME.part-XXXXXXXX``, so on the same
file system) and renamed over the target when complete (``os.replace``: atomic); on failure the
temporary is removed. The result gets the mode a plain ``open`` would give it: 0o644 & ~umask for
a file, 0o777 & ~umask for a folder (``tempfile`` makes both private to the owner).

``atomic_path`` is the whole life cycle as a ``with`` block; ``make_temp``, ``move_into_place`` and
``discard`` are its three steps, for writers whose output is finished over many calls. Errors are
``OSError`` (callers turn them into their own messages).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FILE_MODE = 0o644
DIR_MODE = 0o777


def umask() -> int:
    """The process's umask. (``os.umask`` can only be read by setting it, which would race file
    creation on other threads: Linux shows it in /proc/self/status.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_temp(target: str | Path, suffix: str = "", directory: bool = False) -> Path:
    """A new, empty temporary file (or folder) beside ``target``, named ``.NAME.part-XXXXXXXX<suffix>``."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    prefix = f".{target.name}.part-"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=parent)
    os.close(fd)
    return Path(name)


def move_into_place(tmp: str | Path, target: str | Path) -> None:
    """Give ``tmp`` its final mode and rename it over ``target``. An old folder at ``target`` is set
    aside first (a folder cannot be renamed over a non-empty one), put back if the rename fails, and
    removed after."""
    tmp, target = Path(tmp), Path(target)
    os.chmod(tmp, (DIR_MODE if tmp.is_dir() else FILE_MODE) & ~umask())
    if not (target.is_dir() and not target.is_symlink()):
        os.replace(tmp, target)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    try:
        os.replace(target, trash / target.name)
    except OSError:
        shutil.rmtree(trash, ignore_errors=True)
        raise
    try:
        os.replace(tmp, target)
    except OSError:
        os.replace(trash / target.name, target)
        shutil.rmtree(trash, ignore_errors=True)
        raise
    shutil.rmtree(trash, ignore_errors=True)


def discard(tmp: str | Path) -> None:
    """Remove a temporary file or folder (nothing if it is already gone)."""
    tmp = Path(tmp)
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def atomic_path(target: str | Path, suffix: str = "", directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` (an empty file, or with ``directory`` an empty
    folder) to write; when the block ends normally it is renamed over ``target``, when it raises
    it is removed."""
    target = Path(target)
    tmp = make_temp(target, suffix, directory)
    try:
        yield tmp
        move_into_place(tmp, target)
    except BaseException:
        discard(tmp)
        raise


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    """``data`` as the whole content of ``target``."""
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def write_text_atomic(target: str | Path, text: str, encoding: str = "utf-8") -> None:
    """``text`` as the whole content of ``target``, line endings as given (no translation)."""
    with atomic_path(target) as tmp, open(tmp, "w", encoding=encoding, newline="") as fh:
        fh.write(text)
