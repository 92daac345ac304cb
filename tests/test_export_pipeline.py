"""Export end to end (``reluviz.export.pipeline``, the offscreen renderer and ``reluviz export``):
frames are the trained steps with their losses in ``frames.csv``, a known elbow lands on its pixel,
captions fit, log-spaced frames grow the loss axis, the command line works headless and at HiDPI,
and bad options or a missing encoder are one line with exit code 2 before any work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core import Trainer
from reluviz.core.presets import load_preset
from reluviz.export.frames import select_steps
from reluviz.export.pipeline import export_run, sidecar_path

from helpers import SMALL_NOTEBOOK as SMALL, gif_frames, read_csv_rows

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- pixels and rows
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
    rows = read_csv_rows(final / "frames.csv")
    assert [int(r["step"]) for r in rows] == list(steps)
    tr = Trainer(SMALL)
    tr.run(150)
    snap = tr.snapshot()
    ds = tr.dataset
    assert float(rows[3]["train_loss"]) == pytest.approx(snap.loss(ds.x_train, ds.y_train)[0], rel=1e-8)
    assert float(rows[3]["test_loss"]) == pytest.approx(snap.loss(ds.x_test, ds.y_test)[0], rel=1e-8)
    assert float(rows[3]["val_loss"]) == pytest.approx(snap.loss(ds.x_val, ds.y_val)[0], rel=1e-8)
    assert float(rows[3]["true_error"]) == pytest.approx(snap.loss(ds.true_x, ds.true_y)[0], rel=1e-8)
    assert float(rows[3]["objective"]) == float(rows[3]["train_loss"])  # (no ridge)
    assert list(rows[0]) == ["frame", "step", "lr", "batch_loss", "train_loss", "val_loss", "test_loss", "true_error",
                             "objective"]
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


def test_diverging_run_exports_finite_frames_up_to_the_stop(tmp_path, qapp):
    config = load_preset("diverge").config.updated({"width": 8})
    final, count, reason = export_run(config, tmp_path / "d", select_steps(200, every=1), size=(320, 180))
    rows = read_csv_rows(final / "frames.csv")
    assert 0 < count < 201 and "stopped" in reason
    assert all(np.isfinite(float(r[k])) for r in rows
               for k in ("batch_loss", "train_loss", "val_loss", "test_loss", "true_error", "objective"))


def test_caption_shortens_to_fit_narrow_frames(qapp):
    from reluviz.export.render import FrameRenderer

    tr = Trainer(SMALL)
    snap = tr.snapshot()
    from PySide6 import QtGui

    from reluviz.export.render import _plain

    texts = {}
    for width, height in ((1280, 720), (640, 360), (250, 140)):
        r = FrameRenderer(tr.dataset, (width, height), caption=True)
        try:
            texts[width] = r.caption_for(snap, 0.123, val_loss=0.456)  # (what frames show: train and validation)
            font = QtGui.QFont()
            font.setPointSizeF(r.view.caption_points())  # (the caption's font scales with the frame)
            font.setBold(True)
            assert QtGui.QFontMetrics(font).horizontalAdvance(_plain(texts[width])) <= width - 24
        finally:
            r.close()
    assert "minibatch MSE" in texts[1280] and "validation MSE 0.456" in texts[1280] and "test" not in texts[1280]
    assert "validation MSE 0.456" in texts[640]
    assert "MSE" not in texts[250] and "val 0.456" in texts[250] and "train 0.123" in texts[250]


def test_log_spaced_frames_grow_the_loss_axis_with_the_run(tmp_path, qapp):
    """Half of a log-spaced animation falls in the first few percent of the run: there the loss
    panel's step axis ends near the frame's step (it grows), so the curves fill the panel; frames
    chosen evenly keep one still axis to the last step."""
    from PIL import Image

    from reluviz.plots import theme

    steps = select_steps(3000, frames=12, spacing="log")
    early = int(np.searchsorted(steps, 60))  # a frame about 2% into the run
    spans = {}
    for spacing in ("log", "linear"):
        out = tmp_path / spacing
        export_run(SMALL.updated({"steps": 3000}), out, steps, size=(640, 400), panels=("loss",), caption=False,
                   spacing=spacing)
        rgb = np.asarray(Image.open(out / f"frame_{early:05d}.png").convert("RGB")).astype(int)
        val_loss = np.abs(rgb - np.array(theme.VAL_LOSS)).sum(axis=2) < 40
        spans[spacing] = np.count_nonzero(val_loss.any(axis=0))  # columns the validation curve (and its legend sample) reach
    assert spans["log"] > 0.5 * 640 and spans["linear"] < 0.15 * 640, spans


# ---------------------------------------------------------------------------- the command line
def test_cli_log_frames_csv_and_sidecar(tmp_path, capsys):
    out = tmp_path / "run.gif"
    assert main(["export", "--set", "width=4", "--set", "n_train=40", "--set", "batch_size=8", "--steps", "500",
                 "--frames", "12", "--spacing", "log", "--size", "200x120", "--fps", "10", "--out", str(out),
                 "--quiet"]) == 0
    rows = read_csv_rows(sidecar_path(out))
    assert [int(r["step"]) for r in rows] == list(select_steps(500, frames=12, spacing="log"))
    assert [int(r["frame"]) for r in rows] == list(range(12))
    assert len(gif_frames(out)) == 12
    assert "wrote" in capsys.readouterr().out


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


BAD_OPTIONS = [
    (["--out", "/nonexistent-dir/x.gif"], "does not exist"),
    (["--out", "x.avi"], "must end in .gif or .mp4"),
    (["--size", "big", "--out", "x.gif"], "--size"),
    (["--fps", "0", "--out", "x.gif"], "--fps"),
    (["--panels", "main,nope", "--out", "x.gif"], "unknown panel"),
    (["--every", "5", "--spacing", "log"], "--spacing log"),
    (["--frames", "0"], "--frames must be at least 1"),
    (["--every", "0"], "--every must be at least 1"),
    (["--fps", "-3"], "--fps"),
    (["--panels", ""], "at least one"),
    (["--size", "100x20000"], "between 64"),
    (["--out", "x.png"], "must end in .gif or .mp4"),
]


@pytest.mark.parametrize("extra,needle", BAD_OPTIONS, ids=[" ".join(e) for e, _ in BAD_OPTIONS])
def test_cli_errors_are_one_line_exit_2(tmp_path, capsys, monkeypatch, extra, needle):
    monkeypatch.chdir(tmp_path)
    args = ["export", "--steps", "10", "--quiet", *extra]
    if "--out" not in extra:
        args += ["--out", "x.gif"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reluviz: error:") and needle in err[0]
    assert os.listdir(tmp_path) == []


def test_cli_runs_headless_without_display_and_at_hidpi(tmp_path):
    """A subprocess with no display variables and a device pixel ratio of 2: frames still come out
    at exactly the asked-for size (QWidget.grab would give twice that on a HiDPI screen)."""
    from PIL import Image

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["QT_SCALE_FACTOR"] = "2"
    out = tmp_path / "f"
    proc = subprocess.run([sys.executable, "-m", "reluviz", "export", "--set", "width=4", "--steps", "30",
                           "--frames", "2", "--size", "320x180", "--out", str(out), "--quiet"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ("frame_00000.png", "frame_00001.png"):
        assert Image.open(out / name).size == (320, 180)


@pytest.mark.parametrize("module,out,needle", [("imageio_ffmpeg", "x.mp4", "imageio-ffmpeg"),
                                               ("PIL.GifImagePlugin", "x.gif", "Pillow")])
def test_a_missing_encoder_is_a_clear_one_line_error(tmp_path, monkeypatch, capsys, module, out, needle):
    import reluviz.export.plan as plan_module

    def no_training(*a, **k):
        raise AssertionError("the missing encoder should be found before training")

    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    monkeypatch.setattr(plan_module.Trainer, "run", no_training)
    assert main(["export", "--set", "width=4", "--steps", "5", "--frames", "2", "--size", "160x120",
                 "--out", str(tmp_path / out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "pip install" in err[0]
    assert os.listdir(tmp_path) == []
