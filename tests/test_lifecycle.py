"""Lifecycle: closing the window in the middle of anything, new runs while the old one is busy,
and a hundred open/close cycles without growing memory or threads.

Threads are counted at the operating system (/proc/self/task: QThreads and Python threads alike)
and as Python sees them (threading.active_count()).
"""

from __future__ import annotations

import gc
import os
import time

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core.presets import load_preset, preset_names
from reluviz.gui import MainWindow
from reluviz.gui.views import BandsView, DanceView

from helpers import SMALL_APP as SMALL, rss_mib, show


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def view_of(window, cls):
    return next(window.tabs.view_at(i) for i in range(window.tabs.count()) if isinstance(window.tabs.view_at(i), cls))


def close_quickly(window, seconds: float = 5.0) -> float:
    """Close ``window``; its training thread must be finished. ``seconds`` is a hang guard: closing
    takes well under a second here, while a thread nobody stops would train on for minutes."""
    t0 = time.perf_counter()
    window.close()
    took = time.perf_counter() - t0
    assert took < seconds, f"closing took {took:.1f} s"
    assert window.worker.isFinished()
    return took


# ---------------------------------------------------------------------- closing in the middle of things
def test_close_while_training_at_full_speed(qtbot, make_window):
    w = make_window(SMALL.updated({"width": 100}))
    w.panel.set_speed(0)
    w.play()
    qtbot.waitUntil(lambda: w.frames_drawn >= 5 and w.worker.steps_trained > 1000, timeout=10_000)
    close_quickly(w)
    steps = w.worker.steps_trained
    qtbot.wait(100)
    assert w.worker.steps_trained == steps  # nothing trains after the close


def test_close_during_a_seed_band_run(qtbot, make_window):
    w = make_window(SMALL)
    bands = view_of(w, BandsView)
    w.tabs.setCurrentWidget(bands)
    worker = bands.run_bands(seeds=30, steps=200_000)  # minutes of work if nobody stops it
    qtbot.waitUntil(lambda: bands.progress.value() > 0, timeout=20_000)
    assert worker.isRunning()
    close_quickly(w)
    assert worker.isFinished()


def test_close_during_the_notebook_sweep(qtbot, make_window):
    """The sweep runs in worker processes: the close must stop them too."""
    w = make_window(SMALL)
    bands = view_of(w, BandsView)
    w.tabs.setCurrentWidget(bands)
    worker = bands.run_sweep(seeds=4, steps=200_000, processes=2)
    qtbot.waitUntil(lambda: bands.progress.value() > 0, timeout=30_000)
    close_quickly(w, 10.0)  # (worker processes to stop as well)
    assert worker.isFinished()
    import multiprocessing

    qtbot.waitUntil(lambda: not multiprocessing.active_children(), timeout=10_000)


def test_close_during_a_dance_and_a_local_optimum_search(qtbot, make_window):
    w = make_window(SMALL.updated({"width": 40}))
    dance = view_of(w, DanceView)
    w.tabs.setCurrentWidget(dance)
    w.step(50)
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == 50 and not w.worker.busy, timeout=10_000)
    run = dance.run_dance(steps=1_000_000)
    dance.find_local_optimum()
    assert run is not None and run.isRunning()
    qtbot.waitUntil(lambda: dance.progress.value() > 0, timeout=20_000)
    close_quickly(w, 8.0)  # the local optimum search stops within its 3 s budget
    assert run.isFinished()
    assert dance.optimum_worker is None or dance.optimum_worker.isFinished()


def test_close_during_an_export(qtbot, make_window, tmp_path):
    pytest.importorskip("reluviz.gui.export_dialog", reason="the export dialog is not installed yet")
    w = make_window(SMALL.updated({"width": 20}))
    w.step(3000)
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == 3000 and not w.worker.busy, timeout=20_000)
    w.findChild(QtGui.QAction, "actionExport").trigger()
    d = w._export_dialog
    target = tmp_path / "run.gif"
    d.path.setText(str(target))
    d.what.setCurrentIndex(d.what.findData("animation"))
    d.format.setCurrentIndex(d.format.findData("gif"))
    d.path.setText(str(target))
    d.spacing.setCurrentIndex(d.spacing.findData("every"))
    d.count.setValue(5)  # 600 frames: seconds of rendering
    d.size.setCurrentText("320x180")
    d.start_export()
    with qtbot.waitSignal(d.job.progress, timeout=10_000):
        pass
    job = d.job
    finished, failed = [], []
    job.finished.connect(finished.append)
    job.failed.connect(failed.append)
    close_quickly(w)
    qtbot.waitUntil(lambda: bool(finished or failed), timeout=10_000)
    assert failed and "cancelled" in failed[0]  # closing the window cancels the export
    assert not d.isVisible()
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "settings"] == []


