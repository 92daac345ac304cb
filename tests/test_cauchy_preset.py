"""The `cauchy-elbows` preset (lecture note 2: a Gaussian init puts the elbows -b/w on a Cauchy law)
and the fit plot drawing a sample of a wide net's units."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reluviz.core import Trainer
from reluviz.core.elbow_stats import cauchy_cdf
from reluviz.core.frame import frame_from_history
from reluviz.core.presets import load_preset


def _ks_to_cauchy(elbows: np.ndarray) -> float:
    e = np.sort(elbows[np.isfinite(elbows)])
    n = len(e)
    f = cauchy_cdf(e)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def test_the_preset_elbows_follow_the_cauchy_law_its_text_describes():
    preset = load_preset("cauchy-elbows")
    trainer = Trainer(preset.config)
    snap = trainer.snapshot()
    elbows = snap.elbows(0)
    n = len(elbows)
    assert n == 2000
    # a sample from the standard Cauchy law: the KS distance under the 95% critical value 1.36/sqrt(n)
    assert _ks_to_cauchy(elbows) < 1.36 / math.sqrt(n)
    # ... which 40 units (the dead-relus preset) are too few to show: their critical value is 0.21
    assert 1.36 / math.sqrt(load_preset("dead-relus").config.width) > 0.2
    outside = int(np.sum((elbows < -4) | (elbows > 5)))  # the Elbows tab plots -4..5 and counts the rest
    expected = n * (1 - (math.atan(5) + math.atan(4)) / math.pi)  # 282
    assert abs(outside - 280) <= 15 and abs(outside - expected) <= 3 * math.sqrt(expected)
    assert outside == 279 and "at step 0 about 280 elbows (14%)" in preset.description and "−4..5" in preset.description


def test_the_preset_dead_units_stay_dead_while_the_live_ones_fit():
    preset = load_preset("cauchy-elbows")
    trainer = Trainer(preset.config.updated({"steps": 6000}))
    x = trainer.dataset.x_train
    start = trainer.snapshot()
    dead0 = start.dead_units(x)
    assert 650 <= dead0.sum() <= 850  # "about 750 units start dead"
    trainer.run(1000)
    e = trainer.snapshot().elbows(0)
    moved_in = 279 - int(np.sum((e < -4) | (e > 5)))  # "about 40 of them move inside" (279 at step 0)
    assert 25 <= moved_in <= 55 and "about 40 of them move inside" in preset.description
    trainer.run(5000)
    end = trainer.snapshot()
    assert not trainer.stopped
    w_i, b_i = trainer.layout.index("w"), trainer.layout.index("b")
    moved = (end.params[0, w_i] != start.params[0, w_i]) | (end.params[0, b_i] != start.params[0, b_i])
    assert not np.any(moved[dead0])  # "their elbows never move"
    assert np.mean(moved[~dead0]) > 0.9  # the live ones do
    assert abs(int(end.dead_units(x).sum()) - int(dead0.sum())) <= 0.01 * len(dead0)


def test_a_wide_net_draws_every_kth_unit_and_the_legend_says_so(qtbot):
    from reluviz.plots.elbow_markers import MAX_DRAWN_UNITS, drawn_units, subset_stride
    from reluviz.plots.training_view import TrainingView

    config = load_preset("cauchy-elbows").config
    trainer = Trainer(config)
    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    frame = frame_from_history(trainer.snapshot(), None, trainer.dataset, config, trail=None)
    view.show_frame(frame)
    fit = view.fit
    k = subset_stride(2000)
    assert k == 7
    drawn = sum(len(item.getData()[0]) for item in (fit.units_pos, fit.units_neg, fit.units_dead))
    assert drawn == 4 * len(range(0, 2000, k)) <= 4 * MAX_DRAWN_UNITS  # 4 points per drawn unit's polyline
    labels = [label.text for _sample, label in fit.legend.items]
    assert any("1 in 7 drawn" in t for t in labels)
    assert len(fit.elbows.data) == len(range(0, 2000, k))
    # the selected unit is drawn whatever its index, and its tooltip names it
    fit.select_unit(1000)
    view.show_frame(frame)
    assert 1000 in drawn_units(2000, 1000) and 1000 not in drawn_units(2000)
    assert len(fit.unit_selected.getData()[0]) == 4
    k_sel = int(np.searchsorted(drawn_units(2000, 1000), 1000))
    assert fit.elbow_markers.tip(0, 0, k_sel).startswith("unit 1000:")
    # a net of MAX_DRAWN_UNITS or fewer draws all its units and says nothing
    assert subset_stride(MAX_DRAWN_UNITS) == 1 and len(drawn_units(40)) == 40
