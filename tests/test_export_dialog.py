"""File > Export... in the app: the current frame and animations from the recorded history,
encoded off the GUI thread, offscreen."""

from __future__ import annotations

import csv
import threading
import time

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.export.gif_writer import GifWriter

from helpers import train_to


@pytest.fixture
def window(qtbot, make_window):
    """A window that has trained 120 steps."""
    w = make_window()
    train_to(qtbot, w, 120)
    return w


def record_encoder_threads(monkeypatch, delay: float = 0.0) -> list[int]:
    """Patch the GIF encoder to note the thread of every frame it encodes (after ``delay`` s)."""
    threads = []
    real = GifWriter._add

    def add(self, rgb):
        threads.append(threading.get_ident())
        time.sleep(delay)
        real(self, rgb)

    monkeypatch.setattr(GifWriter, "_add", add)
    return threads


def open_dialog(window):
    window.findChild(QtGui.QAction, "actionExport").trigger()
    return window._export_dialog


def export_every(window, qtbot, path, every: int, size: str = "320x180"):
    """Export every ``every``-th recorded step to ``path`` through the dialog; returns the dialog."""
    d = open_dialog(window)
    d.path.setText(str(path))
    d.spacing.setCurrentIndex(d.spacing.findData("every"))
    d.count.setValue(every)
    d.size.setCurrentText(size)
    d.start_export()
    with qtbot.waitSignal(d.job.finished, timeout=20_000):
        pass
    return d


def test_export_action_opens_dialog_with_the_history_range(window):
    d = open_dialog(window)
    assert d.first.value() == 0 and d.last.value() == 120


def test_animation_gif_from_history(window, qtbot, tmp_path, monkeypatch):
    from PIL import Image

    threads = record_encoder_threads(monkeypatch)
    export_every(window, qtbot, tmp_path / "run.gif", 20)
    assert len(threads) == 7 and threading.main_thread().ident not in threads  # encoded off the GUI thread
    with Image.open(tmp_path / "run.gif") as im:
        assert im.n_frames == 7 and im.size == (320, 180)  # steps 0, 20, ..., 120
    with open(tmp_path / "run.gif.frames.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == list(range(0, 121, 20))
    with window.session.locked():
        snap = window.session.history.at(60)
    assert float(rows[3]["batch_loss"]) == pytest.approx(float(snap.batch_loss[0]))
    assert window.isVisible()


def test_cancel_leaves_nothing(window, qtbot, tmp_path):
    d = open_dialog(window)
    d.path.setText(str(tmp_path / "run.mp4"))
    d.what.setCurrentIndex(d.what.findData("animation"))
    d.format.setCurrentIndex(d.format.findData("mp4"))
    d.path.setText(str(tmp_path / "run.mp4"))
    d.spacing.setCurrentIndex(d.spacing.findData("every"))
    d.count.setValue(1)
    d.size.setCurrentText("320x180")
    d.start_export()
    # (the dialog's progress, not the job's signal: one queued after such a wait could reach pytest-qt's
    # freed blocker and crash the run)
    qtbot.waitUntil(lambda: d.progress_dialog is not None and d.progress_dialog.value() > 0, timeout=10_000)
    with qtbot.waitSignal(d.job.failed, timeout=10_000) as blocker:
        d.job.cancel()
    assert "cancelled" in blocker.args[0]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("settings")) == []


def test_current_frame_png_and_svg(window, tmp_path):
    from PIL import Image

    d = open_dialog(window)
    d.what.setCurrentIndex(d.what.findData("frame"))
    d.size.setCurrentText("640x360")
    d.path.setText(str(tmp_path / "now.png"))
    d.start_export()
    img = np.asarray(Image.open(tmp_path / "now.png").convert("RGB"))
    assert img.shape == (360, 640, 3) and len(np.unique(img.reshape(-1, 3), axis=0)) > 20
    d.format.setCurrentIndex(d.format.findData("svg"))
    d.path.setText(str(tmp_path / "now.svg"))
    d.start_export()
    text = (tmp_path / "now.svg").read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


