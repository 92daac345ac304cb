"""The app window (offscreen, with its real training thread): what it is built with, its actions
and tabs, the settings it remembers between launches (bad saved settings start the default preset),
and what the fit plot shows of a selected unit.

Every wait is a ``qtbot.waitUntil`` with a timeout; nothing sleeps for a fixed time. Settings go to
a temporary folder (``RELUVIZ_SETTINGS_DIR``), never the user's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from reluviz.core.presets import load_preset
from reluviz.gui.settings import open_settings
from reluviz.gui.views.base import LectureView

from helpers import SMALL_APP as SMALL, action, train_to


def test_window_builds_idle_with_public_actions(make_window):
    w = make_window()
    assert w.displayed_snapshot.step == 0
    assert not w.worker.busy and w.worker.isRunning()
    for name in ("actionPlayPause", "actionStep", "actionStepBack", "actionReset", "actionExport", "actionResume",
                 "actionHome", "actionEnd"):
        assert action(w, name).text(), name
    assert action(w, "actionPlayPause").shortcut() == QtGui.QKeySequence(QtCore.Qt.Key.Key_Space)
    assert action(w, "actionStep").shortcut() == QtGui.QKeySequence(QtCore.Qt.Key.Key_Right)
    assert action(w, "actionStepBack").shortcut() == QtGui.QKeySequence(QtCore.Qt.Key.Key_Left)
    assert action(w, "actionExport").shortcut() == QtGui.QKeySequence("Ctrl+E")
    assert w.config == SMALL
    assert w.dataset.n == 100
    assert w.tabs.tabText(0) == "Fit" and w.view.parent() is w.tabs.widget(0)  # (above the loss panel's switches)
    # every control explains itself
    for field, widget in w.panel.widgets.items():
        assert widget.toolTip(), field


def test_view_actions(make_window):
    w = make_window()
    assert w.view.fit.val.isVisible() and not w.view.fit.test.isVisible()  # test points: the final check only
    action(w, "actionShowTest").setChecked(True)
    assert w.view.fit.test.isVisible()
    action(w, "actionShowTest").setChecked(False)
    assert not w.view.fit.test.isVisible()
    action(w, "actionShowValidation").setChecked(False)
    assert not w.view.fit.val.isVisible()
    action(w, "actionShowUnits").setChecked(False)
    assert not w.view.fit.units_pos.isVisible()
    w.view.fit_item.setXRange(0.4, 0.5, padding=0)
    action(w, "actionResetView").trigger()
    (x0, x1), _ = w.view.fit.view_range
    assert w.view.fit_item.vb.viewRange()[0] == pytest.approx([x0, x1])


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


# ---------------------------------------------------------------------- remembered settings
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


CORRUPT_SAVED = [
    "[1, 2, 3]", "42", '"notebook"', "null", '{"lr": 0.1, "width": ', "[" * 50_000 + "]" * 50_000,
    '{"lr": "fast"}', '{"width": 1e400}', '{"data_seed": -1}', '{"config": {"lr": 0.1}}', "\x00\x01garbage",
    '{"target": "csv", "csv_path": ""}',
]
#: the fast loop opens a window for these; the full suite for every one
FAST_CORRUPT_SAVED = ('{"lr": 0.1, "width": ', '{"width": 1e400}', '{"target": "csv", "csv_path": ""}')


@pytest.mark.parametrize("saved", [pytest.param(s, marks=() if s in FAST_CORRUPT_SAVED else pytest.mark.slow)
                                   for s in CORRUPT_SAVED])
def test_corrupt_saved_settings_start_the_default_preset(qtbot, make_window, saved):
    s = open_settings()
    s.setValue("run/config", saved)
    s.setValue("run/preset", "no-such-preset")
    s.setValue("view/speed", "fast")
    s.setValue("view/show_test_data", "perhaps")
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


def test_a_restored_run_that_cannot_train_says_so_at_launch(qtbot, make_window, tmp_path):
    import numpy as np

    path = tmp_path / "huge.csv"
    xs = np.linspace(-1e6, 1e6, 50)
    path.write_text("x,y\n" + "\n".join(f"{x:.6g},{np.sin(x):.6g}" for x in xs))
    w = make_window(SMALL.updated({"width": 20}))
    w.load_csv(str(path))
    assert w.session.stopped and w.notice.text().startswith("This run cannot train: the loss is already")
    assert "data's scale is the cause" in w.notice.text() and w.notice.kind == "error"
    w.close()
    again = make_window(None)  # the next launch restores these settings: it says what it restored
    assert again.session.stopped and again.notice.isVisible() and again.notice.kind == "error"
    assert again.notice.text().startswith("Restored the last session's settings, and this run cannot train")
    assert "Rescale x and y" in again.notice.text()


# ---------------------------------------------------------------------- the window's size
@pytest.mark.parametrize("preset", ["dance", "notebook", "output-only", "constant-model"])
def test_tab_switches_never_resize_the_window_and_every_tab_fits_1280x720(qtbot, make_window, preset):
    from PySide6 import QtWidgets

    w = make_window(None, preset=preset)
    train_to(qtbot, w, 20)
    w.show_notice("A notice two lines long at this width: " + "so that the bar takes its room. " * 6, "warn")
    for size in ((1600, 1000), (1280, 720), (900, 600)):
        w.resize(*size)
        qtbot.wait(10)
        assert w.size().toTuple() == size
        min_w, min_h = w.minimumSizeHint().toTuple()
        assert min_w <= 1280 and min_h <= 720
        for i in [*range(w.tabs.count()), 0]:
            w.tabs.setCurrentIndex(i)
            qtbot.wait(10)
            assert w.size().toTuple() == size, (w.tabs.tabText(i), size)  # a tab switch never resizes it
            page = w.tabs.widget(i)
            if size != (900, 600) and isinstance(page, QtWidgets.QScrollArea):  # fits its width (reflows) ...
                assert page.horizontalScrollBar().maximum() == 0, w.tabs.tabText(i)
                assert w.tabs.view_at(i).width() == page.viewport().width()
                if size == (1600, 1000):  # ... and at the app's usual size its height too
                    assert page.verticalScrollBar().maximum() == 0, w.tabs.tabText(i)
    w.resize(1280, 720)
    dance = next(w.tabs.view_at(i) for i in range(w.tabs.count()) if w.tabs.matches(i, "dance"))
    w.tabs.open("dance")
    qtbot.wait(10)
    if dance.placeholder.isVisible():  # (the full network: a sentence instead of the landscape, not cut off)
        text = dance.placeholder.textItem.boundingRect()
        assert text.width() <= dance.land_item.vb.width() and text.height() <= dance.land_item.vb.height()


# ---------------------------------------------------------------------- notices
def test_notices_come_and_go_without_moving_the_layout(qtbot, make_window):
    w = make_window()
    w.resize(1280, 720)
    qtbot.wait(10)
    w.notice.clear()
    qtbot.wait(10)

    def places():
        return (w.tabs.geometry().getRect(), w.timeline_bar.geometry().getRect(), w.notice.geometry().getRect())

    empty = places()
    for text in ("Short.", "Two lines at this width: " + "the words go on and on and on. " * 4):
        w.show_notice(text, "warn")
        qtbot.wait(10)
        assert w.notice.isVisible() and places() == empty, text
        w.notice.clear()
        qtbot.wait(10)
        assert places() == empty


def test_reached_the_run_length_goes_once_the_run_goes_on(qtbot, make_window):
    w = make_window(SMALL.updated({"steps": 30}))
    w.panel.set_speed(10)
    w.play()
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == 30 and not w.playing, timeout=10_000)
    qtbot.waitUntil(lambda: "Reached the run length (30 steps)" in w.notice.text(), timeout=5_000)
    w.step(10)  # training on past it: the notice is no longer true
    qtbot.waitUntil(lambda: w.displayed_snapshot.step == 40 and not w.worker.busy, timeout=10_000)
    assert not w.notice.isVisible()


def test_the_run_goes_on_goes_when_the_run_is_paused(qtbot, make_window):
    w = make_window()
    w.panel.set_speed(1)
    w.play()
    qtbot.waitUntil(lambda: w.displayed_snapshot.step > 5, timeout=10_000)
    w.panel.widgets["lr"].setValue(0.03)
    assert w.notice.isVisible() and w.notice.text().endswith("the run goes on.")
    w.pause()
    assert not w.notice.isVisible()  # paused: no longer true


def test_a_tab_page_deleted_with_its_window_leaves_no_timer_behind(qtbot):
    """A page refits its view after a layout change on a timer; one that fired after the window
    was deleted raised in the event loop (and the caught exceptions kept whole windows alive)."""
    from PySide6 import QtCore, QtWidgets

    from reluviz.gui import MainWindow

    w = MainWindow(SMALL)
    w.show()
    for i in range(1, w.tabs.count()):  # a layout request on every lecture view: each page's timer starts
        QtWidgets.QApplication.sendEvent(w.tabs.view_at(i), QtCore.QEvent(QtCore.QEvent.Type.LayoutRequest))
    w.close()
    w.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    qtbot.wait(20)  # (pytest-qt fails the test on an exception in the event loop)


def test_saved_settings_with_the_old_weight_decay_load_as_ridge_with_a_notice(qtbot, make_window):
    """An app setting saved before the rename (torch's weight_decay = 2 lambda) loads as ridge = wd / 2."""
    old = SMALL.to_dict()
    del old["ridge"], old["n_val"], old["n_test"], old["val_fraction"], old["test_fraction"]
    old["weight_decay"] = 0.02
    s = open_settings()
    s.setValue("run/config", json.dumps(old))
    s.sync()
    w = make_window(None)
    assert w.config.ridge == pytest.approx(0.01) and w.config.width == SMALL.width
    assert w.notice.isVisible() and "weight_decay=0.02 is read as ridge=0.01" in w.notice.text()
    train_to(qtbot, w, 3)


def test_the_loss_panel_shows_validation_and_hides_the_test_loss_until_asked(qtbot, make_window):
    """Train, validation and test are each toggleable; the test loss starts hidden, and the line
    beside the switches says why; the status line follows the test curve."""
    w = make_window()
    train_to(qtbot, w, 30)
    loss, frame = w.view.loss, w.displayed_frame
    assert loss.curve_visible("val") and not loss.curve_visible("test") and not loss.curve_visible("true")
    assert w.loss_switches.note.isVisible() and "test set once" in w.loss_switches.note.text()
    assert "validation" in w.status.text() and "test" not in w.status.text()
    listed = [label.text for _sample, label in loss.legend.items]
    assert "validation" in listed and "test" not in listed and "best val." in listed
    # the drawn validation curve is the frame's validation loss at the drawn steps
    xs, ys = loss.val.getData()  # (log10 in log mode)
    assert xs[-1] == frame.step and 10 ** ys[-1] == pytest.approx(frame.val_loss, rel=1e-12)
    w.loss_switches.buttons["test"].click()
    assert loss.curve_visible("test") and action(w, "actionShowTestLoss").isChecked()
    assert not w.loss_switches.note.isVisible()
    assert f"test {w.displayed_frame.test_loss:.3g}" in w.status.text()
    assert "test" in [label.text for _sample, label in loss.legend.items]
    # a click on a legend entry hides its curve; its switch follows
    sample = next(s for s, label in loss.legend.items if label.text == "validation")
    sample.mouseClickEvent(_LeftClick())
    qtbot.waitUntil(lambda: not action(w, "actionShowValLoss").isChecked(), timeout=2000)
    assert not loss.curve_visible("val")
    qtbot.waitUntil(lambda: "validation" not in [label.text for _s, label in loss.legend.items], timeout=2000)


class _LeftClick:
    """Enough of a mouse click event for pyqtgraph's legend sample."""

    def button(self):
        return QtCore.Qt.MouseButton.LeftButton

    def accept(self):
        pass


def test_the_best_validation_step_is_marked_on_the_loss_panel(qtbot, make_window):
    """Early stopping as a special case: the evaluated step with the lowest validation loss gets a star."""
    w = make_window()
    train_to(qtbot, w, 60)
    curves = w.displayed_frame.curves
    i = int(np.nanargmin(curves.val))
    assert curves.best_step == curves.eval_steps[i] and curves.best_val == curves.val[i]
    xs, ys = w.view.loss.best.getData()
    assert list(xs) == [curves.best_step] and 10 ** ys[0] == pytest.approx(curves.best_val, rel=1e-12)
