"""
Train and export an animated GIF without a window or the command line: reluviz.export.pipeline
trains the configuration, draws the chosen steps through the app's own TrainingView offscreen and
writes the GIF (and its frames.csv) whole or not at all. The same as `reluviz export`.

    .venv/bin/python examples/headless_export.py --out run.gif
    .venv/bin/python examples/headless_export.py --preset dance --steps 5000 --frames 40 --out dance.gif
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed (set before Qt loads)

from reluviz.core.presets import load_preset  # noqa: E402
from reluviz.export import select_steps  # noqa: E402
from reluviz.export.pipeline import export_run, sidecar_path  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
parser.add_argument("--preset", default="notebook")
parser.add_argument("--steps", type=int, default=3000, help="updates to train")
parser.add_argument("--frames", type=int, default=30, help="frames, log-spaced over the run")
parser.add_argument("--size", type=int, nargs=2, default=(640, 360), metavar=("W", "H"))
parser.add_argument("--out", type=Path, default=Path("reluviz-example.gif"))
parser.add_argument("--force", action="store_true", help="overwrite an existing output")
args = parser.parse_args()

preset = load_preset(args.preset)
out, count, note = export_run(
    preset.config, args.out,
    lambda last: select_steps(last, frames=args.frames, spacing="log"),  # chosen again if the run stops early
    size=tuple(args.size), fps=12, train_steps=args.steps, force=args.force,
    compare=preset.compare, spacing="log")  # the preset's ghost run, drawn faintly as in the app
print(f"wrote {out} ({count} frames) and {sidecar_path(out)}" + (f"; {note}" if note else ""))