def test_existing_file_asks_before_overwriting(window, tmp_path, monkeypatch):
    target = tmp_path / "now.png"
    target.write_bytes(b"keep")
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.No)
    d = open_dialog(window)
    d.what.setCurrentIndex(d.what.findData("frame"))
    d.path.setText(str(target))
    d.start_export()
    assert target.read_bytes() == b"keep"
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.Yes)
    d.start_export()
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_bad_choices_are_reported_not_raised(window, tmp_path):
    d = open_dialog(window)
    d.size.setCurrentText("huge")
    d.path.setText(str(tmp_path / "x.gif"))
    d.start_export()
    assert "--size" in d.last_message or "size" in d.last_message
    d.size.setCurrentText("320x180")
    d.path.setText(str(tmp_path / "missing" / "x.gif"))
    d.start_export()
    assert "does not exist" in d.last_message


@pytest.mark.slow
def test_a_slow_encoder_does_not_freeze_the_window(window, qtbot, tmp_path, monkeypatch):
    threads = record_encoder_threads(monkeypatch, delay=0.3)  # an encoder far slower than drawing
    window.findChild(QtGui.QAction, "actionExport").trigger()
    d = window._export_dialog
    d.path.setText(str(tmp_path / "slow.gif"))
    d.spacing.setCurrentIndex(d.spacing.findData("every"))
    d.count.setValue(15)  # 9 frames: steps 0, 15, ..., 120
    d.size.setCurrentText("320x180")
    gaps, last = [], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QtCore.QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    d.start_export()
    with qtbot.waitSignal(d.job.finished, timeout=30_000):
        pass
    timer.stop()
    assert len(d.job.plan.frames) == 9 and (tmp_path / "slow.gif").exists()
    assert len(threads) == 9 and threading.main_thread().ident not in threads  # the encoder never ran in the GUI thread
    assert len(gaps) > 100  # ~3 s of export: the window's timer kept running
    # a hang guard (the longest gap is ~0.08 s here): encoding in the GUI thread would stall it 2.7 s
    assert max(gaps) < 2.0, f"the event loop stalled for {max(gaps):.2f} s"
    assert "wrote" in d.last_message and "9 frames" in d.last_message


def test_an_animation_of_a_run_with_a_ghost_draws_the_ghost_too(qtbot, make_window, tmp_path):
    w = make_window(None)
    w.load_preset("dance")
    train_to(qtbot, w, 60)
    plan = export_every(w, qtbot, tmp_path / "dance.gif", 30).job.plan
    assert plan.compare == w.session.compare == {"schedule": "inverse", "decay": 0.002}
    with w.session.locked():
        for f in plan.frames:
            np.testing.assert_array_equal(f.ghost.params, w.session.ghost_history.at(f.step).params)
    assert [f.step for f in plan.frames] == [0, 30, 60] and (tmp_path / "dance.gif").exists()
    assert "ghost: schedule=inverse, decay=0.002" in [label.text for _, label in w.view.fit.legend.items]


def test_the_suggested_name_follows_what_is_exported_until_the_user_names_it(window, tmp_path):
    d = open_dialog(window)
    assert d.path.text().endswith("-animation.gif")
    d.what.setCurrentIndex(d.what.findData("frame"))  # one frame is not an "animation"
    step = window.displayed_snapshot.step
    assert d.path.text().endswith(f"-step{step}.png") and "animation" not in d.path.text()
    d.what.setCurrentIndex(d.what.findData("animation"))
    assert d.path.text().endswith("-animation.gif")
    d.path.setText(str(tmp_path / "mine.gif"))  # the user's own name keeps its stem
    d.what.setCurrentIndex(d.what.findData("frame"))
    assert d.path.text() == str(tmp_path / "mine.png")


# ---------------------------------------------------------------------- lecture views

