"""Datasets: the course's 1-D regression targets, or the user's own ``x,y`` CSV.

All arrays are float64 and 1-D. As the notes teach (train / validation / test, Figure 3.1), a
data set is three samples of one distribution: the training points the parameters are fit on,
the validation points hyperparameters are chosen on, and the test points for the final check.

* Synthetic data: each sample has x ~ U[0, 1] and y = f(x) + noise * N(0, 1), drawn from its own
  stream of the data seed: training ``default_rng([data_seed, 0])`` (``n_train`` points),
  validation ``[data_seed, 1]`` (``n_val``), test ``[data_seed, 2]`` (``n_test``). So changing
  ``n_val`` or ``n_test`` never changes the training points. ``true_x, true_y`` is the noiseless
  true function on a ``TRUE_GRID``-point grid over [0, 1]: the "error to the true function" a
  student cannot measure in real life.
* A CSV: its rows are split at random by the data seed (``default_rng([data_seed, 3])``) into
  ``test_fraction`` test rows, ``val_fraction`` validation rows and the rest for training; it has
  no true function.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from reluviz.core.config import ConfigError, TrainConfig

TRUE_GRID = 1000  # points of the true function's grid (its error is the mean over them)
CSV_MAX_ROWS = 2_000_000
CSV_MAX_BYTES = 256 * 2**20  # a file this large is refused before it is read
CSV_MAX_ABS = 1e6
MIN_TRAIN_ROWS = 2  # a CSV split must leave at least this many training rows

#: The data seed's random streams (``np.random.default_rng([data_seed, stream])``).
TRAIN_STREAM, VAL_STREAM, TEST_STREAM, CSV_SPLIT_STREAM = 0, 1, 2, 3


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
    "line": (lambda x: 2.0 * x - 1.0, "2x - 1: a straight line (the affine model y = a x + b fits it exactly)"),
}

_EMPTY = np.empty(0)


@dataclass(frozen=True)
class Dataset:
    """Training (n,), test (m,) and validation (k,) points; ``true_x/true_y`` (the noiseless true
    function on a grid) may be None (CSV data). (The validation set comes last, with an empty
    default, so a data set built as before, without one, still constructs.)"""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    true_x: np.ndarray | None
    true_y: np.ndarray | None
    name: str
    x_val: np.ndarray = field(default_factory=lambda: _EMPTY)
    y_val: np.ndarray = field(default_factory=lambda: _EMPTY)

    @property
    def n(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.x_val.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    @property
    def has_truth(self) -> bool:
        return self.true_x is not None

    @property
    def x_range(self) -> tuple[float, float]:
        """Smallest and largest training x (the interval elbows are initialised in)."""
        return float(self.x_train.min()), float(self.x_train.max())

    def sample(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of ``'train'``, ``'val'``, ``'test'`` or ``'true'`` (the true function's grid;
        empty arrays without one)."""
        if which == "true":
            return (self.true_x, self.true_y) if self.true_x is not None else (_EMPTY, _EMPTY)
        return {"train": (self.x_train, self.y_train), "val": (self.x_val, self.y_val),
                "test": (self.x_test, self.y_test)}[which]


