"""Ghost runs share data, init and batches; SGD with a constant rate dances, a decaying rate settles
(``reluviz.core.compare``, and the dance view's maths in ``reluviz.core.dance``)."""

import numpy as np
import pytest

from reluviz.core import ConfigError, Trainer
from reluviz.core.compare import DanceRun, dance_runs, ghost_config, ghost_trainer, same_batches
from reluviz.core.dance import trailing_mean
from reluviz.core.presets import load_preset


def test_ghost_config_keeps_data_and_init():
    cfg = load_preset("output-only").config
    ghost = ghost_config(cfg, {"schedule": "inverse", "decay": 0.002})
    assert ghost.schedule == "inverse" and ghost.decay == 0.002 and ghost.lr == cfg.lr
    assert same_batches(cfg, ghost)
    assert not same_batches(cfg, ghost_config(cfg, {"sample_seed": 9}))
    for bad in ({"width": 5}, {"init_seed": 3}, {"target": "abs"}, {"data_seed": 1}):
        with pytest.raises(ConfigError):
            ghost_config(cfg, bad)


def test_ghost_sees_the_same_init_and_batches():
    cfg = load_preset("dance").config
    main = Trainer(cfg)
    ghost = ghost_trainer(cfg, {"schedule": "inverse", "decay": 0.002}, main.dataset)
    assert ghost.dataset is main.dataset
    assert np.array_equal(ghost.params, main.params)
    for _ in range(5):
        a, b = main.snapshot(), ghost.snapshot()
        assert np.array_equal(a.batch, b.batch)
        main.run(37)
        ghost.run(37)
    assert not np.array_equal(ghost.params, main.params)  # different rates, different paths


def test_empty_overrides_give_an_identical_ghost():
    d = dance_runs(load_preset("linear-model").config, {})
    d.advance(300, every=7)
    tr = d.trace()
    assert tr.steps.tolist() == list(range(0, 301, 7))
    assert np.array_equal(tr.distance[:, 0], tr.distance[:, 1])
    assert np.array_equal(d.main.params, d.ghost.params)


def test_trace_records_in_chunks_without_gaps_or_repeats():
    d = dance_runs(load_preset("constant-model").config, {"schedule": "inverse", "decay": 0.01})
    d.advance(10, every=5)
    d.advance(7, every=5)
    d.advance(8, every=5)
    tr = d.trace()
    assert tr.steps.tolist() == [0, 5, 10, 15, 20, 25]
    assert tr.lr[:, 0] == pytest.approx(0.1)
    assert tr.lr[:, 1] == pytest.approx(0.1 / (1 + 0.01 * tr.steps))
    # distances are to theta* = mean y over the one parameter
    mean_y = float(np.mean(d.main.dataset.y_train))
    assert d.optimum_main.params[0] == pytest.approx(mean_y)
    assert tr.distance[-1, 0] == pytest.approx(abs(d.main.params[0, 0] - mean_y))
    assert np.all(tr.excess >= -1e-15)


def _floor_and_final(preset, start, steps=4000):
    pre = load_preset(preset)
    compare = pre.compare or {"schedule": "inverse", "decay": 0.002}
    d = dance_runs(pre.config, compare, start=start)
    d.advance(steps)
    dist = d.trace().distance
    return d, dist


def test_dance_preset_constant_rate_dances_decaying_rate_settles():
    """Lecture note 2, Figure 3, on the ``dance`` preset: started at theta*, a constant rate keeps
    the iterate at a noise floor; the decaying-rate ghost (same batches) ends much closer."""
    d, dist = _floor_and_final("dance", "optimum")
    assert d.optimum_main.kind == "exact"
    assert dist[0, 0] == 0.0 and dist[0, 1] == 0.0
    const, decay = dist[:, 0], dist[:, 1]
    early, late = const[1000:2000].mean(), const[3000:].mean()
    assert 0.5 < late / early < 2.0  # a plateau, not a trend to zero
    assert late > 0.005  # ...and well above zero
    assert late > 1.5 * decay[-1]
    assert late > 1.5 * decay[-500:].mean()


def test_constant_model_from_init_converges_to_a_noise_floor():
    d, dist = _floor_and_final("constant-model", "init")
    const, decay = dist[:, 0], dist[:, 1]
    assert const[0] > 3 * const[1000:].mean()  # it did approach theta* first
    early, late = const[1000:2000].mean(), const[3000:].mean()
    assert 0.5 < late / early < 2.0
    assert late > 1.5 * decay[-500:].mean()
    assert late > 1.5 * decay[-1]


def test_start_must_be_known():
    with pytest.raises(ValueError):
        DanceRun(load_preset("constant-model").config, {}, start="middle")


def test_trailing_mean():
    v = np.arange(1.0, 7.0)[:, None]
    np.testing.assert_allclose(trailing_mean(v, 3)[:, 0], [1, 1.5, 2, 3, 4, 5])


def test_the_ghost_is_named_alike_whatever_order_its_settings_come_in():
    from reluviz.core.compare import ghost_text

    # a preset's order and a run file's sorted keys: one name (the export of an opened file and of
    # the same run trained in the app drew different legends)
    assert ghost_text({"decay": 0.002, "schedule": "inverse"}) == ghost_text({"schedule": "inverse", "decay": 0.002})
    assert ghost_text({"decay": 0.002, "schedule": "inverse"}) == "ghost: schedule=inverse, decay=0.002"
