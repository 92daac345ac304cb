"""Hardening of the lecture views and plots: the sequences of states that broke them (found by the
UI fuzzer in test_fuzz_ui.py), each replayed directly on the widget."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import show

from reluviz.core import History, Trainer
from reluviz.core.config import TrainConfig
from reluviz.gui.views.elbows_view import ElbowsView


def _state(config: TrainConfig, steps: int = 3):
    trainer = Trainer(config)
    history = History.for_trainer(trainer)
    trainer.run(steps, on_step=history.record)
    history.record_snapshot(trainer.snapshot())
    return trainer.snapshot(), history, trainer.dataset


@pytest.fixture
def elbows_view(qtbot):
    v = ElbowsView()
    qtbot.addWidget(v)
    return v


@pytest.mark.parametrize("first, second", [("uniform_elbows", "gaussian"), ("he", "gaussian"),
                                           ("gaussian", "uniform_elbows")])
def test_elbows_view_switches_between_stepped_and_smooth_expected_curves(elbows_view, first, second):
    """A run with init uniform_elbows / he draws the expected counts as steps (len(x) = len(y) + 1),
    a gaussian one as a smooth curve; pyqtgraph kept the old stepMode and raised on the switch."""
    for init in (first, second, first):
        cfg = TrainConfig(width=8, n_train=50, batch_size=10, init=init)
        snap, history, ds = _state(cfg)
        show(elbows_view, snap, history, ds, cfg)
        x, y = elbows_view.hist.expected.getData()
        assert x is not None and y is not None
        assert len(x) == len(y) + (1 if init != "gaussian" else 0)
        assert np.all(np.isfinite(y))


# ---------------------------------------------------------------------- views on runs too big to draw
from reluviz.core import optimum as views_base  # noqa: E402
from reluviz.gui.views import votes_view as votes_module  # noqa: E402
from reluviz.gui.views.dance_view import DanceView  # noqa: E402
from reluviz.gui.views.votes_view import VotesView  # noqa: E402


def test_votes_view_says_when_there_are_too_many_votes(qtbot, monkeypatch):
    """N x P votes are computed on every frame: 100,000 points x 601 parameters took 3.7 s a frame."""
    monkeypatch.setattr(votes_module, "VOTES_LIMIT", 1000)
    view = VotesView()
    qtbot.addWidget(view)
    cfg = TrainConfig(width=20, n_train=100, batch_size=10)
    snap, history, ds = _state(cfg)
    show(view, snap, history, ds, cfg)
    assert view.last_votes is None and "Too many votes" in view.summary.text()
    assert "6,100" not in view.summary.text() and "100 training points" in view.summary.text()
    monkeypatch.setattr(votes_module, "VOTES_LIMIT", 10_000)  # a smaller run draws again
    show(view, snap, history, ds, cfg)
    assert view.last_votes is not None and len(view.last_votes.votes) == 100


def test_dance_view_on_a_network_too_wide_for_theta_star(qtbot, monkeypatch):
    """train=output at 4,000 points x 5,000 units froze the window 20 s solving for theta*; a local
    optimum or a dance at that width never came back (and a closing window waited for it)."""
    monkeypatch.setattr(views_base, "EXACT_OPTIMUM_MAX_FLOPS", 1e4)
    monkeypatch.setattr(views_base, "LOCAL_OPTIMUM_MAX_PARAMS", 30)
    view = DanceView()
    qtbot.addWidget(view)
    cfg = TrainConfig(width=20, n_train=100, batch_size=10, train="output")
    snap, history, ds = _state(cfg)
    show(view, snap, history, ds, cfg)
    assert view._mode == "big" and view._opt is None and view.placeholder.isVisible()
    assert "too costly" in view.placeholder.toPlainText()
    assert view.run_dance(steps=50) is None and "Cannot run the dance" in view.dance_panel.status.text()
    full = cfg.updated({"train": "all"})
    snap, history, ds = _state(full)
    show(view, snap, history, ds, full)
    assert view._mode == "full" and not view.local_button.isEnabled()
    view.find_local_optimum()
    assert view.optimum_worker is None and "too costly" in view.landscape_caption.text()
    small = TrainConfig(width=3, n_train=20, batch_size=5, train="output")  # small enough: theta* again
    snap, history, ds = _state(small)
    show(view, snap, history, ds, small)
    assert view._mode == "output" and view._opt is not None
