"""Frames exported per second at 1280x720 for PNG frames, GIF and MP4 (target: PNG >= 20 frames/s).

The notebook preset is trained once (``plan_training``: 30,000 steps, the exact state at each
frame's step); then each format is timed end to end as ``reluviz export`` does it after training:
draw every frame through TrainingView offscreen, encode (on the writer's thread), write to a
temporary name, rename, write frames.csv. A separate line gives drawing alone (no encoding), so the
encoders' share is visible. Each figure is the best of ``--repeat`` runs (the machine is shared).

    .venv/bin/python benchmarks/bench_export.py [--frames 100] [--size 1280x720] [--steps 30000] [--repeat 2]
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

from reluviz.core.presets import load_preset  # noqa: E402
from reluviz.export.pipeline import export_plan  # noqa: E402
from reluviz.export.frames import parse_size, select_steps  # noqa: E402
from reluviz.export.plan import plan_training  # noqa: E402
from reluviz.export.render import FrameRenderer, ensure_qt_app  # noqa: E402


def _size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir())
    return path.stat().st_size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    ensure_qt_app()
    size = parse_size(args.size)
    config = load_preset("notebook").config
    t0 = time.perf_counter()
    plan = plan_training(config, lambda last: select_steps(last, frames=args.frames), steps=args.steps)
    train_s = time.perf_counter() - t0
    n = len(plan.frames)
    print(f"reluviz export benchmark: {n} frames (steps 0..{args.steps:,}, evenly spaced) of the notebook preset "
          f"at {size[0]}x{size[1]}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"  training and planning (once)          {train_s:6.2f} s")

    best = 0.0
    for _ in range(args.repeat):
        renderer = FrameRenderer(plan.dataset, size, final_step=plan.last_step)
        t0 = time.perf_counter()
        for f in plan.frames:
            renderer.render(f.snapshot, plan.curves, plan.trace, caption=renderer.caption_for(f.snapshot, f.train_loss, val_loss=f.val_loss))
        best = max(best, n / (time.perf_counter() - t0))
        renderer.close()
    print(f"  drawing only (draw + read pixels)     {best:6.1f} frames/s")

    with tempfile.TemporaryDirectory() as tmp:
        for name, out, target in (("PNG frames", "frames", 20.0), ("GIF", "run.gif", None), ("MP4", "run.mp4", None)):
            best, size_bytes = 0.0, 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                final = export_plan(plan, Path(tmp) / out, size=size, force=True)
                best = max(best, n / (time.perf_counter() - t0))
                size_bytes = _size_of(final)
            verdict = "" if target is None else f"   (target >= {target:g}: {'ok' if best >= target else 'BELOW TARGET'})"
            print(f"  {name:<37} {best:6.1f} frames/s   {size_bytes / 2**20:6.1f} MB{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
