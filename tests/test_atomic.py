"""reluviz.core.atomic: outputs appear whole or not at all, with the mode a plain open() gives."""

from __future__ import annotations

import os
import stat

import pytest

from reluviz.core.atomic import atomic_path, umask, write_bytes_atomic, write_text_atomic


@pytest.fixture
def mask():
    def set_mask(value: int) -> None:
        os.umask(value)

    old = os.umask(0o022)
    os.umask(old)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("value", [0o022, 0o002, 0o077])
def test_umask_is_read_without_changing_it(mask, value):
    mask(value)
    assert umask() == value
    assert umask() == value


@pytest.mark.parametrize("value, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o002, 0o644, 0o775),
                                                         (0o077, 0o600, 0o700)])
def test_files_and_folders_get_the_usual_modes(tmp_path, mask, value, file_mode, dir_mode):
    mask(value)
    write_bytes_atomic(tmp_path / "a.bin", b"abc")
    with atomic_path(tmp_path / "frames", directory=True) as tmp:
        (tmp / "frame_00000.png").write_bytes(b"x")
    assert stat.S_IMODE(os.stat(tmp_path / "a.bin").st_mode) == file_mode
    assert stat.S_IMODE(os.stat(tmp_path / "frames").st_mode) == dir_mode
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "frames"]


def test_text_is_written_verbatim_over_an_old_file(tmp_path):
    target = tmp_path / "frames.csv"
    target.write_text("old")
    write_text_atomic(target, "a,b\r\n1,2\r\n")
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"
    assert os.listdir(tmp_path) == ["frames.csv"]


def test_a_failure_leaves_the_old_output_and_no_temporary(tmp_path):
    target = tmp_path / "x.npz"
    target.write_bytes(b"keep me")
    with pytest.raises(RuntimeError):
        with atomic_path(target, suffix=".npz") as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".x.npz.part-") and tmp.suffix == ".npz"
            tmp.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert target.read_bytes() == b"keep me"
    assert os.listdir(tmp_path) == ["x.npz"]


def test_an_old_folder_is_replaced_whole(tmp_path):
    target = tmp_path / "frames"
    target.mkdir()
    (target / "frame_00000.png").write_bytes(b"old")
    (target / "frame_00001.png").write_bytes(b"old")
    with atomic_path(target, directory=True) as tmp:
        (tmp / "frame_00000.png").write_bytes(b"new")
    assert os.listdir(target) == ["frame_00000.png"]
    assert (target / "frame_00000.png").read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["frames"]
