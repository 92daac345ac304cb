"""Presets: named starting points stored as JSON in ``reluviz/presets/NAME.json``.

The files are package data: they ship inside the installed package (wheel or checkout alike) and
are found with ``importlib.resources`` (``PRESET_DIR``), never through a path of the source tree.

A preset file holds ``title``, ``description`` (a paragraph tying it to the course notes),
``config`` (settings over the defaults), an optional ``view`` (which lecture view the app opens)
with optional ``view_options`` for it (e.g. the model-selection view's hyperparameter and grid),
and an optional ``compare`` (settings of a ghost run drawn beside the main one: optimizer,
schedule and batch settings only, see ``reluviz.core.compare.ghost_config``), and optional
``overlays``: what the fit plot adds (``OVERLAYS``; the app turns exactly these on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from reluviz.core.compare import ghost_config
from reluviz.core.config import ConfigError, TrainConfig, legacy_notes, parse_json

#: The installed presets (a folder of the package; a ``Traversable``, a ``Path`` when installed as files).
PRESET_DIR: Traversable = resources.files("reluviz") / "presets"
#: Fit-plot overlays a preset may turn on: Figure 4's piecewise-constant fit.
OVERLAYS = ("piecewise-constant",)


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    config: TrainConfig
    view: str = "fit"
    compare: dict[str, Any] = field(default_factory=dict)
    overlays: tuple[str, ...] = ()
    #: one line per setting given by an old name and converted (e.g. ``weight_decay`` to ``ridge``)
    notes: tuple[str, ...] = ()
    #: choices for the lecture view the preset opens (``LectureView.configure``)
    view_options: dict[str, Any] = field(default_factory=dict)


def preset_names(directory: Traversable | Path = PRESET_DIR) -> list[str]:
    """Names of the available presets, sorted (the ``notebook`` preset first)."""
    try:
        entries = list(directory.iterdir())
    except OSError:  # (no such folder: no presets)
        return []
    names = sorted(p.name[: -len(".json")] for p in entries if p.name.endswith(".json") and p.is_file())
    return sorted(names, key=lambda n: (n != "notebook", n))


def preset_titles(directory: Traversable | Path = PRESET_DIR) -> dict[str, str]:
    """Each preset's one-line title by name, in ``preset_names`` order (a broken file says so)."""
    titles = {}
    for name in preset_names(directory):
        try:
            titles[name] = load_preset(name, directory).title
        except ConfigError as exc:
            titles[name] = f"(cannot be loaded: {exc})"
    return titles


def load_preset(name: str, directory: Traversable | Path = PRESET_DIR) -> Preset:
    """Read and validate preset ``name``; ``ConfigError`` if missing or malformed."""
    path = directory / f"{name}.json"
    if "/" in name or "\\" in name or not path.is_file():
        raise ConfigError(f"unknown preset '{name}' (available: {', '.join(preset_names(directory))})")
    return load_preset_file(path)


def load_preset_file(path: str | Path | Traversable) -> Preset:
    """Read and validate the preset file ``path`` (a file name or a package resource)."""
    if isinstance(path, str):
        path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read preset {path.name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"preset {path.name} is not a text file") from None
    data = parse_json(text, f"preset {path.name}")
    if not isinstance(data, dict) or not isinstance(data.get("config", {}), dict):
        raise ConfigError(f"preset {path.name} must be a JSON object with a 'config' object")
    compare = data.get("compare", {})
    if not isinstance(compare, dict):
        raise ConfigError(f"preset {path.name}: 'compare' must be an object of settings")
    overlays = data.get("overlays", [])
    if not isinstance(overlays, list) or any(o not in OVERLAYS for o in overlays):
        raise ConfigError(f"preset {path.name}: 'overlays' must be a list of {', '.join(OVERLAYS)}")
    view_options = data.get("view_options", {})
    if not isinstance(view_options, dict):
        raise ConfigError(f"preset {path.name}: 'view_options' must be an object")
    try:
        config = TrainConfig.from_dict(data.get("config", {}))
        if compare:
            ghost_config(config, compare)  # validate the ghost run's settings now
    except ConfigError as exc:
        raise ConfigError(f"preset {path.name}: {exc}") from None
    stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.name
    notes = tuple(f"preset {path.name}: {n}" for n in legacy_notes(data.get("config", {})) + legacy_notes(compare))
    return Preset(
        name=stem,
        title=str(data.get("title", stem)),
        description=str(data.get("description", "")),
        config=config,
        view=str(data.get("view", "fit")),
        compare=compare,
        overlays=tuple(overlays),
        notes=notes,
        view_options=view_options,
    )
