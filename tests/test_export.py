"""Export: frame selection, real pixels in rendered frames, GIF/MP4 decode back, atomic writes."""

from __future__ import annotations

import csv
import errno
import os

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core import Trainer
from reluviz.core.presets import load_preset
from reluviz.export.frames import ExportError, parse_panels, parse_size, select_steps
from reluviz.export.gif_writer import GifWriter
from reluviz.export.pipeline import export_run, open_writer, sidecar_path

SMALL = load_preset("notebook").config.updated({"width": 8, "n_train": 60, "batch_size": 10, "steps": 300})


# ---------------------------------------------------------------------------- frame selection
def test_every_k_includes_first_and_last():
    assert list(select_steps(10, every=4)) == [0, 4, 8, 10]
    assert list(select_steps(8, every=4)) == [0, 4, 8]


def test_linear_and_log_spacing():
    lin = select_steps(1000, frames=11, spacing="linear")
    assert list(lin) == list(range(0, 1001, 100))
    log = select_steps(30000, frames=50, spacing="log")
    assert log[0] == 0 and log[-1] == 30000 and np.all(np.diff(log) > 0)
    # log spacing puts as many frames in the first 1% of steps as ... many more than linear does
    assert np.sum(log < 300) > 10 * np.sum(select_steps(30000, frames=50) < 300)


@pytest.mark.parametrize("call,needle", [
    (lambda: parse_size("1280"), "look like"),
    (lambda: parse_size("10x10"), "between 64"),
    (lambda: parse_panels("main,foo"), "unknown panel"),
    (lambda: parse_panels(""), "at least one"),
    (lambda: select_steps(10, frames=0), "at least 1"),
    (lambda: select_steps(10, every=0), "at least 1"),
])
def test_bad_options_are_clear_errors(call, needle):
    with pytest.raises(ExportError, match=needle):
        call()


def test_odd_sizes_are_made_even_for_video():
    assert parse_size("641x361") == (640, 360)


# ---------------------------------------------------------------------------- pixels
def _read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_png_frames_are_the_trained_steps(tmp_path, qapp):
    from PIL import Image

    out = tmp_path / "frames"
    steps = select_steps(300, every=50)
    final, count, reason = export_run(SMALL, out, steps, size=(640, 360))
    files = sorted(p.name for p in final.iterdir())
    assert count == len(steps) == 7 and reason == ""
    assert files == [f"frame_{k:05d}.png" for k in range(7)] + ["frames.csv"]
    images = [np.asarray(Image.open(final / f"frame_{k:05d}.png").convert("RGB")) for k in range(7)]
    assert all(im.shape == (360, 640, 3) for im in images)
    assert all(np.any(images[k] != images[k + 1]) for k in range(6))  # the fit moves frame to frame
    rows = _read_csv(final / "frames.csv")
    assert [int(r["step"]) for r in rows] == list(steps)
    tr = Trainer(SMALL)
    tr.run(150)
    snap = tr.snapshot()
    ds = tr.dataset
    assert float(rows[3]["train_loss"]) == pytest.approx(snap.loss(ds.x_train, ds.y_train)[0], rel=1e-8)
    assert float(rows[3]["test_loss"]) == pytest.approx(snap.loss(ds.x_test, ds.y_test)[0], rel=1e-8)
    assert float(rows[3]["batch_loss"]) == pytest.approx(snap.batch_loss[0], rel=1e-8)


