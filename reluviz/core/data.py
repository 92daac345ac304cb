"""Datasets: the course's 1-D regression targets, or the user's own ``x,y`` CSV.

All arrays are float64 and 1-D. A synthetic dataset has training x ~ U[0, 1] (``n_train`` points,
label noise std ``noise``) and a noiseless test set on a 1000-point grid over [0, 1]; its
``true_x, true_y`` draw the true function. A CSV dataset keeps a seeded 20% of its rows as the
test set and has no true function.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from reluviz.core.config import ConfigError, TrainConfig

TEST_GRID = 1000
CSV_MAX_ROWS = 2_000_000


def piecewise(x: np.ndarray) -> np.ndarray:
    """The course notebook's target: linear interpolation through (k/10, sin(12345 k)), k = 0..10."""
    k = np.arange(11)
    return np.interp(x, k / 10.0, np.sin(12345.0 * k))


TARGET_FUNCTIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "piecewise": (piecewise, "the course notebook's piecewise-linear target (knots at k/10)"),
    "sin20": (lambda x: np.sin(20.0 * x), "sin(20 x): smooth, needs many elbows"),
    "abs": (lambda x: np.abs(2.0 * x - 1.0), "|2x - 1|: one elbow at 0.5 is enough"),
    "step": (lambda x: np.where(x > 0.5, 1.0, 0.0), "a step at 0.5: elbows pile up at the jump"),
    "quadratic": (lambda x: (2.0 * x - 1.0) ** 2, "(2x - 1)^2: a smooth bowl approximated piecewise"),
}


@dataclass(frozen=True)
class Dataset:
    """Training and test points, shapes (n,) and (m,); ``true_x/true_y`` may be None (CSV data)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    true_x: np.ndarray | None
    true_y: np.ndarray | None
    name: str

    @property
    def n(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def x_range(self) -> tuple[float, float]:
        """Smallest and largest training x (the interval elbows are initialised in)."""
        return float(self.x_train.min()), float(self.x_train.max())


def make_dataset(config: TrainConfig) -> Dataset:
    """The dataset ``config`` describes (deterministic in ``data_seed``)."""
    if config.target == "csv":
        return load_csv(config.csv_path, seed=config.data_seed)
    fn, _ = TARGET_FUNCTIONS[config.target]
    rng = np.random.default_rng([config.data_seed, 0])
    x = rng.uniform(0.0, 1.0, config.n_train)
    y = fn(x) + config.noise * rng.standard_normal(config.n_train)
    grid = np.linspace(0.0, 1.0, TEST_GRID)
    truth = fn(grid)
    return Dataset(x, y, grid, truth, grid, truth, config.target)


def load_csv(path: str | Path, seed: int = 0) -> Dataset:
    """Read ``x,y`` rows (a header line is allowed). Raises ``ConfigError`` with a clear reason."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot open {path}: {exc.strerror or exc}") from None
    xs: list[float] = []
    ys: list[float] = []
    with handle:
        try:
            for lineno, row in enumerate(csv.reader(handle), start=1):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) < 2:
                    raise ConfigError(f"{path.name} line {lineno}: expected two columns x,y, found {len(row)}")
                try:
                    x, y = float(row[0]), float(row[1])
                except ValueError:
                    if lineno == 1 and not xs:
                        continue  # a header such as "x,y"
                    raise ConfigError(f"{path.name} line {lineno}: '{row[0]},{row[1]}' is not a pair of numbers") from None
                if not (np.isfinite(x) and np.isfinite(y)):
                    raise ConfigError(f"{path.name} line {lineno}: values must be finite numbers, got {row[0]},{row[1]}")
                if abs(x) > 1e6 or abs(y) > 1e6:
                    raise ConfigError(f"{path.name} line {lineno}: |x| and |y| must be at most 1e6 (rescale the data)")
                xs.append(x)
                ys.append(y)
                if len(xs) > CSV_MAX_ROWS:
                    raise ConfigError(f"{path.name} has more than {CSV_MAX_ROWS:,} rows")
        except UnicodeDecodeError:
            raise ConfigError(f"{path.name} is not a text file") from None
        except csv.Error as exc:
            raise ConfigError(f"{path.name} is not a readable CSV file ({exc})") from None
    if len(xs) < 4:
        raise ConfigError(f"{path.name} needs at least 4 rows of x,y numbers, found {len(xs)}")
    x = np.asarray(xs)
    y = np.asarray(ys)
    if np.ptp(x) == 0:
        raise ConfigError(f"{path.name}: all x values are equal, nothing to fit")
    order = np.random.default_rng([seed, 3]).permutation(len(x))
    n_test = max(1, len(x) // 5)
    test, train = order[:n_test], order[n_test:]
    test = test[np.argsort(x[test])]
    return Dataset(x[train], y[train], x[test], y[test], None, None, path.name)