# ---------------------------------------------------------------------- new runs while the old one is busy
@pytest.mark.slow
def test_new_runs_while_the_old_thread_is_busy(qtbot, make_window):
    """Reset, preset switches and data/model changes, each while the training thread is in the
    middle of a burst (and a seed-band run works in the background): every new run starts from step 0
    of its own settings, trains on, and nothing of the old run leaks into it."""
    w = make_window(SMALL.updated({"width": 60}))
    bands = view_of(w, BandsView)
    show(bands, w.displayed_snapshot, w.history, w.dataset, w.config)
    bands_worker = bands.run_bands(seeds=10, steps=50_000)
    w.panel.set_speed(0)
    names = preset_names()
    rng = np.random.default_rng(0)
    for k in range(30):
        w.play()  # (a preset's run may stop by itself soon: its run length, or 'diverge')
        qtbot.waitUntil(lambda: w.session.head_step > 0 or w.session.stopped or not w.playing, timeout=10_000)
        kind = k % 3
        if kind == 0:
            w.findChild(QtGui.QAction, "actionReset").trigger()
            expected = None
        elif kind == 1:
            name = names[int(rng.integers(len(names)))]
            w.load_preset(name)
            expected = load_preset(name).config
        else:
            w.panel.widgets["data_seed"].setValue(int(rng.integers(1000)))
            expected = None
        with w.session.locked():
            steps = w.history.steps.copy()
            head = w.session.head_step
        assert steps[0] == 0 and head <= steps[-1] + 1
        if expected is not None:
            assert w.config == expected
        frame = w.displayed_frame
        assert frame.step <= head and frame.snapshot.layout.width == (w.config.width if w.config.model == "relu" else 0)
        w.pause()
        assert not w.worker.busy
        with w.session.locked():
            np.testing.assert_array_equal(w.history.at(w.displayed_snapshot.step).params, w.displayed_snapshot.params)
    assert bands_worker.isRunning() or bands_worker.isFinished()
    close_quickly(w)


# ---------------------------------------------------------------------- open / close cycles
@pytest.mark.slow
def test_a_hundred_open_close_cycles_do_not_grow_memory_or_threads(qtbot, capsys):
    def cycle(k: int) -> None:
        w = MainWindow(SMALL)
        w.show()
        if k % 4 == 1:  # every fourth window trains a little before it closes
            w.panel.set_speed(0)
            w.play()
            qtbot.waitUntil(lambda: w.frames_drawn >= 2, timeout=10_000)
        w.tabs.setCurrentIndex(k % w.tabs.count())
        w.close()
        assert w.worker.isFinished()
        w.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        QtWidgets.QApplication.processEvents()

    for k in range(10):  # warm up: caches, fonts, pyqtgraph's lazily built items
        cycle(k)
    gc.collect()
    threads, py_threads, rss = os_threads(), __import__("threading").active_count(), rss_mib()
    t0 = time.perf_counter()
    for k in range(100):
        cycle(k)
    gc.collect()
    QtWidgets.QApplication.processEvents()
    growth = rss_mib() - rss
    with capsys.disabled():
        print(f"\n100 open/close cycles in {time.perf_counter() - t0:.1f} s: RSS {rss:.1f} -> {rss + growth:.1f} MiB "
              f"({growth:+.1f}), OS threads {threads} -> {os_threads()}, Python threads {py_threads} -> "
              f"{__import__('threading').active_count()}, live MainWindows: "
              f"{sum(isinstance(o, MainWindow) for o in gc.get_objects())}")
    assert os_threads() <= threads
    assert __import__("threading").active_count() <= py_threads
    assert growth < 20, f"RSS grew {growth:.1f} MiB over 100 windows"
