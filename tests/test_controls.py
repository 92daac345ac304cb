"""The side panel: ranges, steps, choices and tooltips from the settings' metadata, the app's own
limits on top, and the controls enabled exactly when their setting applies."""

import pytest

from reluviz.core.config import SETTINGS, TrainConfig

from helpers import SMALL_APP, train_to

DEFAULT = TrainConfig()


@pytest.fixture
def panel(qtbot):
    from reluviz.gui.controls import ControlPanel

    p = ControlPanel()
    qtbot.addWidget(p)
    return p


def test_the_panel_reads_ranges_choices_and_tips_from_the_settings(panel):
    from PySide6 import QtWidgets

    from reluviz.gui.controls import APP_RANGES, NOT_SHOWN, SPIN_INT_MAX

    panel.set_config(DEFAULT.updated({"n_train": 5000}))  # (the batch size is also at most N)
    shown = set(panel.widgets) - {"full_batch"}
    assert shown == set(SETTINGS) - set(NOT_SHOWN)
    for name in shown:
        s, w = SETTINGS[name], panel.widgets[name]
        assert w.toolTip() == s.tip, name
        if s.choices:
            assert [w.itemData(i) for i in range(w.count())] == list(s.choices), name
            continue
        lo, hi = w.minimum(), w.maximum()
        if name in APP_RANGES:  # the app's own limit, inside the setting's range
            assert (lo, hi) == APP_RANGES[name] and s.problem(name, lo) is None and s.problem(name, hi) is None
            continue
        unit = 10.0 ** -s.decimals if s.decimals else 1
        assert isinstance(w, QtWidgets.QSpinBox if s.decimals == 0 else QtWidgets.QDoubleSpinBox), name
        # the panel's range is validate's: its ends are allowed, one step beyond them is refused
        assert s.problem(name, lo) is None and s.problem(name, lo - unit) is not None, name
        assert s.problem(name, hi) is None, name
        if s.decimals == 0 and (s.hi is None or s.hi > SPIN_INT_MAX):  # a spin box holds 32-bit numbers
            assert hi == SPIN_INT_MAX, name
        else:
            assert s.problem(name, hi + unit) is not None, name
        assert w.singleStep() == pytest.approx(s.step), name


def test_the_panel_enables_what_applies(panel):
    w = panel.widgets
    panel.set_config(DEFAULT)
    for optimizer in ("sgd", "momentum", "nesterov", "adam"):
        for schedule in ("constant", "step", "exponential", "inverse", "cosine"):
            w["optimizer"].setCurrentIndex(w["optimizer"].findData(optimizer))
            w["schedule"].setCurrentIndex(w["schedule"].findData(schedule))
            values = panel.values()
            for name, s in SETTINGS.items():
                if name in w:
                    assert w[name].isEnabled() == s.applies(values), (optimizer, schedule, name)
    w["full_batch"].setChecked(True)
    assert not w["sampling"].isEnabled() and not w["sample_seed"].isEnabled() and not w["batch_size"].isEnabled()


# ---------------------------------------------------------------------- the panel in the window
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


def test_config_values_beyond_the_spin_boxes_do_not_break_the_panel(qtbot, make_window):
    big = SMALL_APP.updated({"steps": 10**11, "data_seed": 2**31 - 1, "step_size": 10**11, "t_max": 10**11,
                             "batch_size": 100})
    w = make_window(big)
    assert w.config.steps == 10**11 and w.panel.widgets["steps"].value() == w.panel.widgets["steps"].maximum()
    assert w.panel.widgets["data_seed"].value() == 2**31 - 1
    train_to(qtbot, w, 3)


