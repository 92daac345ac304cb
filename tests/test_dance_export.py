"""``reluviz export --view dance``: the Dance tab's canvas drawn offscreen, frame by frame, with the
side-by-side dance computed headless first (``DanceCanvas.prepare_export``) and revealed up to each
frame's step; slide-ready at 640x360 (the layout fits the frame, legends in rows of their own never
over a plot, the iterates inside their plot)."""

from __future__ import annotations

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core.presets import load_preset
from reluviz.export.plan import plan_training
from reluviz.plots.dance_canvas import TRAIL
from reluviz.plots.lecture_common import GHOST_RUN, MAIN_RUN

from helpers import read_csv_rows

SMALL = (640, 360)


def colour_mask(img: np.ndarray, colour, tol: int = 12) -> np.ndarray:
    """(H, W) bool: pixels within ``tol`` of ``colour`` in every channel."""
    return np.all(np.abs(img.astype(int) - np.asarray(colour[:3])) <= tol, axis=2)


def scene_rect(item):
    r = item.sceneBoundingRect()
    return r.left(), r.top(), r.right(), r.bottom()


def render_preset(name: str, steps: int, frames: int, size=SMALL, compare=True, legends=True):
    """Frames of the preset's run through the export's renderer: (renderer, images, plan, note)."""
    from reluviz.export.view_render import ViewRenderer, frame_caption

    p = load_preset(name)
    cfg = p.config.updated({"steps": steps})
    plan = plan_training(cfg, np.linspace(0, steps, frames).astype(int), compare=p.compare if compare else None)
    r = ViewRenderer("dance", size, legends=legends)
    note = r.prepare(plan.frame_at(plan.frames[-1], r.trail_spec(cfg)))
    images = []
    for st in plan.frames:
        frame = plan.frame_at(st, TRAIL)
        images.append(r.render(frame, frame_caption(frame, size[0])))
    return r, images, plan, note


def test_cli_writes_a_dance_gif_with_the_side_by_side_dance_revealed(tmp_path, qapp):
    from PIL import Image

    out = tmp_path / "dance.gif"
    assert main(["export", "--preset", "dance", "--view", "dance", "--set", "steps=1500", "--frames", "4",
                 "--size", "640x360", "--out", str(out), "--quiet"]) == 0
    rows = read_csv_rows(tmp_path / "dance.gif.frames.csv")
    assert [int(r["step"]) for r in rows] == [0, 500, 1000, 1500]
    assert all(float(r["lr"]) == pytest.approx(0.03) for r in rows)
    gif = Image.open(out)
    assert gif.n_frames == 4 and gif.size == SMALL
    gif.seek(3)
    last = np.asarray(gif.convert("RGB"))
    gif.seek(0)
    first = np.asarray(gif.convert("RGB"))
    bottom = slice(int(0.7 * SMALL[1]), SMALL[1])
    # the dance's curves appear in the bottom row as the frames go on (red: the run as set; blue: the ghost)
    red_late = colour_mask(last[bottom], MAIN_RUN, 40).sum()
    red_early = colour_mask(first[bottom], MAIN_RUN, 40).sum()
    assert red_late > 200 and red_late > 3 * red_early, (red_late, red_early)
    assert colour_mask(last[bottom], GHOST_RUN, 40).sum() > 200


def test_gd_oscillates_exports_as_png_frames(tmp_path, qapp):
    from PIL import Image

    out = tmp_path / "gd"
    assert main(["export", "--preset", "gd-oscillates", "--view", "dance", "--frames", "3", "--size", "640x360",
                 "--out", str(out), "--quiet"]) == 0
    rows = read_csv_rows(out / "frames.csv")
    assert [int(r["step"]) for r in rows] == [0, 500, 1000]
    img = np.asarray(Image.open(out / "frame_00002.png").convert("RGB"))
    assert img.shape == (360, 640, 3)
    assert colour_mask(img, MAIN_RUN, 30).sum() > 100  # GD's iterates and its dance curve


