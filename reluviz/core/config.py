"""Training configuration: one flat, validated, JSON-friendly record of every setting.

Field names are the keys accepted by ``--set KEY=VALUE`` on the command line and by preset files
in ``resources/presets/``. ``TrainConfig.validate`` turns bad values into a ``ConfigError`` with a
one-line message meant for people (the CLI prints it and exits with code 2).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

TARGETS = ("piecewise", "sin20", "abs", "step", "quadratic", "csv")
MODELS = ("relu", "constant", "linear")
INITS = ("uniform_elbows", "gaussian", "he")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
SCHEDULES = ("constant", "step", "exponential", "inverse", "cosine")
SAMPLINGS = ("replacement", "shuffle", "sequential")
TRAIN_LAYERS = ("all", "output", "hidden")
MAX_SEED = 2**31 - 1     # the app's seed boxes hold 32-bit numbers; NumPy refuses negative seeds
MAX_STEPS = 10**12       # step counts stay far from int64 overflow (10^12 steps: weeks of training)


class ConfigError(ValueError):
    """A setting is unknown or out of range; the message is one line, fit to show a user."""


def parse_assignments(assignments: list[str], option: str = "--set") -> dict[str, str]:
    """``["KEY=VALUE", ...]`` (as given to ``option``) as a dict of strings (parsed by ``updated``)."""
    values: dict[str, str] = {}
    for item in assignments:
        if "=" not in item:
            raise ConfigError(f"{option} expects KEY=VALUE, got '{item}'")
        key, value = item.split("=", 1)
        values[key.strip()] = value.strip()
    return values


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run.

    Data: ``target`` (a built-in function or ``csv`` with ``csv_path``), ``n_train`` points with
    x ~ U[0, 1] and Gaussian label noise of std ``noise``, drawn from ``data_seed``.
    Model: ``relu`` is f(x) = sum_j v_j relu(w_j x + b_j) + c with ``width`` hidden units;
    ``constant`` is y = theta; ``linear`` is y = theta x.
    Optimizer: torch.optim semantics (see ``reluviz.core.optimizers``); ``lr`` is the base rate,
    shaped over steps by ``schedule``. ``batch_size`` 0 means full-batch gradient descent.
    """

    # data
    target: str = "piecewise"
    n_train: int = 200
    noise: float = 0.01
    data_seed: int = 0
    csv_path: str = ""
    # model
    model: str = "relu"
    width: int = 20
    init: str = "uniform_elbows"
    init_seed: int = 0
    train: str = "all"
    # optimizer
    optimizer: str = "sgd"
    lr: float = 0.02
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    # learning-rate schedule
    schedule: str = "constant"
    step_size: int = 1000
    gamma: float = 0.5
    exp_gamma: float = 0.9995
    decay: float = 0.001
    t_max: int = 0
    lr_min: float = 0.0
    # minibatches
    batch_size: int = 40
    sampling: str = "replacement"
    sample_seed: int = 0
    # run length (used by `reluviz train` / export and the app's default horizon)
    steps: int = 30000

    # ------------------------------------------------------------------ construction
    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Build and validate from a mapping; unknown keys are an error."""
        return cls().updated(values)

    @classmethod
    def from_json_file(cls, path: str | Path) -> "TrainConfig":
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
        return cls.from_dict(data)

    @classmethod
    def from_preset(cls, name: str) -> "TrainConfig":
        from reluviz.core.presets import load_preset

        return load_preset(name).config

    def updated(self, values: dict[str, Any]) -> "TrainConfig":
        """A copy with ``values`` applied (strings are parsed to the field's type), validated."""
        if not isinstance(values, dict):
            raise ConfigError(f"settings must be a mapping of names to values, got {type(values).__name__}")
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, raw in values.items():
            if key not in known:
                raise ConfigError(f"unknown setting '{key}' (known: {', '.join(known)})")
            changes[key] = _coerce(key, raw, type(getattr(self, key)))
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    def with_assignments(self, assignments: list[str]) -> "TrainConfig":
        """Apply ``KEY=VALUE`` strings as given to ``--set``."""
        return self.updated(parse_assignments(assignments))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        _choice("target", self.target, TARGETS)
        _choice("model", self.model, MODELS)
        _choice("init", self.init, INITS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("sampling", self.sampling, SAMPLINGS)
        _choice("train", self.train, TRAIN_LAYERS)
        if self.target == "csv" and not self.csv_path:
            raise ConfigError("target=csv needs csv_path=FILE (a file of x,y rows)")
        if self.target != "csv" and not 2 <= self.n_train <= 10_000_000:
            raise ConfigError(f"n_train must be between 2 and 10,000,000, got {self.n_train}")
        _nonneg("noise", self.noise)
        if not 1 <= self.width <= 100_000:
            raise ConfigError(f"width must be a whole number from 1 to 100,000, got {self.width}")
        if not (self.lr > 0 and _finite(self.lr)):
            raise ConfigError(f"lr must be a positive number, got {self.lr}")
        for name in ("momentum", "beta1", "beta2"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {value}")
        if not (self.eps > 0 and _finite(self.eps)):
            raise ConfigError(f"eps must be positive, got {self.eps}")
        _nonneg("weight_decay", self.weight_decay)
        if self.step_size < 1:
            raise ConfigError(f"step_size must be at least 1, got {self.step_size}")
        if not 0 < self.gamma <= 1:
            raise ConfigError(f"gamma must be in (0, 1], got {self.gamma}")
        if not 0 < self.exp_gamma <= 1:
            raise ConfigError(f"exp_gamma must be in (0, 1], got {self.exp_gamma}")
        _nonneg("decay", self.decay)
        if self.t_max < 0:
            raise ConfigError(f"t_max must be >= 0 (0 means: the run's steps), got {self.t_max}")
        _nonneg("lr_min", self.lr_min)
        if self.batch_size < 0:
            raise ConfigError(f"batch_size must be >= 0 (0 means full batch), got {self.batch_size}")
        if self.target != "csv" and self.batch_size > self.n_train:
            raise ConfigError(
                f"batch_size {self.batch_size} is larger than the data (n_train={self.n_train}); "
                "use 0 for full-batch gradient descent"
            )
        if self.steps < 0:
            raise ConfigError(f"steps must be >= 0, got {self.steps}")
        for name in ("data_seed", "init_seed", "sample_seed"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_SEED:
                raise ConfigError(f"{name} must be a whole number from 0 to {MAX_SEED:,}, got {value}")
        for name in ("steps", "step_size", "t_max", "batch_size"):
            if getattr(self, name) > MAX_STEPS:
                raise ConfigError(f"{name} must be at most {MAX_STEPS:,}, got {getattr(self, name):,}")
        if self.model != "relu" and self.train == "hidden":
            raise ConfigError(f"train=hidden needs model=relu (the {self.model} model has no hidden layer)")

    # ------------------------------------------------------------------ derived
    def effective_batch(self, n: int) -> int:
        """Minibatch size for ``n`` training points (0 = full batch = n)."""
        return n if self.batch_size == 0 else self.batch_size


def parse_json(text: str, what: str) -> Any:
    """``json.loads`` with a ``ConfigError`` naming ``what`` for text that is not (sane) JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise ConfigError(f"{what} is nested too deeply to be a settings file") from None


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


def _nonneg(name: str, value: float) -> None:
    if not (value >= 0 and _finite(value)):
        raise ConfigError(f"{name} must be a number >= 0, got {value}")


def _choice(name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ConfigError(f"{name} must be one of {', '.join(options)}; got '{value}'")


def _coerce(key: str, raw: Any, kind: type) -> Any:
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
