"""Bad files never crash reluviz: CSV data, config and preset files, the saved settings.

Each bad input gives a one-line ``ConfigError`` (the core and the command line) or a notice in the
window, and leaves the run on screen as it was (same history, same displayed step, same config).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from reluviz.core import ConfigError
from reluviz.core import data as data_module
from reluviz.core.data import load_csv

#: (file name, content, what the message must say). Content is text, or bytes for binary files.
BAD_CSVS = [
    ("empty.csv", "", "at least 4 rows"),
    ("header_only.csv", "x,y\n", "at least 4 rows"),
    ("blank_lines.csv", "\n \n,\n\n", "at least 4 rows"),
    ("nan.csv", "x,y\n0,1\n0.5,nan\n1,2\n2,3\n", "line 3: values must be finite"),
    ("inf.csv", "0,1\n1,inf\n2,3\n3,4\n", "finite"),
    ("overflow.csv", "0,1\n1,1e999\n2,3\n3,4\n", "finite"),
    ("huge.csv", "0,1\n1,1e300\n2,3\n3,4\n", "at most 1e6"),
    ("huge_x.csv", "-5e6,1\n1,1\n2,3\n3,4\n", "at most 1e6"),
    ("text.csv", "x,y\n1,2\nfoo,bar\n3,4\n5,6\n", "line 3: 'foo,bar' is not a pair of numbers"),
    ("two_headers.csv", "x,y\nx,y\n1,2\n3,4\n5,6\n7,8\n", "line 2"),
    ("one_column.csv", "1\n2\n3\n4\n", "expected two columns"),
    ("short_row.csv", "1,2\n2,3\n3\n4,5\n", "line 3: expected two columns"),
    ("same_x.csv", "1,1\n1,2\n1,3\n1,4\n", "all x values are equal"),
    ("three_rows.csv", "1,1\n2,2\n3,3\n", "found 3"),
    ("binary.csv", bytes(range(256)) * 8, "not a text file"),
    ("nul.csv", b"1,2\n2,3\x00\n3,4\n4,5\n", "not a text file"),
    ("latin1.csv", "x,y\n1,2\ncaf\u00e9,3\n".encode("latin-1"), "not a text file"),
    ("png.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "not a text file"),
]


def write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, content, needle", BAD_CSVS, ids=[c[0] for c in BAD_CSVS])
def test_bad_csv_gives_a_clear_one_line_message(tmp_path, name, content, needle):
    path = write(tmp_path / name, content)
    with pytest.raises(ConfigError) as info:
        load_csv(path)
    message = str(info.value)
    assert needle in message, message
    assert "\n" not in message and len(message) < 300


def test_missing_file_and_folder_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="cannot open"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="cannot open"):
        load_csv(tmp_path)


def test_csv_limits_on_rows_and_bytes_are_explained(tmp_path, monkeypatch):
    path = write(tmp_path / "rows.csv", "".join(f"{i},{i}\n" for i in range(30)))
    monkeypatch.setattr(data_module, "CSV_MAX_ROWS", 20)
    with pytest.raises(ConfigError, match="more than 20 rows"):
        load_csv(path)
    monkeypatch.setattr(data_module, "CSV_MAX_BYTES", 100)
    with pytest.raises(ConfigError, match="too large"):
        load_csv(path)


@pytest.mark.parametrize("content", [
    "x,y\r\n0,0\r\n1,1\r\n2,4\r\n3,9\r\n",            # Windows line ends
    "\ufeffx,y\n0,0\n1,1\n2,4\n3,9\n",                  # a byte-order mark (Excel's UTF-8 CSV)
    "\n\n x , y\n0, 0, extra\n1,1\n\n2,4\n3,9",         # blank lines, spaces, a third column, no final newline
    '"x","y"\n"0","0"\n"1","1"\n"2","4"\n"3","9"\n',  # quoted cells
])
def test_unusual_but_valid_csvs_load(tmp_path, content):
    ds = load_csv(write(tmp_path / "ok.csv", content))
    assert ds.n + len(ds.x_test) == 4
    np.testing.assert_array_equal(np.sort(np.r_[ds.x_train, ds.x_test]), [0, 1, 2, 3])
    np.testing.assert_array_equal(np.r_[ds.y_train, ds.y_test], np.r_[ds.x_train, ds.x_test] ** 2)


def test_fast_and_row_by_row_readers_agree(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=500), rng.normal(size=500)
    text = "x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y))
    fast = data_module._parse_fast(text)
    slow = data_module._parse_rows(text, "f.csv")
    assert fast is not None
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fast[0], x)


def million_row_csv(path):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 1_000_000)
    np.savetxt(path, np.c_[x, np.sin(6 * x)], delimiter=",", header="x,y", comments="", fmt="%.9g")
    return path


def test_a_million_rows_load_in_a_few_seconds(tmp_path):
    path = million_row_csv(tmp_path / "big.csv")
    t0 = time.perf_counter()
    ds = load_csv(path)
    seconds = time.perf_counter() - t0
    print(f"10^6-row CSV ({path.stat().st_size / 2**20:.0f} MB) loaded in {seconds:.2f} s")
    assert ds.n == 800_000 and len(ds.x_test) == 200_000
    assert seconds < 4.0


# ---------------------------------------------------------------------- config and preset files
from reluviz.cli import main as cli_main  # noqa: E402
from reluviz.core import TrainConfig  # noqa: E402
from reluviz.core.presets import load_preset_file  # noqa: E402

#: Settings files that are not settings: (name, content, what the message must say).
BAD_SETTINGS_FILES = [
    ("truncated.json", '{"lr": 0.1, "width": ', "not valid JSON"),
    ("empty.json", "", "not valid JSON"),
    ("list.json", "[1, 2, 3]", "JSON object"),
    ("number.json", "42", "JSON object"),
    ("string.json", '"notebook"', "JSON object"),
    ("null.json", "null", "JSON object"),
    ("config_list.json", '{"config": [1, 2]}', "'config' must be a JSON object"),
    ("nested_junk.json", '{"lr": {"a": [1, {"b": null}]}}', "lr expects a float"),
    ("unknown_key.json", '{"learning_rate": 0.1}', "unknown setting 'learning_rate'"),
    ("wrong_type.json", '{"width": "wide"}', "width expects a int"),
    ("bool_width.json", '{"width": true}', "width expects a int"),
    ("null_lr.json", '{"lr": null}', "lr expects a float"),
    ("inf_width.json", '{"width": 1e400}', "width expects a int"),
    ("nan_lr.json", '{"lr": NaN}', "lr must be a positive number"),
    ("negative_seed.json", '{"data_seed": -1}', "data_seed must be a whole number from 0"),
    ("huge_seed.json", '{"init_seed": 1e20}', "init_seed must be a whole number from 0"),
    ("huge_steps.json", '{"steps": 1e30}', "steps must be at most"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("binary.json", bytes(range(256)), "not a text file"),
]


@pytest.mark.parametrize("name, content, needle", BAD_SETTINGS_FILES, ids=[c[0] for c in BAD_SETTINGS_FILES])
def test_bad_config_file_gives_a_clear_message(tmp_path, name, content, needle):
    path = write(tmp_path / name, content)
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_json_file(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def as_preset(content):
    """A bad settings file's content as a preset file: a preset holds its settings under "config"."""
    try:
        settings = json.loads(content)
    except (ValueError, RecursionError):
        return content
    if isinstance(settings, dict) and "config" not in settings:
        return json.dumps({"title": "t", "config": settings})
    return content


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