def test_dance_canvas_fits_a_640x360_frame(qapp):
    r, images, plan, note = render_preset("dance", 1200, 3)
    try:
        c = r.canvas
        assert note == "" and c.export_dance is not None and c.export_dance.complete
        img = images[-1]
        bg = np.asarray(c.backgroundBrush().color().getRgb()[:3])
        # nothing beyond the layout: the rightmost columns are background, every row's item inside the frame
        assert np.all(img[:, -4:] == bg), "something is painted at the right edge (the canvas is wider than the frame)"
        layout = c.grid.layout
        for i in range(layout.count()):
            x0, y0, x1, y1 = scene_rect(layout.itemAt(i).graphicsItem())
            assert -0.5 <= x0 and x1 <= SMALL[0] + 0.5 and -0.5 <= y0 and y1 <= SMALL[1] + 0.5, (i, x0, y0, x1, y1)
        # legend rows never over a plot's view box (nor over the caption)
        boxes = [c.contour_item.vb, c.dist_item.vb, c.dance_distance.plot.vb, c.dance_excess.plot.vb]
        for row in c.legend_rows:
            assert row.isVisible() and row.labels
            lx0, ly0, lx1, ly1 = scene_rect(row.legend)
            for vb in boxes:
                vx0, vy0, vx1, vy1 = scene_rect(vb)
                assert lx1 <= vx0 or vx1 <= lx0 or ly1 <= vy0 or vy1 <= ly0, (row.labels, (lx0, ly0, lx1, ly1),
                                                                            (vx0, vy0, vx1, vy1))
            assert ly0 >= scene_rect(c.caption)[3] - 0.5
        # the run's current iterate (red) is drawn inside the contour's view box, and nowhere in the top half
        # outside the plots (no marker escapes onto the caption or the legends' room)
        vx0, vy0, vx1, vy1 = (int(round(v)) for v in scene_rect(c.contour_item.vb))
        cur = c.contour_plot.main.current.data
        px, py = c.contour_item.vb.mapViewToScene(pg_point(cur["x"][0], cur["y"][0])).toTuple()
        assert vx0 <= px <= vx1 and vy0 <= py <= vy1
        red = colour_mask(img, MAIN_RUN, 10)
        inside = red[vy0:vy1, vx0:vx1].sum()
        assert inside > 20
        top = red[: vy1 + 1].copy()
        top[vy0:vy1 + 1, vx0:vx1 + 1] = False
        legend_px = sum(int(red[int(t):int(b) + 1, int(le):int(ri) + 1].sum())
                        for le, t, ri, b in (scene_rect(row.legend) for row in c.legend_rows))
        assert top.sum() - legend_px <= 2, (top.sum(), legend_px)
    finally:
        r.close()


def pg_point(x, y):
    from pyqtgraph.Qt import QtCore

    return QtCore.QPointF(float(x), float(y))


def test_without_a_ghost_the_export_draws_the_top_panels_taller(qapp):
    r, images, plan, note = render_preset("dance", 600, 2, compare=False)
    try:
        c = r.canvas
        assert "no ghost" in note and c.export_dance is None
        assert c.dance_legend not in c.legend_rows and not c.dance_distance.plot.isVisible()
        _, y0, _, y1 = scene_rect(c.contour_item.vb)
        assert y1 - y0 > 0.55 * SMALL[1]  # the bottom row's room went to the landscape
        assert colour_mask(images[-1], MAIN_RUN, 10)[int(y0):int(y1)].sum() > 20
    finally:
        r.close()


def test_fonts_scale_with_the_frame(qapp):
    """The same frame at 640x360 and 1920x1080: axis labels (styled in html) and legend labels scale."""
    sizes = {}
    for size in (SMALL, (1920, 1080)):
        r, images, plan, note = render_preset("dance", 300, 2, size=size)
        try:
            c = r.canvas
            sizes[size] = (float(c.contour_item.getAxis("bottom").labelStyle["font-size"].rstrip("pt")),
                           float(c.land_legend.legend.opts["labelTextSize"].rstrip("pt")),
                           c.contour_item.getAxis("bottom").label.boundingRect().height())
        finally:
            r.close()
    small, big = sizes[SMALL], sizes[(1920, 1080)]
    assert big[0] / small[0] == pytest.approx(1.33 / 0.62, rel=0.05)
    assert big[1] > 1.8 * small[1] and big[2] > 1.5 * small[2]


def test_axes_are_wide_enough_for_their_tick_labels_in_every_frame(qapp):
    """pyqtgraph widens an axis for longer tick labels only while painting it; an export paints
    each frame once, so the canvas measures them first (at 1920x1080 the distance plot's
    0.01 / 0.001 labels were missing from the frame where the range first reached them)."""
    import pyqtgraph as pg

    from reluviz.export.view_render import ViewRenderer

    p = load_preset("dance")
    plan = plan_training(p.config, np.linspace(0, p.config.steps, 5).astype(int), compare=p.compare)
    r = ViewRenderer("dance", (1920, 1080))
    try:
        r.prepare(plan.frame_at(plan.frames[-1], TRAIL))
        for st in plan.frames:
            r.render(plan.frame_at(st, TRAIL))
            for ax in r.canvas.scene().items():
                if isinstance(ax, pg.AxisItem) and ax.isVisible() and ax.orientation == "left":
                    need = ax.textWidth + ax.style["tickTextOffset"][0] + ax.style["tickLength"]
                    assert ax.width() >= need - 0.5, (st.step, ax.labelText, ax.width(), need)
    finally:
        r.close()
