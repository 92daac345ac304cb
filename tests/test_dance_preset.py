"""The ``dance`` preset shows Figure 3 of lecture note 2 from its own start: the issue's headless check.

Over the preset's steps, from its initialisation, with its ghost (the same start and minibatches, a
decaying rate): the constant-rate run gets to theta* (its distance falls to 20% of the start within
the first half of the run), then keeps dancing: its RMS distance over the second half is at most
20% of the starting distance and at least twice the ghost's. The problem is convex with an exact
theta* (the least-squares line of the affine model).
"""

import numpy as np
import pytest

from reluviz.core.compare import DanceRun
from reluviz.core.optimum import optimum
from reluviz.core.presets import load_preset


def dance_figures(name: str) -> dict:
    pre = load_preset(name)
    steps = pre.config.steps
    d = DanceRun(pre.config, pre.compare, start="init")
    d.advance(steps, every=1)
    tr = d.trace()
    assert tr.steps.tolist() == list(range(steps + 1))
    dist = tr.distance
    d0 = float(dist[0, 0])
    half = steps // 2
    second = slice(half, None)
    near = np.flatnonzero(dist[:, 0] <= 0.2 * d0)
    return {"d0": d0, "first_near": int(near[0]) if len(near) else -1,
            "rms": float(np.sqrt(np.mean(dist[second, 0] ** 2))),
            "rms_ghost": float(np.sqrt(np.mean(dist[second, 1] ** 2))), "half": half, "run": d}


def test_the_dance_preset_travels_to_theta_star_then_dances_while_the_ghost_settles():
    f = dance_figures("dance")
    d = f["run"]
    assert d.optimum_main.kind == "exact" and d.optimum_main is d.optimum_ghost
    assert 0 <= f["first_near"] < f["half"], f            # reached within the first half
    assert f["rms"] <= 0.2 * f["d0"], f                    # a cloud around theta*, not far away
    assert f["rms"] >= 2.0 * f["rms_ghost"], f             # ... that the decaying rate shrinks
    assert f["rms"] > 0.02 * f["d0"]                       # (and a cloud, not a point)
    print(f"d0 {f['d0']:.3f}, 20% reached at step {f['first_near']}, RMS over the second half "
          f"{f['rms']:.3f} ({f['rms'] / f['d0']:.1%} of d0), ghost {f['rms_ghost']:.3f} "
          f"(ratio {f['rms'] / f['rms_ghost']:.2f})")


def test_the_dance_preset_is_convex_with_an_exact_theta_star():
    pre = load_preset("dance")
    assert pre.config.model == "affine" and pre.view == "dance"
    d = DanceRun(pre.config, pre.compare)
    x, y = d.main.dataset.x_train, d.main.dataset.y_train
    a, b = np.polyfit(x, y, 1)  # numpy's own least-squares line
    assert optimum(pre.config, d.main.dataset, np.zeros(2)).params == pytest.approx([a, b], rel=1e-10)
