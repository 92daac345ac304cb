"""Every setting is described once (``reluviz.core.config.SETTINGS``): validate, the side panel and
``--help`` read the same ranges, choices, tooltips and rules."""

import dataclasses
import math
import subprocess
import sys

import pytest

from reluviz.core import config as cfgmod
from reluviz.core.config import (GROUPS, MAX_STEPS, RESET_FIELDS, SETTINGS, ConfigError, TrainConfig,
                                 reset_fields_changed)
from reluviz.core.data import TARGET_FUNCTIONS

DEFAULT = TrainConfig()


def test_every_field_has_its_setting():
    assert tuple(SETTINGS) == TrainConfig.field_names()
    for f in dataclasses.fields(TrainConfig):
        s = f.metadata.get("setting")
        assert s is SETTINGS[f.name], f.name
        assert s.label and s.tip and s.group in GROUPS, f.name
        assert s.one_line() and "\n" not in s.one_line(), f.name
        default = getattr(DEFAULT, f.name)
        if isinstance(default, str):
            assert not s.choices or default in s.choices, f.name
            assert not s.choice_labels or len(s.choice_labels) == len(s.choices), f.name
        else:  # numbers: a whole number exactly when shown without decimals
            assert (s.decimals == 0) == isinstance(default, int), f.name
            assert s.problem(f.name, default) is None, f.name
        if s.applies_when is not None:
            assert s.applies_when.field in SETTINGS, f.name
            assert all(not isinstance(v, str) or v in SETTINGS[s.applies_when.field].choices
                       for v in s.applies_when.values), f.name
    assert SETTINGS["target"].choices == cfgmod.TARGETS and cfgmod.TARGETS[:-1] == tuple(TARGET_FUNCTIONS)
    assert SETTINGS["optimizer"].choices == cfgmod.OPTIMIZERS and SETTINGS["schedule"].choices == cfgmod.SCHEDULES
    assert RESET_FIELDS == ("target", "n_train", "noise", "data_seed", "csv_path", "model", "width", "init",
                            "init_seed")


def test_applies_when_names_the_choices_that_use_a_setting():
    values = DEFAULT.to_dict()
    assert not SETTINGS["momentum"].applies(values)
    assert SETTINGS["momentum"].applies({**values, "optimizer": "nesterov"})
    assert SETTINGS["beta2"].applies({**values, "optimizer": "adam"})
    assert not SETTINGS["gamma"].applies(values) and SETTINGS["gamma"].applies({**values, "schedule": "step"})
    assert not SETTINGS["width"].applies({**values, "model": "linear"})
    assert not SETTINGS["noise"].applies({**values, "target": "csv"})
    assert not SETTINGS["sampling"].applies({**values, "batch_size": 0}) and SETTINGS["sampling"].applies(values)


def test_reset_fields_changed():
    new = DEFAULT.updated({"width": 7, "lr": 0.5, "sample_seed": 3})
    assert reset_fields_changed(DEFAULT, new) == ["width"]
    assert reset_fields_changed(DEFAULT, new, extra=("sample_seed",)) == ["width", "sample_seed"]
    assert reset_fields_changed(DEFAULT, DEFAULT) == []


def outside(name):
    """Values just outside ``name``'s range (or choices)."""
    s = SETTINGS[name]
    if s.choices:
        return ["nope"]
    if s.lo is None and s.hi is None:
        return []
    if s.decimals == 0:
        return [s.lo - 1, (s.hi if s.hi is not None else MAX_STEPS) + 1]
    out = [math.nan, math.inf, -math.inf]
    out.append(s.lo if s.lo_open else s.lo - 10.0 ** -s.decimals)
    if s.hi is not None:
        out.append(s.hi if s.hi_open else s.hi * 1.5 + 1)
    return out


@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_value_out_of_range_is_refused_in_one_line(name):
    bad = outside(name)
    assert bad or name == "csv_path"
    for value in bad:
        config = dataclasses.replace(DEFAULT, **{name: value})
        with pytest.raises(ConfigError) as info:
            config.validate()
        message = str(info.value)
        assert message.startswith(f"{name} must be") and "\n" not in message, message
        assert SETTINGS[name].problem(name, value) == message


@pytest.mark.parametrize("name", [n for n, s in SETTINGS.items() if s.lo is not None])
def test_the_ends_of_a_range_are_allowed(name):
    s = SETTINGS[name]
    lo, hi = s.panel_range()
    assert s.problem(name, lo) is None and s.problem(name, hi) is None


def test_help_lists_every_setting_by_group_with_its_range_and_owner():
    proc = subprocess.run([sys.executable, "-m", "reluviz", "train", "--help"], capture_output=True, text=True,
                          env={"COLUMNS": "100", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in SETTINGS:
        assert f"\n    {name}" in out, name
    assert "momentum (optimizer momentum, nesterov only): [0, 1)" in out
    assert "step_size (schedule step only)" in out and "width* (model relu only): 1 to 100,000" in out
    assert "sgd | momentum | nesterov | adam" in out
    positions = [out.index(f"\n  {cfgmod._GROUP_TITLES[g]}:") for g in GROUPS]
    assert positions == sorted(positions)
    for command in ([], ["export"]):
        text = subprocess.run([sys.executable, "-m", "reluviz", *command, "--help"], capture_output=True,
                              text=True).stdout
        assert "momentum (optimizer momentum, nesterov only)" in text.replace("\n        ", " ")


# ---------------------------------------------------------------------- the side panel
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
