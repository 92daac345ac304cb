"""Run files (``core/recording.py`` writes, ``core/runfile.py`` reads): a recorded run comes back
exactly (every row's parameters, optimizer state, minibatch, rate and losses), a session opened
from one resumes bit for bit as the run itself goes on, the app's own run (several stretches of
rows, a ghost) survives a save and a reopen, ``--params-only`` files say why an earlier step
cannot be resumed, long files are thinned like the app's history, and a file that is not a run
file, of another format or damaged is refused in one sentence."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from reluviz.core import TrainConfig, Trainer
from reluviz.core.config import ConfigError
from reluviz.core.history import History
from reluviz.core.recording import RUN_FORMAT, capture_session, record_run, write_npz, write_run
from reluviz.core.runfile import RunFileError, load_run, read_run
from reluviz.core.session import Session

from helpers import SMALL_NOTEBOOK as SMALL, head_frame

ADAM = SMALL.updated({"optimizer": "adam", "lr": 0.01})
MOMENTUM = SMALL.updated({"optimizer": "momentum", "lr": 0.02})
DEEP = SMALL.updated({"depth": 3, "activation": "leaky_relu", "optimizer": "adam", "lr": 0.01})  # (w2, w3: (T, H, H))


def recorded(tmp_path, config, name="run.npz", **kwargs):
    """``record_run`` written to a file and read back: (path, arrays written, RecordedRun)."""
    rec = record_run(config, **kwargs)
    path = tmp_path / name
    write_npz(path, rec.arrays)
    return path, rec.arrays, read_run(path)


def opened(run, budget=8 << 20) -> Session:
    session = Session(TrainConfig(width=3, n_train=20, batch_size=5))
    session.load(load_run(run, budget))
    return session


# ---------------------------------------------------------------------- the file of `reluviz train`
@pytest.mark.parametrize("config", [SMALL, MOMENTUM, ADAM, DEEP], ids=["sgd", "momentum", "adam", "deep"])
def test_every_row_comes_back_with_its_optimizer_state_and_minibatch(tmp_path, config):
    _path, arrays, run = recorded(tmp_path, config, steps=200)
    assert int(arrays["format"]) == RUN_FORMAT and str(arrays["reluviz_version"])
    session = opened(run)
    trainer = Trainer(config)
    for step in (0, 1, 77, 199, 200):
        trainer.run(step - trainer.step)
        want = trainer.snapshot()
        with session.locked():
            got = session.frame(step).snapshot
        assert got.step == step
        np.testing.assert_array_equal(got.state, want.state)  # parameters and slots, bit for bit
        np.testing.assert_array_equal(got.batch, want.batch)  # drawn again from (seed, step)
        assert got.batch_loss[0] == want.batch_loss[0] and got.lr[0] == want.lr[0]
    assert session.trace.steps[-1] == 200 and session.trace.train[-1] == pytest.approx(arrays["train_loss"][-1])


@pytest.mark.parametrize("config", [MOMENTUM, ADAM, DEEP], ids=["momentum", "adam", "deep"])
def test_resuming_an_opened_file_goes_on_exactly_as_the_run_did(tmp_path, config):
    _path, _arrays, run = recorded(tmp_path, config, steps=300, every=3)
    session = opened(run)
    with session.locked():
        assert session.frame(150).resume_note == ""
        assert session.resume_from(150) == 150
        session.advance(100)
        session.checkpoint()
    trainer = Trainer(config)
    trainer.run(250)
    np.testing.assert_array_equal(session.trainer.state, trainer.state)


def test_playing_on_from_the_last_step_of_a_file_is_the_longer_run(tmp_path):
    _path, _arrays, run = recorded(tmp_path, ADAM, steps=120)
    session = opened(run)
    with session.locked():
        session.advance(80)
        frame = head_frame(session)
    trainer = Trainer(ADAM)
    trainer.run(200)
    assert frame.step == 200
    np.testing.assert_array_equal(frame.snapshot.state, trainer.snapshot().state)


def test_params_only_keeps_the_last_state_and_says_why_earlier_steps_cannot_resume(tmp_path):
    path, arrays, run = recorded(tmp_path, ADAM, "small.npz", steps=300, params_only=True)
    full, _, _ = recorded(tmp_path, ADAM, "full.npz", steps=300)
    assert list(arrays["slots_step"]) == [300] and run.resumable_steps == 1
    assert read_run(full).resumable_steps == 301
    assert path.stat().st_size < 0.6 * full.stat().st_size
    session = opened(run)
    with session.locked():
        early, last = session.frame(100), session.frame(300)
    assert "optimizer's state" in early.resume_note and "step 100" in early.resume_note
    assert last.resume_note == ""
    with session.locked():  # going on from the last step is exact
        session.advance(50)
        frame = head_frame(session)
    trainer = Trainer(ADAM)
    trainer.run(350)
    np.testing.assert_array_equal(frame.snapshot.state, trainer.snapshot().state)


def test_a_diverged_run_opens_stopped_with_its_reason(tmp_path):
    config = SMALL.updated({"lr": 40.0})
    _path, arrays, run = recorded(tmp_path, config, steps=300)
    assert run.stop_reason and run.last_step < 300
    session = opened(run)
    with session.locked():
        frame = session.frame()
    assert session.stopped and frame.divergence == run.stop_reason and frame.step == run.last_step
    assert np.all(np.isfinite(frame.snapshot.params))


def test_a_long_file_is_thinned_like_the_apps_history(tmp_path):
    """A file with more rows than a session's history holds keeps the rows the app would have kept."""
    _path, _arrays, run = recorded(tmp_path, SMALL, steps=3000)
    budget = 200 * 8 * (1 + SMALL.width * 3 + 1 + SMALL.batch_size + 2)  # about 200 rows
    chain = load_run(run, budget).history
    trainer = Trainer(SMALL)
    live = History.for_trainer(trainer, budget)
    trainer.run(3000, record=live)
    live.record_snapshot(trainer.snapshot())
    np.testing.assert_array_equal(chain.steps, live.steps)
    np.testing.assert_array_equal(chain.params, live.params)


