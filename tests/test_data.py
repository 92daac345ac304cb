"""Datasets: the course targets, and user CSV files. Unusual but valid files load; bad files give a
one-line ``ConfigError`` that says what is wrong and where (never a crash); big files load quickly."""

from __future__ import annotations

import time

import numpy as np
import pytest

from reluviz.core import ConfigError, TrainConfig, make_dataset
from reluviz.core import data as data_module
from reluviz.core.data import load_csv, piecewise

from cases import BAD_CSVS, million_row_csv, write


# ---------------------------------------------------------------------- the course targets
def test_piecewise_target_goes_through_the_notebook_knots():
    k = np.arange(11)
    np.testing.assert_allclose(piecewise(k / 10), np.sin(12345 * k))


@pytest.mark.parametrize("target", ["piecewise", "sin20", "abs", "step", "quadratic"])
def test_synthetic_data_shapes_and_noise(target):
    ds = make_dataset(TrainConfig(target=target, n_train=200, noise=0.01))
    assert ds.x_train.shape == (200,) and ds.x_test.shape == (1000,)
    assert 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    assert np.array_equal(ds.y_test, ds.true_y)
    clean = make_dataset(TrainConfig(target=target, noise=0.0))
    assert 0.005 < np.std(ds.y_train - clean.y_train) < 0.02


def test_data_seed_changes_data():
    a = make_dataset(TrainConfig(data_seed=0))
    b = make_dataset(TrainConfig(data_seed=1))
    assert not np.array_equal(a.x_train, b.x_train)


# ---------------------------------------------------------------------- CSV files that load
def test_csv_with_header_loads_and_splits(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("x,y\n" + "".join(f"{i/100},{(i/100)**2}\n" for i in range(100)))
    ds = load_csv(f)
    assert ds.n == 80 and len(ds.x_test) == 20 and ds.true_x is None
    assert np.allclose(ds.y_train, ds.x_train**2)


@pytest.mark.parametrize("content", [
    "x,y\r\n0,0\r\n1,1\r\n2,4\r\n3,9\r\n",            # Windows line ends
    "\ufeffx,y\n0,0\n1,1\n2,4\n3,9\n",                  # a byte-order mark (Excel's UTF-8 CSV)
    "\n\n x , y\n0, 0, extra\n1,1\n\n2,4\n3,9",         # blank lines, spaces, a third column, no final newline
    '"x","y"\n"0","0"\n"1","1"\n"2","4"\n"3","9"\n',  # quoted cells
])
def test_unusual_but_valid_csvs_load(tmp_path, content):
    ds = load_csv(write(tmp_path / "ok.csv", content))
    assert ds.n + len(ds.x_test) == 4
    np.testing.assert_array_equal(np.sort(np.r_[ds.x_train, ds.x_test]), [0, 1, 2, 3])
    np.testing.assert_array_equal(np.r_[ds.y_train, ds.y_test], np.r_[ds.x_train, ds.x_test] ** 2)


def test_fast_and_row_by_row_readers_agree(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=500), rng.normal(size=500)
    text = "x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y))
    fast = data_module._parse_fast(text)
    slow = data_module._parse_rows(text, "f.csv")
    assert fast is not None
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fast[0], x)


@pytest.mark.slow
def test_a_million_rows_load_in_a_few_seconds(tmp_path, monkeypatch):
    path = million_row_csv(tmp_path / "big.csv")

    def row_by_row(*args):
        raise AssertionError("a clean file of numbers must take the fast reader, not the row-by-row one")

    monkeypatch.setattr(data_module, "_parse_rows", row_by_row)
    t0 = time.perf_counter()
    ds = load_csv(path)
    seconds = time.perf_counter() - t0
    print(f"10^6-row CSV ({path.stat().st_size / 2**20:.0f} MB) loaded in {seconds:.2f} s")
    assert ds.n == 800_000 and len(ds.x_test) == 200_000
    assert seconds < 20.0  # a hang guard (1.1 s here); the fast reader is what keeps it quick


# ---------------------------------------------------------------------- bad CSV files
#: Bad files beyond ``cases.BAD_CSVS`` (which the window tests show as a notice too).
MORE_BAD_CSVS = [
    ("text_no_end.csv", "x,y\n1,2\nfoo,bar\n", "not a pair of numbers"),
    ("nan_first_row.csv", "1,nan\n2,3\n3,4\n4,5\n", "finite"),
    ("huge_first_row.csv", "1,1e300\n2,3\n3,4\n4,5\n", "at most 1e6"),
    ("binary_1k.csv", bytes(range(256)) * 4, "not a text file"),
]


@pytest.mark.parametrize("name, content, needle", BAD_CSVS + MORE_BAD_CSVS,
                         ids=[c[0] for c in BAD_CSVS + MORE_BAD_CSVS])
def test_bad_csv_gives_a_clear_one_line_message(tmp_path, name, content, needle):
    path = write(tmp_path / name, content)
    with pytest.raises(ConfigError) as info:
        load_csv(path)
    message = str(info.value)
    assert needle in message, message
    assert "\n" not in message and len(message) < 300


def test_missing_file_and_folder_are_explained(tmp_path):
    with pytest.raises(ConfigError, match="cannot open"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="cannot open"):
        load_csv(tmp_path)


def test_csv_limits_on_rows_and_bytes_are_explained(tmp_path, monkeypatch):
    path = write(tmp_path / "rows.csv", "".join(f"{i},{i}\n" for i in range(30)))
    monkeypatch.setattr(data_module, "CSV_MAX_ROWS", 20)
    with pytest.raises(ConfigError, match="more than 20 rows"):
        load_csv(path)
    monkeypatch.setattr(data_module, "CSV_MAX_BYTES", 100)
    with pytest.raises(ConfigError, match="too large"):
        load_csv(path)
