"""Export, continued: exact frame counts, nearest recorded steps, GIF palette and timing, HiDPI,
dense loss curves, early stops, folders replaced only when they hold frames, encoder threads."""

from __future__ import annotations

import csv
import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reluviz.cli import main
from reluviz.core import History, Trainer
from reluviz.core.presets import load_preset
from reluviz.export.frames import (LOSS_POINTS, ExportError, gif_delays_cs, loss_steps, select_steps,
                                   snap_to_recorded)
from reluviz.export.gif_writer import GifWriter, build_palette
from reluviz.export.pipeline import export_plan, export_run, open_writer, sidecar_path
from reluviz.export.plan import plan_history, plan_training
from reluviz.export.writers import Mp4Writer, PngSequenceWriter

SMALL = load_preset("notebook").config.updated({"width": 8, "n_train": 60, "batch_size": 10, "steps": 300})
ROOT = Path(__file__).resolve().parents[1]


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------- choosing frames
@settings(max_examples=300, deadline=None)
@given(first=st.integers(0, 50), span=st.integers(0, 5000), count=st.integers(1, 300),
       spacing=st.sampled_from(["linear", "log"]))
def test_frames_f_are_exactly_f_unique_steps_ending_at_the_last(first, span, count, spacing):
    steps = select_steps(first + span, frames=count, spacing=spacing, first_step=first)
    assert len(steps) == min(count, span + 1)
    assert steps[-1] == first + span and np.all(np.diff(steps) > 0)
    if count > 1:
        assert steps[0] == first


@settings(max_examples=200, deadline=None)
@given(span=st.integers(0, 5000), every=st.integers(1, 700))
def test_every_k_is_multiples_of_k_and_the_last(span, every):
    steps = select_steps(span, every=every)
    assert list(steps[:-1]) == list(range(0, span, every))[: len(steps) - 1]
    assert steps[0] == 0 and steps[-1] == span and np.all(np.diff(steps) > 0)


def test_log_spacing_is_geometric_past_the_crowded_start():
    steps = select_steps(30000, frames=60, spacing="log")
    assert len(steps) == 60 and list(steps[:9]) == list(range(9))  # consecutive where rounding would collide
    ratios = (steps[20:] + 1) / (steps[19:-1] + 1)
    assert ratios.max() / ratios.min() < 1.05  # then evenly spaced in log(1 + step)


def test_log_needs_frames_not_every():
    with pytest.raises(ExportError, match="--spacing log"):
        select_steps(100, every=10, spacing="log")


def test_snap_to_recorded_uses_nearest_recorded_steps_once():
    recorded = np.r_[np.arange(0, 1000, 64), np.arange(1000, 1101)]
    wanted = select_steps(1100, frames=40)
    got = snap_to_recorded(wanted, recorded)
    assert np.all(np.isin(got, recorded)) and np.all(np.diff(got) > 0)
    assert got[0] == 0 and got[-1] == 1100 and len(got) < len(wanted)  # thinned: fewer frames, no repeats
    assert list(snap_to_recorded([5, 70, 100], [0, 64, 128])) == [0, 64, 128]


def test_gif_delays_do_not_drift():
    for fps in (7, 12, 20, 24, 30, 50):
        delays = gif_delays_cs(300, fps)
        assert abs(sum(delays) - 100 * 300 / fps) <= 0.5 and min(delays) >= 1


def test_loss_steps_grid_holds_every_frame_step():
    frames = np.array([0, 1, 2, 3, 17, 29999, 30000])
    grid = loss_steps(0, 30000, frames)
    assert set(frames) <= set(grid) and LOSS_POINTS <= len(grid) <= LOSS_POINTS + len(frames)


# ---------------------------------------------------------------------------- plans
def test_loss_curves_are_dense_whatever_the_frames():
    plan = plan_training(SMALL, np.array([0, 300]))
    assert [f.step for f in plan.frames] == [0, 300]
    assert len(plan.trace) == 301  # every step of this short run (not just the two frames)
    tr = Trainer(SMALL)
    tr.run(123)
    snap = tr.snapshot()
    i = int(np.searchsorted(plan.trace.steps, 123))
    assert plan.trace.train[i] == pytest.approx(snap.loss(tr.dataset.x_train, tr.dataset.y_train)[0], rel=1e-12)


def test_an_early_stop_chooses_the_frames_again_over_the_steps_that_exist():
    config = load_preset("diverge").config.updated({"width": 8, "lr": 1.5})
    plan = plan_training(config, lambda last: select_steps(last, frames=6), steps=2000)
    stop = plan.last_step
    assert 6 <= stop < 2000 and plan.stop_reason and "stopped" in plan.note  # (linear over 0..2000: 1 frame)
    assert [f.step for f in plan.frames] == list(select_steps(stop, frames=6))
    assert all(np.isfinite(f.train_loss) for f in plan.frames)


