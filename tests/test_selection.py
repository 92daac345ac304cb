"""Model selection in the core (notes, Figure 3.1): each setting trained as a run of its own would be,
the closed-form ridge optimum's losses, the choice by validation loss and its one test error,
diverged settings never chosen, cancelling, and a sweep that cannot run as one line."""

import numpy as np
import pytest

from reluviz.core import ConfigError, TrainConfig, Trainer, make_dataset
from reluviz.core.model import mse
from reluviz.core.presets import load_preset
from reluviz.core.recording import record_run
from reluviz.core.selection import SelectionResult, check_sweep, default_values, sweep_selection

SMALL = TrainConfig(target="quadratic", n_train=15, noise=0.3, width=12, batch_size=0, optimizer="momentum", lr=0.03,
                    steps=400)


def _alone(config: TrainConfig, steps: int) -> dict[str, float]:
    """The four losses of one ordinary run of ``config`` after ``steps`` updates."""
    tr = Trainer(config)
    tr.run(steps)
    ds = tr.dataset
    return {k: float(mse(tr.layout, tr.params[0], *ds.sample(k))) for k in ("train", "val", "test", "true")}


def test_a_ridge_sweep_trains_each_lambda_as_its_own_run_would():
    lambdas = [0.0, 1e-4, 1e-2]
    res = sweep_selection(SMALL, "ridge", lambdas, steps=300)
    assert res.complete and list(res.values) == lambdas and res.seeds == 1 and not res.diverged.any()
    for k, lam in enumerate(lambdas):
        alone = _alone(SMALL.updated({"ridge": lam}), 300)
        for which in ("train", "val", "test", "true"):
            assert getattr(res, which)[k] == pytest.approx(alone[which], rel=1e-9), (lam, which)


def test_ridge_sweep_of_the_constant_model_matches_the_closed_form_and_picks_its_minimum():
    """Full-batch GD on y = theta ends at theta*(lambda) = y_bar / (1 + lambda); its losses on each
    sample follow, and validation picks the lambda whose theta* is closest to the validation mean."""
    cfg = TrainConfig(model="constant", target="quadratic", n_train=20, noise=0.5, batch_size=0, lr=0.2, data_seed=3)
    ds = make_dataset(cfg)
    lambdas = np.array([0.0, 0.03, 0.1, 0.3, 1.0, 3.0])
    res = sweep_selection(cfg, "ridge", lambdas, steps=400)
    theta = ds.y_train.mean() / (1 + lambdas)
    for which in ("train", "val", "test"):
        _, y = ds.sample(which)
        want = np.mean((theta[:, None] - y[None, :]) ** 2, axis=1)
        np.testing.assert_allclose(getattr(res, which), want, rtol=1e-10)
    val = np.mean((theta[:, None] - ds.y_val[None, :]) ** 2, axis=1)
    assert res.best == int(np.argmin(val))
    assert res.test_at_best == pytest.approx(np.mean((theta[res.best] - ds.y_test) ** 2), rel=1e-10)
    assert res.train[0] == res.train.min()  # the training loss always prefers lambda = 0


def test_seeds_average_the_runs_of_each_setting():
    res = sweep_selection(SMALL, "ridge", [0.0, 1e-3], steps=200, seeds=3)
    for k, lam in enumerate((0.0, 1e-3)):
        runs = [_alone(SMALL.updated({"ridge": lam, "init_seed": s, "sample_seed": s}), 200)["val"] for s in range(3)]
        assert res.val[k] == pytest.approx(np.mean(runs), rel=1e-9)


def test_a_width_sweep_trains_each_width_as_its_own_run():
    res = sweep_selection(SMALL, "width", [1, 4, 16], steps=250)
    assert list(res.values) == [1, 4, 16]
    for k, width in enumerate((1, 4, 16)):
        assert res.val[k] == pytest.approx(_alone(SMALL.updated({"width": width}), 250)["val"], rel=1e-9)


def test_a_steps_sweep_is_early_stopping_along_one_run():
    steps = [10, 50, 200, 400]
    res = sweep_selection(SMALL, "steps", steps)
    rec = record_run(SMALL, steps=400, every=10).arrays
    at = np.searchsorted(rec["step"], steps)
    np.testing.assert_allclose(res.val, rec["val_loss"][at], rtol=1e-12)
    np.testing.assert_allclose(res.train, rec["train_loss"][at], rtol=1e-12)
    assert res.best_value == steps[int(np.argmin(rec["val_loss"][at]))]


def test_the_overfitting_preset_overfits_and_early_stopping_picks_an_early_step():
    """The preset's paragraph: training loss keeps falling, validation loss turns up, the best
    validation step comes early."""
    cfg = load_preset("overfitting").config
    grid = default_values("steps", cfg, 18)
    res = sweep_selection(cfg, "steps", grid)
    assert np.all(np.diff(res.train[grid >= 1000]) < 0)  # keeps falling
    k = res.best
    assert grid[k] <= 1000 and res.val[-1] > 1.4 * res.val[k]  # turns up, well above its low
    assert res.true[-1] > 10 * res.true[k]  # the error to the true function turns up with it


@pytest.mark.slow
def test_the_ridge_selection_preset_draws_a_validation_u_curve():
    cfg = load_preset("ridge-selection")
    opts = cfg.view_options
    grid = np.logspace(np.log10(opts["from"]), np.log10(opts["to"]), opts["points"])
    res = sweep_selection(cfg.config, "ridge", grid, steps=opts["steps"], seeds=opts["seeds"])
    k = res.best
    assert 0 < k < len(grid) - 1 and 1e-4 <= grid[k] <= 3e-3  # the bottom of a U, where the paragraph says
    assert res.val[0] > 1.3 * res.val[k] and res.val[-1] > 1.5 * res.val[k]
    assert np.all(np.diff(res.train) > -1e-3)  # the training loss only grows with lambda


