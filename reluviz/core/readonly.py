"""``read_only``: a copy of an array that no one can write to, for the immutable records (snapshots,
frames, kinks, layer statistics) that cross threads and are kept."""

from __future__ import annotations

import numpy as np


def read_only(a) -> np.ndarray:
    """A copy of ``a`` as an array flagged read-only."""
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


__all__ = ["read_only"]
