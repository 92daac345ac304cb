"""Seed bands: recorded losses are the runs' real losses, quartiles are np.percentile, cancel works."""

import time

import numpy as np
import pytest

from reluviz.core import Trainer
from reluviz.core.bands import band, run_seeds, seed_bands, sweep
from reluviz.core.model import mse

from helpers import SMALL as SMALL_NET

#: 230 steps: the last recorded step is the run's end, off the ``every`` grid
SMALL = SMALL_NET.updated({"n_train": 60, "steps": 230, "lr": 0.05})


def test_band_is_numpy_percentile():
    rng = np.random.default_rng(0)
    values = rng.lognormal(size=(17, 30))
    b = band(values, np.arange(17) * 10)
    q = np.percentile(values, [25, 50, 75], axis=1)
    assert np.array_equal(b.q25, q[0]) and np.array_equal(b.median, q[1]) and np.array_equal(b.q75, q[2])
    # not mean +- std (which is what an error bar often is): on skewed data they differ
    assert not np.allclose(b.median, values.mean(axis=1), rtol=0.05)
    # an even number of runs: the median interpolates between the middle two
    even = np.array([[1.0, 2.0, 3.0, 10.0]])
    assert band(even).median[0] == 2.5 and band(even).q25[0] == 1.75 and band(even).q75[0] == 4.75


def test_run_seeds_records_each_runs_real_losses():
    res = run_seeds(SMALL, seeds=4, seed0=7, every=100)
    assert res.complete and res.runs == 4
    assert res.steps.tolist() == [0, 100, 200, 230]
    assert res.seeds.tolist() == [7, 8, 9, 10]
    # run r is the single run with init seed = sample seed = seeds[r]
    for r, seed in enumerate(res.seeds):
        tr = Trainer(SMALL.updated({"init_seed": int(seed), "sample_seed": int(seed)}))
        ds = tr.dataset
        for k, step in enumerate(res.steps):
            tr.run(int(step) - tr.step)
            assert res.train[k, r] == pytest.approx(float(mse(tr.layout, tr.params[0], ds.x_train, ds.y_train)), rel=1e-9)
            assert res.test[k, r] == pytest.approx(float(mse(tr.layout, tr.params[0], ds.x_test, ds.y_test)), rel=1e-9)
    assert res.train[-1].mean() < res.train[0].mean()  # it learned something
    b = res.band("train")
    np.testing.assert_array_equal(b.median, np.percentile(res.train, 50, axis=1))
    np.testing.assert_array_equal(b.steps, res.steps)


def test_progress_and_cancel():
    calls = []
    res = run_seeds(SMALL.updated({"steps": 2000}), seeds=3, every=10, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (2000, 2000)
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:]))
    polls = {"n": 0}

    def stop_after_a_while():
        polls["n"] += 1
        return polls["n"] > 5

    part = run_seeds(SMALL.updated({"steps": 2000}), seeds=3, every=10, should_stop=stop_after_a_while)
    assert not part.complete
    assert 0 < part.steps[-1] < 2000
    np.testing.assert_array_equal(part.train, res.train[: len(part.steps)])  # same runs, cut short


def test_diverging_runs_terminate_and_are_marked():
    cfg = SMALL.updated({"lr": 50.0, "steps": 300})
    res = run_seeds(cfg, seeds=3, every=100)
    assert res.complete and res.steps.tolist() == [0, 100, 200, 300]
    assert res.diverged.all()
    assert np.all(np.isfinite(res.train))


def test_seed_bands_are_paired_across_optimizers():
    calls = []
    out = seed_bands(SMALL, ["sgd", "momentum", "adam"], seeds=5, every=115,
                     overrides={"adam": {"lr": 0.01}}, progress=lambda d, t: calls.append((d, t)))
    assert list(out) == ["sgd", "momentum", "adam"]
    assert out["adam"].config.lr == 0.01 and out["sgd"].config.lr == SMALL.lr
    # same seeds -> same initial losses; different optimizers -> different paths
    np.testing.assert_array_equal(out["sgd"].train[0], out["adam"].train[0])
    assert not np.allclose(out["sgd"].train[-1], out["momentum"].train[-1])
    assert calls[-1] == (3 * 230, 3 * 230)


def test_sweep_over_processes_equals_in_process():
    kw = dict(widths=(4, 6), optimizers=("sgd", "adam"), seeds=3, steps=150, every=50, config=SMALL)
    one = sweep(processes=1, **kw)
    calls = []
    two = sweep(processes=2, progress=lambda d, t: calls.append((d, t)), **kw)
    assert list(one) == list(two) == [(4, "sgd"), (4, "adam"), (6, "sgd"), (6, "adam")]
    for key in one:
        np.testing.assert_array_equal(one[key].test, two[key].test)
        assert one[key].config.width == key[0] and one[key].config.optimizer == key[1]
    assert calls[-1] == (4 * 150, 4 * 150)


@pytest.mark.slow
def test_sweep_cancel_stops_workers_early():
    t = time.perf_counter()
    out = sweep(widths=(40, 40), optimizers=("sgd",), seeds=30, steps=200_000, every=1000, processes=2,
                config=SMALL, should_stop=lambda: time.perf_counter() - t > 2.0)
    assert time.perf_counter() - t < 8.0  # a hang guard: cancelled after 2 s; the full job takes about half a minute
    assert len(out) >= 1 and all(not r.complete and r.steps[-1] < 200_000 for r in out.values())


@pytest.mark.slow
def test_the_seed_bands_preset_text_is_what_its_bands_show():
    """The `seed-bands` preset's paragraph quotes the bands "Run bands" computes (30 seeds x 30,000
    steps x sgd/momentum/adam on the notebook's setup)."""
    from reluviz.core.bands import bands_task
    from reluviz.core.presets import load_preset

    preset = load_preset("seed-bands")
    assert preset.view == "bands" and preset.config == load_preset("notebook").config
    res = bands_task(preset.config, ["sgd", "momentum", "adam"], 30, 30000)(lambda d, t: None, lambda: False,
                                                                           lambda r: None)
    end = {k: r.band("val") for k, r in res.runs.items()}
    med = {k: float(b.median[-1]) for k, b in end.items()}
    assert 0.02 <= med["sgd"] <= 0.04                      # "about 0.03"
    for k in ("momentum", "adam"):
        assert 0.003 <= med[k] <= 0.007 and med["sgd"] / med[k] > 4   # "about 0.005, six times lower"
    below = {k: float(b.median[-1] - b.q25[-1]) / float(b.median[-1]) for k, b in end.items()}
    assert max(below, key=below.get) == "adam" and float(end["adam"].q25[-1]) < 0.002
    assert "about 0.03" in preset.description and "under 0.002" in preset.description