def test_the_data_of_a_csv_run_are_in_the_file(tmp_path):
    csv = tmp_path / "points.csv"
    xs = np.linspace(0, 1, 30)
    csv.write_text("x,y\n" + "".join(f"{x},{np.sin(6 * x)}\n" for x in xs))
    config = SMALL.updated({"target": "csv", "csv_path": str(csv), "batch_size": 0})
    _path, _arrays, _run = recorded(tmp_path, config, steps=50)
    csv.unlink()  # the lecturer's laptop does not have it
    run = read_run(tmp_path / "run.npz")
    session = opened(run)
    assert (session.dataset.n, session.dataset.n_val, session.dataset.n_test) == (18, 6, 6)
    assert session.dataset.true_x is None
    with session.locked():
        assert session.frame(50).snapshot.batch.shape == (1, 18)  # full batch


# ---------------------------------------------------------------------- the app's run
def test_the_apps_run_with_changes_mid_run_and_a_ghost_survives_save_and_open(tmp_path):
    session = Session(SMALL, compare={"lr": 0.01})
    with session.locked():
        session.advance(100)
        session.apply_config(SMALL.updated({"optimizer": "adam", "lr": 0.005}))  # a new stretch of rows
        session.advance(60)
        session.apply_config(SMALL.updated({"optimizer": "adam", "lr": 0.002, "sampling": "shuffle"}))
        session.advance(40)
        captured = capture_session(session)
        before = [session.frame(s) for s in (0, 50, 99, 100, 130, 170, 200)]
    assert len(captured.blocks) == 2
    write_run(tmp_path / "app.npz", captured)
    run = read_run(tmp_path / "app.npz")
    assert run.ghost_rows is not None and [c.optimizer for _, c in run.rows.segments] == ["sgd", "adam"]
    reopened = opened(run)
    with reopened.locked():
        after = [reopened.frame(s) for s in (0, 50, 99, 100, 130, 170, 200)]
    for a, b in zip(before, after):
        assert a.step == b.step
        np.testing.assert_array_equal(a.snapshot.state, b.snapshot.state)
        np.testing.assert_array_equal(a.snapshot.batch, b.snapshot.batch)  # (stored: sampling changed mid-stretch)
        np.testing.assert_array_equal(a.ghost.state, b.ghost.state)
        assert a.snapshot.lr[0] == b.snapshot.lr[0] and a.train_loss == pytest.approx(b.train_loss)
    # resuming in the first stretch of the reopened run goes on as the original does
    with session.locked(), reopened.locked():
        for s in (session, reopened):
            s.resume_from(50)
            s.advance(30)
            s.checkpoint()
        np.testing.assert_array_equal(session.trainer.state, reopened.trainer.state)
        np.testing.assert_array_equal(session.ghost.state, reopened.ghost.state)


