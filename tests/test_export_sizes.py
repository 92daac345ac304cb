"""The fit export at any size (``FrameRenderer``): legends in rows above the panels (no data under
them), the y range set by the data, nothing cut off at the frame's edge (the right axis's label,
the ghost's legend entry), fonts and lines scaled with the frame, ``--no-legend`` drops the rows."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from reluviz.export.plan import plan_training
from reluviz.export.render import FrameRenderer
from reluviz.plots import theme

from helpers import SMALL_NOTEBOOK as SMALL

FRAME = QtCore.QRectF(0, 0, 640, 360)


@pytest.fixture(scope="module")
def plan():
    return plan_training(SMALL, np.array([0, 300]), compare={"lr": 0.5})


def _render(plan, size, **kw):
    r = FrameRenderer(plan.dataset, size, caption=True, final_step=300, compare=plan.compare, **kw)
    frame = plan.frames[-1]
    img = r.render(frame.snapshot, plan.curves, plan.trace, ghost=frame.ghost)
    return r, img


def _inside(rect: QtCore.QRectF, frame: QtCore.QRectF) -> bool:
    return (rect.left() >= frame.left() - 0.5 and rect.top() >= frame.top() - 0.5
            and rect.right() <= frame.right() + 0.5 and rect.bottom() <= frame.bottom() + 0.5)


def _near(img, colour, tol):
    return np.all(np.abs(img.astype(int) - np.array(colour)[None, None, :]) <= tol, axis=2)


def test_at_640x360_no_data_under_the_legends_and_the_y_range_is_the_datas(plan, qapp):
    r, img = _render(plan, (640, 360))
    try:
        view, ds = r.view, plan.dataset
        fit_vb, loss_vb = view.fit_item.vb, view.loss_item.vb
        rows = [row.legend.sceneBoundingRect() for row in view.legend_rows]
        assert len(rows) == 2 and all(row.height() > 5 for row in rows)
        # each legend's box ends above its panel's data area (and the fit's box above the loss legend)
        assert rows[0].bottom() <= fit_vb.sceneBoundingRect().top() + 0.5
        assert rows[1].bottom() <= loss_vb.sceneBoundingRect().top() + 0.5
        # the data's pixels are not under a legend: the highest training point is drawn below it, in grey
        i = int(np.argmax(ds.y_train))
        top = fit_vb.mapViewToScene(QtCore.QPointF(float(ds.x_train[i]), float(ds.y_train[i])))
        assert fit_vb.sceneBoundingRect().contains(top) and top.y() > rows[0].bottom()
        x, y = int(round(top.x())), int(round(top.y()))
        patch = img[y - 3:y + 4, x - 3:x + 4]
        assert (_near(patch, theme.TRAIN_POINTS, 60) | _near(patch, theme.BATCH, 60)).any()
        # the fit's y range holds the data and not much more (no room stretched for a legend)
        ys = np.concatenate([ds.y_train, ds.y_val])
        (_x0, _x1), (y0, y1) = fit_vb.viewRange()
        span = float(ys.max() - ys.min())
        assert y0 <= ys.min() and ys.max() <= y1
        assert y1 - ys.max() <= 0.1 * span  # (above the data: a sliver, not a legend's band)
        assert (y1 - y0) <= 1.45 * span  # (below: the elbow markers' strip)
        # the loss panel: whole decades around the curves, half a decade above
        lo, hi = view.loss._y_range
        (_a, _b), (ly0, ly1) = loss_vb.viewRange()
        assert ly1 <= hi + 0.5 + 0.05 * (hi + 0.5 - lo) + 1e-9
        # nothing past the frame: the panels, their axes, the legends and the right axis's label
        for item in (view.fit_item, view.loss_item, *view.legend_rows):
            assert _inside(item.sceneBoundingRect(), FRAME), item
        right = view.loss_item.getAxis("right")
        label = right.label.sceneBoundingRect()
        assert right.labelText in ("learning rate", "lr") and right.label.isVisible()
        assert _inside(label, FRAME)
        assert label.height() <= right.sceneBoundingRect().height() + 0.5  # (its text is not cut at the ends)
        for row in view.legend_rows:  # each entry's label whole inside the frame
            for _sample, text in row.legend.items:
                assert _inside(text.sceneBoundingRect(), FRAME), text.text
        assert any(t.text.startswith("ghost: lr=0.5") for _s, t in view.legend_rows[0].legend.items)
    finally:
        r.close()


def test_the_ghost_label_is_whole_at_800x450(plan, qapp):
    r, _img = _render(plan, (800, 450))
    try:
        labels = {t.text: t.sceneBoundingRect() for _s, t in r.view.fit.legend_row.legend.items}
        ghost = [rect for text, rect in labels.items() if text.startswith("ghost")]
        assert ghost and _inside(ghost[0], QtCore.QRectF(0, 0, 800, 450))
    finally:
        r.close()


def test_fonts_and_lines_scale_with_the_frame(plan, qapp):
    seen = {}
    for size in ((640, 360), (1280, 720), (1920, 1080)):
        r, img = _render(plan, size)
        try:
            v = r.view
            tick = v.fit_item.getAxis("bottom").style["tickFont"].pointSizeF()
            legend_text = float(v.legend_rows[0].legend.items[0][1].opts["size"].rstrip("pt"))
            pen = v.fit.prediction.opts["pen"].widthF()
            dark = _near(img, theme.PREDICTION, 40).sum() / (size[0] * size[1])  # the network's curve's share
            seen[size] = (tick, pen, legend_text, dark)
        finally:
            r.close()
    small, mid, big = (seen[s] for s in ((640, 360), (1280, 720), (1920, 1080)))
    assert small[0] < mid[0] < big[0]  # tick labels
    assert small[1] == pytest.approx(3.0 * 0.5 ** 0.7, rel=1e-6) and mid[1] == 3.0 and big[1] > mid[1]  # the f(x) pen
    assert small[2] < mid[2] == 10.0 < big[2]  # legend text (10 pt at 1280x720)
    assert small[3] > 0 and big[3] > 0  # (the curve is drawn at every size)


def test_no_legend_drops_the_rows_and_gives_the_room_to_the_data(plan, qapp):
    with_rows, _img = _render(plan, (640, 360))
    without, img = _render(plan, (640, 360), legends=False)
    try:
        assert all(not row.isVisible() for row in without.view.legend_rows)
        assert without.view.fit_item.vb.height() > with_rows.view.fit_item.vb.height() + 10
        assert without.view.fit.view_range == with_rows.view.fit.view_range  # (the data's range either way)
        caption_bottom = without.view.caption.sceneBoundingRect().bottom()
        assert without.view.fit_item.sceneBoundingRect().top() <= caption_bottom + 8
    finally:
        with_rows.close()
        without.close()


def test_a_full_batch_run_lists_no_minibatch_in_either_legend_or_the_caption(qapp):
    from reluviz.core.presets import load_preset

    cfg = load_preset("gd-oscillates").config.updated({"steps": 60})
    assert cfg.batch_size == 0
    full = plan_training(cfg, np.array([0, 60]))
    mini = plan_training(cfg.updated({"batch_size": 4}), np.array([0, 60]))
    for plan, has_batch in ((full, False), (mini, True)):
        r = FrameRenderer(plan.dataset, (640, 360), caption=True, final_step=60)
        try:
            snap = plan.frames[-1].snapshot
            caption = r.caption_for(snap, plan.frames[-1].train_loss)
            r.render(snap, plan.curves, plan.trace, caption=caption)
            fit_labels, loss_labels = (row.labels for row in r.view.legend_rows)
            assert ("minibatch" in fit_labels) == has_batch and ("minibatch" in loss_labels) == has_batch
            assert r.view.loss.batch.isVisible() == has_batch  # (at full batch it repeats the train loss)
            assert ("minibatch" in caption) == has_batch
            assert "train" in loss_labels
        finally:
            r.close()


def test_an_axis_that_widens_for_its_tick_labels_is_laid_out_before_the_frame_is_read(qapp):
    from reluviz.core.presets import load_preset

    cfg = load_preset("dance").config.updated({"steps": 3000})  # (one point a step: losses down to 1e-8)
    plan = plan_training(cfg, np.array([0, 3000]))
    r = FrameRenderer(plan.dataset, (1280, 720), final_step=3000)
    try:
        widths = []
        for f in plan.frames:
            img = r.render(f.snapshot, plan.curves, plan.trace)
            np.testing.assert_array_equal(img, r.grab())  # (the frame's pixels were final: not a layout late)
            axis = r.view.loss_item.getAxis("left")
            widths.append(axis.width())
            # the tick labels and the rotated title "MSE" side by side, as the axis needs them
            assert axis.width() >= axis.textWidth + axis.label.boundingRect().height() - 1
        assert widths[1] > widths[0]  # (the second frame's labels, e.g. 0.0001, are wider)
    finally:
        r.close()
