"""Command line: ``reluviz`` (the app; ``--open FILE.npz`` shows a recorded run), ``reluviz train``
(headless: a run file), ``reluviz export`` (frames of a run, trained or ``--from`` a run file),
``reluviz select`` (a model-selection sweep: choose a hyperparameter by validation loss),
``reluviz presets``, ``reluviz --version``.

Bad input never shows a traceback: it prints one line ``reluviz: error: ...`` and exits with 2. A
setting given on the command line that cannot take effect (``csv_path`` without ``target=csv``)
is bad input too. Progress goes to stderr on a terminal only (``TerminalProgress``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from reluviz import __version__
from reluviz.core.config import (SETTINGS, ConfigError, TrainConfig, legacy_notes, parse_assignments,
                                 read_settings_file, settings_help)
from reluviz.core.presets import load_preset, preset_titles


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


def _add_ghost_args(p: argparse.ArgumentParser) -> None:
    ghost = p.add_mutually_exclusive_group()
    ghost.add_argument("--compare", dest="compare", action="append", default=[], metavar="KEY=VALUE",
                       help="a ghost run drawn faintly beside the main one, with this setting changed (same "
                            "data, init and batch order; repeatable; added to the preset's own ghost, if any)")
    ghost.add_argument("--no-ghost", action="store_true", help="leave out the preset's (or the run file's) ghost run")


def build_parser() -> argparse.ArgumentParser:
    from reluviz.export.frames import EXPORT_VIEWS

    parser = _Parser(prog="reluviz", description="Watch a ReLU network learn a 1-D function.")
    parser.add_argument("--version", action="version", version=f"reluviz {__version__}")
    parser.add_argument("--open", metavar="FILE.npz",
                        help="open a run file (from `reluviz train` or the app's File > Save run) in the app")
    _add_config_args(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = sub.add_parser("train", help="train headless and write a run file (.npz)",
                           description="Train headless and write a run file: every recorded step's parameters, "
                                       "optimizer state, rate and losses, the data and the settings. Open it with "
                                       "`reluviz --open FILE.npz` (scrub, export, resume from any step) or render it "
                                       "with `reluviz export --from FILE.npz`.")
    _add_config_args(train)
    train.add_argument("--steps", type=int, help="number of updates (default: the config's steps)")
    train.add_argument("--every", type=int, default=1, help="record every K-th step and the last (default 1)")
    train.add_argument("--record-batches", action="store_true", help="also store the minibatch indices (needs --every 1)")
    train.add_argument("--params-only", action="store_true",
                       help="keep the optimizer's state (momentum buffer, Adam's moments) of the last step only: "
                            "a file up to 3x smaller, which the app shows and trains on from its last step but "
                            "cannot resume from an earlier one")
    train.add_argument("--out", required=True, metavar="FILE.npz", help="where to write the run file")
    train.add_argument("--quiet", action="store_true", help="no progress line")
    _add_ghost_args(train)

    sub.add_parser("presets", help="list the presets with their titles")

    export = sub.add_parser("export", help="render frames of a run to PNG/GIF/MP4 (trained here, or --from a run file)")
    _add_config_args(export)
    export.add_argument("--from", dest="from_file", metavar="FILE.npz",
                        help="render the run recorded in this run file (from `reluviz train` or the app) instead "
                             "of training; its settings come from the file")
    export.add_argument("--steps", type=int,
                        help="number of updates (default: the config's steps); with --from: the last step to render")
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
    export.add_argument("--view", default="fit", choices=EXPORT_VIEWS, metavar="VIEW",  # (no Qt import: frames.py)
                        help="what each frame draws, as the app's tab of that name: fit (the fit and loss panels, "
                             "default), dance (parameter space around θ*), votes (each point's pull on the "
                             "gradient), elbows (where the kinks move), bands (loss over several seeds); views "
                             "that need a computation first (the side-by-side dance, the seed bands) run it here, "
                             "with progress")
    export.add_argument("--no-caption", action="store_true", help="leave out the step / lr / loss caption")
    export.add_argument("--no-legend", action="store_true", help="leave out the legends (more room for the plots)")
    export.add_argument("--force", action="store_true",
                        help="overwrite an existing output (a folder only if it holds nothing but exported frames)")
    export.add_argument("--out", required=True, metavar="PATH",
                        help="PATH.gif, PATH.mp4, or a new directory for PNG frames (frame_00000.png, ...); "
                             "frames.csv (frame, step, lr, losses) goes inside it, or beside as PATH.gif.frames.csv")
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_ghost_args(export)

    select = sub.add_parser("select", help="sweep one hyperparameter, choose it by validation loss, report its test "
                                           "error once; write the table or the plot")
    _add_config_args(select)
    select.add_argument("--param", choices=("ridge", "width", "steps"),
                        help="the hyperparameter (default: the preset's, else ridge)")
    grid = select.add_mutually_exclusive_group()
    grid.add_argument("--values", metavar="V1,V2,...", help="the settings to try, comma-separated")
    grid.add_argument("--range", metavar="FROM:TO:POINTS",
                      help="log-spaced settings, e.g. 1e-6:1:13 (default: the preset's grid, else a standard one)")
    select.add_argument("--steps", type=int, help="training steps of each setting (default: the config's steps)")
    select.add_argument("--seeds", type=int, help="initialisations per setting, losses averaged (default 1)")
    select.add_argument("--out", required=True, metavar="FILE",
                        help="FILE.csv (the table), FILE.png or FILE.svg (the plot)")
    select.add_argument("--size", default="960x600", metavar="WxH", help="plot size in pixels (default 960x600)")
    select.add_argument("--show-test", action="store_true",
                        help="draw every setting's test loss too (the table always has it)")
    select.add_argument("--force", action="store_true", help="overwrite an existing output")
    select.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def config_from_args(args: argparse.Namespace, notes: list[str] | None = None) -> TrainConfig:
    """Preset, then config file, then ``--set`` assignments, each over the last. A setting the user
    gives (``--set``, or a config file's value other than the default) that the resulting settings
    never use is an error (``check_effective``); the preset's own values and the defaults are not.
    Settings given by an old name (``weight_decay``) are converted; ``notes`` (if given) gets a line
    for each."""
    notes = [] if notes is None else notes
    preset = load_preset(args.preset) if args.preset else None
    config = preset.config if preset is not None else TrainConfig()
    if preset is not None:
        notes.extend(preset.notes)
    given: dict = {}
    if args.config:
        values = read_settings_file(args.config)
        file_config = TrainConfig.from_dict(values)
        notes.extend(f"{args.config}: {n}" for n in legacy_notes(values))
        defaults = TrainConfig().to_dict()
        changed = {k: v for k, v in file_config.to_dict().items() if v != defaults[k]}
        config = config.updated(changed)
        given.update(changed)
    if args.assignments:
        values = parse_assignments(args.assignments)
        notes.extend(f"--set: {n}" for n in legacy_notes(values))
        config = config.updated(values)
        given.update(values)
    check_effective(config, given)
    return config


def check_effective(config: TrainConfig, given: dict, option: str = "--set") -> None:
    """``ConfigError`` for the first of the ``given`` settings that ``config`` does not use (its
    ``Setting.applies_when`` does not hold), e.g. ``csv_path`` without ``target=csv``."""
    values = config.to_dict()
    for key, raw in given.items():
        s = SETTINGS.get(key)
        if s is None or s.applies(values) or s.applies_when.field == key:  # (batch_size=0 asks for full batch)
            continue
        when = s.applies_when
        choices = " or ".join(str(v) for v in when.values)
        if when.text:
            rule = f"it is used only with {when.text}"
        elif when.negate:
            rule = f"it is not used when {when.field} is {choices}"
        else:
            rule = f"it is used only when {when.field} is {choices}"
        raise ConfigError(f"{option} {key}={raw} cannot take effect: {rule}, and this run has "
                          f"{when.field}={values[when.field]}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "presets":
            return _presets()
        if args.command == "export" and args.from_file:
            return export_from_file(args)
        if args.command is None and args.open:
            return _open_in_app(args)
        notes: list[str] = []
        config = config_from_args(args, notes)
        for note in notes:
            print(f"reluviz: note: {note}", file=sys.stderr)
        if args.command == "train":
            return _train(config, args)
        if args.command == "export":
            return export_command(config, args)
        if args.command == "select":
            return select_command(config, args)
        return _launch_app(config, args)
    except ConfigError as exc:
        print(f"reluviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("reluviz: interrupted", file=sys.stderr)
        return 130


class TerminalProgress:
    """One progress line on stderr, redrawn in place: done/total, percent, rate, time left and (when
    given) the current loss, e.g. ``training  45,000/200,000 steps  22%  98,765 steps/s  0:02 left
    minibatch MSE 0.0123``. Silent when stderr is not a terminal (piped or redirected) or ``quiet``."""

    REDRAW = 0.1  # seconds between redraws

    def __init__(self, label: str, quiet: bool = False, unit: str = "steps", stream=None, clock=time.monotonic):
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.clock = clock
        self._start: tuple[float, int] | None = None
        self._drawn_at = -1.0
        self._width = 0

    def __call__(self, done: int, total: int, loss: float | None = None) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if self._start is None:
            self._start = (now, done)
        if done < total and now - self._drawn_at < self.REDRAW:
            return
        self._drawn_at = now
        text = self.text(done, total, loss, now)
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        if done >= total:
            self.stream.write("\n")
            self._start, self._width = None, 0
        self.stream.flush()

    def text(self, done: int, total: int, loss: float | None, now: float) -> str:
        t0, d0 = self._start if self._start is not None else (now, done)
        parts = [f"{self.label} {done:,}/{total:,} {self.unit}", f"{100 * done / total if total else 100:3.0f}%"]
        if now > t0 and done > d0:
            rate = (done - d0) / (now - t0)
            parts.append(f"{rate:,.0f} {self.unit}/s")
            parts.append(f"{_clock(max(total - done, 0) / rate)} left" if done < total else f"in {_clock(now - t0)}")
        if loss is not None:
            parts.append(f"minibatch MSE {loss:.3g}")
        return "  ".join(parts)

    def note(self, text: str) -> None:
        """A line of its own (e.g. "writing h.npz..."), on a terminal only."""
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    """0:07, 3:25, 1:02:03."""
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def ghost_settings(config: TrainConfig, args: argparse.Namespace) -> dict:
    """The ghost run's settings: the preset's ``compare``, then ``--compare`` (none with ``--no-ghost``);
    checked against ``config`` now (a ``ConfigError`` before any work)."""
    if getattr(args, "no_ghost", False):
        return {}
    compare: dict = {}
    if args.preset:
        compare.update(load_preset(args.preset).compare)
    given = parse_assignments(getattr(args, "compare", []) or [], "--compare")
    compare.update(given)
    if compare:
        from reluviz.core.compare import ghost_config

        check_effective(ghost_config(config, compare), given, "--compare")  # (refuses data, model and init settings too)
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
                                    progress=TerminalProgress("rendering", args.quiet, unit="frames"),
                                    compare=compare, spacing=args.spacing if args.every is None else "every",
                                    constant_fit=bool(args.preset) and "piecewise-constant" in load_preset(args.preset).overlays,
                                    view=args.view, legends=not args.no_legend,
                                    prepare_progress=TerminalProgress(f"{args.view} view", args.quiet))
    if note:
        print(f"reluviz: {note}", file=sys.stderr)
    side = final / "frames.csv" if kind == "png" else sidecar_path(final)
    print(f"wrote {final} ({count} frame{'s' if count != 1 else ''}, {size[0]}x{size[1]}, {fps:g} frames/s) and {side}")
    return 0


def select_command(config: TrainConfig, args: argparse.Namespace) -> int:
    """``reluviz select``: the model-selection sweep (``reluviz.core.selection``) and its file."""
    import numpy as np

    from reluviz.core.selection import check_sweep, default_values, sweep_selection
    from reluviz.export.frames import ExportError, parse_size

    options = load_preset(args.preset).view_options if args.preset else {}
    param = args.param or options.get("param", "ridge")
    same = options.get("param", param) == param  # (a preset's grid belongs to its own hyperparameter)
    if args.values:
        try:
            values = np.array([float(v) for v in args.values.split(",") if v.strip()])
        except ValueError:
            raise ConfigError(f"--values must be numbers separated by commas, got '{args.values}'") from None
    elif args.range or (same and "from" in options):
        text = args.range or f"{options['from']}:{options['to']}:{options.get('points', 13)}"
        try:
            lo, hi, points = text.split(":")
            lo, hi, points = float(lo), float(hi), int(points)
            if lo <= 0 or hi <= 0 or points < 2:
                raise ValueError
        except ValueError:
            raise ConfigError(f"--range must be FROM:TO:POINTS with positive ends and 2 or more points, got '{text}'")
        values = np.logspace(np.log10(lo), np.log10(hi), points)
        if param != "ridge":
            values = np.unique(np.round(values))
    else:
        values = default_values(param, config)
    steps = args.steps if args.steps is not None else int(options.get("steps", config.steps) if same else config.steps)
    seeds = args.seeds if args.seeds is not None else int(options.get("seeds", 1) if same else 1)
    size = parse_size(args.size)
    out = Path(args.out).expanduser()
    if out.suffix.lower() not in (".csv", ".png", ".svg"):
        raise ExportError(f"--out must end in .csv, .png or .svg, got {out.name}")
    if out.exists() and not args.force:
        raise ExportError(f"{out} already exists (use --force to overwrite it)")
    check_sweep(config, param, values, steps, seeds)  # bad grids fail here, before training
    if out.suffix.lower() != ".csv":
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # (the plot is drawn offscreen)
    result = sweep_selection(config, param, values, steps=steps, seeds=seeds,
                             progress=TerminalProgress("training", args.quiet))
    from reluviz.export.selection_export import save_selection

    final = save_selection(result, out, size=size, force=args.force, show=("test",) if args.show_test else ())
    print(result.summary())
    print(f"wrote {final} ({len(result.values)} settings x {seeds} seed{'s' if seeds > 1 else ''}, "
          f"{result.seconds:.1f} s)")
    return 0


def _train(config: TrainConfig, args: argparse.Namespace) -> int:
    from reluviz.core.recording import record_run, write_npz

    out = Path(args.out)
    if out.suffix != ".npz":
        raise ConfigError(f"--out must end in .npz, got {out.name}")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise ConfigError(f"folder {out.parent} does not exist")
    compare = ghost_settings(config, args)
    progress = TerminalProgress("training", args.quiet)
    recording = record_run(config, steps=args.steps, every=args.every, record_batches=args.record_batches,
                           progress=progress, compare=compare, params_only=args.params_only,
                           eval_progress=TerminalProgress("losses  ", args.quiet, unit="rows"))
    progress.note(f"writing {out}...")
    write_npz(out, recording.arrays)
    final = recording.arrays
    if recording.stop_reason:
        print(f"reluviz: stopped early: {recording.stop_reason}", file=sys.stderr)
    print(f"wrote {out} ({len(final['step']):,} steps recorded, last step {int(final['step'][-1]):,}, "
          f"train loss {float(final['train_loss'][-1]):.4g}, validation loss {float(final['val_loss'][-1]):.4g}, "
          f"test loss {float(final['test_loss'][-1]):.4g})")
    return 0


def _presets() -> int:
    titles = preset_titles()
    if not titles:
        print("reluviz: no presets found (the installation lacks reluviz/presets)", file=sys.stderr)
        return 1
    width = max(len(name) for name in titles)
    for name, title in titles.items():
        print(f"{name:<{width}}  {title}")
    return 0


def _read_run_file(path: str):
    from reluviz.core.runfile import read_run

    return read_run(Path(path).expanduser())


def _no_settings_with(args: argparse.Namespace, option: str) -> None:
    """``option`` takes the run's settings from its file: settings given beside it cannot take effect."""
    given = [name for name, on in (("--preset", args.preset), ("--config", args.config),
                                   ("--set", args.assignments), ("--compare", getattr(args, "compare", None)))
             if on]
    if given:
        raise ConfigError(f"{option} takes the run's settings from the file; {', '.join(given)} cannot take "
                          "effect with it")


def _open_in_app(args: argparse.Namespace) -> int:
    _no_settings_with(args, "--open")
    run = _read_run_file(args.open)
    return _launch_app(run.config, args, recorded=run)


def export_from_file(args: argparse.Namespace) -> int:
    """``reluviz export --from FILE.npz``: draw the recorded run (no training) and write it."""
    _no_settings_with(args, "--from")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from reluviz.export.frames import ExportError, parse_fps, parse_panels, parse_size, select_steps
    from reluviz.export.pipeline import check_outputs, export_recorded

    size, panels, fps = parse_size(args.size), parse_panels(args.panels), parse_fps(args.fps)
    run = _read_run_file(args.from_file)
    last = run.last_step if args.steps is None else args.steps
    if not run.first_step <= last:
        raise ExportError(f"--steps {last} is before the file's first recorded step ({run.first_step:,})")
    last = min(last, run.last_step)

    def choose(last_step: int):
        return select_steps(last_step, every=args.every, frames=args.frames, spacing=args.spacing,
                            first_step=run.first_step)

    choose(last)
    out = Path(args.out).expanduser()
    kind = check_outputs(out, args.force)
    if kind == "gif" and fps > 50:
        print("reluviz: note: many GIF viewers slow frames shorter than 20 ms down to 100 ms; "
              "use --fps 50 or less (or .mp4)", file=sys.stderr)
    final, count, note = export_recorded(run, out, choose(last), size=size, fps=fps, panels=panels,
                                         caption=not args.no_caption, force=args.force, ghost=not args.no_ghost,
                                         progress=TerminalProgress("rendering", args.quiet, unit="frames"),
                                         spacing=args.spacing if args.every is None else "every",
                                         view=args.view, legends=not args.no_legend,
                                         prepare_progress=TerminalProgress(f"{args.view} view", args.quiet))
    if note:
        print(f"reluviz: {note}", file=sys.stderr)
    side = final / "frames.csv" if kind == "png" else Path(str(final) + ".frames.csv")
    print(f"wrote {final} ({count} frame{'s' if count != 1 else ''} of {run.path.name}, {size[0]}x{size[1]}, "
          f"{fps:g} frames/s) and {side}")
    return 0


def _launch_app(config: TrainConfig, args: argparse.Namespace, recorded=None) -> int:
    try:
        from reluviz.gui.app import run_app
    except ImportError as exc:
        print(f"reluviz: the desktop app is not available here ({exc}); "
              "use `reluviz train` or `reluviz export` for headless work", file=sys.stderr)
        return 1
    explicit = bool(args.preset or args.config or args.assignments)
    if recorded is not None:
        return run_app(None, recorded=recorded)
    return run_app(config if explicit else None, preset=args.preset)


if __name__ == "__main__":
    sys.exit(main())
