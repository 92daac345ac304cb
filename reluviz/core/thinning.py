"""Thinning a long series for drawing: an even subset of its indices that keeps the last one."""

from __future__ import annotations

import numpy as np


def thin_index(n: int, limit: int) -> np.ndarray:
    """Indices of an even subset of ``n`` items, at most about ``limit`` of them, always with the
    first and the last (all of them when ``n <= limit``): int64 (K,)."""
    if n <= limit:
        return np.arange(n)
    stride = int(np.ceil(n / limit))
    return np.r_[np.arange(0, n - 1, stride), n - 1]
