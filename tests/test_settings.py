"""Settings: every setting is described once (``reluviz.core.config.SETTINGS``), and validate, the
side panel (``test_controls.py``) and ``--help`` read the same ranges, choices, tooltips and rules;
config and preset files that are not settings are refused in one line; the presets load and train."""

import dataclasses
import json
import math
import subprocess
import sys

import pytest

from reluviz.core import Trainer
from reluviz.core import config as cfgmod
from reluviz.core.config import (GROUPS, MAX_STEPS, RESET_FIELDS, SETTINGS, ConfigError, TrainConfig,
                                 reset_fields_changed, settings_help)
from reluviz.core.data import TARGET_FUNCTIONS
from reluviz.core.presets import load_preset, load_preset_file, preset_names

from cases import BAD_SETTINGS_FILES, as_preset, write

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
    assert RESET_FIELDS == ("target", "n_train", "n_val", "n_test", "noise", "data_seed", "csv_path", "val_fraction",
                            "test_fraction", "model", "width", "init", "init_seed", "depth", "activation", "leaky_slope")


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


# ---------------------------------------------------------------------- config and preset files
@pytest.mark.parametrize("name, content, needle", BAD_SETTINGS_FILES, ids=[c[0] for c in BAD_SETTINGS_FILES])
def test_bad_config_file_gives_a_clear_message(tmp_path, name, content, needle):
    path = write(tmp_path / name, content)
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_json_file(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name, content, needle", BAD_SETTINGS_FILES, ids=[c[0] for c in BAD_SETTINGS_FILES])
def test_bad_preset_file_gives_a_clear_message(tmp_path, name, content, needle):
    path = write(tmp_path / name, as_preset(content))
    with pytest.raises(ConfigError) as info:
        load_preset_file(path)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    if needle not in ("JSON object", "'config' must be a JSON object"):
        assert needle in message, message


@pytest.mark.parametrize("values", [[1, 2], 5, "lr=1", None, {"lr": [[]]}, {"width": 2**70}])
def test_settings_of_the_wrong_type_are_a_config_error(values):
    with pytest.raises(ConfigError):
        TrainConfig.from_dict(values)


# ---------------------------------------------------------------------- presets
def test_every_preset_loads_and_trains_briefly():
    names = preset_names()
    for required in ("notebook", "constant-model", "linear-model", "dance", "diverge", "dead-relus", "output-only"):
        assert required in names
    for name in names:
        p = load_preset(name)
        assert p.description and p.title
        tr = Trainer(p.config)
        moved = tr.run(20)
        assert moved == 20 or tr.divergence is not None, name


# ---------------------------------------------------------------------- the old name weight_decay
def test_weight_decay_is_read_as_ridge_half_with_a_note(tmp_path):
    """torch's weight_decay adds wd * theta to the gradient, the gradient of (wd / 2) ||theta||^2:
    the notes' lambda is half of it. Old files, presets and --set still load, converted."""
    from reluviz.core.config import legacy_notes, read_settings_file

    assert TrainConfig.from_dict({"weight_decay": 0.5}).ridge == 0.25
    assert TrainConfig().with_assignments(["weight_decay=0.02"]).ridge == 0.01
    assert "weight_decay" not in TrainConfig().to_dict()
    assert not any(line.startswith("    weight_decay") for line in settings_help().splitlines())  # (no such setting)
    assert "torch's weight_decay = 2 lambda" in " ".join(settings_help().split())
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"config": {"weight_decay": 0.3, "width": 5}}))
    assert TrainConfig.from_json_file(path).ridge == pytest.approx(0.15)
    (note,) = legacy_notes(read_settings_file(path))
    assert note == ("the old setting weight_decay=0.3 is read as ridge=0.15 (ridge is the notes' lambda; torch's "
                    "weight_decay is 2 lambda)")
    assert legacy_notes({"ridge": 0.1}) == [] and legacy_notes("junk") == []
    preset = tmp_path / "old-preset.json"
    preset.write_text(json.dumps({"title": "old", "config": {"weight_decay": 0.1}, "compare": {"weight_decay": 0.2}}))
    loaded = load_preset_file(preset)
    assert loaded.config.ridge == 0.05 and len(loaded.notes) == 2 and "old-preset.json" in loaded.notes[0]


@pytest.mark.parametrize("values, needle", [
    ({"ridge": -0.5}, "ridge must be a number in [0, 100], got -0.5"),
    ({"weight_decay": -1}, "ridge must be a number in [0, 100], got -0.5"),  # (converted first, then checked)
    ({"weight_decay": 0.1, "ridge": 0.05}, "weight_decay and ridge are both given"),
    ({"weight_decay": "lots"}, "weight_decay expects a float"),
])
def test_bad_ridge_settings_are_one_line(values, needle):
    with pytest.raises(ConfigError) as e:
        TrainConfig().updated(values)
    assert needle in str(e.value) and "\n" not in str(e.value)
