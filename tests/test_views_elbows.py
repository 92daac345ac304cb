"""The elbow view: counts equal the core's activity counts; unit selection and the elbow trail; the
expected counts at init drawn as steps or as a smooth curve, switching between runs."""

import numpy as np
import pytest

from reluviz.core import History, Trainer
from reluviz.core.config import TrainConfig
from reluviz.core.data import make_dataset
from reluviz.core.elbow_stats import activity, elbow_histogram, elbows
from reluviz.core.history import History as CoreHistory
from reluviz.core.model import Layout
from reluviz.core.presets import load_preset
from reluviz.core.snapshot import Snapshot
from reluviz.core.elbow_stats import unit_elbow_trail
from reluviz.gui.views import ElbowsView

from helpers import short_run, show

VIEW_CLASS = ElbowsView  # the ``view`` fixture (conftest.py) makes one


def constructed():
    """Five units on x in [0, 1]: dead (elbow 5, w > 0), always active (elbow -5), two bending
    (w > 0 and w < 0), and one with w < 0 whose active side x < -2 misses the data (dead)."""
    cfg = TrainConfig(width=5, init="gaussian", n_train=100)
    ds = make_dataset(cfg)
    layout = Layout("relu", 5)
    w = np.array([1.0, 1.0, 2.0, -1.0, -0.5])
    b = np.array([-5.0, 5.0, -0.6, 0.5, -1.0])
    params = np.zeros(layout.size)
    params[layout.index("w")] = w
    params[layout.index("b")] = b
    params[layout.index("v")] = [0.5, -0.5, 1.0, -1.0, 0.2]
    hist = CoreHistory(layout, 1, layout.size, 4)
    snaps = []
    for step in range(3):  # the second unit's elbow drifts over three recorded steps
        p = params.copy()
        p[layout.index("b")][1] += step
        snap = Snapshot.create(step, layout, p[None, :], np.zeros((1, 4), np.int64), np.zeros(1), np.full(1, 0.1),
                               np.zeros(1, bool))
        hist.record_snapshot(snap)
        snaps.append(snap)
    return cfg, ds, hist, snaps[-1], w, b


def test_counts_equal_core_activity_on_a_constructed_example(view):
    cfg, ds, hist, snap, w, b = constructed()
    show(view, snap, hist, ds, cfg)
    act = activity(snap.w, snap.b, ds.x_train)
    assert view.counts["dead"] == int(act.n_dead) == 2
    assert view.counts["always"] == int(act.n_always_active) == 1
    assert view.counts["bending"] == 2
    assert "2 of 5 units dead" in view.summary.text()
    e = elbows(snap.w, snap.b)
    edges = view.hist.edges
    for kind, mask in (("dead", act.dead), ("always", act.always_active),
                       ("bending", ~act.dead & ~act.always_active)):
        expect = elbow_histogram(e[mask], bins=edges).counts
        np.testing.assert_array_equal(view.bin_counts[kind], expect)
        np.testing.assert_array_equal(view.hist.bars[kind].opts["height"], expect)
    # stacked: each kind's bars start on top of the previous kinds
    np.testing.assert_array_equal(view.hist.bars["dead"].opts["y0"],
                                  view.bin_counts["bending"] + view.bin_counts["always"])
    # gaussian init: the dashed curve is the Cauchy density in counts per bin
    x, y = view.hist.expected.getData()
    i = int(np.argmin(np.abs(x)))
    assert y[i] == pytest.approx(5 * (edges[1] - edges[0]) / np.pi, rel=1e-2)
    assert view.unit_list.count() == 5 and "dead" in view.unit_list.item(0).text()


def test_clicking_a_unit_emits_unit_selected_and_draws_its_trail(view, qtbot):
    cfg, ds, hist, snap, w, b = constructed()
    show(view, snap, hist, ds, cfg)
    with qtbot.waitSignal(view.unitSelected, timeout=1000) as blocker:
        view.unit_list.itemClicked.emit(view.unit_list.item(1))
    assert blocker.args == [1] and view.selected_unit == 1
    x, y = view.trail_plot.curve.getData()
    np.testing.assert_array_equal(x, [0, 1, 2])
    np.testing.assert_allclose(y, [-5.0, -6.0, -7.0])
    np.testing.assert_allclose(view.trail_elbows(), [-5.0, -6.0, -7.0])
    with qtbot.waitSignal(view.unitSelected, timeout=1000) as blocker:
        view.hist.unitClicked.emit(1)  # clicking the selected unit's marker again clears
    assert blocker.args == [-1] and view.selected_unit is None
    # select_unit from the window does not echo the signal
    with qtbot.assertNotEmitted(view.unitSelected):
        view.select_unit(3)
    assert view.unit_list.currentRow() == 3
    view.select_unit(5)  # a unit this net lacks (the fit plot's click may name one): no trail, no error
    assert view.trail is None


def test_real_run_and_non_relu_model(view):
    cfg = load_preset("dead-relus").config
    tr = Trainer(cfg)
    hist = History.for_trainer(tr, budget_bytes=8 * 2**20)
    tr.run(100, on_step=hist.record)
    snap = tr.snapshot()
    hist.record_snapshot(snap)
    view.select_unit(4)
    show(view, snap, hist, tr.dataset, cfg)
    x, y = view.trail_plot.curve.getData()
    assert len(x) == len(hist) and np.isfinite(y).all()
    counts = view.counts
    total = sum(int(v.sum()) for v in view.bin_counts.values()) + counts["below"] + counts["above"]
    assert total == cfg.width
    lin = load_preset("linear-model").config
    tr2 = Trainer(lin)
    show(view, tr2.snapshot(), None, tr2.dataset, lin)
    assert "ReLU network" in view.summary.text()