def draw_sample(config: TrainConfig, stream: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points x ~ U[0, 1], y = f(x) + noise N(0, 1) from stream ``stream`` of the data seed."""
    fn, _ = TARGET_FUNCTIONS[config.target]
    rng = np.random.default_rng([config.data_seed, stream])
    x = rng.uniform(0.0, 1.0, n)
    y = fn(x) + config.noise * rng.standard_normal(n)
    return x, y


def make_dataset(config: TrainConfig) -> Dataset:
    """The dataset ``config`` describes (deterministic in ``data_seed``)."""
    if config.target == "csv":
        return load_csv(config.csv_path, seed=config.data_seed, val_fraction=config.val_fraction,
                        test_fraction=config.test_fraction)
    fn, _ = TARGET_FUNCTIONS[config.target]
    x, y = draw_sample(config, TRAIN_STREAM, config.n_train)
    xv, yv = draw_sample(config, VAL_STREAM, config.n_val)
    xt, yt = draw_sample(config, TEST_STREAM, config.n_test)
    grid = np.linspace(0.0, 1.0, TRUE_GRID)
    return Dataset(x, y, xt, yt, grid, fn(grid), config.target, x_val=xv, y_val=yv)


def split_sizes(rows: int, val_fraction: float, test_fraction: float, name: str = "the file") -> tuple[int, int]:
    """(n_val, n_test) of a CSV of ``rows`` rows: the shares rounded, at least one row for a share
    above 0. ``ConfigError`` when they leave fewer than ``MIN_TRAIN_ROWS`` rows to train on."""
    n_val = max(1, round(val_fraction * rows)) if val_fraction > 0 else 0
    n_test = max(1, round(test_fraction * rows)) if test_fraction > 0 else 0
    left = rows - n_val - n_test
    if left < MIN_TRAIN_ROWS:
        raise ConfigError(
            f"{name}: {rows} rows split into n_val={n_val} (val_fraction {val_fraction:g}) and n_test={n_test} "
            f"(test_fraction {test_fraction:g}) leave {max(left, 0)} to train on (need {MIN_TRAIN_ROWS}); "
            "lower the shares")
    return n_val, n_test


def load_csv(path: str | Path, seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2) -> Dataset:
    """Read ``x,y`` rows (a header line is allowed) and split them (see the module notes).
    Raises ``ConfigError`` with a clear reason.

    Well-formed files are parsed by NumPy (a million rows in well under a second); a file that
    fails that fast path is read again row by row to say which line is wrong and why.
    """
    path = Path(path)
    text = _read_text(path)
    parsed = _parse_fast(text)
    if parsed is None:
        parsed = _parse_rows(text, path.name)
    x, y = parsed
    if len(x) < 4:
        raise ConfigError(f"{path.name} needs at least 4 rows of x,y numbers, found {len(x)}")
    if np.ptp(x) == 0:
        raise ConfigError(f"{path.name}: all x values are equal, nothing to fit")
    n_val, n_test = split_sizes(len(x), val_fraction, test_fraction, path.name)
    order = np.random.default_rng([seed, CSV_SPLIT_STREAM]).permutation(len(x))
    test, val, train = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    test = test[np.argsort(x[test])]
    val = val[np.argsort(x[val])]
    return Dataset(x[train], y[train], x[test], y[test], None, None, path.name, x_val=x[val], y_val=y[val])


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IsADirectoryError(21, "it is a folder, not a file")
        if size > CSV_MAX_BYTES:
            raise ConfigError(f"{path.name} is too large ({size / 2**20:,.0f} MB; at most "
                              f"{CSV_MAX_BYTES // 2**20} MB and {CSV_MAX_ROWS:,} rows)")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot open {path}: {exc.strerror or exc}") from None
    if b"\x00" in data:
        raise ConfigError(f"{path.name} is not a text file (it holds binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path.name} is not a text file") from None


def _parse_fast(text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """x, y of a clean file (every row two or more numbers, an optional header), else None."""
    body = text
    for line_end in _first_lines(text):
        line = text[: line_end]
        if line.strip(" \t\r\n,"):
            try:
                cells = next(csv.reader([line]))
                float(cells[0]), float(cells[1])
            except (ValueError, IndexError, csv.Error, StopIteration):
                body = text[line_end:]  # a header such as "x,y"
            break
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ("input contained no data")
            data = np.loadtxt(io.StringIO(body), delimiter=",", usecols=(0, 1), ndmin=2, comments=None,
                              quotechar='"', dtype=float)
    except (ValueError, IndexError, TypeError):
        return None
    if not 4 <= len(data) <= CSV_MAX_ROWS or not np.all(np.isfinite(data)) or np.abs(data).max() > CSV_MAX_ABS:
        return None  # the row-by-row reader explains
    return data[:, 0].copy(), data[:, 1].copy()


def _first_lines(text: str):
    """End offsets of the lines of ``text`` up to and including the first non-blank one."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield end
        if text[start:end].strip(" \t\r\n,"):
            return
        start = end


def _parse_rows(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The row-by-row reader: x, y, or a ``ConfigError`` naming the first bad line."""
    xs: list[float] = []
    ys: list[float] = []
    try:
        for lineno, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < 2:
                raise ConfigError(f"{name} line {lineno}: expected two columns x,y, found {len(row)}")
            try:
                x, y = float(row[0]), float(row[1])
            except ValueError:
                if not xs and not _seen_rows(text, lineno):
                    continue  # a header such as "x,y"
                raise ConfigError(f"{name} line {lineno}: '{row[0]},{row[1]}' is not a pair of numbers") from None
            if not (np.isfinite(x) and np.isfinite(y)):
                raise ConfigError(f"{name} line {lineno}: values must be finite numbers, got {row[0]},{row[1]}")
            if abs(x) > CSV_MAX_ABS or abs(y) > CSV_MAX_ABS:
                raise ConfigError(f"{name} line {lineno}: |x| and |y| must be at most 1e6 (rescale the data)")
            xs.append(x)
            ys.append(y)
            if len(xs) > CSV_MAX_ROWS:
                raise ConfigError(f"{name} has more than {CSV_MAX_ROWS:,} rows")
    except csv.Error as exc:
        raise ConfigError(f"{name} is not a readable CSV file ({exc})") from None
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def _seen_rows(text: str, lineno: int) -> bool:
    """Whether a non-blank row comes before line ``lineno`` (a header must be the first row)."""
    for i, line in enumerate(text.splitlines()[: lineno - 1]):
        if line.strip(" \t\r\n,"):
            return True
    return False
