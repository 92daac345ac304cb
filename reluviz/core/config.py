"""Training configuration: one flat, validated, JSON-friendly record of every setting.

Field names are the keys accepted by ``--set KEY=VALUE`` on the command line and by preset files
in ``reluviz/presets/``. Each field carries its description once, a ``Setting`` in the field's
metadata (``SETTINGS[name]``): label, group, range, step, choices, tooltip, whether a change needs
a new run (``RESET_FIELDS``) and which choice of optimizer / schedule / model / data / batch makes
it meaningful. ``TrainConfig.validate``, the app's side panel and ``reluviz --help`` all read it.
``validate`` turns bad values into a ``ConfigError`` with a one-line message meant for people (the
CLI prints it and exits with code 2).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import textwrap
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

from reluviz.core.settings_text import (ConfigError, LEGACY_SETTINGS, legacy_notes, parse_json, read_settings_file,
                                        upgrade_settings)
from reluviz.core.settings_text import coerce as _coerce

TARGETS = ("piecewise", "sin20", "abs", "step", "quadratic", "line", "csv")
MODELS = ("relu", "constant", "linear", "affine")
INITS = ("uniform_elbows", "gaussian", "he")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
SCHEDULES = ("constant", "step", "exponential", "inverse", "cosine")
SAMPLINGS = ("replacement", "shuffle", "sequential")
TRAIN_LAYERS = ("all", "output", "hidden")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")
GROUPS = ("data", "model", "optimizer", "schedule", "minibatches", "run")
MAX_SEED = 2**31 - 1     # the app's seed boxes hold 32-bit numbers; NumPy refuses negative seeds
MAX_STEPS = 10**12       # whole numbers without a range of their own (step counts) stay far from int64 overflow


# ---------------------------------------------------------------------- describing a setting
@dataclass(frozen=True)
class When:
    """A setting means something only when ``field`` is one of ``values`` (with ``negate``: is not).

    ``describe()`` is how ``--help`` says it, e.g. "optimizer momentum, nesterov only" (or ``text``)."""

    field: str
    values: tuple
    negate: bool = False
    text: str = ""

    def holds(self, values: Mapping[str, Any]) -> bool:
        return (values[self.field] in self.values) != self.negate

    def describe(self) -> str:
        if self.text:
            return self.text
        names = ", ".join(str(v) for v in self.values)
        return f"not {self.field} {names}" if self.negate else f"{self.field} {names} only"


def only(field: str, *values: Any) -> When:
    return When(field, values)


def unless(field: str, *values: Any, text: str = "") -> When:
    return When(field, values, negate=True, text=text)


@dataclass(frozen=True)
class Setting:
    """What one ``TrainConfig`` field means and which values it takes.

    ``lo``/``hi``: inclusive bounds (None: unbounded), or exclusive with ``lo_open``/``hi_open``;
    whole numbers without ``hi`` are bounded by ``MAX_STEPS``. ``decimals``: 0 for a whole number
    (an int field), else the decimals a spin box keeps (an open bound is one unit of the last
    decimal inside); ``step``: its step; ``log``: a rate, shown as 0.02 or 1e-05 and stepped by
    its last digit. ``unit``: of the value, for ``--help`` (of a text field: what it holds).
    ``zero``: what the value 0 means, when it is special. ``choices`` (str fields): the allowed values, with
    ``choice_labels`` to show in the panel. ``tip``: the tooltip, in the course's terms;
    ``summary``: the one line of ``--help`` (default: the tip's first sentence). ``resets``: a
    change needs new data or a new network (a new run). ``applies_when``: the choice that makes
    the setting meaningful (None: always)."""

    label: str
    group: str
    tip: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    step: float = 1
    decimals: int = 0
    log: bool = False
    unit: str = ""
    zero: str = ""
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()
    summary: str = ""
    resets: bool = False
    applies_when: When | None = None

    def applies(self, values: Mapping[str, Any]) -> bool:
        """Whether the setting means something under ``values`` (a config's ``to_dict()`` or the panel's)."""
        return self.applies_when is None or self.applies_when.holds(values)

    def one_line(self) -> str:
        if self.summary:
            return self.summary
        first = self.tip.split("\n", 1)[0]
        return re.split(r"(?<=\.)\s", first, maxsplit=1)[0]

    # -------------------------------------------------------------- ranges
    def panel_range(self) -> tuple[float, float | None]:
        """The closed range a spin box shows: open bounds move one unit of the last decimal inside."""
        unit = 10.0 ** -self.decimals if self.decimals else 1
        lo = self.lo if self.lo is not None else -math.inf
        hi = self.hi if self.hi is not None else (MAX_STEPS if self.decimals == 0 else None)
        if self.lo_open:
            lo = round(lo + unit, self.decimals)
        if self.hi_open and hi is not None:
            hi = round(hi - unit, self.decimals)
        return lo, hi

    def range_text(self) -> str:
        """The allowed values in words, as ``--help`` lists them."""
        if self.choices:
            return " | ".join(self.choices)
        if self.lo is None and self.hi is None:
            return self.unit or "text"
        unit = f" {self.unit}" if self.unit else ""
        if self.decimals == 0:  # a whole number
            text = f"{_num(self.lo)} to {_num(self.hi)}" if self.hi is not None else f">= {_num(self.lo)}"
        elif self.hi is not None:
            text = self._interval()
        else:
            text = f"{'>' if self.lo_open else '>='} {_num(self.lo)}"
        return text + unit + (f" (0: {self.zero})" if self.zero else "")

    def _interval(self) -> str:
        return f"{'(' if self.lo_open else '['}{_num(self.lo)}, {_num(self.hi)}{')' if self.hi_open else ']'}"

    def problem(self, name: str, value: Any) -> str | None:
        """The one-line complaint about ``value`` for field ``name``, or None when it is allowed."""
        if self.choices:
            if value not in self.choices:
                return f"{name} must be one of {', '.join(self.choices)}; got '{value}'"
            return None
        if isinstance(value, str) or (self.lo is None and self.hi is None):
            return None
        if self.decimals == 0:  # a whole number
            if self.hi is not None:
                if not self.lo <= value <= self.hi:
                    return f"{name} must be a whole number from {_num(self.lo)} to {_num(self.hi)}, got {value:,}"
                return None
            if value < self.lo:
                zero = f" (0 means {self.zero})" if self.zero else ""
                return f"{name} must be >= {_num(self.lo)}{zero}, got {value:,}"
            if value > MAX_STEPS:
                return f"{name} must be at most {MAX_STEPS:,}, got {value:,}"
            return None
        ok = math.isfinite(value)
        if ok and self.lo is not None:
            ok = value > self.lo if self.lo_open else value >= self.lo
        if ok and self.hi is not None:
            ok = value < self.hi if self.hi_open else value <= self.hi
        if ok:
            return None
        positive = self.lo == 0 and self.lo_open
        what = "a positive number" if positive else "a number"
        if self.hi is not None:
            what += f" in {self._interval()}"
        elif not positive:
            what += f" {'>' if self.lo_open else '>='} {_num(self.lo)}"
        return f"{name} must be {what}, got {value}"


def _num(x: float | None) -> str:
    """1000000 -> '1,000,000', 0.5 -> '0.5', 1e-08 -> '1e-08'."""
    if x is None:
        return "any"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:g}"


def setting(default: Any, **meta: Any) -> Any:
    """A dataclass field with ``default`` that carries ``Setting(**meta)`` as its metadata."""
    return dataclasses.field(default=default, metadata={"setting": Setting(**meta)})


def parse_assignments(assignments: list[str], option: str = "--set") -> dict[str, str]:
    """``["KEY=VALUE", ...]`` (as given to ``option``) as a dict of strings (parsed by ``updated``)."""
    values: dict[str, str] = {}
    for item in assignments:
        if "=" not in item:
            raise ConfigError(f"{option} expects KEY=VALUE, got '{item}'")
        key, value = item.split("=", 1)
        values[key.strip()] = value.strip()
    return values


_CSV = unless("target", "csv")
_RELU = only("model", "relu")
_ADAM = only("optimizer", "adam")
_NOT_FULL = unless("batch_size", 0, text="not full batch")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run (each field's ``Setting`` says what it means).

    Data: ``target`` (a built-in function or ``csv`` with ``csv_path``); ``n_train``, ``n_val`` and
    ``n_test`` points with x ~ U[0, 1] and Gaussian label noise of std ``noise``, drawn from
    ``data_seed`` (a CSV's rows are split by ``val_fraction`` and ``test_fraction``).
    Model: ``relu`` is f(x) = sum_j v_j relu(w_j x + b_j) + c with ``width`` hidden units;
    ``constant`` is y = theta; ``linear`` is y = theta x.
    Optimizer: torch.optim semantics (see ``reluviz.core.optimizers``); ``lr`` is the base rate,
    shaped over steps by ``schedule``. ``batch_size`` 0 means full-batch gradient descent. The
    objective is the MSE plus ``ridge`` * ||theta||^2 over the trained parameters.
    """

    # data
    target: str = setting(
        "piecewise", label="target", group="data", choices=TARGETS, resets=True,
        choice_labels=TARGETS[:-1] + ("csv (your file)",),
        summary="The true function the data are sampled from; csv: your own x,y rows (csv_path).",
        tip="The true function the data are sampled from (dashed green). 'piecewise' is the course "
            "notebook's target with knots at k/10; 'line' is y = 2x - 1 (an affine model fits it exactly); "
            "'csv' is a file of your own x,y rows.")
    n_train: int = setting(
        200, label="points N", group="data", lo=2, hi=10_000_000, step=10, unit="points", resets=True,
        applies_when=_CSV, tip="N, the number of training points. The loss is their average squared error.")
    n_val: int = setting(
        100, label="validation points", group="data", lo=1, hi=10_000_000, step=10, unit="points", resets=True,
        applies_when=_CSV,
        tip="Points of the validation set: drawn like the training points (same x distribution, same label "
            "noise) but never trained on. Hyperparameters (ridge λ, width, training steps) are chosen by "
            "their validation loss (notes, Figure 3.1).")
    n_test: int = setting(
        1000, label="test points", group="data", lo=1, hi=10_000_000, step=100, unit="points", resets=True,
        applies_when=_CSV,
        tip="Points of the test set: a third sample of the same distribution, for the final check of the "
            "chosen model. The notes touch it once, at the end: choosing anything by it makes it a "
            "validation set.")
    noise: float = setting(
        0.01, label="noise std", group="data", lo=0.0, hi=10.0, step=0.01, decimals=3, resets=True,
        applies_when=_CSV,
        tip="Standard deviation of the Gaussian noise added to each label y_i (training, validation and "
            "test points alike: the same distribution).")
    data_seed: int = setting(
        0, label="data seed", group="data", lo=0, hi=MAX_SEED, resets=True,
        tip="Seed of the random x_i and noise: the same seed gives the same data set.")
    csv_path: str = setting(
        "", label="CSV file", group="data", unit="a file name", resets=True, applies_when=only("target", "csv"),
        tip="Your own data (target=csv): a text file of x,y rows (a header line is allowed).")
    val_fraction: float = setting(
        0.2, label="validation share", group="data", lo=0.0, hi=1.0, hi_open=True, step=0.05, decimals=3,
        resets=True, applies_when=only("target", "csv"),
        tip="target=csv: the share of your rows kept out of training as the validation set (a seeded "
            "random split by the data seed; the rest, less the test share, trains).")
    test_fraction: float = setting(
        0.2, label="test share", group="data", lo=0.0, hi=1.0, hi_open=True, step=0.05, decimals=3,
        resets=True, applies_when=only("target", "csv"),
        tip="target=csv: the share of your rows kept out as the test set, for the final check only. "
            "validation share + test share must be less than 1.")
    # model
    model: str = setting(
        "relu", label="model", group="model", choices=MODELS, resets=True,
        summary="relu: f(x) = sum_j v_j relu(w_j x + b_j) + c; constant: y = theta; linear: y = theta x; "
                "affine: y = a x + b (two parameters: the loss is a bowl over the (a, b) plane).",
        tip="relu: f(x) = sum_j v_j relu(w_j x + b_j) + c, a sum of elbows.\n"
            "constant: y = theta (every point gets an equal vote).\n"
            "linear: y = theta x (votes grow with x).\n"
            "affine: y = a x + b, a line with an intercept: two parameters, so the Dance tab draws the whole "
            "loss bowl over (a, b) and the iterate moving on it.")
    width: int = setting(
        20, label="width H", group="model", lo=1, hi=100_000, unit="units", resets=True, applies_when=_RELU,
        tip="H, the number of hidden ReLU units (elbows).")
    init: str = setting(
        "uniform_elbows", label="init", group="model", choices=INITS, resets=True, applies_when=_RELU,
        tip="How w, b, v start. uniform_elbows: elbows -b/w spread uniformly over the data (the notebook).\n"
            "gaussian: w, b ~ N(0, 1), so -b/w is Cauchy: many elbows land outside the data (dead ReLUs).\n"
            "he: w ~ N(0, 2), b = 0.")
    init_seed: int = setting(
        0, label="init seed", group="model", lo=0, hi=MAX_SEED, resets=True, tip="Seed of the initial weights.")
    train: str = setting(
        "all", label="train", group="model", choices=TRAIN_LAYERS, applies_when=_RELU,
        choice_labels=("all layers", "output only (v, c)", "hidden only (w, b)"),
        tip="Which parameters learn. all; output: only v and c (random features, a convex problem); "
            "hidden: only w and b (all hidden layers' weights). Applies from the next step.")
    depth: int = setting(
        1, label="depth L", group="model", lo=1, hi=4, unit="hidden layers", resets=True, applies_when=_RELU,
        tip="L, the number of hidden layers of H units: f(x) = v^T h_L(x) + c with h_k = act(W_k h_(k-1) + b_k). "
            "Every unit of every layer bends f where it crosses 0: depth makes more pieces than units (Figure 8).")
    activation: str = setting(
        "relu", label="activation", group="model", choices=ACTIVATIONS, resets=True, applies_when=_RELU,
        choice_labels=("ReLU max(0, z)", "leaky ReLU", "tanh", "sigmoid"),
        tip="The units' nonlinearity: relu max(0, z) (derivative 1 or 0, non-saturating), leaky_relu (slope "
            "leaky_slope below 0), or the S-curves tanh and sigmoid.\nAn S-curve's derivative vanishes for large "
            "|z| (saturation); sigmoid's is at most 1/4: gradients shrink layer by layer (the notes' case for ReLU).")
    leaky_slope: float = setting(
        0.01, label="leaky slope", group="model", lo=0.0, hi=1.0, hi_open=True, step=0.01, decimals=3, resets=True,
        applies_when=only("activation", "leaky_relu"), tip="Leaky ReLU's slope for z < 0 (torch's default 0.01).")
    # optimizer
    optimizer: str = setting(
        "sgd", label="optimizer", group="optimizer", choices=OPTIMIZERS,
        summary="sgd: theta <- theta - lr g; momentum / nesterov: a running sum of gradients (heavy ball); "
                "adam: per-parameter rates.",
        tip="sgd: theta <- theta - lr g.  momentum / nesterov: a running sum of gradients (heavy ball).\n"
            "adam: per-parameter rates from running averages of g and g^2.")
    lr: float = setting(
        0.02, label="learning rate", group="optimizer", lo=0.0, lo_open=True, hi=1e6, step=0.001, decimals=8,
        log=True,
        tip="Learning rate: the step size. Gradient descent is stable only below 2 / curvature; "
            "too large and the loss blows up. Applies from the next step.")
    momentum: float = setting(
        0.9, label="momentum mu", group="optimizer", lo=0.0, hi=1.0, hi_open=True, step=0.05, decimals=3,
        applies_when=only("optimizer", "momentum", "nesterov"),
        tip="mu: how much of the previous step carries over (momentum and nesterov only).")
    beta1: float = setting(
        0.9, label="Adam beta1", group="optimizer", lo=0.0, hi=1.0, hi_open=True, step=0.01, decimals=4,
        applies_when=_ADAM, tip="Adam's beta1: averaging of the gradient (the first moment).")
    beta2: float = setting(
        0.999, label="Adam beta2", group="optimizer", lo=0.0, hi=1.0, hi_open=True, step=0.001, decimals=5,
        applies_when=_ADAM, tip="Adam's beta2: averaging of the squared gradient (the second moment).")
    eps: float = setting(
        1e-8, label="Adam eps", group="optimizer", lo=0.0, lo_open=True, hi=1.0, step=1e-8, decimals=12,
        log=True, applies_when=_ADAM,
        tip="Adam's epsilon: added to the root of the second moment, so a step never divides by zero.")
    ridge: float = setting(
        0.0, label="ridge λ", group="optimizer", lo=0.0, hi=100.0, step=0.0001, decimals=8, log=True,
        summary="Ridge lambda of the notes: training minimises (1/N) sum (f(x_i) - y_i)^2 + lambda ||theta||^2 "
                "over the trained parameters, biases included (torch's weight_decay = 2 lambda).",
        tip="λ of the ridge regulariser R(θ) = λ‖θ‖² (notes, eq. 3.1): training minimises\n"
            "(1/N) Σ (f(xᵢ) − yᵢ)² + λ‖θ‖² over the trained parameters, biases included,\n"
            "so every step also pulls each weight toward 0 by 2λθ (torch's weight_decay = 2λ).\n"
            "λ is a hyperparameter: choose it by validation loss (Model selection tab).")
    # learning-rate schedule
    schedule: str = setting(
        "constant", label="lr schedule", group="schedule", choices=SCHEDULES,
        tip="How the learning rate changes with the step t. With a constant rate SGD keeps "
            "dancing around the optimum; a decaying rate (inverse: lr / (1 + k t)) lets it settle.")
    step_size: int = setting(
        1000, label="step every", group="schedule", lo=1, step=100, unit="steps", applies_when=only("schedule", "step"),
        tip="step schedule: multiply the rate by gamma every step_size steps.")
    gamma: float = setting(
        0.5, label="gamma", group="schedule", lo=0.0, lo_open=True, hi=1.0, step=0.05, decimals=4,
        applies_when=only("schedule", "step"), tip="step schedule: the factor applied every step_size steps.")
    exp_gamma: float = setting(
        0.9995, label="exp gamma", group="schedule", lo=0.0, lo_open=True, hi=1.0, step=0.0001, decimals=6,
        applies_when=only("schedule", "exponential"), tip="exponential schedule: the rate is lr * exp_gamma^t.")
    decay: float = setting(
        0.001, label="decay k", group="schedule", lo=0.0, hi=1000.0, step=0.0005, decimals=5,
        applies_when=only("schedule", "inverse"), tip="inverse schedule: the rate is lr / (1 + decay * t).")
    t_max: int = setting(
        0, label="t_max", group="schedule", lo=0, step=1000, unit="steps", zero="the run length",
        applies_when=only("schedule", "cosine"),
        tip="cosine schedule: steps to anneal over (0: the run length, set under Playback).")
    lr_min: float = setting(
        0.0, label="lr_min", group="schedule", lo=0.0, hi=10.0, step=0.0001, decimals=6,
        applies_when=only("schedule", "cosine"), tip="cosine schedule: the rate it anneals down to.")
    # minibatches
    batch_size: int = setting(
        40, label="batch size B", group="minibatches", lo=0, unit="points", zero="full batch",
        applies_when=_NOT_FULL,
        tip="B, the minibatch size of SGD: each step estimates the gradient from B points.")
    sampling: str = setting(
        "replacement", label="sampling", group="minibatches", choices=SAMPLINGS, applies_when=_NOT_FULL,
        choice_labels=("with replacement", "shuffle each epoch", "sequential"),
        tip="How minibatches are drawn: with replacement (independent draws), shuffle (each epoch "
            "visits every point once), or sequential (the same order every epoch).")
    sample_seed: int = setting(
        0, label="batch seed", group="minibatches", lo=0, hi=MAX_SEED, applies_when=_NOT_FULL,
        tip="Seed of the minibatch order (changing it starts a new run).")
    # run length (used by `reluviz train` / export and the app's default horizon)
    steps: int = setting(
        30000, label="run length", group="run", lo=0, step=1000, unit="steps",
        summary="Run length: the number of updates (the app stops playing here).",
        tip="Run length: playing stops here (press play again to go on).")

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
        """The settings of a JSON file (see ``read_settings_file``), validated; old names converted
        silently (``legacy_notes`` of ``read_settings_file(path)`` says what was converted)."""
        return cls.from_dict(read_settings_file(path))

    def updated(self, values: dict[str, Any]) -> "TrainConfig":
        """A copy with ``values`` applied (strings are parsed to the field's type), validated."""
        if not isinstance(values, dict):
            raise ConfigError(f"settings must be a mapping of names to values, got {type(values).__name__}")
        values, _ = upgrade_settings(values)
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
        """``ConfigError`` (one line) for the first value out of its range or choices (``SETTINGS``),
        then for the rules that tie settings together."""
        for name, s in SETTINGS.items():
            problem = s.problem(name, getattr(self, name))
            if problem:
                raise ConfigError(problem)
        if self.target == "csv" and not self.csv_path:
            raise ConfigError("target=csv needs csv_path=FILE (a file of x,y rows)")
        if self.target != "csv" and self.batch_size > self.n_train:
            raise ConfigError(
                f"batch_size {self.batch_size} is larger than the data (n_train={self.n_train}); "
                "use 0 for full-batch gradient descent"
            )
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ConfigError(
                f"val_fraction {self.val_fraction:g} + test_fraction {self.test_fraction:g} = "
                f"{self.val_fraction + self.test_fraction:g}: the shares must sum to less than 1 (the rest trains)")
        if self.model != "relu" and self.train == "hidden":
            raise ConfigError(f"train=hidden needs model=relu (the {self.model} model has no hidden layer)")

    # ------------------------------------------------------------------ derived
    def effective_batch(self, n: int) -> int:
        """Minibatch size for ``n`` training points (0 = full batch = n)."""
        return n if self.batch_size == 0 else self.batch_size


#: Every field's ``Setting``, in field order.
SETTINGS: dict[str, Setting] = {f.name: f.metadata["setting"] for f in fields(TrainConfig)}

#: Fields that define the data and the model: changing one needs new data or a new network (a reset).
RESET_FIELDS: tuple[str, ...] = tuple(name for name, s in SETTINGS.items() if s.resets)


def reset_fields_changed(old: TrainConfig, new: TrainConfig, extra: Iterable[str] = ()) -> list[str]:
    """Names of the ``RESET_FIELDS`` (and ``extra`` fields) in which ``old`` and ``new`` differ."""
    return [f for f in (*RESET_FIELDS, *extra) if getattr(old, f) != getattr(new, f)]


_GROUP_TITLES = {
    "data": "data", "model": "model", "optimizer": "optimizer (applies from the next step)",
    "schedule": "learning-rate schedule", "minibatches": "minibatches", "run": "run",
}


def settings_help(width: int = 100) -> str:
    """Every setting by group: name (which choice it belongs to): range, default; meaning. Plain text."""
    defaults = TrainConfig()
    lines = textwrap.wrap("settings (--set KEY=VALUE; * = a change needs new data or a new network, i.e. a new "
                          "run):", width, subsequent_indent="  ")
    for group in GROUPS:
        lines.append(f"  {_GROUP_TITLES[group]}:")
        for name, s in SETTINGS.items():
            if s.group != group:
                continue
            when = s.applies_when
            cond = f" ({when.describe()})" if when is not None and when.field != name else ""
            default = getattr(defaults, name)
            shown = f"'{default}'" if isinstance(default, str) else _num(default) if isinstance(default, int) else f"{default:g}"
            text = f"{name}{'*' if s.resets else ''}{cond}: {s.range_text()}, default {shown}. {s.one_line()}"
            lines.extend(textwrap.wrap(text, width, initial_indent="    ", subsequent_indent="        ",
                                       break_on_hyphens=False))
    return "\n".join(lines)