def test_a_diverged_setting_is_marked_and_never_chosen():
    """GD on the constant model is stable while lr * 2 (1 + lambda) < 2: with lr 0.5, lambda > 1 diverges."""
    cfg = TrainConfig(model="constant", target="quadratic", n_train=20, noise=0.1, batch_size=0, lr=0.5)
    res = sweep_selection(cfg, "ridge", [0.1, 0.5, 1.5, 3.0], steps=300)
    assert list(res.diverged) == [False, False, True, True]
    assert res.best in (0, 1)


def test_the_result_reports_its_choice_once_and_writes_a_table():
    res = SelectionResult("ridge", np.array([1e-4, 1e-3, 1e-2]), np.array([0.01, 0.02, 0.05]),
                          np.array([0.12, 0.09, 0.10]), np.array([0.11, 0.095, 0.12]), np.array([0.05, 0.03, 0.06]),
                          np.zeros(3, bool), 1000, 1, True, 1.0)
    assert res.best == 1 and res.best_value == 1e-3 and res.test_at_best == 0.095
    assert res.summary() == ("Validation picks ridge λ = 0.001 (validation MSE 0.09); its test MSE, the one look at "
                             "the test set: 0.095.")
    lines = res.csv_text().splitlines()
    assert lines[0] == "ridge,train_loss,val_loss,test_loss,true_error,diverged,chosen"
    assert lines[2] == "0.001,0.02,0.09,0.095,0.03,0,1" and lines[1].endswith(",0,0")


def test_cancelling_returns_the_settings_done_with_progress_and_partial_results():
    seen, partials = [], []
    stop = {"now": False}

    def progress(done, total):
        seen.append((done, total))
        if done >= 2 * 300:
            stop["now"] = True

    res = sweep_selection(SMALL, "width", [1, 2, 4, 8, 16], steps=300, progress=progress,
                          should_stop=lambda: stop["now"], partial=partials.append)
    assert not res.complete and 1 <= len(res.values) < 5
    assert [len(p.values) for p in partials] == list(range(1, len(res.values) + 1))
    dones = [d for d, _t in seen]
    assert dones == sorted(dones) and all(t == seen[0][1] for _d, t in seen)


@pytest.mark.parametrize("param, values, needle", [
    ("ridge", [-1e-3, 1e-2], "ridge lambda must be >= 0"),
    ("ridge", [1e-3], "at least two settings"),
    ("width", [2.5, 4], "whole numbers"),
    ("depth", [1, 2], "one of ridge, width, steps"),
    ("ridge", [1e-3, float("nan")], "finite"),
])
def test_a_sweep_that_cannot_run_is_one_line(param, values, needle):
    with pytest.raises(ConfigError) as e:
        check_sweep(SMALL, param, values, 100, 1)
    assert needle in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="needs model=relu"):
        check_sweep(SMALL.updated({"model": "linear"}), "width", [1, 2], 100, 1)


# ---------------------------------------------------------------------- reluviz select
def test_reluviz_select_writes_the_table_and_says_what_validation_picks(tmp_path, capsys):
    from reluviz.cli import main

    out = tmp_path / "sweep.csv"
    assert main(["select", "--set", "target=quadratic", "--set", "n_train=15", "--set", "noise=0.3", "--set", "width=12",
                 "--set", "batch_size=0", "--param", "ridge", "--values", "0,1e-3,1e-1", "--steps", "300",
                 "--out", str(out), "--quiet"]) == 0
    want = sweep_selection(TrainConfig(target="quadratic", n_train=15, noise=0.3, width=12, batch_size=0), "ridge",
                           [0, 1e-3, 1e-1], steps=300)
    printed = capsys.readouterr().out
    assert want.summary() in printed and f"wrote {out}" in printed
    rows = [line.split(",") for line in out.read_text().splitlines()[1:]]
    np.testing.assert_allclose([float(r[2]) for r in rows], want.val, rtol=1e-8)
    assert [int(r[-1]) for r in rows] == [int(k == want.best) for k in range(3)]


def test_reluviz_select_draws_the_plot(tmp_path, qapp):
    from PIL import Image

    from reluviz.cli import main
    from reluviz.plots import theme

    out = tmp_path / "sweep.png"
    assert main(["select", "--preset", "overfitting", "--set", "width=12", "--param", "steps", "--range", "10:2000:8",
                 "--size", "640x400", "--out", str(out), "--quiet"]) == 0
    rgb = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert rgb.shape == (400, 640, 3)
    assert (np.abs(rgb - np.array(theme.VAL_LOSS)).sum(axis=2) < 30).sum() > 150  # the validation curve
    assert (np.abs(rgb - np.array(theme.BEST)).sum(axis=2) < 30).sum() > 30  # the choice's star and line


@pytest.mark.parametrize("args, needle", [
    (["--set", "ridge=-1"], "ridge must be a number in [0, 100]"),
    (["--values", "1e-3"], "at least two settings"),
    (["--values", "a,b"], "--values must be numbers"),
    (["--range", "1:0:3"], "--range must be FROM:TO:POINTS"),
    (["--set", "model=linear", "--param", "width"], "needs model=relu"),
    (["--values=-1,1"], "ridge lambda must be >= 0"),
])
def test_reluviz_select_bad_input_is_one_line_exit_2(tmp_path, capsys, args, needle):
    from reluviz.cli import main

    out = tmp_path / "x.csv"
    assert main(["select", *args, "--steps", "10", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reluviz: error:") and needle in err[0]
    assert not out.exists()
