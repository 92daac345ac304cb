"""Deep nets in the app and the exporter: kinks on the fit plot coloured by layer, the regions
counter, Figure 4's overlay, the presets that turn it on, the status line, live-size limits and
exported frames (issue 12)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtCore

from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.frame import frame_from_history
from reluviz.core.presets import load_preset, load_preset_file
from reluviz.core.session import check_live_size
from reluviz.plots import theme

from helpers import action, short_run, train_to

#: 3 layers of 6 units on sin(20x), 80 points: after 300 steps f has kinks from all three layers
DEEP = TrainConfig(target="sin20", n_train=80, width=6, depth=3, batch_size=10, steps=100_000, optimizer="adam",
                   lr=0.01, init_seed=2)


def _frame(config, steps=300):
    tr, hist, snap = short_run(config, steps)
    return frame_from_history(snap, hist, tr.dataset, config)


@pytest.fixture
def training_view(qtbot):
    from reluviz.plots.training_view import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    return view


def _pixel(view, x, y):
    """The widget pixel (col, row) of data point (x, y) on the fit plot."""
    scene = view.fit_item.vb.mapViewToScene(QtCore.QPointF(x, y))
    p = view.mapFromScene(scene)
    return p.x(), p.y()


def _image(view) -> np.ndarray:
    img = view.grab().toImage().convertToFormat(view.grab().toImage().Format.Format_RGB888)
    w, h = img.width(), img.height()
    return np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3)


def test_the_fit_plot_marks_every_kink_in_its_layers_colour(training_view):
    frame = _frame(DEEP)
    st = frame.structure
    assert st.piecewise and len(st.kinks.x) >= 3 and set(st.kinks.layer) == {1, 2, 3}
    training_view.show_frame(frame)
    fit = training_view.fit
    # f is the exact polyline through every breakpoint; kinks by layer, one legend entry per layer
    np.testing.assert_array_equal(fit.prediction.getData()[1], st.kinks.fx)
    names = [label.text for _, label in fit.legend.items]
    assert [n for n in names if n.startswith("kink")] == ["kink from layer 1", "kink from layer 2",
                                                          "kink from layer 3"]
    for layer, item in enumerate(fit.structure.kinks[:3], start=1):
        sel = st.kinks.layer == layer
        np.testing.assert_array_equal(item.data["x"], st.kinks.x[sel])
        np.testing.assert_array_equal(item.data["y"], st.kinks.y[sel])
    assert len(fit.elbows.data) == 0  # (a deep net has no single elbow per unit)
    assert f"linear regions of f on the data: <b>{st.regions}</b>" in fit.structure.info.toHtml() or \
        f"linear regions of f on the data: {st.regions}" in fit.structure.info.toPlainText()
    assert "hidden units: 18 = 3 × 6" in fit.structure.info.toPlainText()
    # pixels: each kink's marker is drawn in its layer's colour at its place on the curve
    rgb = _image(training_view)
    ratio = rgb.shape[1] / training_view.width()
    found = 0
    for x, y, layer in zip(st.kinks.x, st.kinks.y, st.kinks.layer):
        col, row = (int(round(v * ratio)) for v in _pixel(training_view, x, y))
        patch = rgb[max(row - 4, 0): row + 5, max(col - 4, 0): col + 5].astype(int)
        colour = np.array(theme.LAYER_COLORS[layer - 1])
        found += bool(np.any(np.abs(patch - colour).sum(axis=2) < 30))
    assert found >= 0.8 * len(st.kinks.x)  # (markers of near kinks may overlap)


def test_units_of_the_last_layer_are_drawn_as_their_contributions(training_view):
    frame = _frame(DEEP)
    training_view.show_frame(frame)
    fit, st = training_view.fit, frame.structure
    v = frame.snapshot.get("v")
    contrib = v[:, None] * st.kinks.layers[-1]
    drawn = [fit.units_pos.getData()[1], fit.units_neg.getData()[1], fit.units_dead.getData()[1]]
    drawn = np.concatenate([d for d in drawn if d is not None])
    assert np.count_nonzero(np.isnan(drawn)) == 6
    np.testing.assert_allclose(np.sort(drawn[np.isfinite(drawn)]), np.sort(contrib.ravel()))
    # their sum and c is f
    np.testing.assert_allclose(contrib.sum(axis=0) + frame.snapshot.c, st.kinks.fx, atol=1e-12)


def test_figure_4_overlay_draws_the_steps_and_both_errors(training_view):
    frame = _frame(TrainConfig(target="quadratic", n_train=80, width=8, batch_size=10, optimizer="adam", lr=0.01),
                   steps=800)
    fit = training_view.fit
    training_view.show_frame(frame)
    assert not fit.structure.constant.isVisible()
    fit.set_show_constant_fit(True)
    training_view.show_frame(frame)
    cf = frame.structure.constant_fit
    xs, ys = fit.structure.constant.getData()
    np.testing.assert_array_equal(xs, cf.polyline()[0])
    assert cf.pieces == frame.structure.regions
    text = fit.structure.info.toPlainText()
    assert f"same {cf.pieces} pieces: constant {cf.mse:.3g}" in text and f"(the network) {frame.train_loss:.3g}" in text
    assert cf.mse > frame.train_loss  # (a line per piece beats a constant per piece here)
    assert "piecewise constant (Fig. 4)" in [label.text for _, label in fit.legend.items]
    fit.set_show_constant_fit(False)
    training_view.show_frame(frame)
    assert not fit.structure.constant.isVisible()
    assert "piecewise constant (Fig. 4)" not in [label.text for _, label in fit.legend.items]


def test_a_sigmoid_net_shows_saturation_not_kinks(training_view):
    frame = _frame(DEEP.updated({"activation": "sigmoid"}))
    training_view.show_frame(frame)
    fit, st = training_view.fit, frame.structure
    assert not st.piecewise and all(not item.isVisible() for item in fit.structure.kinks)
    text = fit.structure.info.toPlainText()
    assert "f is smooth, no kinks" in text and "saturated units per layer" in text
    assert "mean |σ'| per layer: " + " · ".join(f"{d:.2g}" for d in st.stats.mean_derivative) in text
    assert "saturated unit" in [label.text for _, label in fit.legend.items]


def test_depth_one_keeps_its_elbow_markers_and_counts_regions(training_view):
    cfg = TrainConfig(n_train=80, width=10, batch_size=10)
    frame = _frame(cfg)
    training_view.show_frame(frame)
    fit = training_view.fit
    assert len(fit.elbows.data) == 10 and not any(item.isVisible() for item in fit.structure.kinks)
    assert f"linear regions of f on the data: {frame.structure.regions}" in fit.structure.info.toPlainText()
    assert frame.structure.regions <= 11  # one hidden layer: at most units + 1
    assert "dead unit" in [label.text for _, label in fit.legend.items]


def test_presets_of_issue_12_load_and_name_their_overlays(tmp_path):
    for name, depth, act in (("deep", 3, "relu"), ("sigmoid-saturation", 3, "sigmoid"),
                             ("piecewise-constant", 1, "relu")):
        p = load_preset(name)
        assert (p.config.depth, p.config.activation) == (depth, act) and len(p.description) > 200
    assert load_preset("piecewise-constant").overlays == ("piecewise-constant",)
    assert load_preset("deep").overlays == ()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"title": "x", "config": {}, "overlays": ["contour"]}))
    with pytest.raises(ConfigError, match="'overlays' must be a list of piecewise-constant"):
        load_preset_file(bad)


def test_the_window_follows_a_presets_overlay_and_reports_dead_units_per_layer(make_window, qtbot):
    window = make_window(DEEP)
    fig4 = action(window, "actionShowConstantFit")
    assert not fig4.isChecked()
    train_to(qtbot, window, 40)
    frame = window.displayed_frame
    counts = " · ".join(f"{n}/6" for n in frame.structure.stats.dead_counts())
    assert f"dead units {counts} (layers 1-3)" in window.status.text()
    assert frame.structure is not None and frame.structure.depth == 3
    window.load_preset("piecewise-constant")
    assert fig4.isChecked() and window.view.fit.structure.show_constant
    assert window.view.fit.structure.constant.isVisible()
    window.load_preset("deep")
    assert not fig4.isChecked() and not window.view.fit.structure.constant.isVisible()
    assert window.tabs.lecture_view().view_name == "layers"
    fig4.trigger()  # the View menu's toggle redraws the displayed frame
    assert window.view.fit.structure.constant.isVisible()


def test_deep_nets_too_big_to_draw_live_are_refused_with_a_reason():
    check_live_size(200, TrainConfig(depth=4, width=100))
    with pytest.raises(ConfigError, match="through 4 layers of 200 units is too big to draw live"):
        check_live_size(200, TrainConfig(depth=4, width=200))


def test_exported_frames_of_a_deep_net_show_its_kinks(tmp_path, qapp):
    from PIL import Image

    from reluviz.export.frames import select_steps
    from reluviz.export.pipeline import export_run

    cfg = DEEP.updated({"steps": 200})
    final, count, _ = export_run(cfg, tmp_path / "frames", select_steps(200, every=100), size=(800, 500))
    assert count == 3
    rgb = np.asarray(Image.open(final / "frame_00002.png").convert("RGB")).astype(int)
    for colour in theme.LAYER_COLORS[:3]:
        assert np.count_nonzero(np.abs(rgb - np.array(colour)).sum(axis=2) < 30) > 20  # markers and legend


def test_the_panel_offers_depth_activation_and_the_leaky_slope_only_for_leaky_relu(qtbot):
    from reluviz.gui.controls import ControlPanel

    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_config(TrainConfig(depth=3, activation="tanh"))
    w = panel.widgets
    assert w["depth"].value() == 3 and w["depth"].maximum() == 4 and w["activation"].currentData() == "tanh"
    assert not w["leaky_slope"].isEnabled()
    w["activation"].setCurrentIndex(w["activation"].findData("leaky_relu"))
    assert w["leaky_slope"].isEnabled()
    assert panel.config().activation == "leaky_relu" and panel.config().depth == 3
    assert "Figure 8" in w["depth"].toolTip() and "saturation" in w["activation"].toolTip()


def test_a_deep_run_file_opens_in_the_window_with_its_kinks_and_layers(make_window, qtbot, tmp_path):
    from reluviz.core.recording import record_run, write_npz

    cfg = DEEP.updated({"steps": 300})
    path = tmp_path / "deep.npz"
    write_npz(path, record_run(cfg).arrays)
    window = make_window()
    window.files.open(str(path))
    qtbot.waitUntil(lambda: not window.files.busy, timeout=20_000)
    qtbot.waitUntil(lambda: window.displayed_snapshot.step == 300, timeout=10_000)
    frame = window.displayed_frame
    assert frame.structure.depth == 3 and frame.config.depth == 3
    direct = _frame(cfg).structure  # (the same run trained here)
    np.testing.assert_array_equal(frame.structure.kinks.x, direct.kinks.x)
    window.tabs.open("layers")
    window.scrub_to(150)
    qtbot.waitUntil(lambda: window.displayed_snapshot.step == 150, timeout=10_000)
    layers = window.tabs.lecture_view()
    assert layers.view_name == "layers" and layers.frame.step == 150
    np.testing.assert_array_equal(layers.layers_plot.curve.getData()[1], layers.frame.structure.kinks.fx)


def test_the_figure_4_preset_exports_its_steps_and_the_app_exports_what_it_shows(tmp_path, qapp):
    from PIL import Image

    from reluviz.cli import main

    red = np.array(theme.PIECEWISE_CONSTANT)

    def red_pixels(folder):
        rgb = np.asarray(Image.open(folder / "frame_00001.png").convert("RGB")).astype(int)
        return np.count_nonzero(np.abs(rgb - red).sum(axis=2) < 30)

    common = ["--steps", "300", "--frames", "2", "--size", "800x500", "--quiet"]
    assert main(["export", "--preset", "piecewise-constant", *common, "--out", str(tmp_path / "fig4")]) == 0
    cfg = load_preset("piecewise-constant").config
    same = [f"{k}={getattr(cfg, k)}" for k in ("target", "width", "optimizer", "lr")]
    args = ["export", *[a for kv in same for a in ("--set", kv)], *common, "--out", str(tmp_path / "plain")]
    assert main(args) == 0
    assert red_pixels(tmp_path / "fig4") > 200 and red_pixels(tmp_path / "plain") == 0
