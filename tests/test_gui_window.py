"""The app window driven offscreen with its real training thread (pytest-qt).

Every wait is a ``qtbot.waitUntil`` with a timeout; nothing sleeps for a fixed time. Settings go to
a temporary folder (``RELUVIZ_SETTINGS_DIR``), never the user's.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core import TrainConfig, Trainer
from reluviz.core.presets import load_preset
from reluviz.gui import MainWindow
from reluviz.gui.views.base import LectureView

from helpers import SMALL_APP

SMALL = SMALL_APP


def action(window: MainWindow, name: str) -> QtGui.QAction:
    found = window.findChild(QtGui.QAction, name)
    assert found is not None, name
    return found


def wait_step(qtbot, window: MainWindow, step: int, timeout: int = 10_000) -> None:
    qtbot.waitUntil(lambda: window.displayed_snapshot.step == step and not window.worker.busy, timeout=timeout)


def train_to(qtbot, window: MainWindow, step: int) -> None:
    window.step(step - window.displayed_snapshot.step)
    wait_step(qtbot, window, step)


def headless_params(config: TrainConfig, steps: int) -> np.ndarray:
    trainer = Trainer(config)
    trainer.run(steps)
    return trainer.params.copy()


def test_window_builds_idle_with_public_actions(make_window):
    w = make_window()
    assert w.displayed_snapshot.step == 0
    assert not w.worker.busy and w.worker.isRunning()
    for name in ("actionPlayPause", "actionStep", "actionStepBack", "actionReset", "actionExport", "actionResume",
                 "actionHome", "actionEnd"):
        action(w, name)
    assert action(w, "actionPlayPause").shortcut() == QtGui.QKeySequence(QtCore.Qt.Key.Key_Space)
    assert action(w, "actionStep").shortcut() == QtGui.QKeySequence(QtCore.Qt.Key.Key_Right)
    assert action(w, "actionStepBack").shortcut() == QtGui.QKeySequence(QtCore.Qt.Key.Key_Left)
    assert action(w, "actionExport").shortcut() == QtGui.QKeySequence("Ctrl+E")
    assert w.config == SMALL
    assert w.dataset.n == 100
    assert w.tabs.tabText(0) == "Fit" and w.tabs.widget(0) is w.view
    # every control explains itself
    for field, widget in w.panel.widgets.items():
        assert widget.toolTip(), field


def test_play_draws_frames_then_pause_stops(qtbot, make_window):
    w = make_window()
    w.panel.set_speed(0)
    action(w, "actionPlayPause").trigger()
    assert w.playing
    start = w.frames_drawn
    qtbot.waitUntil(lambda: w.frames_drawn >= start + 5, timeout=10_000)
    action(w, "actionPlayPause").trigger()
    assert not w.playing and not w.worker.busy
    step = w.displayed_snapshot.step
    assert step > 0
    assert step == w.session.head_step  # the final frame is the state training stopped at
    assert w.worker.take_frame() is None
    assert "step" in w.status.text() and "dead units" in w.status.text()


def test_step_and_step_back(qtbot, make_window):
    w = make_window()
    w.panel.set_speed(1)
    for k in (1, 2, 3):
        action(w, "actionStep").trigger()
        wait_step(qtbot, w, k)
    action(w, "actionStepBack").trigger()
    assert w.displayed_snapshot.step == 2
    assert not w.displayed_frame.live
    action(w, "actionStep").trigger()  # forward through the history, no training
    assert w.displayed_snapshot.step == 3 and w.displayed_frame.live
    w.panel.set_speed(5)
    action(w, "actionStep").trigger()
    wait_step(qtbot, w, 8)
    action(w, "actionHome").trigger()
    assert w.displayed_snapshot.step == 0
    action(w, "actionEnd").trigger()
    assert w.displayed_snapshot.step == 8


def test_scrub_timeline(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 200)
    assert w.timeline.maximum() == 200
    w.timeline.setValue(50)
    assert w.displayed_snapshot.step == 50
    with w.session.locked():
        expected = w.history.at(50).params.copy()
    np.testing.assert_array_equal(w.displayed_snapshot.params, expected)
    assert "of 200" in w.timeline_label.text()


def test_resume_from_here_is_bit_identical_to_an_uninterrupted_run(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 300)
    w.scrub_to(120)
    action(w, "actionResume").trigger()
    assert w.displayed_snapshot.step == 120 and w.history.last_step() == 120
    train_to(qtbot, w, 300)
    np.testing.assert_array_equal(w.displayed_snapshot.params[0], headless_params(SMALL, 300)[0])


def test_change_lr_mid_run_keeps_the_run(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 50)
    w.panel.widgets["lr"].setValue(0.05)
    assert w.config.lr == 0.05
    assert w.displayed_snapshot.step == 50 and w.history.first_step() == 0  # not reset
    train_to(qtbot, w, 60)
    with w.session.locked():
        steps, lrs = w.history.steps.copy(), w.history.lrs[:, 0].copy()
    assert lrs[steps == 10][0] == pytest.approx(SMALL.lr)
    assert lrs[steps == 55][0] == pytest.approx(0.05)
    # the same as a headless run that changed its rate at step 50
    trainer = Trainer(SMALL)
    trainer.run(50)
    trainer.reconfigure(SMALL.updated({"lr": 0.05}))
    trainer.run(10)
    np.testing.assert_array_equal(w.displayed_snapshot.params[0], trainer.params[0])


def test_change_optimizer_kind_mid_run_then_resume_from_before(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 40)
    combo = w.panel.widgets["optimizer"]
    combo.setCurrentIndex(combo.findData("adam"))
    assert w.config.optimizer == "adam"
    assert len(w.history.segments) == 2  # the state grew Adam's moments: a second segment
    train_to(qtbot, w, 70)
    assert w.history.first_step() == 0 and w.history.last_step() == 70
    w.scrub_to(20)  # back into the SGD part, then go on with Adam from there
    action(w, "actionResume").trigger()
    train_to(qtbot, w, 30)
    trainer = Trainer(SMALL)
    trainer.run(20)
    trainer.reconfigure(SMALL.updated({"optimizer": "adam"}))
    trainer.run(10)
    np.testing.assert_array_equal(w.displayed_snapshot.params[0], trainer.params[0])
    # full batch changes the minibatch shape too
    w.panel.widgets["full_batch"].setChecked(True)
    assert w.config.batch_size == 0
    assert not w.panel.widgets["sampling"].isEnabled()
    train_to(qtbot, w, 35)


def test_reset_and_data_change_start_a_new_run(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 20)
    action(w, "actionReset").trigger()
    assert w.displayed_snapshot.step == 0 and len(w.history) == 1
    train_to(qtbot, w, 10)
    w.panel.widgets["n_train"].setValue(150)
    assert w.dataset.n == 150 and w.displayed_snapshot.step == 0
    assert w.notice.isVisible() and "n_train" in w.notice.text()
    w.panel.widgets["width"].setValue(7)
    assert w.displayed_snapshot.layout.width == 7 and w.displayed_snapshot.step == 0


def test_invalid_setting_is_explained_not_applied(qtbot, make_window):
    w = make_window()
    w.panel.widgets["n_train"].setValue(5)  # batch size 10 > 5 points: the spin box clamps it
    assert w.config.n_train == 5 and w.config.batch_size <= 5


def test_controls_that_do_not_apply_are_disabled(make_window):
    w = make_window()
    p = w.panel.widgets
    assert not p["momentum"].isEnabled() and not p["beta1"].isEnabled()
    p["optimizer"].setCurrentIndex(p["optimizer"].findData("momentum"))
    assert p["momentum"].isEnabled() and not p["beta2"].isEnabled()
    p["optimizer"].setCurrentIndex(p["optimizer"].findData("adam"))
    assert p["beta1"].isEnabled() and p["beta2"].isEnabled() and not p["momentum"].isEnabled()
    assert not p["step_size"].isEnabled() and not p["decay"].isEnabled()
    p["schedule"].setCurrentIndex(p["schedule"].findData("inverse"))
    assert p["decay"].isEnabled() and not p["gamma"].isEnabled()
    p["full_batch"].setChecked(True)
    assert not p["sampling"].isEnabled() and not p["batch_size"].isEnabled()
    p["model"].setCurrentIndex(p["model"].findData("constant"))
    assert not p["width"].isEnabled() and not p["init"].isEnabled()
    assert w.config.model == "constant" and w.displayed_snapshot.layout.model == "constant"


def test_lr_slider_is_logarithmic_and_drives_the_spin_box(make_window):
    w = make_window()
    slider, spin = w.panel.lr_slider, w.panel.widgets["lr"]
    slider.setValue(slider.maximum())
    assert spin.value() == pytest.approx(10.0)
    slider.setValue(slider.maximum() // 2)
    assert spin.value() == pytest.approx(10 ** -2, rel=0.01)
    assert w.config.lr == pytest.approx(spin.value())


def test_divergence_pauses_and_explains(qtbot, make_window):
    w = make_window(None, preset="diverge")
    assert w.config.lr == 3.0
    w.panel.set_speed(0)
    w.play()
    qtbot.waitUntil(lambda: not w.worker.busy and w.session.stopped, timeout=15_000)
    qtbot.waitUntil(lambda: w.notice.isVisible(), timeout=5_000)
    assert not w.playing
    assert "loss became" in w.notice.text()
    assert w.displayed_frame.divergence.startswith("loss became")
    snap = w.displayed_snapshot
    assert np.all(np.isfinite(snap.params))
    for item in (w.view.fit.prediction, w.view.fit.units_pos, w.view.fit.units_neg):
        y = item.yData
        if y is not None and len(y):
            assert not np.any(np.isinf(y))
            assert np.any(np.isfinite(y))
    # lower the rate and go on from an earlier step
    w.panel.widgets["lr"].setValue(0.02)
    w.scrub_to(0)
    action(w, "actionResume").trigger()
    assert not w.session.stopped
    train_to(qtbot, w, 5)


def test_close_while_training_stops_the_thread_quickly(qtbot, make_window):
    w = make_window(SMALL.updated({"width": 100}))
    w.panel.set_speed(0)
    w.play()
    qtbot.waitUntil(lambda: w.frames_drawn >= 3 and w.worker.steps_trained > 100, timeout=10_000)
    t0 = time.perf_counter()
    w.close()
    assert time.perf_counter() - t0 < 1.0
    assert w.worker.isFinished()


def test_settings_are_remembered(qtbot, make_window):
    w = make_window()
    w.panel.widgets["lr"].setValue(0.03)
    w.panel.set_speed(10)
    w.close()
    again = make_window(None)
    assert again.config.lr == pytest.approx(0.03)
    assert again.config.width == SMALL.width
    assert again.panel.speed() == 10


def test_first_launch_uses_the_notebook_preset(make_window):
    w = make_window(None)
    assert w.config == load_preset("notebook").config
    assert "notebook" in w.panel.description.text().lower()


def test_dance_preset_runs_a_ghost_in_lockstep(qtbot, make_window):
    w = make_window(None, preset="dance")
    assert w.session.ghost is not None
    train_to(qtbot, w, 30)
    ghost = w.displayed_frame.ghost
    assert ghost.step == 30
    ghost_cfg = w.config.updated({"schedule": "inverse", "decay": 0.002})
    np.testing.assert_array_equal(ghost.params[0], headless_params(ghost_cfg, 30)[0])
    assert w.view.fit.ghost.xData is not None and len(w.view.fit.ghost.xData)
    w.scrub_to(10)
    assert w.displayed_frame.ghost.step == 10


def test_preset_picker_loads_a_preset(qtbot, make_window):
    w = make_window()
    combo = w.panel.preset_combo
    i = combo.findData("output-only")
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    assert w.config.train == "output" and w.preset_name == "output-only"
    assert w.panel.description.text()


class CountingView(LectureView):
    view_name = "counting"

    def __init__(self):
        super().__init__()
        self.calls = []

    def show_frame(self, frame):
        self.calls.append((frame.step, frame.last_step, frame.dataset.n))


def test_add_view_gets_the_drawn_state(qtbot, make_window):
    w = make_window()
    view = CountingView()
    index = w.add_view("Votes", view)
    assert w.tabs.tabText(index) == "Votes"
    w.tabs.setCurrentIndex(index)
    assert view.calls and view.calls[-1][0] == 0
    train_to(qtbot, w, 4)
    assert view.calls[-1] == (4, 4, 100)


def test_view_actions(make_window):
    w = make_window()
    action(w, "actionShowTest").setChecked(False)
    assert not w.view.fit.test.isVisible()
    action(w, "actionShowUnits").setChecked(False)
    assert not w.view.fit.units_pos.isVisible()
    w.view.fit_item.setXRange(0.4, 0.5, padding=0)
    action(w, "actionResetView").trigger()
    (x0, x1), _ = w.view.fit.view_range
    assert w.view.fit_item.vb.viewRange()[0] == pytest.approx([x0, x1])


def test_csv_data(qtbot, make_window, tmp_path):
    path = tmp_path / "points.csv"
    xs = np.linspace(0, 1, 30)
    path.write_text("x,y\n" + "\n".join(f"{x},{abs(x - 0.5)}" for x in xs))
    w = make_window()
    w.load_csv(str(path))
    assert w.config.target == "csv" and w.dataset.n == 24
    train_to(qtbot, w, 3)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\nfoo\n")
    w.load_csv(str(bad))
    assert w.config.csv_path == str(path)  # the run goes on with the good data
    assert "bad.csv" in w.notice.text()


def test_selected_unit_shows_its_elbow_trail_on_the_fit_plot(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 40)
    w.view.fit.unitClicked.emit(2)
    xs, _ = w.view.fit.elbow_trail.getData()
    snap = w.displayed_snapshot
    assert xs is not None and len(xs) > 1
    assert xs[-1] == pytest.approx(snap.elbows()[2])  # the trail ends at the unit's current elbow
    w.view.fit.unitClicked.emit(-1)
    xs, _ = w.view.fit.elbow_trail.getData()
    assert xs is None or len(xs) == 0