def test_unit_elbow_trail_for_the_fit_plot():
    cfg, ds, hist, snap, w, b = constructed()
    t = unit_elbow_trail(hist, 1, upto=2, x=ds.x_train)
    np.testing.assert_allclose(t.elbow, [-5.0, -6.0, -7.0])
    assert t.dead is not None and not t.dead.any()
    np.testing.assert_allclose(unit_elbow_trail(hist, 1, upto=1).elbow, [-5.0, -6.0])
    assert unit_elbow_trail(hist, 9, upto=2) is None


@pytest.mark.parametrize("first, second", [("uniform_elbows", "gaussian"), ("he", "gaussian"),
                                           ("gaussian", "uniform_elbows")])
def test_elbows_view_switches_between_stepped_and_smooth_expected_curves(view, first, second):
    """A run with init uniform_elbows / he draws the expected counts as steps (len(x) = len(y) + 1),
    a gaussian one as a smooth curve; pyqtgraph kept the old stepMode and raised on the switch (found
    by the UI fuzzer)."""
    for init in (first, second, first):
        cfg = TrainConfig(width=8, n_train=50, batch_size=10, init=init)
        tr, history, snap = short_run(cfg, 3)
        show(view, snap, history, tr.dataset, cfg)
        x, y = view.hist.expected.getData()
        assert x is not None and y is not None
        assert len(x) == len(y) + (1 if init != "gaussian" else 0)
        assert np.all(np.isfinite(y))


def test_with_no_unit_followed_the_trail_plot_spans_the_run_so_far(view):
    from helpers import SMALL

    tr, hist, snap = short_run(SMALL.updated({"n_train": 60}), 250)
    show(view, snap, hist, tr.dataset, SMALL)
    assert view.selected_unit is None
    (x0, x1), (y0, y1) = view.trail_plot.plot.vb.viewRange()
    assert x0 <= 0 and 250 <= x1 < 300  # the steps so far, not 0 .. 1
    lo, hi = tr.dataset.x_range
    assert y0 <= lo and hi <= y1  # the data's x range (where elbows matter)


def test_where_the_kinks_move_every_units_elbow_over_the_recorded_steps(view):
    """With no unit followed the trail plot draws one line per unit: its elbows -b/w at the
    recorded steps, in the colour of what the unit does now; the legend names only kinds that exist."""
    cfg, ds, hist, snap, w, b = constructed()
    show(view, snap, hist, ds, cfg, trail=view.trail_spec(cfg))
    units = view.canvas.trail_plot.units
    drawn = {}
    for kind, item in units.items():
        x, y = item.getData()
        x, y = np.asarray(x if x is not None else []), np.asarray(y if y is not None else [])
        # one line per unit, each ending in a NaN (a break)
        drawn[kind] = [seg for seg in np.split(y, np.flatnonzero(np.isnan(y)) + 1) if len(seg) > 1]
        if len(x):
            np.testing.assert_array_equal(x[:3], [0, 1, 2])
    assert len(drawn["dead"]) == 2 and len(drawn["bending"]) == 2
    np.testing.assert_allclose(drawn["bending"][0][:3], [0.3, 0.3, 0.3])
    # the always-active unit 1: b grows by one per step, elbow -b/w = -5, -6, -7; the histogram
    # spans -4 .. 5, and a line stops once it is more than 1 beyond (an elbow can jump through infinity)
    np.testing.assert_array_equal(units["always"].getData()[1], [-5.0, np.nan, np.nan, np.nan])
    assert view.canvas.legend.labels[:3] == ["bends inside the data", "always active (a line)", "dead (on no point)"]
    view.select_unit(2)
    assert view.canvas.legend.labels[-1] == "unit 2 (selected)"
    # a run with every unit bending: no dead or always-active entry (the legend lists what is drawn)
    cfg2 = load_preset("notebook").config.updated({"width": 6, "n_train": 60, "batch_size": 10})
    tr, hist2, snap2 = short_run(cfg2, 5)
    view.select_unit(None)
    show(view, snap2, hist2, tr.dataset, cfg2, trail=view.trail_spec(cfg2))
    kinds = {k for k, n in view.counts.items() if k in ("dead", "always", "bending") and n}
    labels = view.canvas.legend.labels
    assert ("dead (on no point)" in labels) == ("dead" in kinds)
    assert ("always active (a line)" in labels) == ("always" in kinds)


def test_a_wide_net_draws_an_even_subset_of_trails_and_says_so(view, monkeypatch):
    from reluviz.plots import elbows_canvas

    monkeypatch.setattr(elbows_canvas, "MAX_TRAIL_UNITS", 4)
    cfg = load_preset("notebook").config.updated({"width": 10, "n_train": 60, "batch_size": 10})
    tr, hist, snap = short_run(cfg, 5)
    show(view, snap, hist, tr.dataset, cfg, trail=view.trail_spec(cfg))
    np.testing.assert_array_equal(view.canvas.trail_units, [0, 3, 6, 9])
    lines = sum(int(np.count_nonzero(np.isnan(item.getData()[1]))) for item in view.canvas.trail_plot.units.values()
                if item.getData()[1] is not None)
    assert lines == 4
    assert "(4 of 10 units, evenly chosen)" in view.canvas.trail_item.titleLabel.text
