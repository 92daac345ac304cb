"""Bad files never crash reluviz: CSV data, config and preset files, the saved settings.

Each bad input gives a one-line ``ConfigError`` (the core and the command line) or a notice in the
window, and leaves the run on screen as it was (same history, same displayed step, same config).
"""

from __future__ import annotations

import pytest

from reluviz.core import ConfigError
from cases import BAD_SETTINGS_FILES, as_preset, write

# ---------------------------------------------------------------------- config and preset files
from reluviz.cli import main as cli_main  # noqa: E402
from reluviz.core import TrainConfig  # noqa: E402
from reluviz.core.presets import load_preset_file  # noqa: E402

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


@pytest.mark.parametrize("name, content, needle", BAD_SETTINGS_FILES[:8] + BAD_SETTINGS_FILES[-2:],
                         ids=[c[0] for c in BAD_SETTINGS_FILES[:8] + BAD_SETTINGS_FILES[-2:]])
def test_cli_prints_one_line_and_exits_2_on_a_bad_config_file(tmp_path, capsys, name, content, needle):
    path = write(tmp_path / name, content)
    code = cli_main(["train", "--config", str(path), "--steps", "3", "--out", str(tmp_path / "out.npz")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("reluviz: error: ") and err.count("\n") == 1 and needle in err
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize("assignment", ["data_seed=-1", "init_seed=-3", "sample_seed=5e9", "steps=1e13",
                                        "csv_path=/nonexistent.csv", "target=csv"])
def test_cli_refuses_bad_assignments_without_a_traceback(tmp_path, capsys, assignment):
    extra = ["--set", "target=csv"] if assignment.startswith("csv_path") else []
    code = cli_main(["train", *extra, "--set", assignment, "--steps", "3", "--out", str(tmp_path / "o.npz")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("reluviz: error: ") and "Traceback" not in err


def test_cli_refuses_a_recording_that_cannot_fit_in_memory(tmp_path, capsys):
    code = cli_main(["train", "--steps", "100000000000", "--out", str(tmp_path / "o.npz")])
    err = capsys.readouterr().err
    assert code == 2 and "GB" in err and "--every" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["--config", "CFG"], ["--preset", "no-such-preset"], ["--set", "width=0"],
                                  ["--set", "lr"], ["--config", "CFG", "--set", "data_seed=-5"]])
def test_launching_the_app_with_bad_settings_is_one_line_before_any_window(tmp_path, capsys, monkeypatch, args):
    import reluviz.cli as cli

    opened = []
    monkeypatch.setattr(cli, "_launch_app", lambda *a: opened.append(a) or 0)
    bad = write(tmp_path / "bad.json", "[1, 2]")
    code = cli_main([str(bad) if a == "CFG" else a for a in args])
    err = capsys.readouterr().err
    assert code == 2 and not opened
    assert err.startswith("reluviz: error: ") and err.count("\n") == 1
