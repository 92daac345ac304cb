"""Run control: what settings, presets and CSV files do to the run (no widgets).

``RunControl`` applies a change to the ``Session`` and says what happened in an ``Outcome``:
whether a new run started, the notice to show, the lecture view a preset opens. The window turns
outcomes into widget updates; tests drive it without any widget.

* A change of data or model settings (``needs_reset``) starts a new run; other settings apply
  from the next step while the run goes on (``Session.apply_config``).
* A preset starts a new run with its settings and ghost run; a CSV file starts a new run on the
  file's points (full batch).
* A run file (``reluviz.core.runfile``) replaces the run with the recorded one (``show_loaded``);
  ``capture`` copies the run on screen for File > Save run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from reluviz.core.config import SETTINGS, ConfigError, TrainConfig, legacy_notes, parse_json
from reluviz.core.presets import Preset, load_preset
from reluviz.core.recording import CapturedRun, capture_session
from reluviz.core.runfile import LoadedRun, describe
from reluviz.core.schedules import lr_at
from reluviz.core.session import Session, needs_reset
from reluviz.gui.playback import Playback

DEFAULT_PRESET = "notebook"


@dataclass(frozen=True)
class Notice:
    """A sentence for the notice bar: ``kind`` info, warn or error; ``sticky`` ones stay until
    the run changes."""

    text: str
    kind: str = "info"
    sticky: bool = False
    topic: str = ""  # what must stay true for the notice to stay ("playing": it says the run goes on)


@dataclass(frozen=True)
class Outcome:
    """What a change did: ``new_run`` (a new run started), ``notice`` (or None), ``view`` (the
    lecture view a preset opens, else ""), ``overlays`` (the fit-plot overlays a preset turns on) and
    ``view_options`` (the preset's choices for its lecture view)."""

    new_run: bool = False
    notice: Notice | None = None
    view: str = ""
    overlays: tuple[str, ...] = ()
    view_options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StartingPoint:
    config: TrainConfig
    preset: str | None
    compare: dict
    view: str
    overlays: tuple[str, ...] = ()
    #: settings read under an old name and converted (a line each, e.g. weight_decay to ridge)
    notes: tuple[str, ...] = ()
    view_options: dict = field(default_factory=dict)

    @property
    def notice(self) -> str:
        """The conversion notes as one sentence for the notice bar ("" without any)."""
        return notes_sentence(self.notes) if self.notes else ""


def starting_point(config: TrainConfig | None, preset: str | None, saved_config: str = "",
                   saved_preset: str = "") -> StartingPoint:
    """Where the window starts: ``config``/``preset`` when given, else the last run's saved
    settings (JSON) and preset, else the default preset. Unreadable pieces are skipped."""
    compare: dict = {}
    view = "fit"
    overlays: tuple[str, ...] = ()
    notes: list[str] = []
    view_options: dict = {}
    if config is None and preset is None:
        preset = saved_preset or None
        try:
            values = parse_json(saved_config, "the saved settings") if saved_config else None
            config = TrainConfig.from_dict(values) if values is not None else None
            notes += [f"last session's settings: {n}" for n in legacy_notes(values)]
        except (ConfigError, ValueError, TypeError):
            config = None
        if config is None:
            preset = DEFAULT_PRESET
    if preset:
        try:
            p = load_preset(preset)
            compare = dict(p.compare)
            view = p.view
            overlays = p.overlays
            view_options = dict(p.view_options)
            if config is None:
                config = p.config
                notes += p.notes
        except ConfigError:
            preset = None
    if config is None:
        config = TrainConfig()
    if compare:
        try:
            config.updated(compare)
        except ConfigError:
            compare = {}
    return StartingPoint(config, preset, compare, view, overlays, tuple(notes), view_options)


def notes_sentence(notes) -> str:
    """Conversion notes (``legacy_notes``) as one sentence for the notice bar."""
    text = "; ".join(notes)
    return text[:1].upper() + text[1:] + "."


def label(field: str) -> str:
    """A setting's name as the panel shows it ("batch size B", not "batch_size")."""
    s = SETTINGS.get(field)
    return s.label if s is not None else field.replace("_", " ")


def sentence(text: str) -> str:
    """``text`` with its first letter a capital (and the rest as it is: "Batch size B")."""
    return text[:1].upper() + text[1:]


def labels(fields) -> str:
    return ", ".join(label(f) for f in fields)


def shown_value(field: str, value) -> str:
    """A setting's value in words (choices by their panel label, 0 by what it means)."""
    s = SETTINGS.get(field)
    if s is None:
        return str(value)
    if s.choices and s.choice_labels and value in s.choices:
        return s.choice_labels[s.choices.index(value)]
    if s.zero and value == 0:
        return f"0 ({s.zero})"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def preset_changes(preset: Preset, config: TrainConfig) -> list[str]:
    """What ``config`` changed from ``preset``'s settings, e.g. "optimizer adam (preset: sgd)";
    only settings that mean something under either (a disabled control is no change)."""
    old, new = preset.config.to_dict(), config.to_dict()
    out = []
    for field, s in SETTINGS.items():
        if old[field] == new[field] or not (s.applies(old) or s.applies(new)):
            continue
        if field == "csv_path":
            continue  # (the target says it: csv)
        out.append(f"{label(field)} {shown_value(field, new[field])} (preset: {shown_value(field, old[field])})")
    return out


def preset_display(name: str | None, config: TrainConfig) -> tuple[str | None, str, list[str]]:
    """What the preset box shows for preset ``name`` under ``config``: (name, or None for custom
    settings or an unreadable preset; its paragraph; what ``config`` changed from it)."""
    if not name:
        return None, "", []
    try:
        preset = load_preset(name)
    except ConfigError:
        return None, "", []
    return name, preset_text(preset), preset_changes(preset, config)


def preset_text(preset: Preset) -> str:
    """A preset's paragraph, with its ghost run named."""
    text = preset.description
    if preset.compare:
        text += "\nGhost run (grey dashes): " + ", ".join(f"{k}={v}" for k, v in preset.compare.items()) + "."
    return text


class RunControl:
    """Applies settings, presets and CSV files to ``session``, pausing ``playback`` as needed."""

    def __init__(self, session: Session, playback: Playback, preset: str | None = None):
        self.session = session
        self.playback = playback
        self.preset_name = preset
        self._previous_preset: str | None = None  # the preset of the run ``undo`` brings back

    def undo_hint(self) -> str:
        """A sentence naming Ctrl+Z when the replaced run had trained (else "")."""
        prev = self.session.previous
        if prev is None or prev["trainer"].step == 0:
            return ""
        return f" Ctrl+Z (Edit > Undo new run) brings back the previous run (step {prev['trainer'].step:,})."

    def undo(self) -> Outcome:
        """Go back to the run the last new run replaced (``Session.undo_reset``); training stays paused."""
        session = self.session
        if not session.can_undo_reset:
            return Outcome(notice=Notice("There is no earlier run to go back to."))
        self.playback.pause()
        with session.locked():
            session.undo_reset()
            session.checkpoint()
            frame = session.frame(trail=self.playback.trail)
        self.preset_name, self._previous_preset = self._previous_preset, self.preset_name
        self.playback.show(frame)
        return Outcome(True, Notice(f"Back to the previous run, at step {frame.step:,} with its settings. "
                                    "Ctrl+Z again returns to the run you left."))

    def apply(self, config: TrainConfig, field: str = "", adjusted: list[str] | None = None) -> Outcome:
        """Use ``config``: data/model changes start a new run, the rest applies from the next step.
        ``adjusted``: what the panel changed by itself on the way (said after the outcome)."""
        outcome = self._apply(config, field)
        if not adjusted:
            return outcome
        said = outcome.notice.text + " " if outcome.notice is not None else ""
        return dataclasses.replace(outcome, notice=Notice(said + sentence("; ".join(adjusted)) + "."))

    def _apply(self, config: TrainConfig, field: str) -> Outcome:
        session = self.session
        if config == session.config:
            return Outcome()
        changed = needs_reset(session.config, config)
        if changed:
            with self.playback.paused():
                outcome = self.reset(config)
            if not outcome.new_run:
                return outcome
            return Outcome(True, Notice(f"New run: {labels(changed)} changed, which needs new data or a new network."
                                        + self.undo_hint()))
        playback = self.playback
        shown = playback.frame
        try:
            with session.locked():
                session.apply_config(config)
                head = session.head_step
                frame = None if playback.worker.playing else session.frame(
                    None if shown is None or shown.live else shown.step, trail=playback.trail)
        except ConfigError as exc:
            return Outcome(notice=Notice(f"Not applied: {exc}", "warn"))
        if frame is not None:
            playback.show(frame)
        what = f"{sentence(label(field))} changed" if field else "Settings changed"
        if session.stopped:
            return Outcome(notice=Notice(f"{what}. The run had stopped: press Play (or Resume from here) "
                                         "to go on from the displayed step with the new setting."))
        where = f"step {head:,}" if shown is None or shown.live else \
            f"step {head:,} (or from the displayed step with Resume from here)"
        going = "the run goes on" if playback.worker.playing else \
            "press Play to train" if head == 0 else "press Play to go on"
        text = f"{what}: applies from {where}; {going}."
        if field == "schedule" and head > 0 and config.schedule != "constant":
            rate = float(lr_at(config, head))
            text += (f" The {config.schedule} schedule counts from step 0, so the rate at step {head:,} is "
                     f"already {rate:.3g} (base rate {config.lr:g}).")
        return Outcome(notice=Notice(text, topic="playing" if playback.worker.playing else ""))

    def reset(self, config: TrainConfig, compare: dict | None = None) -> Outcome:
        """A new run with ``config`` (``compare`` None keeps the ghost settings); the new run's
        first frame is shown. On a ``ConfigError`` nothing changes."""
        session = self.session
        try:
            with self.playback.paused(), session.locked():
                session.reset(config, compare)
                session.checkpoint()
                frame = session.frame(trail=self.playback.trail)
        except ConfigError as exc:
            return Outcome(notice=Notice(f"Could not start the run: {exc}", "error"))
        self._previous_preset = self.preset_name
        self.playback.show(frame)
        return Outcome(True)

    def new_run(self, config: TrainConfig) -> Outcome:
        """Reset with the settings shown (the Reset action)."""
        with self.playback.paused():
            outcome = self.reset(config)
        if outcome.new_run:
            return Outcome(True, Notice("New run from step 0." + self.undo_hint()))
        return Outcome(notice=Notice(f"Not reset: {outcome.notice.text}", "warn")) if outcome.notice else outcome

    def load_preset(self, name: str) -> Outcome:
        """Start the preset ``name`` (its settings, its ghost run); training stays paused."""
        try:
            preset = load_preset(name)
        except ConfigError as exc:
            return Outcome(notice=Notice(str(exc), "error"))
        self.playback.pause()
        outcome = self.reset(preset.config, dict(preset.compare))
        if not outcome.new_run:
            return outcome
        self.preset_name = name
        hint = self.undo_hint()
        text = " ".join(t for t in (notes_sentence(preset.notes) if preset.notes else "", hint.strip() if hint else "") if t)
        return Outcome(True, Notice(text) if text else None, view=preset.view, overlays=preset.overlays,
                       view_options=dict(preset.view_options))

    def load_csv(self, path: str) -> Outcome:
        """Fit the x,y rows of ``path`` (a new run, full batch)."""
        try:
            config = self.session.config.updated({"target": "csv", "csv_path": str(path), "batch_size": 0})
        except ConfigError as exc:
            return Outcome(notice=Notice(str(exc), "error"))
        with self.playback.paused():
            outcome = self.reset(config)
        if not outcome.new_run:
            return outcome
        self.preset_name = None
        ds = self.session.dataset
        rows = ds.n + ds.n_val + ds.n_test
        return Outcome(True, Notice(
            f"Loaded {Path(path).name}: {rows:,} rows: {ds.n:,} train the network, {ds.n_val:,} are held out as "
            f"validation points and {ds.n_test:,} as test points (a random split by the data seed; the shares "
            "are in the Data box). Full batch; set a batch size to use SGD." + self.undo_hint()))

    def show_loaded(self, loaded: LoadedRun) -> Outcome:
        """Replace the run with a recorded one (read and prepared by ``reluviz.core.runfile``); its
        last step is shown and training stays paused. On a ``ConfigError`` nothing changes."""
        run = loaded.run
        try:
            with self.playback.paused(resume=False), self.session.locked():
                self.session.load(loaded)
                self.session.checkpoint()
                frame = self.session.frame(trail=self.playback.trail)
        except ConfigError as exc:
            return Outcome(notice=Notice(f"Could not open {run.path.name}: {exc}", "error"))
        self.playback.show(frame)
        self._previous_preset, self.preset_name = self.preset_name, None
        note = f"Opened {run.path.name}: {describe(run)}."
        if run.resumable_steps < len(run.rows):
            note += (" It keeps the optimizer's state at its last step only (written with --params-only): "
                     "training goes on from there, but Resume from here is off at earlier steps.")
        return Outcome(True, Notice(note + self.undo_hint()))

    def capture(self) -> CapturedRun:
        """Copies of the run on screen for File > Save run (training may go on meanwhile)."""
        with self.session.locked():
            return capture_session(self.session)