def test_a_ghost_is_trained_again_from_a_file_that_holds_only_its_settings(tmp_path):
    _path, arrays, run = recorded(tmp_path, SMALL, steps=150, compare={"schedule": "inverse", "decay": 0.01})
    assert json.loads(str(arrays["compare"])) == {"schedule": "inverse", "decay": 0.01} and "ghost_step" not in arrays
    session = opened(run)
    ghost = Trainer(SMALL.updated({"schedule": "inverse", "decay": 0.01}))
    ghost.run(90)
    with session.locked():
        np.testing.assert_array_equal(session.frame(90).ghost.state, ghost.snapshot().state)


def test_a_run_too_big_for_the_app_is_refused_and_the_session_is_untouched(tmp_path):
    _path, _arrays, run = recorded(tmp_path, SMALL.updated({"width": 6000, "n_train": 20, "batch_size": 5}),
                                   steps=3)
    session = Session(SMALL)
    run_id, config = session.run_id, session.config
    with pytest.raises(ConfigError, match="width 6,000"):
        session.load(load_run(run, 8 << 20))
    assert session.run_id == run_id and session.config == config


# ---------------------------------------------------------------------- files that are not run files
def _variant(tmp_path, source, name, change):
    with np.load(source) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


BAD_ARRAYS = [
    ("newer.npz", lambda a: a.update(format=np.array(RUN_FORMAT + 1), reluviz_version=np.array("9.0")),
     "format 2 (written by reluviz 9.0)", "update reluviz"),
    ("older.npz", lambda a: a.update(format=np.array(0)), "format 0", "record it again"),
    ("no_format.npz", lambda a: a.pop("format"), "older reluviz", "reluviz train"),
    ("no_lr.npz", lambda a: a.pop("lr"), "damaged", "'lr'"),
    ("short_lr.npz", lambda a: a.update(lr=a["lr"][:-1]), "damaged", "'lr' has"),
    ("nan_w.npz", lambda a: a["w"].__setitem__((3, 0), np.nan), "damaged", "not finite"),
    ("steps_back.npz", lambda a: a["step"].__setitem__(5, 2), "damaged", "does not increase"),
    ("bad_config.npz", lambda a: a.update(config=np.array("{not json")), "damaged", "not valid JSON"),
    ("bad_setting.npz", lambda a: a.update(config=np.array('{"width": -4}')), "damaged", "width must be"),
    ("wide_w.npz", lambda a: a.update(w=np.zeros((len(a["step"]), 99))), "damaged", "'w' has shape"),
    ("no_slots.npz", lambda a: (a.pop("slots"), a.pop("slots_step")), "damaged", "'slots'"),
    ("object.npz", lambda a: a.update(step=np.array(["a"] * len(a["step"]))), "damaged", "'step'"),
    ("bad_compare.npz", lambda a: a.update(compare=np.array('{"width": 3}')), "damaged", "ghost"),
    ("batch_too_big.npz", lambda a: a.update(batch=np.full((len(a["step"]), 10), 10**6)), "damaged", "minibatches"),
]