# ---------------------------------------------------------------------- the wheel and typed values
def wheel(widget, notches: int = 1) -> None:
    """``notches`` real wheel events (down) over the middle of ``widget``, as Qt delivers them."""
    from PySide6 import QtCore, QtGui, QtWidgets

    local = QtCore.QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(notches):
        event = QtGui.QWheelEvent(local, QtCore.QPointF(widget.mapToGlobal(local.toPoint())), QtCore.QPoint(0, 0),
                                  QtCore.QPoint(0, -120), QtCore.Qt.MouseButton.NoButton,
                                  QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
        QtWidgets.QApplication.sendEvent(widget, event)


def test_the_wheel_over_the_panel_scrolls_it_and_changes_no_setting(qtbot, make_window):
    from PySide6 import QtWidgets

    w = make_window()
    w.resize(1280, 720)
    train_to(qtbot, w, 30)
    config, run_id, preset = w.config, w.session.run_id, w.panel.preset_combo.currentIndex()
    speed, slider = w.panel.speed(), w.panel.lr_slider.value()
    bar = w.findChild(QtWidgets.QScrollArea, "controlScroll").verticalScrollBar()
    assert bar.maximum() > 0  # (at 1280x720 the panel is taller than its column)
    controls = [c for c in w.panel.findChildren(QtWidgets.QWidget)
                if isinstance(c, (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox, QtWidgets.QAbstractSlider))]
    assert len(controls) >= 25
    bar.setValue(0)
    for control in controls:
        wheel(control, 3)
    assert bar.value() > 0  # the wheel scrolled the panel ...
    assert w.config == config and w.session.run_id == run_id  # ... and changed nothing
    assert w.displayed_snapshot.step == 30
    assert (w.panel.preset_combo.currentIndex(), w.panel.speed(), w.panel.lr_slider.value()) == (preset, speed, slider)
    # a control the user clicked (it has focus) takes the wheel as usual ...
    batch = w.panel.widgets["batch_size"]
    batch.setFocus()
    qtbot.waitUntil(batch.hasFocus)
    wheel(batch)
    assert w.config.batch_size == config.batch_size - 1
    # ... unless its change discards the run: a box keeps the focus after a typed value
    for field in ("width", "n_train", "target", "model"):
        box = w.panel.widgets[field]
        box.setFocus()
        qtbot.waitUntil(box.hasFocus)
        wheel(box, 3)
        assert getattr(w.config, field) == getattr(config, field) and w.session.run_id == run_id, field


def test_ctrl_z_brings_back_the_run_a_new_run_replaced(qtbot, make_window):
    from PySide6 import QtCore

    w = make_window()
    train_to(qtbot, w, 40)
    before = (w.config, w.displayed_snapshot.params.tobytes(), w.history.last_step())
    w.panel.widgets["width"].setValue(w.config.width + 1)  # discards the run ...
    assert w.displayed_snapshot.step == 0 and "Ctrl+Z" in w.notice.text()
    assert w.actionUndoRun.isEnabled()
    w.panel.widgets["width"].setFocus()  # (after typing a value the box keeps the keyboard)
    qtbot.waitUntil(w.panel.widgets["width"].hasFocus)
    qtbot.keyClick(w.panel.widgets["width"], QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert (w.config, w.displayed_snapshot.params.tobytes(), w.history.last_step()) == before  # ... Ctrl+Z: back
    assert w.panel.widgets["width"].value() == before[0].width
    train_to(qtbot, w, 50)  # and it trains on from where it was
    w.undo_new_run()  # again: the run that was left
    assert w.config.width == before[0].width + 1 and w.displayed_snapshot.step == 0


def test_typed_values_out_of_range_are_refused_with_their_range(qtbot, make_window):
    from PySide6 import QtCore

    w = make_window()
    train_to(qtbot, w, 10)
    config = w.config

    def type_into(field: str, text: str) -> None:
        box = w.panel.widgets[field]
        box.setFocus()
        box.lineEdit().selectAll()
        qtbot.keyClicks(box, text)
        qtbot.keyClick(box, QtCore.Qt.Key.Key_Return)

    for field, text, needle in (("n_train", "-5", "Points N takes a whole number from 2 to 10,000,000"),
                                ("n_train", "0", "from 2 to"), ("n_train", "99999999999", "to 10,000,000"),
                                ("lr", "0", "Learning rate takes a number from 1e-08 to 1,000,000"),
                                ("lr", "-0.5", "Learning rate"), ("lr", "1e-9", "from 1e-08"),
                                ("width", "9000", "to 5,000 in the app"),
                                ("batch_size", "500", "at most the number of points N = 100")):
        w.notice.clear()
        type_into(field, text)
        assert w.notice.isVisible() and needle in w.notice.text(), (field, text, w.notice.text())
        assert f"'{text}' was not applied" in w.notice.text()
        assert w.config == config and w.displayed_snapshot.step == 10, (field, text)
        assert w.panel.widgets[field].value() == getattr(config, field)
    type_into("lr", "0.05")  # in range: applied, no clamping
    assert w.config.lr == 0.05


def test_a_bound_lowers_its_dependent_and_gives_it_back(qtbot, make_window):
    w = make_window()
    assert w.config.batch_size == 10
    w.panel.widgets["n_train"].setValue(5)  # B <= N: B goes down to 5, and the notice says so
    assert (w.config.n_train, w.config.batch_size) == (5, 5)
    assert "Batch size B lowered from 10 to 5" in w.notice.text()
    w.panel.widgets["n_train"].setValue(200)  # the bound goes away: B comes back
    assert (w.config.n_train, w.config.batch_size) == (200, 10)
    assert "Batch size B back to 10" in w.notice.text()
    w.panel.widgets["n_train"].setValue(6)
    w.panel.widgets["batch_size"].setValue(3)  # the user's own choice is kept from then on
    w.panel.widgets["n_train"].setValue(300)
    assert w.config.batch_size == 3


def test_t_max_zero_says_it_means_the_run_length(panel):
    panel.set_config(DEFAULT.updated({"schedule": "cosine", "t_max": 0}))
    assert panel.widgets["t_max"].text() == "0 = the run length"
    panel.set_config(DEFAULT.updated({"schedule": "cosine", "t_max": 5000}))
    assert panel.widgets["t_max"].text() == "5000"
