"""Hardening of the window: bad files, bad saved settings and oversized runs give a notice (or a
message box) and leave the run on screen untouched: same history, same displayed step, same config.

Modal dialogs never wait for a human here: QFileDialog and QMessageBox are patched per test.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtWidgets

from reluviz.core.presets import load_preset
from reluviz.gui import main_window as main_window_module
from reluviz.gui import run_control as run_control_module
from reluviz.core.session import LIVE_LIMIT
from reluviz.gui.settings import open_settings
from reluviz.plots import fit_plot

from helpers import SMALL_APP, head_frame

from cases import BAD_CSVS, BAD_SETTINGS_FILES, as_preset, million_row_csv, write

SMALL = SMALL_APP


def train_to(qtbot, window, step):
    window.step(step - window.displayed_snapshot.step)
    qtbot.waitUntil(lambda: window.displayed_snapshot.step == step and not window.worker.busy, timeout=10_000)


def run_state(window):
    """What must not change when a bad input is refused."""
    with window.session.locked():
        return (len(window.history), window.history.last_step(), window.displayed_snapshot.step, window.config,
                window.displayed_snapshot.params.tobytes(), window.dataset.n)


def panel_matches(window):
    values = window.panel.values()
    cfg = window.config
    return all(values[k] == getattr(cfg, k) for k in ("n_train", "width", "model", "target", "lr"))


# ---------------------------------------------------------------------- CSV files
@pytest.mark.parametrize("name, content, needle", BAD_CSVS, ids=[c[0] for c in BAD_CSVS])
def test_bad_csv_in_the_window_is_a_notice_and_the_run_stays(qtbot, make_window, tmp_path, monkeypatch,
                                                             name, content, needle):
    path = write(tmp_path / name, content)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    w = make_window()
    train_to(qtbot, w, 30)
    w.scrub_to(12)
    before = run_state(w)
    w.findChild(QtWidgets.QWidget, "loadCsv").click()  # the side panel's button -> the (patched) file dialog
    assert run_state(w) == before
    assert w.notice.isVisible() and needle in w.notice.text() and name in w.notice.text()
    assert panel_matches(w)
    w.go_end()
    train_to(qtbot, w, 40)  # and the run goes on (from its head)


def test_a_million_row_csv_loads_in_the_window_in_a_few_seconds(qtbot, make_window, tmp_path):
    path = million_row_csv(tmp_path / "big.csv")
    w = make_window()
    t0 = time.perf_counter()
    w.load_csv(str(path))
    seconds = time.perf_counter() - t0
    print(f"10^6-row CSV into the window: {seconds:.2f} s")
    assert w.dataset.n == 800_000 and w.config.target == "csv"
    assert seconds < 8.0
    xs, _ = w.view.fit.train.getData()
    assert len(xs) <= fit_plot.MAX_DRAWN_POINTS  # an even subset is drawn
    assert "of 800,000 drawn" in w.view.fit.legend.getLabel(w.view.fit.train).text
    t0 = time.perf_counter()
    train_to(qtbot, w, 2)
    w.step_back(1)
    assert time.perf_counter() - t0 < 8.0


def test_a_csv_too_big_to_draw_live_is_refused_with_the_numbers(qtbot, make_window, tmp_path):
    w = make_window(SMALL.updated({"width": 2000, "n_train": 100}))
    rows = LIVE_LIMIT // 2000 * 5 // 4 + 100  # 80% of the rows train: just over the limit
    path = tmp_path / "wide.csv"
    x = np.linspace(0, 1, rows)
    np.savetxt(path, np.c_[x, x * x], delimiter=",", fmt="%.6g")
    before = run_state(w)
    w.load_csv(str(path))
    assert run_state(w) == before
    assert "too big to draw live" in w.notice.text() and "2,000 units" in w.notice.text()


def test_the_file_dialog_cancelled_changes_nothing(qtbot, make_window, monkeypatch):
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    w = make_window()
    before = run_state(w)
    w.findChild(QtWidgets.QWidget, "loadCsv").click()
    assert run_state(w) == before


# ---------------------------------------------------------------------- sizes the app cannot draw live
def test_points_times_units_beyond_the_live_limit_is_refused_and_the_controls_snap_back(qtbot, make_window):
    """100,000 points x 5,000 units: each frame evaluated the net on every point (seconds a frame,
    gigabytes of temporaries). Now the notice gives the numbers and the controls show the run in force."""
    w = make_window()
    train_to(qtbot, w, 20)
    w.panel.widgets["width"].setValue(5000)  # 100 x 5000: fine, a new run
    assert w.config.width == 5000 and w.displayed_snapshot.step == 0
    train_to(qtbot, w, 5)
    before = run_state(w)
    t0 = time.perf_counter()
    w.panel.widgets["n_train"].setValue(100_000)
    assert time.perf_counter() - t0 < 2.0
    assert run_state(w) == before
    assert "too big to draw live" in w.notice.text() and "100,000 training points" in w.notice.text()
    assert w.panel.widgets["n_train"].value() == 100 and panel_matches(w)
    w.reset_run()  # a reset with the (restored) controls works
    assert w.displayed_snapshot.step == 0 and w.config.n_train == 100


def test_config_values_beyond_the_spin_boxes_do_not_break_the_panel(qtbot, make_window):
    big = SMALL.updated({"steps": 10**11, "data_seed": 2**31 - 1, "step_size": 10**11, "t_max": 10**11,
                         "batch_size": 100})
    w = make_window(big)
    assert w.config.steps == 10**11 and w.panel.widgets["steps"].value() == w.panel.widgets["steps"].maximum()
    assert w.panel.widgets["data_seed"].value() == 2**31 - 1
    train_to(qtbot, w, 3)


# ---------------------------------------------------------------------- saved settings ("the session")
@pytest.mark.parametrize("saved", [
    "[1, 2, 3]", "42", '"notebook"', "null", '{"lr": 0.1, "width": ', "[" * 50_000 + "]" * 50_000,
    '{"lr": "fast"}', '{"width": 1e400}', '{"data_seed": -1}', '{"config": {"lr": 0.1}}', "\x00\x01garbage",
    '{"target": "csv", "csv_path": ""}',
])
def test_corrupt_saved_settings_start_the_default_preset(qtbot, make_window, saved):
    s = open_settings()
    s.setValue("run/config", saved)
    s.setValue("run/preset", "no-such-preset")
    s.setValue("view/speed", "fast")
    s.setValue("view/show_test", "perhaps")
    s.setValue("window/geometry", 12345)
    s.setValue("window/splitter", "junk")
    s.sync()
    w = make_window(None)
    assert w.config == load_preset("notebook").config
    train_to(qtbot, w, 3)


def test_a_saved_run_whose_csv_is_gone_starts_the_default_preset_with_a_notice(qtbot, make_window, tmp_path):
    path = tmp_path / "gone.csv"
    path.write_text("".join(f"{i / 10},{i}\n" for i in range(10)))
    w = make_window()
    w.load_csv(str(path))
    assert w.config.target == "csv"
    w.close()
    path.unlink()
    again = make_window(None)
    assert again.config == load_preset("notebook").config
    assert "Could not start the last run" in again.notice.text() and "gone.csv" in again.notice.text()


# ---------------------------------------------------------------------- preset files
@pytest.mark.parametrize("name, content, needle", BAD_SETTINGS_FILES, ids=[c[0] for c in BAD_SETTINGS_FILES])
def test_broken_preset_file_is_a_notice_and_the_run_stays(qtbot, make_window, tmp_path, monkeypatch,
                                                          name, content, needle):
    from reluviz.core.presets import load_preset

    presets = tmp_path / "presets"
    presets.mkdir()
    write(presets / "broken.json", as_preset(content))
    monkeypatch.setattr(main_window_module, "load_preset", lambda n: load_preset(n, directory=presets))
    monkeypatch.setattr(run_control_module, "load_preset", lambda n: load_preset(n, directory=presets))
    w = make_window()
    train_to(qtbot, w, 15)
    before = run_state(w)
    w.load_preset("broken")
    assert run_state(w) == before
    assert w.notice.isVisible() and "broken.json" in w.notice.text()
    w.load_preset("missing")
    assert run_state(w) == before and "unknown preset 'missing'" in w.notice.text()


def test_minibatches_beyond_the_app_limit_are_refused(qtbot, make_window):
    """The sampler draws the batches of 1,024 steps at once in the thread the window waits on: at
    B = 47,194 that was 386 MB and 2 s per draw (80 s with sampling=shuffle, see core/sampling.py)."""
    from reluviz.core.session import MAX_LIVE_BATCH

    w = make_window(SMALL.updated({"n_train": 5000}))
    spin = w.panel.widgets["batch_size"]
    assert spin.maximum() == MAX_LIVE_BATCH
    spin.setValue(10**6)
    assert w.config.batch_size == MAX_LIVE_BATCH
    before = run_state(w)
    w.apply_config(w.config.updated({"batch_size": 4000}))
    assert run_state(w) == before and "tick 'full batch'" in w.notice.text()
    w.panel.widgets["full_batch"].setChecked(True)
    assert w.config.batch_size == 0
    train_to(qtbot, w, 2)


def test_pause_and_reset_stay_quick_when_a_step_is_expensive(qtbot, make_window):
    """Full batch over 100,000 points x 200 units was ~0.15 s a step. The worker started every
    burst with 64-step chunks under the session lock (and the trainer looks at should_stop every 64
    steps): a reset while playing waited 10.9 s. Chunks now start at one step and at most double,
    and start over when the run or its settings change. (At the live limit now: 100,000 x 100.)"""
    w = make_window(SMALL.updated({"n_train": 100_000, "width": 100, "batch_size": 0}))
    assert w.config.n_train == 100_000 and w.config.width == 100  # (not refused at start)
    w.panel.set_speed(0)
    w.play()
    qtbot.waitUntil(lambda: w.worker.steps_trained >= 2, timeout=20_000)
    t0 = time.perf_counter()
    w.panel.widgets["noise"].setValue(0.5)  # a new run while playing: pause, reset, play again
    assert time.perf_counter() - t0 < 4.0  # (0.5 s here on a quiet machine; it was 10.9 s)
    assert w.config.noise == 0.5 and w.playing
    qtbot.waitUntil(lambda: w.worker.steps_trained >= 4, timeout=20_000)
    t0 = time.perf_counter()
    w.pause()
    assert time.perf_counter() - t0 < 2.0 and not w.worker.busy
