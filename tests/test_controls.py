"""The side panel: ranges, steps, choices and tooltips from the settings' metadata, the app's own
limits on top, and the controls enabled exactly when their setting applies."""

import pytest

from reluviz.core.config import SETTINGS, TrainConfig

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
