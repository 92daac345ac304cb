"""Datasets: the course targets and user CSV files with clear errors."""

import numpy as np
import pytest

from reluviz.core import ConfigError, TrainConfig, make_dataset
from reluviz.core.data import load_csv, piecewise


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


def test_csv_with_header_loads_and_splits(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("x,y\n" + "".join(f"{i/100},{(i/100)**2}\n" for i in range(100)))
    ds = load_csv(f)
    assert ds.n == 80 and len(ds.x_test) == 20 and ds.true_x is None
    assert np.allclose(ds.y_train, ds.x_train**2)


@pytest.mark.parametrize("text,needle", [
    ("", "at least 4 rows"),
    ("x,y\n1,2\nfoo,bar\n", "not a pair of numbers"),
    ("1\n2\n3\n4\n", "two columns"),
    ("1,nan\n2,3\n3,4\n4,5\n", "finite"),
    ("1,1e300\n2,3\n3,4\n4,5\n", "at most 1e6"),
    ("1,1\n1,2\n1,3\n1,4\n", "all x values are equal"),
])
def test_bad_csv_gives_clear_error(tmp_path, text, needle):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_csv(f)


def test_binary_file_is_rejected(tmp_path):
    f = tmp_path / "bin.csv"
    f.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ConfigError):
        load_csv(f)