def export_gif(qtbot, d, path, size: str) -> None:
    """Export every recorded step (at most 30 frames) of the view chosen in dialog ``d`` as a GIF
    of ``size`` to ``path``, and wait until the job has finished."""
    d.size.setCurrentText(size)
    d.spacing.setCurrentIndex(d.spacing.findData("every"))
    d.count.setValue(30)
    d.path.setText(str(path))
    d.start_export()
    with qtbot.waitSignal(d.job.finished, timeout=60_000):
        pass


def test_the_dialog_offers_the_view_that_is_showing_and_draws_it(qtbot, make_window, tmp_path):
    """File > Export on the Dance tab exports the dance view (its own canvas, not the fit panels),
    its computation first (progress), frames of the asked size; on the Fit tab, the panels."""
    from PIL import Image

    w = make_window(None)
    w.load_preset("dance")
    train_to(qtbot, w, 60)
    assert w.tabs.lecture_view().view_name == "dance"  # (the preset opens its view)
    d = open_dialog(w)
    assert d.view_choice.currentData() == "dance"
    assert not d.main_panel.isEnabled()  # (the fit panels' choice means nothing for a lecture view)
    assert "dance" in d.path.text()
    export_gif(qtbot, d, tmp_path / "dance.gif", "640x360")
    with Image.open(tmp_path / "dance.gif") as im:
        assert im.n_frames == 3 and im.size == (640, 360)
        im.seek(2)
        view_px = np.asarray(im.convert("RGB"))
    # the same step drawn by the fit panels looks different: it is not the fit view under another name
    d.view_choice.setCurrentIndex(d.view_choice.findData("fit"))
    assert d.main_panel.isEnabled()
    d.what.setCurrentIndex(d.what.findData("frame"))
    d.path.setText(str(tmp_path / "fit.png"))
    d.start_export()
    fit_px = np.asarray(Image.open(tmp_path / "fit.png").convert("RGB"))
    assert fit_px.shape == view_px.shape
    assert np.mean(np.any(fit_px != view_px, axis=2)) > 0.2


def test_the_frame_on_screen_of_a_lecture_view_as_png_and_svg(qtbot, make_window, tmp_path):
    from PIL import Image

    w = make_window(None)
    w.load_preset("dance")
    train_to(qtbot, w, 40)
    d = open_dialog(w)
    d.what.setCurrentIndex(d.what.findData("frame"))
    d.size.setCurrentText("960x540")
    d.legends.setChecked(False)
    d.path.setText(str(tmp_path / "now.png"))
    d.start_export()
    img = np.asarray(Image.open(tmp_path / "now.png").convert("RGB"))
    assert img.shape == (540, 960, 3) and len(np.unique(img.reshape(-1, 3), axis=0)) > 20
    d.format.setCurrentIndex(d.format.findData("svg"))
    d.path.setText(str(tmp_path / "now.svg"))
    d.start_export()
    assert "<svg" in (tmp_path / "now.svg").read_text()
    assert "wrote" in d.last_message


def test_a_view_computation_runs_off_the_gui_thread_and_is_taken_in_on_it(qtbot, make_window, tmp_path, monkeypatch):
    """The dance view's side-by-side dance (its export's first step) is computed on a worker thread
    with progress in the dialog, and the canvas takes the result in on the GUI thread."""
    from reluviz.plots.dance_canvas import DanceCanvas

    threads = {}
    real_compute, real_apply = DanceCanvas.compute_export, DanceCanvas.apply_export

    def compute(self, *args, **kwargs):
        threads["compute"] = threading.get_ident()
        return real_compute(self, *args, **kwargs)

    def apply(self, computed):
        threads["apply"] = threading.get_ident()
        return real_apply(self, computed)

    monkeypatch.setattr(DanceCanvas, "compute_export", compute)
    monkeypatch.setattr(DanceCanvas, "apply_export", apply)
    w = make_window(None)
    w.load_preset("dance")
    train_to(qtbot, w, 60)
    d = open_dialog(w)
    export_gif(qtbot, d, tmp_path / "dance.gif", "320x180")
    main = threading.main_thread().ident
    assert threads["compute"] != main and threads["apply"] == main
    assert d.job._renderer is None and (tmp_path / "dance.gif").exists()
