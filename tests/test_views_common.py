"""Lecture views: creation order, protocol, preset keys, drawing real states cheaply."""

import time

import numpy as np
import pytest

from reluviz.core.presets import load_preset, preset_names
from reluviz.gui.views import VIEW_KEYS, create_views, view_for_key

from helpers import short_run, show


@pytest.fixture
def views(qtbot):
    made = create_views(None)
    for v in made:
        qtbot.addWidget(v)
    yield made
    for v in made:
        v.shutdown()


def test_create_views_order_and_protocol(views):
    assert [v.view_name for v in views] == ["dance", "votes", "elbows", "bands"]
    for v in views:
        assert v.title and len(v.explanation) > 200
        assert v.explanation_label.text() == v.explanation
        for name in ("show_frame", "trail_spec", "select_unit", "shutdown"):
            assert callable(getattr(v, name))
    assert VIEW_KEYS["fit"] is None
    assert view_for_key(views, "votes") is views[1] and view_for_key(views, "fit") is None


def test_every_preset_view_key_has_a_view():
    for name in preset_names():
        assert load_preset(name).view in VIEW_KEYS, name


@pytest.mark.parametrize("preset", ["notebook", "constant-model", "dance"])
def test_all_views_draw_a_real_state(views, preset):
    cfg = load_preset(preset).config
    tr, hist, snap = short_run(cfg, 120)
    for v in views:
        frame = show(v, snap, hist, tr.dataset, cfg)
        assert v.frame is frame and v.config is cfg


def test_show_state_is_cheap_at_width_100(views):
    cfg = load_preset("notebook").config.updated({"width": 100})
    tr, hist, snap = short_run(cfg, 3000)
    views[2].select_unit(5)
    for v in views:
        show(v, snap, hist, tr.dataset, cfg)  # first call builds caches
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            show(v, snap, hist, tr.dataset, cfg)
            times.append(time.perf_counter() - t0)
        # target < 10 ms; the bound is loose because the test machine is shared
        assert np.median(times) < 0.05, (v.view_name, times)
