"""Export writers: GIF (exact white and theme colours, still frames, a reserved transparent index,
constant memory) and MP4 decode back to the frames written; outputs appear whole or not at all
(disk full, an encoder that crashes, a cancel, permissions), and a folder is replaced only when
it holds frames."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.export.frames import ExportError, select_steps
from reluviz.export.gif_writer import GifWriter, build_palette
from reluviz.export.pipeline import export_plan, export_run, open_writer, sidecar_path
from reluviz.export.plan import plan_training
from reluviz.export.writers import Mp4Writer

from helpers import SMALL_NOTEBOOK as SMALL, gif_frames, read_csv_rows


# ---------------------------------------------------------------------------- GIF and MP4
def test_gif_and_mp4_decode_to_the_frame_count(tmp_path, qapp):
    from PIL import Image

    steps = select_steps(200, frames=9)
    gif, n_gif, _ = export_run(SMALL, tmp_path / "run.gif", steps, size=(320, 180), fps=10)
    with Image.open(gif) as im:
        assert im.n_frames == n_gif == len(steps)
        assert im.size == (320, 180)
    assert len(read_csv_rows(sidecar_path(gif))) == len(steps)
    import imageio_ffmpeg

    mp4, n_mp4, _ = export_run(SMALL, tmp_path / "run.mp4", steps, size=(320, 180), fps=10)
    reader = imageio_ffmpeg.read_frames(str(mp4))
    meta = next(reader)
    decoded = sum(1 for _ in reader)
    assert decoded == n_mp4 == len(steps) and tuple(meta["size"]) == (320, 180)


def test_gif_keeps_white_and_theme_colours_exact_and_matches_png_frames(tmp_path, qapp):
    from PIL import Image

    plan = plan_training(SMALL, np.array([0, 100, 200, 300]))
    pngs = export_plan(plan, tmp_path / "frames", size=(480, 270))
    gif = export_plan(plan, tmp_path / "run.gif", size=(480, 270), fps=12)
    decoded = gif_frames(gif)
    assert len(decoded) == 4 and [d for _, d in decoded] == [80, 90, 80, 80]  # 12 frames/s in whole centiseconds
    for k, (rgb, _) in enumerate(decoded):
        png = np.asarray(Image.open(pngs / f"frame_{k:05d}.png").convert("RGB")).astype(int)
        diff = np.abs(png - rgb).sum(axis=2)
        assert diff.mean() < 2.0, f"frame {k} differs from its PNG by {diff.mean():.2f} on average"
        exact = np.all(png == (255, 255, 255), axis=2)
        assert np.all(rgb[exact] == 255)  # the white background stays white (not 252)
        for colour in ((0, 0, 0), (31, 119, 180), (214, 39, 40), (255, 127, 14)):
            where = np.all(png == colour, axis=2)
            assert np.all(rgb[where] == colour)


def test_gif_unchanged_frames_are_still_frames(tmp_path):
    rgb = np.full((64, 96, 3), 255, np.uint8)
    rgb[10:20, 10:50] = (31, 119, 180)
    moved = rgb.copy()
    moved[30:40, 60:90] = (214, 39, 40)
    with GifWriter(tmp_path / "a.gif", fps=10, anchors=[(214, 39, 40)]) as w:  # red: not in the first frame
        for frame in (rgb, rgb, moved, moved, rgb):
            w.add(frame)
    frames = gif_frames(tmp_path / "a.gif")
    assert len(frames) == 5
    for (got, _), want in zip(frames, (rgb, rgb, moved, moved, rgb)):
        assert np.array_equal(got, want)
    with GifWriter(tmp_path / "b.gif", fps=10) as w:  # without the anchor it is still red, if not exactly
        for frame in (rgb, moved):
            w.add(frame)
    red = gif_frames(tmp_path / "b.gif")[1][0][35, 70].astype(int)
    assert red[0] > 150 and red[1] < 80 and red[2] < 80


def test_gif_palette_reserves_the_transparent_index():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    colours = build_palette(noise, anchors=[(31, 119, 180)])
    assert len(colours) == 255 and colours[0] == (255, 255, 255) and (31, 119, 180) in colours


def test_gif_memory_does_not_grow_with_frames(tmp_path):
    w = GifWriter(tmp_path / "long.gif", fps=20)
    frame = np.full((360, 640, 3), 255, np.uint8)
    for k in range(60):
        frame[100:110, k * 10:(k + 1) * 10] = (0, 0, 0)
        w.add(frame.copy())
    assert w._previous.nbytes == 360 * 640 * 4  # one frame kept, whatever the length
    w.close()
    assert len(gif_frames(tmp_path / "long.gif")) == 60


# ---------------------------------------------------------------------------- whole or not at all
def test_disk_full_mid_export_leaves_nothing(tmp_path, qapp, monkeypatch):
    calls = {"n": 0}
    real_add = GifWriter._add

    def failing_add(self, rgb):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_add(self, rgb)

    monkeypatch.setattr(GifWriter, "_add", failing_add)
    with pytest.raises(ExportError, match="disk is full"):
        export_run(SMALL, tmp_path / "x.gif", select_steps(100, frames=6), size=(320, 180))
    assert sorted(os.listdir(tmp_path)) == []


def test_mp4_disk_full_mid_way_leaves_nothing(tmp_path, qapp, monkeypatch):
    calls = {"n": 0}
    real = Mp4Writer._add

    def failing(self, rgb):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, rgb)

    monkeypatch.setattr(Mp4Writer, "_add", failing)
    with pytest.raises(ExportError, match="disk is full"):
        export_run(SMALL, tmp_path / "x.mp4", select_steps(300, frames=8), size=(320, 180))
    assert os.listdir(tmp_path) == []


def test_disk_full_while_writing_png_bytes_leaves_nothing(tmp_path, qapp, monkeypatch):
    import builtins

    real_open = builtins.open
    count = {"n": 0}

    class FullFile:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def fake_open(path, mode="r", *a, **k):
        fh = real_open(path, mode, *a, **k)
        if "frame_" in str(path) and "w" in mode:
            count["n"] += 1
            if count["n"] >= 3:
                return FullFile(fh)
        return fh

    monkeypatch.setattr(builtins, "open", fake_open)
    with pytest.raises(ExportError, match="disk is full"):
        export_run(SMALL, tmp_path / "frames", select_steps(300, frames=6), size=(320, 180))
    assert os.listdir(tmp_path) == []


def test_encoder_crash_mid_export_leaves_nothing(tmp_path, qapp, monkeypatch):
    from reluviz.export import writers

    def broken(self, rgb):
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(writers.PngSequenceWriter, "_add", broken)
    with pytest.raises(RuntimeError):
        export_run(SMALL, tmp_path / "frames", select_steps(100, frames=3), size=(320, 180))
    assert sorted(os.listdir(tmp_path)) == []


def test_cancel_mid_way_removes_the_temporary_output(tmp_path):
    w = open_writer(tmp_path / "x.gif")
    w.add(np.zeros((64, 64, 3), np.uint8))
    w.abort()
    assert os.listdir(tmp_path) == []
    with pytest.raises(ExportError, match="closed or cancelled"):
        w.add(np.zeros((64, 64, 3), np.uint8))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="permission"):
            open_writer(folder / "x.gif")
    finally:
        folder.chmod(0o700)


def test_permission_error_when_creating_the_output_is_clear(tmp_path, monkeypatch):
    import tempfile

    def refuse(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError, match="no permission"):
        open_writer(tmp_path / "x.gif")
    assert sorted(os.listdir(tmp_path)) == []


def test_force_replaces_a_frames_folder_but_never_another_folder(tmp_path, qapp):
    out = tmp_path / "frames"
    export_run(SMALL, out, select_steps(300, frames=3), size=(160, 120))
    assert main(["export", "--set", "width=4", "--steps", "20", "--frames", "2", "--size", "160x120",
                 "--out", str(out), "--quiet", "--force"]) == 0
    assert sorted(os.listdir(out)) == ["frame_00000.png", "frame_00001.png", "frames.csv"]
    assert sorted(os.listdir(tmp_path)) == ["frames"]  # no old copy or temporary left beside it
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "lecture.tex").write_text("keep")
    with pytest.raises(ExportError, match="other files"):
        export_run(SMALL, precious, select_steps(300, frames=3), size=(160, 120), force=True)
    assert (precious / "lecture.tex").read_text() == "keep"
