"""The seed-band view as an animation (``reluviz export --view bands``, ``BandsCanvas``): the bands are
computed headless for the run's settings, frames reveal them up to their step, and at 640x360 the
legend is a row above the plots (no band pixel under it), the canvas fits the frame and the y range
holds the bands."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from reluviz.cli import main
from reluviz.core.bands import run_seeds
from reluviz.core.compare import ghost_config
from reluviz.core.presets import load_preset
from reluviz.export.pipeline import sidecar_path
from reluviz.export.plan import plan_training
from reluviz.export.view_render import ViewRenderer, frame_caption
from reluviz.plots.lecture_common import OPTIMIZER_COLORS

from helpers import gif_frames, read_csv_rows

SIZE = (640, 360)


def _config(steps=400):
    return load_preset("notebook").config.updated({"width": 10, "steps": steps})


def _near(img: np.ndarray, colour, tol: int = 40) -> np.ndarray:
    """(H, W) mask of pixels within ``tol`` of ``colour`` in every channel."""
    return np.all(np.abs(img.astype(int) - np.array(colour)[None, None, :]) <= tol, axis=2)


def _rect(item):
    r = item.sceneBoundingRect()
    return int(np.floor(r.left())), int(np.floor(r.top())), int(np.ceil(r.right())), int(np.ceil(r.bottom()))


@pytest.fixture
def rendered(qapp):
    cfg = _config(400)
    plan = plan_training(cfg, [0, 200, 400])
    renderer = ViewRenderer("bands", SIZE)
    renderer.canvas.seeds = 6
    spec = renderer.trail_spec(cfg)
    seen = []
    note = renderer.prepare(plan.frame_at(plan.frames[-1], spec), progress=lambda d, t: seen.append((d, t)))
    images = []
    for state in plan.frames:
        frame = plan.frame_at(state, spec)
        images.append(renderer.render(frame, frame_caption(frame, SIZE[0])))
    yield renderer, images, note, seen
    renderer.close()


def test_prepare_computes_the_bands_the_app_computes_with_progress(rendered):
    renderer, _images, note, seen = rendered
    res = renderer.canvas.result
    assert res.complete and list(res.runs) == ["sgd", "momentum", "adam"]
    assert seen[-1] == (1200, 1200) and all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))
    assert "6 seeds × 400 steps" in note
    direct = run_seeds(_config(400).updated({"optimizer": "adam"}), 6, steps=400, every=1)
    np.testing.assert_allclose(res.runs["adam"].val[-1], direct.val[-1], rtol=1e-9)  # same seeds, same runs


def test_frames_reveal_the_bands_up_to_their_step(rendered):
    renderer, images, _note, _seen = rendered
    canvas = renderer.canvas
    x, _y = canvas.val_plot.median_item("sgd").getData()
    assert x[-1] == 400  # (the last frame: everything)
    assert canvas.legend.labels == ["sgd", "momentum", "adam"]
    (x0, x1), _ = canvas.val_plot.plot.vb.viewRange()
    assert x0 <= 0 and 400 <= x1 < 440  # the step axis holds still at the bands' end
    # the middle frame: adam's median (red) drawn only left of the cursor at step 200
    vb = canvas.train_plot.plot.vb
    left, top, right, bottom = _rect(vb)
    cursor_x = vb.mapViewToScene(pg.Point(200, 0)).x()
    assert left < cursor_x < right
    red = _near(images[1][top:bottom, left:right], OPTIMIZER_COLORS["adam"], tol=30)
    cols = np.nonzero(red.any(axis=0))[0] + left
    assert len(cols) and cols.max() <= cursor_x + 3
    red_last = _near(images[2][top:bottom, left:right], OPTIMIZER_COLORS["adam"], tol=30)
    assert (np.nonzero(red_last.any(axis=0))[0] + left).max() > cursor_x + 40  # revealed further on


def test_at_640x360_the_legend_is_a_row_above_the_bands_and_the_canvas_fits(rendered):
    renderer, images, _note, _seen = rendered
    canvas, img = renderer.canvas, images[-1]
    legend = _rect(canvas.legend.legend)
    for plot in canvas.plots:
        vb = _rect(plot.plot.vb)
        assert legend[3] <= vb[1]  # the legend's box ends above the data area
        # the sgd median's last point (the end of the sgd curve) is drawn, in the data area
        x, y = plot.median_item("sgd").getData()
        end = plot.plot.vb.mapViewToScene(pg.Point(float(x[-1]), float(y[-1])))
        ex, ey = int(round(end.x())), int(round(end.y()))
        assert vb[0] <= ex <= vb[2] and vb[1] <= ey <= vb[3]
        patch = img[max(ey - 3, 0):ey + 4, max(ex - 4, 0):ex + 1]
        assert _near(patch, OPTIMIZER_COLORS["sgd"], tol=40).any()
        # the y range holds every band and not more than half a decade besides
        _, (y0, y1) = plot.plot.vb.viewRange()
        lo = min(np.nanmin(item.getData()[1]) for key in plot.shown for item in plot.items[key][:2] + (plot.items[key][3],))
        hi = max(np.nanmax(item.getData()[1]) for key in plot.shown for item in plot.items[key][:2] + (plot.items[key][3],))
        assert y0 <= lo and hi <= y1 and (y1 - y0) - (hi - lo) <= 0.5
        # nothing past the frame: plot, axes and title inside 640 x 360
        for item in (plot.plot, plot.plot.titleLabel, plot.plot.getAxis("left"), plot.plot.getAxis("bottom")):
            r = item.sceneBoundingRect()
            assert r.left() >= 0 and r.right() <= SIZE[0] + 0.5 and r.bottom() <= SIZE[1] + 0.5
    # the legend's text is scaled down (not the 12 pt of the app) and its pixels are in the frame
    sgd_rows = np.nonzero(_near(img[: legend[3] + 1], OPTIMIZER_COLORS["sgd"], tol=25).any(axis=1))[0]
    assert len(sgd_rows)  # the legend's sgd sample is drawn in its row
    # the caption and the legend row do not overlap
    assert _rect(canvas.caption)[3] <= legend[1] + 1


def test_cli_writes_a_bands_gif_with_frames_csv(tmp_path, capsys):
    out = tmp_path / "bands.gif"
    assert main(["export", "--preset", "notebook", "--set", "width=10", "--view", "bands", "--steps", "300",
                 "--frames", "3", "--size", "640x360", "--out", str(out), "--quiet"]) == 0
    frames = gif_frames(out)
    assert len(frames) == 3 and frames[0][0].shape == (360, 640, 3)
    rows = read_csv_rows(sidecar_path(out))
    assert [int(r["step"]) for r in rows] == [0, 150, 300]
    last = frames[-1][0]
    for opt in ("sgd", "momentum", "adam"):  # each optimizer's band is in the last frame
        assert _near(last, OPTIMIZER_COLORS[opt], tol=30).sum() > 200
    said = capsys.readouterr()
    assert "seed bands: 30 seeds × 300 steps" in said.out + said.err


def test_a_ghost_gets_its_own_band_labelled_by_its_settings(qapp):
    pre = load_preset("dance")
    cfg = pre.config.updated({"steps": 200})
    plan = plan_training(cfg, [0, 200], compare=dict(pre.compare))
    renderer = ViewRenderer("bands", SIZE)
    try:
        renderer.canvas.seeds = 4
        spec = renderer.trail_spec(cfg)
        renderer.prepare(plan.frame_at(plan.frames[-1], spec))
        frame = plan.frame_at(plan.frames[-1], spec)
        renderer.render(frame)
        labels = renderer.canvas.legend.labels
        assert labels[:3] == ["sgd", "momentum", "adam"] and labels[3].startswith("ghost: schedule=inverse")
        ghost = run_seeds(ghost_config(cfg, dict(pre.compare)), 4, steps=200, every=1)
        _x, y = renderer.canvas.val_plot.median_item("ghost").getData()
        np.testing.assert_allclose(10 ** y[-1], np.median(ghost.val[-1]), rtol=1e-9)
    finally:
        renderer.close()
