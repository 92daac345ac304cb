"""Presets: named starting points stored as JSON in ``resources/presets/NAME.json``.

A preset file holds ``title``, ``description`` (a paragraph tying it to the course notes),
``config`` (settings over the defaults), an optional ``view`` (which lecture view the app opens)
and an optional ``compare`` (settings of a ghost run drawn beside the main one: optimizer,
schedule and batch settings only, see ``reluviz.core.compare.ghost_config``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reluviz.core.compare import ghost_config
from reluviz.core.config import ConfigError, TrainConfig, parse_json

PRESET_DIR = Path(__file__).resolve().parents[2] / "resources" / "presets"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    config: TrainConfig
    view: str = "fit"
    compare: dict[str, Any] = field(default_factory=dict)


def preset_names(directory: Path = PRESET_DIR) -> list[str]:
    """Names of the available presets, sorted (the ``notebook`` preset first)."""
    names = sorted(p.stem for p in directory.glob("*.json"))
    return sorted(names, key=lambda n: (n != "notebook", n))


def load_preset(name: str, directory: Path = PRESET_DIR) -> Preset:
    """Read and validate preset ``name``; ``ConfigError`` if missing or malformed."""
    path = directory / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"unknown preset '{name}' (available: {', '.join(preset_names(directory))})")
    return load_preset_file(path)


def load_preset_file(path: str | Path) -> Preset:
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
    try:
        config = TrainConfig.from_dict(data.get("config", {}))
        if compare:
            ghost_config(config, compare)  # validate the ghost run's settings now
    except ConfigError as exc:
        raise ConfigError(f"preset {path.name}: {exc}") from None
    return Preset(
        name=path.stem,
        title=str(data.get("title", path.stem)),
        description=str(data.get("description", "")),
        config=config,
        view=str(data.get("view", "fit")),
        compare=compare,
    )
