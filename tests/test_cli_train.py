"""`reluviz train`: the history file's contents, and one-line errors with exit code 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core import TrainConfig, Trainer
from reluviz.core.presets import load_preset, preset_names


def test_train_writes_documented_history(tmp_path):
    out = tmp_path / "h.npz"
    assert main(["train", "--preset", "notebook", "--steps", "300", "--every", "1", "--record-batches",
                 "--out", str(out), "--quiet"]) == 0
    h = np.load(out)
    assert list(h["step"]) == list(range(301))
    for k in ("w", "b", "v"):
        assert h[k].shape == (301, 20)
    for k in ("c", "lr", "batch_loss", "train_loss", "test_loss"):
        assert h[k].shape == (301,)
    assert h["batch"].shape == (300, 40)
    assert h["x_train"].shape == (200,) and h["x_test"].shape == (1000,)
    cfg = TrainConfig.from_dict(json.loads(str(h["config"])))
    assert cfg == load_preset("notebook").config
    # parameters at step k equal an independent trainer run for k steps
    tr = Trainer(cfg)
    tr.run(123)
    np.testing.assert_array_equal(tr.snapshot().w, h["w"][123])
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert int(h["diverged_at"]) == -1


def test_every_k_and_set_overrides(tmp_path):
    out = tmp_path / "h.npz"
    assert main(["train", "--set", "model=linear", "--set", "lr=0.1", "--steps", "100", "--every", "25",
                 "--out", str(out), "--quiet"]) == 0
    h = np.load(out)
    assert list(h["step"]) == [0, 25, 50, 75, 100]
    assert h["theta"].shape == (5,)


@pytest.mark.parametrize("args,needle", [
    (["--set", "foo=1"], "unknown setting 'foo'"),
    (["--set", "width=-3"], "width must be"),
    (["--set", "lr=0"], "lr must be a positive"),
    (["--set", "lr=abc"], "lr expects a float"),
    (["--set", "batch_size=500"], "larger than the data"),
    (["--set", "target=csv", "--set", "csv_path=/nonexistent.csv"], "cannot open"),
    (["--preset", "nope"], "unknown preset"),
    (["--steps", "10", "--every", "2", "--record-batches"], "needs --every 1"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, needle):
    proc = subprocess.run([sys.executable, "-m", "reluviz", "train", *args, "--out", str(tmp_path / "x.npz")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.npz").exists()


def test_every_preset_loads_and_trains_briefly():
    names = preset_names()
    for required in ("notebook", "constant-model", "linear-model", "dance", "diverge", "dead-relus", "output-only"):
        assert required in names
    for name in names:
        p = load_preset(name)
        assert p.description and p.title
        tr = Trainer(p.config)
        tr.run(20)


def test_diverge_preset_stops_early_and_says_why(tmp_path):
    out = tmp_path / "d.npz"
    proc = subprocess.run([sys.executable, "-m", "reluviz", "train", "--preset", "diverge", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "too large" in proc.stderr
    h = np.load(out)
    assert int(h["diverged_at"]) > 0 and np.all(np.isfinite(h["w"]))
