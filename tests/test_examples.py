"""The scripts in examples/ run: each in a subprocess, offscreen, with arguments that make it stop
after a few frames or steps; each must exit 0 and show that it did its work."""

from __future__ import annotations

import csv
import math
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str) -> str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{name} exited with {done.returncode}:\n{done.stderr[-2000:]}"
    return done.stdout


def test_every_example_is_tested_small_and_documented():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == ["fit_plot_live.py", "headless_export.py", "seed_bands.py"]
    for name in scripts:
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        assert text.startswith('"""') and f"examples/{name}" in text, f"{name}: say how to run it"
        assert len(text.splitlines()) <= 60, f"{name} is over 60 lines"


def test_fit_plot_live_draws_frames_from_a_trainer():
    out = run_example("fit_plot_live.py", "--frames", "5", "--steps-per-frame", "20")
    found = re.search(r"^5 frames, step (\d+), train loss (\S+), validation loss (\S+)$", out, re.M)
    assert found, out
    assert int(found[1]) == 100
    assert math.isfinite(float(found[2])) and math.isfinite(float(found[3]))


def test_fit_plot_live_stops_with_a_diverging_run():
    out = run_example("fit_plot_live.py", "--preset", "diverge", "--frames", "50", "--steps-per-frame", "200")
    found = re.search(r"^(\d+) frames, step (\d+),", out, re.M)
    assert found and int(found[1]) < 50, out


def _bands(out: str) -> dict[str, tuple[int, int, float]]:
    rows = re.findall(r"^\s*(\w+): (\d+) seeds, step ([\d,]+): median validation loss (\S+)", out, re.M)
    return {opt: (int(seeds), int(step.replace(",", "")), float(median)) for opt, seeds, step, median in rows}


def test_seed_bands_prints_the_bands_of_every_optimizer():
    out = run_example("seed_bands.py", "--no-window", "--seeds", "4", "--steps", "200")
    bands = _bands(out)
    assert set(bands) == {"sgd", "momentum", "adam"}, out
    for seeds, step, median in bands.values():
        assert (seeds, step) == (4, 200) and 0 < median < 1


def test_seed_bands_draws_its_window():
    out = run_example("seed_bands.py", "--close", "--seeds", "3", "--steps", "100", "--optimizers", "sgd", "adam")
    assert set(_bands(out)) == {"sgd", "adam"}, out


def test_headless_export_writes_a_gif(tmp_path):
    from PIL import Image

    gif = tmp_path / "run.gif"
    out = run_example("headless_export.py", "--out", str(gif), "--frames", "5", "--steps", "200",
                      "--size", "320", "180")
    assert f"wrote {gif} (5 frames)" in out, out
    with Image.open(gif) as im:
        assert (im.n_frames, im.size) == (5, (320, 180))
    with open(tmp_path / "run.gif.frames.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["frame", "step"] and len(rows) == 6 and rows[-1][1] == "200"
