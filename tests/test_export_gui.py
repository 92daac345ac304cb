"""The app's export keeps the window responsive: drawing in short ticks, never waiting on the encoder."""

from __future__ import annotations

import time

import pytest
from PySide6 import QtCore, QtGui

from reluviz.core import TrainConfig
from reluviz.export.writers import GifWriter
from reluviz.gui import MainWindow

SMALL = TrainConfig.from_preset("notebook").updated({"width": 6, "n_train": 60, "batch_size": 10, "steps": 10_000})


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("RELUVIZ_SETTINGS_DIR", str(tmp_path / "settings"))


@pytest.fixture
def window(qtbot):
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    w.show()
    w.step(200)
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == 200 and not w.worker.busy, timeout=10_000)
    return w


def test_a_slow_encoder_does_not_freeze_the_window(window, qtbot, tmp_path, monkeypatch):
    real = GifWriter._add

    def slow(self, rgb):
        time.sleep(0.3)  # an encoder far slower than drawing
        real(self, rgb)

    monkeypatch.setattr(GifWriter, "_add", slow)
    window.findChild(QtGui.QAction, "actionExport").trigger()
    d = window._export_dialog
    d.path.setText(str(tmp_path / "slow.gif"))
    d.spacing.setCurrentIndex(d.spacing.findData("every"))
    d.count.setValue(25)  # 9 frames
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
    assert len(gaps) > 100  # ~3 s of export: the window's timer kept running
    assert max(gaps) < 0.25, f"the event loop stalled for {max(gaps):.2f} s"
    assert "wrote" in d.last_message and "9 frames" in d.last_message
