"""Command line: ``reluviz`` (the app), ``reluviz train`` (headless history), ``reluviz export``.

Bad input never shows a traceback: it prints one line ``reluviz: error: ...`` and exits with 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from reluviz.core.config import ConfigError, TrainConfig, parse_assignments, settings_help
from reluviz.core.presets import load_preset

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse's own convention)
        self.exit(EXIT_USAGE, f"reluviz: error: {message}\n")


def _add_config_args(p: argparse.ArgumentParser) -> None:
    """--preset, --config and --set; the help ends with every setting (``settings_help``)."""
    p.add_argument("--preset", help="start from a preset (e.g. notebook, dance; `reluviz presets` lists them)")
    p.add_argument("--config", metavar="FILE", help="JSON file of settings (applied after the preset)")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting (repeatable; applied after --config); the settings, their "
                        "ranges and meanings are listed below")
    p.formatter_class = argparse.RawDescriptionHelpFormatter  # (keeps the list's lines)
    p.epilog = settings_help(width=max(60, min(100, shutil.get_terminal_size().columns - 2)))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reluviz", description="Watch a ReLU network learn a 1-D function.")
    _add_config_args(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = sub.add_parser("train", help="train headless and write a history .npz file")
    _add_config_args(train)
    train.add_argument("--steps", type=int, help="number of updates (default: the config's steps)")
    train.add_argument("--every", type=int, default=1, help="record every K-th step (default 1)")
    train.add_argument("--record-batches", action="store_true", help="also store the minibatch indices (needs --every 1)")
    train.add_argument("--out", required=True, metavar="FILE.npz", help="where to write the history")
    train.add_argument("--quiet", action="store_true", help="no progress line")

    export = sub.add_parser("export", help="train headless and render frames to PNG/GIF/MP4")
    _add_config_args(export)
    export.add_argument("--steps", type=int, help="number of updates (default: the config's steps)")
    spacing = export.add_mutually_exclusive_group()
    spacing.add_argument("--every", type=int, metavar="K", help="one frame every K steps (and the last step)")
    spacing.add_argument("--frames", type=int, metavar="F",
                         help="F frames from step 0 to the last, spaced by --spacing (default: 100 frames)")
    export.add_argument("--spacing", choices=("linear", "log"), default="linear",
                        help="with --frames: even steps, or log-spaced (early fast change and late dance alike)")
    export.add_argument("--size", default="1280x720", metavar="WxH",
                        help="frame size in pixels, even sides (default 1280x720)")
    export.add_argument("--fps", type=float, default=20.0, help="frames per second for GIF/MP4 (default 20)")
    export.add_argument("--panels", default="main,loss", help="comma list of panels: main, loss (default both)")
    export.add_argument("--no-caption", action="store_true", help="leave out the step / lr / loss caption")
    export.add_argument("--force", action="store_true",
                        help="overwrite an existing output (a folder only if it holds nothing but exported frames)")
    export.add_argument("--out", required=True, metavar="PATH",
                        help="PATH.gif, PATH.mp4, or a new directory for PNG frames (frame_00000.png, ...); "
                             "frames.csv (frame, step, lr, losses) goes inside it, or beside as PATH.gif.frames.csv")
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    ghost = export.add_mutually_exclusive_group()
    ghost.add_argument("--compare", dest="compare", action="append", default=[], metavar="KEY=VALUE",
                       help="a ghost run drawn faintly beside the main one, with this setting changed (same "
                            "data, init and batch order; repeatable; added to the preset's own ghost, if any)")
    ghost.add_argument("--no-ghost", action="store_true", help="leave out the preset's ghost run")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Preset, then config file, then ``--set`` assignments, each over the last."""
    config = load_preset(args.preset).config if args.preset else TrainConfig()
    if args.config:
        file_config = TrainConfig.from_json_file(args.config)
        defaults = TrainConfig().to_dict()
        changed = {k: v for k, v in file_config.to_dict().items() if v != defaults[k]}
        config = config.updated(changed)
    if args.assignments:
        config = config.with_assignments(args.assignments)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        if args.command == "train":
            return _train(config, args)
        if args.command == "export":
            return export_command(config, args)
        return _launch_app(config, args)
    except ConfigError as exc:
        print(f"reluviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("reluviz: interrupted", file=sys.stderr)
        return 130


class TerminalProgress:
    """A one-line progress bar on stderr (silent when stderr is not a terminal or ``quiet``)."""

    def __init__(self, label: str, quiet: bool = False):
        self.label = label
        self.enabled = not quiet and sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        frac = done / total if total else 1.0
        bar = "#" * int(30 * frac)
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def ghost_settings(config: TrainConfig, args: argparse.Namespace) -> dict:
    """The ghost run's settings: the preset's ``compare``, then ``--compare`` (none with ``--no-ghost``);
    checked against ``config`` now (a ``ConfigError`` before any work)."""
    if getattr(args, "no_ghost", False):
        return {}
    compare: dict = {}
    if args.preset:
        compare.update(load_preset(args.preset).compare)
    compare.update(parse_assignments(getattr(args, "compare", []) or [], "--compare"))
    if compare:
        from reluviz.core.compare import ghost_config

        ghost_config(config, compare)  # (refuses data, model and init settings too)
    return compare


def export_command(config: TrainConfig, args: argparse.Namespace) -> int:
    """``reluviz export``: check everything, train, draw and write (``reluviz.export.pipeline``)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the CLI never shows a window: no display needed
    from reluviz.export.frames import ExportError, parse_fps, parse_panels, parse_size, select_steps
    from reluviz.export.pipeline import check_outputs, export_run, sidecar_path

    size = parse_size(args.size)
    panels = parse_panels(args.panels)
    fps = parse_fps(args.fps)
    last = config.steps if args.steps is None else args.steps
    if last < 0:
        raise ExportError(f"--steps must be >= 0, got {last}")

    def choose(last_step: int):
        return select_steps(last_step, every=args.every, frames=args.frames, spacing=args.spacing)

    choose(last)  # bad --every/--frames/--spacing fail here, before training
    compare = ghost_settings(config, args)
    out = Path(args.out).expanduser()
    kind = check_outputs(out, args.force)
    if kind == "gif" and fps > 50:
        print("reluviz: note: many GIF viewers slow frames shorter than 20 ms down to 100 ms; "
              "use --fps 50 or less (or .mp4)", file=sys.stderr)
    final, count, note = export_run(config, out, choose, size=size, fps=fps, panels=panels,
                                    caption=not args.no_caption, force=args.force, train_steps=last,
                                    train_progress=TerminalProgress("training ", args.quiet),
                                    progress=TerminalProgress("rendering", args.quiet), compare=compare,
                                    spacing=args.spacing if args.every is None else "every")
    if note:
        print(f"reluviz: {note}", file=sys.stderr)
    side = final / "frames.csv" if kind == "png" else sidecar_path(final)
    print(f"wrote {final} ({count} frame{'s' if count != 1 else ''}, {size[0]}x{size[1]}, {fps:g} frames/s) and {side}")
    return 0


def _train(config: TrainConfig, args: argparse.Namespace) -> int:
    from reluviz.core.recording import record_run, write_npz

    out = Path(args.out)
    if out.suffix != ".npz":
        raise ConfigError(f"--out must end in .npz, got {out.name}")
    recording = record_run(config, steps=args.steps, every=args.every, record_batches=args.record_batches,
                           progress=TerminalProgress("training", args.quiet))
    write_npz(out, recording.arrays)
    final = recording.arrays
    if recording.stop_reason:
        print(f"reluviz: stopped early: {recording.stop_reason}", file=sys.stderr)
    print(f"wrote {out} ({len(final['step'])} steps recorded, last step {int(final['step'][-1])}, "
          f"train loss {float(final['train_loss'][-1]):.4g}, test loss {float(final['test_loss'][-1]):.4g})")
    return 0


def _launch_app(config: TrainConfig, args: argparse.Namespace) -> int:
    try:
        from reluviz.gui.app import run_app
    except ImportError as exc:
        print(f"reluviz: the desktop app is not available here ({exc}); "
              "use `reluviz train` or `reluviz export` for headless work", file=sys.stderr)
        return 1
    explicit = bool(args.preset or args.config or args.assignments)
    return run_app(config if explicit else None, preset=args.preset)


if __name__ == "__main__":
    sys.exit(main())