def test_plan_from_a_thinned_history_shows_recorded_steps_once():
    tr = Trainer(SMALL)
    h = History.for_trainer(tr, budget_bytes=64 * 1024)  # a small budget: old steps get thinned
    tr.run(3000, record=h)
    h.record_snapshot(tr.snapshot())
    assert h.stride > 1
    plan = plan_history(h, tr.dataset, select_steps(3000, every=3))
    steps = plan.steps
    assert np.all(np.diff(steps) > 0) and np.all(np.isin(steps, h.steps))
    assert "thinned" in plan.note and len(steps) < 1001
    assert plan.frames[-1].step == 3000
    for f in plan.frames[::50]:
        assert f.snapshot.step == f.step and np.array_equal(f.snapshot.params, h.at(f.step).params)


# ---------------------------------------------------------------------------- GIF
def _gif_frames(path):
    from PIL import Image

    out = []
    with Image.open(path) as im:
        for k in range(im.n_frames):
            im.seek(k)
            out.append((np.asarray(im.convert("RGB")).copy(), im.info.get("duration")))
    return out


def test_gif_keeps_white_and_theme_colours_exact_and_matches_png_frames(tmp_path, qapp):
    from PIL import Image

    plan = plan_training(SMALL, np.array([0, 100, 200, 300]))
    pngs = export_plan(plan, tmp_path / "frames", size=(480, 270))
    gif = export_plan(plan, tmp_path / "run.gif", size=(480, 270), fps=12)
    decoded = _gif_frames(gif)
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
    frames = _gif_frames(tmp_path / "a.gif")
    assert len(frames) == 5
    for (got, _), want in zip(frames, (rgb, rgb, moved, moved, rgb)):
        assert np.array_equal(got, want)
    with GifWriter(tmp_path / "b.gif", fps=10) as w:  # without the anchor it is still red, if not exactly
        for frame in (rgb, moved):
            w.add(frame)
    red = _gif_frames(tmp_path / "b.gif")[1][0][35, 70].astype(int)
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
    assert len(_gif_frames(tmp_path / "long.gif")) == 60


# ---------------------------------------------------------------------------- failures
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


def test_cancel_mid_way_removes_the_temporary_output(tmp_path):
    w = open_writer(tmp_path / "x.gif")
    w.add(np.zeros((64, 64, 3), np.uint8))
    w.abort()
    assert os.listdir(tmp_path) == []
    with pytest.raises(ExportError, match="closed or cancelled"):
        w.add(np.zeros((64, 64, 3), np.uint8))


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


# ---------------------------------------------------------------------------- command line
def test_cli_log_frames_csv_and_sidecar(tmp_path, capsys):
    out = tmp_path / "run.gif"
    assert main(["export", "--set", "width=4", "--set", "n_train=40", "--set", "batch_size=8", "--steps", "500",
                 "--frames", "12", "--spacing", "log", "--size", "200x120", "--fps", "10", "--out", str(out),
                 "--quiet"]) == 0
    rows = _rows(sidecar_path(out))
    assert [int(r["step"]) for r in rows] == list(select_steps(500, frames=12, spacing="log"))
    assert [int(r["frame"]) for r in rows] == list(range(12))
    assert len(_gif_frames(out)) == 12
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("extra,needle", [
    (["--every", "5", "--spacing", "log"], "--spacing log"),
    (["--frames", "0"], "--frames must be at least 1"),
    (["--every", "0"], "--every must be at least 1"),
    (["--fps", "-3"], "--fps"),
    (["--panels", ""], "at least one"),
    (["--size", "100x20000"], "between 64"),
    (["--out", "x.png"], "must end in .gif or .mp4"),
])
def test_more_cli_errors_are_one_line_exit_2(tmp_path, capsys, monkeypatch, extra, needle):
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


def test_caption_shortens_to_fit_narrow_frames(qapp):
    from reluviz.export.render import FrameRenderer

    tr = Trainer(SMALL)
    snap = tr.snapshot()
    texts = {}
    for width in (1280, 640, 330):
        r = FrameRenderer(tr.dataset, (width, 200), caption=True)
        try:
            texts[width] = r.caption_for(snap, 0.123, 0.456)
        finally:
            r.close()
    assert "minibatch MSE" in texts[1280] and "test MSE 0.456" in texts[1280]
    assert "minibatch" not in texts[640] and "test MSE 0.456" in texts[640]
    assert "MSE" not in texts[330] and "test 0.456" in texts[330]


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


def test_frame_choice_and_plans_need_no_qt():
    code = ("import sys, reluviz.export.frames, reluviz.export.plan; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr


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
        test_loss = np.abs(rgb - np.array(theme.TEST_LOSS)).sum(axis=2) < 40
        spans[spacing] = np.count_nonzero(test_loss.any(axis=0))  # columns the red curve (and legend sample) reach
    assert spans["log"] > 0.5 * 640 and spans["linear"] < 0.15 * 640, spans
