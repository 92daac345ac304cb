"""Lecture views together: creation order, protocol, preset keys, what each draws of a real state,
and drawing it cheaply."""

import time

import numpy as np
import pytest

from reluviz.core.elbow_stats import TRAIL_DENSE, TRAIL_SPARSE, elbow_histogram, elbows
from reluviz.core.frame import TrailSpec
from reluviz.core.optimum import distance_to_optimum, optimum
from reluviz.core.presets import load_preset, preset_names
from reluviz.core.votes import compute_votes
from reluviz.gui.views import VIEW_KEYS, view_for_key

from helpers import short_run, show


def test_create_views_order_and_protocol(views):
    assert [v.view_name for v in views] == ["dance", "votes", "elbows", "layers", "bands", "selection"]
    for v in views:
        assert v.title and len(v.explanation) > 200
        assert v.explanation_label.text() == v.explanation
        for name in ("show_frame", "trail_spec", "select_unit", "configure", "shutdown"):
            assert callable(getattr(v, name))
    cfg = load_preset("notebook").config
    assert [v.trail_spec(cfg) for v in views] == [TrailSpec(400, 200, ghost=True), TrailSpec(),
                                                  TrailSpec(TRAIL_DENSE, TRAIL_SPARSE), TrailSpec(), TrailSpec(),
                                                  TrailSpec()]
    assert VIEW_KEYS["fit"] is None
    assert view_for_key(views, "votes") is views[1] and view_for_key(views, "fit") is None


def test_every_preset_view_key_has_a_view():
    for name in preset_names():
        assert load_preset(name).view in VIEW_KEYS, name


@pytest.mark.parametrize("preset", ["notebook", "constant-model", "dance", "deep", "sigmoid-saturation"])
def test_all_views_draw_a_real_state(views, preset):
    cfg = load_preset(preset).config
    tr, hist, snap = short_run(cfg, 120)
    ds, params = tr.dataset, snap.params[0]
    for v in views:
        frame = show(v, snap, hist, tr.dataset, cfg)
        assert v.frame is frame and v.config is cfg
    dance, votes, elbow_view, layers, bands, selection = views

    # dance: the distance to theta* up to the drawn step (no closed-form theta* for the full network)
    x, y = dance.distance_plot.distance.getData()
    if cfg.model == "relu" and cfg.train == "all":
        assert x is None or len(x) == 0
        assert dance.landscape_caption.text() == f"step {snap.step:,}: full network (hidden layer trains)"
    else:
        assert len(x) > 10 and np.all(np.isfinite(y)) and x[-1] == snap.step
        opt = optimum(cfg, ds, params)
        assert 10 ** y[-1] == pytest.approx(float(distance_to_optimum(params, opt)), rel=1e-9)  # log mode: y is log10
        assert dance.landscape_caption.text().startswith(f"step {snap.step:,}: ‖θ − θ*‖ = ")

    # votes: one bar per training point; together they are the full-batch gradient
    name = votes.parameter()
    assert name == {"relu": "v[0]", "affine": "a"}.get(cfg.model, "theta")
    core = compute_votes(snap.layout, params, ds.x_train, ds.y_train, select=[name])
    bx, heights = np.asarray(votes.votes_plot.bars.opts["x"]), np.asarray(votes.votes_plot.bars.opts["height"])
    assert len(heights) == ds.n
    np.testing.assert_array_equal(bx, ds.x_train)
    assert heights.sum() == pytest.approx(core.full_sum[0], rel=1e-9, abs=1e-12)
    assert votes.sums_plot.values[0] == pytest.approx(core.full_gradient[0], rel=1e-12, abs=1e-15)

    # elbows: every unit counted once in the histogram or beside it
    if cfg.depth > 1:
        assert elbow_view.summary.text().startswith("This view is about one hidden layer of ReLUs")
        assert elbow_view.split.isHidden()
    elif cfg.model == "relu":
        counts = elbow_view.counts
        hist_total = sum(int(c.sum()) for c in elbow_view.bin_counts.values())
        assert hist_total + counts["below"] + counts["above"] + counts["no_elbow"] == cfg.width == counts["units"]
        for kind, bar in elbow_view.hist.bars.items():
            np.testing.assert_array_equal(bar.opts["height"], elbow_view.bin_counts[kind])
        every = elbow_histogram(elbows(snap.w, snap.b), bins=elbow_view.hist.edges).counts
        np.testing.assert_array_equal(sum(elbow_view.bin_counts.values()), every)
        assert elbow_view.summary.text().startswith(f"step {snap.step}:")
    else:
        assert "Elbows belong to the ReLU network" in elbow_view.summary.text()

    # layers: each hidden layer's units as drawn polylines through the frame's breakpoints
    st = frame.structure
    if st is None:
        assert "has no hidden layers" in layers.layers_plot.note.toPlainText()
    else:
        assert len(layers.layers_plot.layers) == cfg.depth
        for k, items in enumerate(layers.layers_plot.layers):
            xs, ys = (np.concatenate([c.getData()[i] for c in (items.alive, items.dead) if c.getData()[0] is not None])
                      for i in (0, 1))
            assert np.count_nonzero(np.isnan(ys)) == cfg.width  # one line per unit
            np.testing.assert_allclose(ys[np.isfinite(ys)].reshape(cfg.width, -1).sum(),
                                       st.kinks.layers[k].sum(), rtol=1e-12)
        np.testing.assert_array_equal(layers.layers_plot.curve.getData()[1], st.kinks.fx)
        title = layers.layers_plot.output.titleLabel.text
        assert (f"{st.regions} linear regions" in title) if st.piecewise else "smooth" in title

    # seed bands: nothing runs until asked; the view describes the settings a run would use
    shape = {"deep": ", depth 3", "sigmoid-saturation": ", depth 3, sigmoid"}.get(preset, "")
    model = f"relu width {cfg.width}{shape}, train {cfg.train}" if cfg.model == "relu" else f"{cfg.model} model"
    assert bands.status.text() == (f"Current settings: {cfg.target} data (n = {cfg.n_train}), {model}, lr {cfg.lr:g}, "
                                   f"batch {cfg.batch_size}, {cfg.schedule} schedule. Each checked optimizer "
                                   "replaces the run's optimizer.")
    assert bands.result is None and bands.worker is None

    # model selection: nothing runs until asked; the view describes the data a sweep would use
    assert selection.result is None and selection.worker is None
    assert selection.status.text().startswith(f"Current settings: {cfg.target} data ({cfg.n_train} training, "
                                              f"{cfg.n_val} validation, {cfg.n_test} test points")


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
        # a hang guard: a few ms here; the window draws the visible view on every frame
        assert np.median(times) < 1.0, (v.view_name, times)
