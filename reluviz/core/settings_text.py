"""Settings as people write them: JSON text and files, ``KEY=VALUE`` strings, values parsed to a
field's type, and settings given by an old name (``weight_decay``, converted to ``ridge``).

``ConfigError`` is the one-line complaint every part of reluviz raises for bad settings (the CLI
prints it and exits with code 2; the app shows it as a notice). ``reluviz.core.config`` re-exports
what it uses from here, so ``from reluviz.core.config import ConfigError`` keeps working.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping


class ConfigError(ValueError):
    """A setting is unknown or out of range; the message is one line, fit to show a user."""


def read_settings_file(path: str | Path) -> dict[str, Any]:
    """The settings a JSON file holds, not yet validated: a JSON object of settings, or one with a
    ``config`` object (a preset or a ``reluviz train`` config). ``ConfigError`` for an unreadable file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not a text file") from None
    data = parse_json(text, f"config file {path}")
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a JSON object of settings")
    data = data.get("config", data)
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: 'config' must be a JSON object")
    return data


# ---------------------------------------------------------------------- settings renamed since
#: Old setting names still accepted (old files, presets, saved app settings, ``--set``): old name ->
#: (new name, factor from the old value to the new). torch's ``weight_decay`` adds wd * theta to
#: the gradient, the gradient of (wd / 2) ||theta||^2: the notes' ridge lambda is wd / 2.
LEGACY_SETTINGS: dict[str, tuple[str, float]] = {"weight_decay": ("ridge", 0.5)}


def upgrade_settings(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``values`` with old setting names (``LEGACY_SETTINGS``) converted to today's, and one line per
    conversion for the user. ``ConfigError`` when an old name and its new one are both given."""
    out = dict(values)
    notes: list[str] = []
    for old, (new, factor) in LEGACY_SETTINGS.items():
        if old not in out:
            continue
        if new in out:
            raise ConfigError(f"{old} and {new} are both given: {old} is the old name "
                              f"({new} = {factor:g} x {old}); keep {new} only")
        value = coerce(old, out.pop(old), float) * factor
        out[new] = value
        notes.append(f"the old setting {old}={value / factor:g} is read as {new}={value:g} "
                     f"({new} is the notes' lambda; torch's weight_decay is 2 lambda)")
    return out, notes


def legacy_notes(values: Any) -> list[str]:
    """The notes ``upgrade_settings`` makes for ``values`` ([] for anything else, or bad values:
    validation reports those)."""
    if not isinstance(values, Mapping):
        return []
    try:
        return upgrade_settings(values)[1]
    except ConfigError:
        return []


def parse_json(text: str, what: str) -> Any:
    """``json.loads`` with a ``ConfigError`` naming ``what`` for text that is not (sane) JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise ConfigError(f"{what} is nested too deeply to be a settings file") from None


def coerce(key: str, raw: Any, kind: type) -> Any:
    """Parse ``raw`` (often a string from the command line) into the field's type."""
    try:
        if kind is bool:
            if isinstance(raw, str):
                return raw.strip().lower() in ("1", "true", "yes", "on")
            return bool(raw)
        if kind is int:
            if isinstance(raw, bool):
                raise ValueError
            if isinstance(raw, float):
                if not raw.is_integer():
                    raise ValueError
                return int(raw)
            if isinstance(raw, str):
                value = float(raw)
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(raw)
        if kind is float:
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
        if kind is str:
            if not isinstance(raw, str):
                raise ValueError
            return raw
    except (TypeError, ValueError, OverflowError):
        pass
    shown = repr(raw) if len(repr(raw)) <= 60 else repr(raw)[:57] + "..."  # (one line, even for junk)
    raise ConfigError(f"{key} expects a {kind.__name__}, got {shown}")
