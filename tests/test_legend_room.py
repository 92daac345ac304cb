"""Legends never cover the data: the plots reach high enough above it for the legend, at any size."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from reluviz.core import Trainer
from reluviz.core.presets import load_preset
from reluviz.plots.legend_room import GAP_PX, MAX_FRACTION, top_for_legend

SMALL = load_preset("notebook").config.updated({"width": 8, "n_train": 60, "batch_size": 10, "steps": 300})


@pytest.mark.parametrize("legend_px, view_px", [(50, 100), (50, 400), (20, 95), (1, 1000)])
def test_top_leaves_the_legend_band_above_the_data(legend_px, view_px):
    bottom, data_top, usual = -2.0, 1.0, 1.5
    top = top_for_legend(bottom, data_top, legend_px, view_px, usual)
    band_px = (top - data_top) / (top - bottom) * view_px  # pixels between the data and the view's top
    assert top >= usual
    assert band_px >= min(legend_px + GAP_PX, MAX_FRACTION * view_px) - 1e-9
    if top > usual:  # no more room than needed
        assert band_px == pytest.approx(min(legend_px + GAP_PX, MAX_FRACTION * view_px))


def test_unknown_sizes_keep_the_usual_headroom():
    assert top_for_legend(0.0, 1.0, 0.0, 300.0, 1.25) == 1.25
    assert top_for_legend(0.0, 1.0, 40.0, 0.0, 1.25) == 1.25


@pytest.mark.parametrize("size", [(640, 360), (800, 450), (1280, 720)])
def test_in_exported_frames_the_legends_are_above_the_data(qapp, size):
    from reluviz.export.render import FrameRenderer

    from reluviz.export.plan import plan_training

    plan = plan_training(SMALL, np.array([0, 300]))
    ds = plan.dataset
    r = FrameRenderer(ds, size, caption=True, final_step=300)
    try:
        r.render(plan.frames[-1].snapshot, plan.curves, plan.trace)
        view = r.view
        fit_vb, loss_vb = view.fit_item.vb, view.loss_item.vb
        top_point = fit_vb.mapViewToScene(QtCore.QPointF(0.5, float(np.max(ds.y_train)))).y()
        assert top_point > view.fit.legend.sceneBoundingRect().bottom()
        # the loss panel's data reach at most the decade above them; the legend sits above that
        decade_top = np.ceil(view.loss._y_range[1])
        assert loss_vb.mapViewToScene(QtCore.QPointF(0, decade_top)).y() > view.loss.legend.sceneBoundingRect().bottom()
    finally:
        r.close()


def test_a_resize_keeps_the_users_zoom(qtbot):
    from reluviz.plots.training_view import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.set_dataset(Trainer(SMALL).dataset)
    view.show()
    qtbot.waitExposed(view)
    fit = view.fit
    assert np.allclose(fit.plot.vb.viewRange(), fit.view_range)
    view.resize(700, 400)  # smaller: more headroom, and the view follows
    qtbot.waitUntil(lambda: np.allclose(fit.plot.vb.viewRange(), fit.view_range) and fit.view_range[1][1] > 1.3)
    fit.plot.setRange(xRange=(0.2, 0.4), yRange=(-0.5, 0.5), padding=0)  # the user zooms in
    view.resize(1300, 900)
    qtbot.wait(50)
    assert np.allclose(fit.plot.vb.viewRange(), [[0.2, 0.4], [-0.5, 0.5]])
    fit.reset_view()  # (Ctrl+0) back to the range for the present size
    assert np.allclose(fit.plot.vb.viewRange(), fit.view_range)
