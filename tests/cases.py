"""Inputs that tests of several subjects share (imported as ``cases``): bad CSV, settings and preset
files (the core and the command line refuse them in one line, the window with a notice), and
absurd learning rates (the trainer, recordings, the session and the window stop with a reason)."""

from __future__ import annotations

import json

import numpy as np

from reluviz.core import TrainConfig

# ---------------------------------------------------------------------- bad files
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


def write(path, content):
    """Write text (UTF-8) or bytes to ``path``; returns ``path``."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def as_preset(content):
    """A bad settings file's content as a preset file: a preset holds its settings under "config"."""
    try:
        settings = json.loads(content)
    except (ValueError, RecursionError):
        return content
    if isinstance(settings, dict) and "config" not in settings:
        return json.dumps({"title": "t", "config": settings})
    return content


def million_row_csv(path):
    """A valid CSV of 10^6 points of sin(6x) (about 19 MB)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 1_000_000)
    np.savetxt(path, np.c_[x, np.sin(6 * x)], delimiter=",", header="x,y", comments="", fmt="%.9g")
    return path


# ---------------------------------------------------------------------- absurd learning rates
#: Divergence everywhere: absurd rates with every optimizer, schedule and model. One exception, by
#: design: Adam moves each parameter by about ``lr`` per step, whatever the gradient, so on the
#: small worksheet models (constant, linear, affine) at lr = 1e3 it hops around with an amplitude of
#: ~1e3 (a loss of ~1e6, below the explode limit of 1e10 (1 + mean y^2)) and never blows up. There
#: the run must simply stay finite (``bounded_adam``).
MODELS = ("relu", "constant", "linear", "affine")
RATES = (1e3, 1e6)
ABSURD_STEPS = 3000


def absurd(model, optimizer, schedule, lr, **extra) -> TrainConfig:
    return TrainConfig(model=model, optimizer=optimizer, schedule=schedule, lr=lr, n_train=50, batch_size=4,
                       width=20, steps=ABSURD_STEPS, **extra)


def bounded_adam(model, optimizer, lr) -> bool:
    return optimizer == "adam" and model != "relu" and lr == 1e3


def assert_stopped_with_a_reason(reason: str, lr: float, optimizer: str) -> None:
    assert reason.startswith("loss became ")
    assert f"({lr:g}, {optimizer})" in reason and "lower it" in reason