def test_a_known_elbow_lands_at_its_pixel_column(qapp):
    from PySide6 import QtCore

    from reluviz.export.render import FrameRenderer
    from reluviz.plots import theme

    config = SMALL.updated({"width": 1})
    tr = Trainer(config)
    layout = tr.layout
    p = tr.params[0]
    p[layout.index("w")] = 2.0
    p[layout.index("b")] = -0.5  # elbow at x = 0.25
    p[layout.index("v")] = 0.5
    snap = tr.snapshot()
    assert snap.elbows()[0] == pytest.approx(0.25)
    r = FrameRenderer(tr.dataset, (800, 500), panels=("main",), caption=False)
    try:
        rgb = r.render(snap)
        vb = r.view.fit_item.vb
        (x0, x1), (y0, y1) = r.view.fit.view_range
        marker_y = y0 + 0.02 * (y1 - y0)
        scene = vb.mapViewToScene(QtCore.QPointF(0.25, marker_y))
        pixel = r.view.mapFromScene(scene)
        ratio = rgb.shape[1] / r.view.width()
        col, row = pixel.x() * ratio, pixel.y() * ratio
    finally:
        r.close()
    blue = np.array(theme.POSITIVE)
    band = rgb[max(0, int(row) - 10): int(row) + 10].astype(int)
    hits = np.argwhere(np.abs(band - blue).sum(axis=2) < 40)
    assert len(hits) > 10, "no elbow marker found near its row"
    assert abs(np.median(hits[:, 1]) - col) <= 3


def test_gif_and_mp4_decode_to_the_frame_count(tmp_path, qapp):
    from PIL import Image

    steps = select_steps(200, frames=9)
    gif, n_gif, _ = export_run(SMALL, tmp_path / "run.gif", steps, size=(320, 180), fps=10)
    with Image.open(gif) as im:
        assert im.n_frames == n_gif == len(steps)
        assert im.size == (320, 180)
    assert len(_read_csv(sidecar_path(gif))) == len(steps)
    import imageio_ffmpeg

    mp4, n_mp4, _ = export_run(SMALL, tmp_path / "run.mp4", steps, size=(320, 180), fps=10)
    reader = imageio_ffmpeg.read_frames(str(mp4))
    meta = next(reader)
    decoded = sum(1 for _ in reader)
    assert decoded == n_mp4 == len(steps) and tuple(meta["size"]) == (320, 180)


def test_diverging_run_exports_finite_frames_up_to_the_stop(tmp_path, qapp):
    config = load_preset("diverge").config.updated({"width": 8})
    final, count, reason = export_run(config, tmp_path / "d", select_steps(200, every=1), size=(320, 180))
    rows = _read_csv(final / "frames.csv")
    assert 0 < count < 201 and "stopped" in reason
    assert all(np.isfinite(float(r[k])) for r in rows for k in ("batch_loss", "train_loss", "test_loss"))


# ---------------------------------------------------------------------------- files whole or not at all
def _leftovers(folder):
    return sorted(os.listdir(folder))


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
    assert _leftovers(tmp_path) == []


def test_encoder_crash_mid_export_leaves_nothing(tmp_path, qapp, monkeypatch):
    from reluviz.export import writers

    def broken(self, rgb):
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(writers.PngSequenceWriter, "_add", broken)
    with pytest.raises(RuntimeError):
        export_run(SMALL, tmp_path / "frames", select_steps(100, frames=3), size=(320, 180))
    assert _leftovers(tmp_path) == []


def test_existing_output_needs_force(tmp_path, qapp, capsys):
    target = tmp_path / "a.gif"
    target.write_bytes(b"keep me")
    args = ["export", "--set", "width=4", "--steps", "20", "--frames", "3", "--size", "160x120", "--out", str(target),
            "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already exists" in err[0] and "--force" in err[0]
    assert target.read_bytes() == b"keep me"
    assert main(args + ["--force"]) == 0
    assert target.read_bytes()[:6] == b"GIF89a"


@pytest.mark.parametrize("extra,needle", [
    (["--out", "/nonexistent-dir/x.gif"], "does not exist"),
    (["--out", "x.avi"], "must end in .gif or .mp4"),
    (["--size", "big", "--out", "x.gif"], "--size"),
    (["--fps", "0", "--out", "x.gif"], "--fps"),
    (["--panels", "main,nope", "--out", "x.gif"], "unknown panel"),
])
def test_cli_errors_are_one_line_exit_2(tmp_path, capsys, monkeypatch, extra, needle):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--steps", "10", "--quiet", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert _leftovers(tmp_path) == []


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
    assert _leftovers(tmp_path) == []
