"""Datasets: the course's 1-D regression targets, or the user's own ``x,y`` CSV.

All arrays are float64 and 1-D. A synthetic dataset has training x ~ U[0, 1] (``n_train`` points,
label noise std ``noise``) and a noiseless test set on a 1000-point grid over [0, 1]; its
``true_x, true_y`` draw the true function. A CSV dataset keeps a seeded 20% of its rows as the
test set and has no true function.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from reluviz.core.config import ConfigError, TrainConfig

TEST_GRID = 1000
CSV_MAX_ROWS = 2_000_000
CSV_MAX_BYTES = 256 * 2**20  # a file this large is refused before it is read
CSV_MAX_ABS = 1e6


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
    """Read ``x,y`` rows (a header line is allowed). Raises ``ConfigError`` with a clear reason.

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
    order = np.random.default_rng([seed, 3]).permutation(len(x))
    n_test = max(1, len(x) // 5)
    test, train = order[:n_test], order[n_test:]
    test = test[np.argsort(x[test])]
    return Dataset(x[train], y[train], x[test], y[test], None, None, path.name)


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
