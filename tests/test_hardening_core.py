"""Hardening of the core pieces the app leans on every frame: exact, bounded in memory and time
on large data (found while fuzzing the window with extreme settings)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from reluviz.core.snapshot import active_counts


def _brute_counts(w, b, x):
    with np.errstate(invalid="ignore", over="ignore"):
        return np.count_nonzero(np.asarray(x)[:, None] * w[None, :] + b[None, :] > 0, axis=0)


special = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 1e300, np.inf, -np.inf, np.nan])
value = st.one_of(st.floats(-10, 10, allow_nan=False), st.floats(allow_nan=True, allow_infinity=True), special)


@settings(max_examples=300, deadline=None)
@given(x=st.lists(st.one_of(st.floats(-2, 2), st.sampled_from([0.0, 0.1, 0.5, 1.0])), max_size=40),
       units=st.lists(st.tuples(value, value), max_size=12), on_data=st.booleans())
def test_active_counts_equal_the_brute_force_count(x, units, on_data):
    """The O((N + H) log N) count equals w x + b > 0 evaluated point by point, elbows on data points,
    w = 0, signed zeros, tiny and huge values, inf and nan included."""
    x = np.array(x, dtype=float)
    w = np.array([u[0] for u in units], dtype=float)
    b = np.array([u[1] for u in units], dtype=float)
    if on_data and len(x) and len(w):
        with np.errstate(all="ignore"):
            b = np.where(np.isfinite(w), -w * x[np.arange(len(w)) % len(x)], b)  # elbows exactly at data points
    np.testing.assert_array_equal(active_counts(w, b, x), _brute_counts(w, b, x))


def test_active_counts_with_non_finite_data_fall_back_to_the_direct_count():
    x = np.array([0.1, np.nan, 0.7, np.inf, -np.inf])
    w = np.array([1.0, -1.0, 0.0, 2.0])
    b = np.array([-0.5, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(active_counts(w, b, x), _brute_counts(w, b, x))


def test_active_counts_on_big_data_are_fast_and_small():
    """800,000 points x 5,000 units: the brute force needs 32 GB of temporaries; this takes
    milliseconds once the data are sorted (the sort is cached per data array)."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 800_000)
    w, b = rng.normal(size=5000), rng.normal(size=5000)
    active_counts(w, b, x)
    t0 = time.perf_counter()
    counts = active_counts(w, b, x)
    assert time.perf_counter() - t0 < 0.5
    sample = rng.choice(5000, 50, replace=False)
    np.testing.assert_array_equal(counts[sample], _brute_counts(w[sample], b[sample], x))


def test_a_shuffled_block_of_big_batches_is_drawn_quickly():
    from reluviz.core.sampling import BatchStream

    stream = BatchStream("shuffle", np.array([0]), 5000, 4096)
    t0 = time.perf_counter()
    stream.block(3)
    assert time.perf_counter() - t0 < 0.5  # 2.9 s here; 80 s at n = 50,000, B = 47,194
