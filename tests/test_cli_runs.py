"""The command line around run files and terminal manners: ``reluviz export --from`` a file of
``reluviz train`` draws the very frames (pixel for pixel) of exporting the same run with training,
ghost and early stop included; settings given beside ``--from``/``--open``, or that cannot take
effect (``csv_path`` without ``target=csv``), are one-line errors; progress shows steps, rate,
time left and loss on a terminal and nothing when piped; ``--version`` and ``reluviz presets``."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest

from reluviz import __version__
from reluviz.cli import TerminalProgress, check_effective, main
from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.presets import preset_names

from helpers import gif_frames, read_csv_rows

SIZE = ["--size", "320x180"]


def _pngs(folder):
    from PIL import Image

    return [np.asarray(Image.open(folder / f"frame_{k:05d}.png").convert("RGB")) for k in range(len(read_csv_rows(folder / "frames.csv")))]


@pytest.mark.parametrize("preset, extra", [
    ("notebook", ["--set", "width=6", "--set", "n_train=50", "--set", "batch_size=10"]),
    ("dance", []),                                  # a ghost run, trained again from the file's settings
    ("diverge", ["--set", "width=6"]),              # stops early: frames chosen over the steps that exist
])
def test_export_from_a_train_file_draws_the_frames_of_exporting_with_training(tmp_path, qapp, preset, extra):
    run = tmp_path / "run.npz"
    assert main(["train", "--preset", preset, *extra, "--steps", "400", "--out", str(run), "--quiet"]) == 0
    frames = ["--frames", "9", "--spacing", "log", *SIZE, "--quiet"]
    assert main(["export", "--from", str(run), *frames, "--out", str(tmp_path / "opened")]) == 0
    assert main(["export", "--preset", preset, *extra, "--steps", "400", *frames, "--out", str(tmp_path / "trained")]) == 0
    opened, trained = read_csv_rows(tmp_path / "opened" / "frames.csv"), read_csv_rows(tmp_path / "trained" / "frames.csv")
    assert opened == trained and len(opened) >= 5
    a, b = _pngs(tmp_path / "opened"), _pngs(tmp_path / "trained")
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert any(not np.array_equal(a[0], x) for x in a[1:])  # (the frames do change)


def test_export_from_a_file_with_every_k_steps_and_a_gif(tmp_path, qapp, capsys):
    run = tmp_path / "run.npz"
    assert main(["train", "--set", "width=5", "--set", "n_train=40", "--set", "batch_size=8", "--steps", "300",
                 "--every", "10", "--out", str(run), "--quiet"]) == 0
    out = tmp_path / "run.gif"
    assert main(["export", "--from", str(run), "--every", "25", *SIZE, "--out", str(out), "--quiet"]) == 0
    rows = read_csv_rows(str(out) + ".frames.csv")
    assert [int(r["step"]) for r in rows] == sorted({(s // 10) * 10 for s in range(0, 301, 25)} | {300})
    assert len(gif_frames(out)) == len(rows)
    captured = capsys.readouterr()
    assert "not in the recorded history" in captured.err and "of run.npz" in captured.out
    assert main(["export", "--from", str(run), "--steps", "100", "--frames", "3", *SIZE, "--out",
                 str(tmp_path / "first"), "--quiet"]) == 0
    assert [int(r["step"]) for r in read_csv_rows(tmp_path / "first" / "frames.csv")] == [0, 50, 100]


@pytest.mark.parametrize("args, needle", [
    (["export", "--from", "RUN", "--set", "lr=0.1", "--out", "x.gif"], "--from takes the run's settings from the file; --set"),
    (["export", "--from", "RUN", "--preset", "dance", "--out", "x.gif"], "--preset cannot take effect"),
    (["export", "--from", "RUN", "--compare", "lr=0.1", "--out", "x.gif"], "--compare cannot take effect"),
    (["export", "--from", "NOFILE", "--out", "x.gif"], "no such file"),
    (["export", "--from", "RUN", "--steps", "-5", "--out", "x.gif"], "before the file's first"),
    (["--open", "RUN", "--set", "width=3"], "--open takes the run's settings"),
    (["--open", "BAD"], "not a reluviz run file"),
    (["train", "--set", "csv_path=points.csv", "--out", "y.npz"],
     "--set csv_path=points.csv cannot take effect: it is used only when target is csv, and this run has target=piecewise"),
    (["train", "--set", "momentum=0.5", "--out", "y.npz"], "used only when optimizer is momentum or nesterov"),
    (["train", "--set", "sample_seed=3", "--set", "batch_size=0", "--out", "y.npz"], "used only with not full batch"),
    (["train", "--set", "width=30", "--set", "model=linear", "--out", "y.npz"], "width=30 cannot take effect"),
    (["train", "--preset", "dance", "--compare", "beta1=0.5", "--out", "y.npz"], "--compare beta1=0.5 cannot take effect"),
    (["train", "--config", "CFG", "--out", "y.npz"], "--set decay=0.5 cannot take effect"),
])
def test_settings_that_cannot_take_effect_are_one_line_errors(tmp_path, capsys, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run.npz"
    main(["train", "--set", "width=3", "--set", "n_train=20", "--set", "batch_size=5", "--steps", "10",
          "--out", str(run), "--quiet"])
    (tmp_path / "bad.npz").write_text("not a run")
    (tmp_path / "cfg.json").write_text('{"decay": 0.5}')  # an inverse-schedule setting, schedule constant
    capsys.readouterr()
    before = sorted(os.listdir(tmp_path))
    subs = {"RUN": str(run), "NOFILE": str(tmp_path / "none.npz"), "BAD": str(tmp_path / "bad.npz"),
            "CFG": str(tmp_path / "cfg.json")}
    assert main([subs.get(a, a) for a in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reluviz: error: ") and needle in err[0], err
    assert sorted(os.listdir(tmp_path)) == before  # nothing written


def test_defaults_that_do_not_apply_and_preset_values_stay_allowed():
    check_effective(TrainConfig(), {})  # momentum 0.9 with plain sgd: a default, allowed
    config = TrainConfig(target="csv", csv_path="x.csv", batch_size=0)
    check_effective(config, {"csv_path": "x.csv", "target": "csv"})
    with pytest.raises(ConfigError, match="n_train=500 cannot take effect: it is not used when target is csv"):
        check_effective(config, {"n_train": "500"})


def test_help_says_which_settings_belong_to_which():
    proc = subprocess.run([sys.executable, "-m", "reluviz", "train", "--help"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "120"})
    text = proc.stdout.replace("\n        ", " ")
    assert "csv_path* (target csv only)" in text and "beta1 (optimizer adam only)" in text
    assert "--params-only" in text and "--open FILE.npz" in text


# ---------------------------------------------------------------------- terminal manners
class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_shows_steps_rate_time_left_and_loss():
    clock = iter([0.0, 2.0, 2.05, 4.0, 5.0])
    term = FakeTerminal()
    progress = TerminalProgress("training", stream=term, clock=lambda: next(clock))
    progress(0, 1000)
    progress(200, 1000, 0.5)          # 100 steps/s: 8 s left
    progress(210, 1000, 0.4)          # within 0.1 s of the last redraw: skipped
    progress(600, 1000, 0.25)
    progress(1000, 1000, 0.125)
    lines = term.getvalue().split("\r")
    assert "training 200/1,000 steps   20%  100 steps/s  0:08 left  minibatch MSE 0.5" in lines[2]
    assert not any("210/" in line for line in lines)
    assert "training 600/1,000 steps   60%  150 steps/s  0:03 left  minibatch MSE 0.25" in lines[3]
    assert lines[4].startswith("training 1,000/1,000 steps  100%  200 steps/s  in 0:05") and lines[4].endswith("\n")


def test_progress_is_silent_when_piped_or_quiet():
    piped = io.StringIO()
    TerminalProgress("training", stream=piped)(5, 10, 0.1)
    quiet = FakeTerminal()
    TerminalProgress("training", quiet=True, stream=quiet)(5, 10, 0.1)
    assert piped.getvalue() == "" and quiet.getvalue() == ""


def test_train_on_a_terminal_shows_progress_and_piped_prints_only_the_result(tmp_path):
    import pty

    out = tmp_path / "run.npz"
    args = [sys.executable, "-m", "reluviz", "train", "--set", "width=4", "--set", "n_train=40", "--steps", "3000",
            "--out", str(out)]
    piped = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.startswith(f"wrote {out} (3,001 steps recorded") and piped.stdout.count("\n") == 1
    leader, follower = pty.openpty()
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, timeout=120)
    os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 65536):
            shown += chunk
    except OSError:
        pass
    os.close(leader)
    shown = shown.decode()
    assert proc.returncode == 0
    assert "training 3,000/3,000 steps  100%" in shown and "steps/s" in shown and "minibatch MSE" in shown
    assert "losses   3,001/3,001 rows" in shown and f"writing {out}..." in shown


def test_version_and_presets(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"reluviz {__version__}"
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == preset_names()
    assert lines[0].split(None, 1)[1] == "Course notebook"
