"""Hardening of the lecture views and plots: the sequences of states that broke them (found by the
UI fuzzer in test_fuzz_ui.py), each replayed directly on the widget."""

from __future__ import annotations

import numpy as np
import pytest

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
        elbows_view.show_state(snap, history, ds, cfg)
        x, y = elbows_view.hist.expected.getData()
        assert x is not None and y is not None
        assert len(x) == len(y) + (1 if init != "gaussian" else 0)
        assert np.all(np.isfinite(y))
