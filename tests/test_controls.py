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
