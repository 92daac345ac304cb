"""``reluviz`` (the app entry point): no display, command line, and the session core of the app."""

from __future__ import annotations

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core import Trainer
from reluviz.core.presets import load_preset
from reluviz.gui.app import run_app
from reluviz.core.session import Session
from helpers import head_frame

SMALL = load_preset("notebook").config.updated({"width": 8, "n_train": 60, "batch_size": 6})


@pytest.fixture
def no_display(monkeypatch, tmp_path):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RELUVIZ_SETTINGS_DIR", str(tmp_path))


def test_run_app_without_a_display_explains_and_exits_1(no_display, capsys):
    assert run_app(None) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no display" in err and "reluviz export" in err


def test_cli_without_a_display(no_display, capsys):
    assert main(["--preset", "dance", "--set", "lr=0.01"]) == 1
    assert "reluviz export" in capsys.readouterr().err


def test_cli_bad_setting_is_a_usage_error(no_display, capsys):
    assert main(["--set", "lr=-1"]) == 2


def test_session_chain_across_optimizer_and_batch_changes():
    s = Session(SMALL)
    s.advance(30)
    head_frame(s)
    s.apply_config(SMALL.updated({"optimizer": "adam"}))
    s.advance(10)
    s.apply_config(SMALL.updated({"optimizer": "adam", "batch_size": 0}))
    s.advance(10)
    head_frame(s)
    h = s.history
    assert len(h.segments) == 3
    assert h.first_step() == 0 and h.last_step() == 50 and len(h) == 51
    np.testing.assert_array_equal(h.steps, np.arange(51))
    assert h.params.shape == (51, 1, SMALL.width * 3 + 1)
    assert h.at(35).batch.shape == (1, 6) and h.at(45).batch.shape == (1, SMALL.n_train)
    # back into the first (SGD) segment, on with the current settings (Adam, full batch)
    assert s.resume_from(20) == 20
    assert len(h.segments) == 2 and h.last_step() == 20
    s.advance(5)
    t = Trainer(SMALL)
    t.run(20)
    t.reconfigure(s.config)
    t.run(5)
    np.testing.assert_array_equal(s.trainer.params, t.params)


def test_frames_carry_losses_and_thinned_curves():
    s = Session(SMALL)
    for _ in range(5):
        s.advance(2000)
        frame = head_frame(s)
    assert frame.step == 10_000 and frame.live
    assert len(frame.curves.batch_steps) <= 3001 and frame.curves.batch_steps[-1] == 10_000
    assert len(frame.curves.eval_steps) == 5  # one train/test loss per drawn frame
    assert frame.train_loss == pytest.approx(float(frame.snapshot.loss(s.dataset.x_train, s.dataset.y_train)[0]))
    back = s.frame(5000)
    assert back.step == 5000 and not back.live
    assert 0 <= frame.dead_units <= SMALL.width
