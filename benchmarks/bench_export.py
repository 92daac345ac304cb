"""Frames exported per second at 1280x720 for PNG frames, GIF and MP4 (target: PNG >= 20 frames/s).

Each format is timed over the same steps of the notebook preset, end to end as `reluviz export`
does it: train to each frame's step, draw through TrainingView, encode, write atomically. A
separate line gives drawing alone (no encoding), so the encoders' share is visible.

    .venv/bin/python benchmarks/bench_export.py [--frames 100] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reluviz.core import TrainConfig  # noqa: E402
from reluviz.export.command import export_run, train_frames  # noqa: E402
from reluviz.export.frames import parse_size, select_steps  # noqa: E402
from reluviz.export.render import FrameRenderer, ensure_qt_app  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--size", default="1280x720")
    args = ap.parse_args()
    ensure_qt_app()
    size = parse_size(args.size)
    config = TrainConfig.from_preset("notebook")
    steps = select_steps(3000, frames=args.frames)
    print(f"reluviz export benchmark: {len(steps)} frames of the notebook preset at {size[0]}x{size[1]}, "
          f"load average {os.getloadavg()[0]:.2f}")
    renderer = None
    t0 = time.perf_counter()
    for state in train_frames(config, steps):
        renderer = renderer or FrameRenderer(state.dataset, size, final_step=int(steps[-1]))
        renderer.render(state.snapshot, state.history, state.trace)
    draw = len(steps) / (time.perf_counter() - t0)
    renderer.close()
    print(f"  drawing only (train + draw + grab)   {draw:6.1f} frames/s")
    with tempfile.TemporaryDirectory() as tmp:
        for name, out, target in (("PNG frames", "frames", 20.0), ("GIF", "run.gif", None), ("MP4", "run.mp4", None)):
            t0 = time.perf_counter()
            _, count, _ = export_run(config, Path(tmp) / out, steps, size=size)
            rate = count / (time.perf_counter() - t0)
            verdict = "" if target is None else f"   (target >= {target:g})   {'ok' if rate >= target else 'BELOW TARGET'}"
            print(f"  {name:<36} {rate:6.1f} frames/s{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