@pytest.mark.parametrize("name, change, what, needle", BAD_ARRAYS, ids=[c[0] for c in BAD_ARRAYS])
def test_a_file_of_another_format_or_damaged_is_one_sentence(tmp_path, name, change, what, needle):
    source, _arrays, _run = recorded(tmp_path, MOMENTUM, steps=20)
    path = _variant(tmp_path, source, name, change)
    with pytest.raises(RunFileError) as info:
        read_run(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(name) and what in message and needle in message, message


def test_files_that_are_not_run_files(tmp_path):
    source, _arrays, _run = recorded(tmp_path, SMALL, steps=20)
    data = source.read_bytes()
    cases = {
        "text.npz": (b"hello, not an archive", "not a reluviz run file"),
        "empty.npz": (b"", "not a reluviz run file"),
        "truncated.npz": (data[: len(data) // 2], "damaged"),
    }
    for name, (content, needle) in cases.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "array.npy", np.zeros(3))
    (tmp_path / "array.npy").rename(tmp_path / "array.npz")
    cases["array.npz"] = (None, "single array")
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as z:
        z.writestr("readme.txt", "hi")
    cases["other.npz"] = (None, "not a reluviz run file")
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF  # inside the compressed parameters: the checksum fails
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    cases["flipped.npz"] = (None, "damaged")
    for name, (_content, needle) in cases.items():
        with pytest.raises(RunFileError) as info:
            read_run(tmp_path / name)
        assert needle in str(info.value) and "\n" not in str(info.value), (name, str(info.value))
    for missing, needle in ((tmp_path / "nope.npz", "no such file"), (tmp_path, "folder")):
        with pytest.raises(RunFileError, match=needle):
            read_run(missing)


@pytest.mark.parametrize("model", ["relu", "constant", "linear", "affine", "tanh", "deep"])
def test_the_loss_columns_are_each_rows_mse(model):
    from reluviz.core.metrics import row_losses
    from reluviz.core.model import Layout, mse

    shape = {"tanh": {"activation": "tanh"}, "deep": {"depth": 3}}.get(model, {"model": model})
    config = SMALL.updated(shape)  # (tanh and deep nets take the generic path, not the relu one's)
    trainer = Trainer(config)
    layout, ds = trainer.layout, trainer.dataset
    rows = np.random.default_rng(3).normal(size=(257, layout.size))
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        got = row_losses(layout, rows, x, y)
        want = np.array([float(mse(layout, r, x, y)) for r in rows])
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert Layout("relu", 3).names() == ("w", "b", "v", "c")  # (the fast path's precondition)


# ---------------------------------------------------------------------- validation sets in run files
def test_an_opened_run_brings_its_validation_set_and_losses_back(tmp_path):
    config = SMALL.updated({"ridge": 0.001, "n_val": 30})
    _path, arrays, run = recorded(tmp_path, config, steps=120, every=10)
    np.testing.assert_array_equal(run.dataset.x_val, arrays["x_val"])
    assert run.dataset.n_val == 30
    session = opened(run)
    with session.locked():
        session.checkpoint()
        frame = session.frame(120)
    curves = frame.curves
    k = int(np.searchsorted(arrays["step"], curves.eval_steps[-1]))
    assert curves.val[-1] == pytest.approx(arrays["val_loss"][k], rel=1e-12)
    assert curves.objective[-1] == pytest.approx(arrays["objective"][k], rel=1e-12)
    assert curves.objective[-1] > curves.train[-1]  # (the ridge term)
    assert frame.val_loss == pytest.approx(arrays["val_loss"][-1], rel=1e-12)


def test_a_run_file_from_before_validation_sets_still_opens(tmp_path):
    """Files written before this version have no validation points and no val_loss, true_error or
    objective columns: they open with an empty validation set and those curves empty."""
    path, arrays, _run = recorded(tmp_path, SMALL, steps=60, every=10)
    old = {k: v for k, v in arrays.items() if k not in ("x_val", "y_val", "val_loss", "true_error", "objective")}
    write_npz(tmp_path / "old.npz", old)
    run = read_run(tmp_path / "old.npz")
    assert run.dataset.n_val == 0 and run.dataset.n == SMALL.n_train
    session = opened(run)
    with session.locked():
        session.checkpoint()
        frame = session.frame(60)
    assert np.isnan(frame.val_loss) and frame.curves.best_step == -1
    assert np.all(np.isnan(frame.curves.val[:-1]))  # (the file's rows: no validation loss)
