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


def test_gd_oscillates_zigzags_across_theta_star_while_sgd_wanders():
    """Full-batch GD at lr 0.999 on the constant model (L'' = 2): theta - theta* changes sign every
    step and shrinks by |1 - 2 lr| = 0.998 (the equation, to rounding); the SGD ghost (minibatches
    of 4, lr 0.1) does not alternate and stays at a noise floor the text quotes."""
    pre = load_preset("gd-oscillates")
    cfg = pre.config
    assert cfg.model == "constant" and cfg.batch_size == 0
    d = DanceRun(cfg, pre.compare, start="init")
    d.advance(cfg.steps, every=1)
    tr = d.trace()
    theta_star = float(d.optimum_main.params[0])
    assert theta_star == pytest.approx(float(np.mean(d.main.dataset.y_train)), rel=1e-12)
    dist = tr.distance[:, 0]
    # the signed offsets: GD's history, from the trainer's recorded parameters
    offsets = _signed_offsets(cfg, d.main.dataset, cfg.steps) - theta_star
    assert np.abs(offsets) == pytest.approx(dist, rel=1e-9, abs=1e-15)
    signs = np.sign(offsets)
    assert np.all(signs[1:] == -signs[:-1])                       # every step crosses theta*
    ratio = offsets[1:] / offsets[:-1]
    assert ratio == pytest.approx(np.full(len(ratio), 1 - 2 * cfg.lr), rel=1e-6)  # -0.998
    assert dist[0] == pytest.approx(0.25, abs=0.01) and dist[-1] == pytest.approx(0.033, abs=0.002)  # (the text)
    ghost = tr.distance[:, 1]
    floor = float(np.sqrt(np.mean(ghost[len(ghost) // 2:] ** 2)))
    assert 0.03 < floor < 0.08                                    # "around 0.05"
    gsign = np.sign(_signed_offsets(cfg.updated(pre.compare), d.main.dataset, cfg.steps) - theta_star)
    assert np.mean(gsign[1:] != gsign[:-1]) < 0.3                 # a random walk, not a zigzag
    assert np.max(ghost[cfg.steps // 2:]) > 2 * floor             # ... that jumps up and down


def _signed_offsets(cfg, dataset, steps):
    """theta_t for t = 0..steps of a constant-model run of ``cfg`` on ``dataset``."""
    from reluviz.core import History, Trainer

    tr = Trainer(cfg, dataset=dataset)
    hist = History.for_trainer(tr)
    tr.run(steps, record=hist)
    hist.record_snapshot(tr.snapshot())  # (rows hold the state before each update; the last state too)
    assert np.array_equal(hist.steps, np.arange(steps + 1))
    return np.asarray(hist.params)[:, 0, 0]
