"""``reluviz export --view votes|elbows``: the app's canvases drawn offscreen. Frames are written
with ``frames.csv`` (folder and GIF), and at 640x360 the drawing fits the frame (nothing past the
right or bottom edge), legends sit outside the plots' view boxes, the tallest bar's pixels are
inside its view box and the y-range is set by the data (not stretched for a legend)."""

from __future__ import annotations

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core.presets import load_preset
from reluviz.export.pipeline import export_run, sidecar_path

from helpers import gif_frames, read_csv_rows, short_run

SMALL_SIZE = (640, 360)


# ---------------------------------------------------------------------- geometry helpers
def pixel_rect(canvas, item):
    """``item``'s bounding box in the canvas's pixels (x0, y0, x1, y1)."""
    r = canvas.mapFromScene(item.sceneBoundingRect()).boundingRect()
    return r.left(), r.top(), r.right(), r.bottom()


def to_pixel(canvas, vb, x, y):
    from PySide6 import QtCore

    p = canvas.mapFromScene(vb.mapViewToScene(QtCore.QPointF(float(x), float(y))))
    return p.x(), p.y()


def intersects(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def inside(inner, outer, tol=1) -> bool:
    return (inner[0] >= outer[0] - tol and inner[1] >= outer[1] - tol and inner[2] <= outer[2] + tol
            and inner[3] <= outer[3] + tol)


def assert_fits(canvas, items, size):
    w, h = size
    for item in items:
        x0, y0, x1, y1 = pixel_rect(canvas, item)
        assert x0 >= -1 and y0 >= -1 and x1 <= w + 1 and y1 <= h + 1, (type(item).__name__, (x0, y0, x1, y1))


def rendered(view, preset, steps, size=SMALL_SIZE, overrides=None):
    """(renderer, pixels, frame) of ``preset`` trained ``steps`` drawn by the export's renderer."""
    from reluviz.core.frame import frame_from_history
    from reluviz.export.view_render import ViewRenderer, frame_caption

    p = load_preset(preset)
    cfg = p.config.updated(overrides or {})
    tr, hist, snap = short_run(cfg, steps)
    r = ViewRenderer(view, size)
    frame = frame_from_history(snap, hist, tr.dataset, cfg, trail=r.trail_spec(cfg))
    pixels = r.render(frame, frame_caption(frame, size[0]))
    return r, pixels, frame


def bar_is_drawn(pixels, x, y_tip, y_zero):
    """The pixel just inside a bar's tip (toward its base) is not background."""
    col = int(round(x))
    row = int(round(y_tip + (2 if y_zero > y_tip else -2)))
    px = pixels[row, col].astype(int)
    return int(px.min()) < 200, px


# ---------------------------------------------------------------------- files
def test_cli_votes_folder_with_frames_csv(tmp_path, qapp):
    from PIL import Image

    out = tmp_path / "votes"
    assert main(["export", "--preset", "linear-model", "--view", "votes", "--frames", "3", "--size", "640x360",
                 "--quiet", "--out", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == ["frame_00000.png", "frame_00001.png", "frame_00002.png", "frames.csv"]
    rows = read_csv_rows(out / "frames.csv")
    assert [int(r["step"]) for r in rows][-1] == load_preset("linear-model").config.steps
    images = [np.asarray(Image.open(out / f"frame_{k:05d}.png").convert("RGB")) for k in range(3)]
    assert all(im.shape == (360, 640, 3) for im in images)
    assert not np.array_equal(images[0], images[-1])  # the votes change as theta moves


def test_export_run_elbows_gif(tmp_path, qapp):
    cfg = load_preset("notebook").config.updated({"width": 10, "n_train": 60, "batch_size": 10})
    final, count, _ = export_run(cfg, tmp_path / "elbows.gif", [0, 100, 200], size=(640, 360), view="elbows")
    frames = gif_frames(final)
    assert count == 3 == len(frames) and frames[0][0].shape == (360, 640, 3)
    assert not np.array_equal(frames[0][0], frames[-1][0])
    assert [int(r["step"]) for r in read_csv_rows(sidecar_path(final))] == [0, 100, 200]


# ---------------------------------------------------------------------- pixels at 640x360
def test_votes_at_640x360_fits_and_the_legend_covers_no_data(qapp):
    r, pixels, frame = rendered("votes", "linear-model", 400)
    c = r.canvas
    try:
        assert pixels.shape == (360, 640, 3)
        plots = [c.votes_item, c.errors_item, c.sums_item]
        assert_fits(c, [c.caption, c.legend, c.summary, *plots], SMALL_SIZE)
        legend = pixel_rect(c, c.legend)
        assert legend[3] - legend[1] > 5  # the legend is drawn (in its own row)
        for plot in plots:
            assert not intersects(legend, pixel_rect(c, plot.vb)), plot
            assert not intersects(pixel_rect(c, c.summary), pixel_rect(c, plot.vb))
            assert not intersects(pixel_rect(c, c.caption), pixel_rect(c, plot.vb))
        # the tallest vote's bar: its tip inside the view box and drawn there
        votes = c.last_votes.votes[:, 0]
        x = frame.dataset.x_train
        k = int(np.argmax(np.abs(votes)))
        vb = c.votes_item.vb
        px, tip = to_pixel(c, vb, x[k], votes[k])
        _, zero = to_pixel(c, vb, x[k], 0.0)
        assert inside((px, tip, px, tip), pixel_rect(c, vb))
        drawn, colour = bar_is_drawn(pixels, px, tip, zero)
        assert drawn, colour
        # the y-range is the data's (a steady margin), not stretched to make room for a legend
        lo, hi = vb.viewRange()[1]
        vmin, vmax = min(votes.min(), 0.0), max(votes.max(), 0.0)
        assert lo <= vmin and hi >= vmax and (hi - lo) <= 1.5 * (vmax - vmin)
        elo, ehi = c.errors_item.vb.viewRange()[1]
        err = c.errors
        assert elo <= min(err.min(), 0) and ehi >= max(err.max(), 0)
        assert (ehi - elo) <= 1.5 * (max(err.max(), 0) - min(err.min(), 0))
        # the sums' value labels are inside the frame and their plot
        for label in c.sums_plot.labels:
            assert inside(pixel_rect(c, label), (0, 0, 640, 360))
        # one x axis: a point sits at the same pixel column in both panels
        a, _ = to_pixel(c, c.votes_item.vb, x[k], 0.0)
        b, _ = to_pixel(c, c.errors_item.vb, x[k], 0.0)
        assert abs(a - b) <= 1
    finally:
        r.close()


def test_votes_fonts_scale_with_the_frame(qapp):
    sizes = {}
    for size in ((640, 360), (1920, 1080)):
        r, _pixels, _frame = rendered("votes", "linear-model", 50, size=size)
        try:
            axis = r.canvas.votes_item.getAxis("left")
            sizes[size] = (r.canvas.caption.item.boundingRect().height(), axis.label.font().pointSizeF()
                           if "font-size" not in axis.labelStyle else float(axis.labelStyle["font-size"][:-2]))
        finally:
            r.close()
    small, big = sizes[(640, 360)], sizes[(1920, 1080)]
    assert big[1] > 1.8 * small[1]  # axis label: 13pt x 1.33 against 13pt x 0.62
    assert big[0] > 1.5 * small[0]


def test_elbows_at_640x360_fits_and_the_legend_covers_no_bar(qapp):
    r, pixels, frame = rendered("elbows", "dead-relus", 300)
    c = r.canvas
    try:
        plots = [c.hist_item, c.trail_item]
        assert_fits(c, [c.caption, c.legend, *plots], SMALL_SIZE)
        legend = pixel_rect(c, c.legend)
        assert legend[3] - legend[1] > 5
        for plot in plots:
            assert not intersects(legend, pixel_rect(c, plot.vb))
            assert not intersects(pixel_rect(c, c.caption), pixel_rect(c, plot.vb))
        # the tallest stack of the histogram: its top inside the view box and drawn
        total = sum(c.bin_counts.values())
        k = int(np.argmax(total))
        edges = c.hist.edges
        centre = 0.5 * (edges[k] + edges[k + 1])
        vb = c.hist_item.vb
        px, top = to_pixel(c, vb, centre, total[k])
        _, zero = to_pixel(c, vb, centre, 0.0)
        assert inside((px, top, px, top), pixel_rect(c, vb))
        drawn, colour = bar_is_drawn(pixels, px, top, zero)
        assert drawn, colour
        # the y-range: the tallest stack (or the expected curve) plus a margin, not a legend's room
        lo, hi = vb.viewRange()[1]
        _x, expected = c.hist.expected.getData()
        need = max(float(total.max()), float(np.max(expected)))
        assert need <= hi <= 1.5 * need
        # legends list only what is drawn: every kind of unit named has units
        labels = c.legend.labels
        for kind, label in c.hist.KINDS:
            assert (label in labels) == (c.counts[kind] > 0), (label, c.counts)
        # where the kinks move: one line per unit over the recorded steps
        lines = sum(int(np.count_nonzero(np.isnan(item.getData()[1]))) if item.getData()[1] is not None else 0
                    for item in c.trail_plot.units.values())
        assert lines >= frame.snapshot.layout.width
    finally:
        r.close()


def test_no_legend_drops_the_rows_and_the_plots_take_the_room(qapp):
    from reluviz.core.frame import frame_from_history
    from reluviz.export.view_render import ViewRenderer

    cfg = load_preset("linear-model").config
    tr, hist, snap = short_run(cfg, 30)
    heights = {}
    for legends in (True, False):
        r = ViewRenderer("votes", SMALL_SIZE, legends=legends)
        try:
            r.render(frame_from_history(snap, hist, tr.dataset, cfg, trail=r.trail_spec(cfg)))
            heights[legends] = pixel_rect(r.canvas, r.canvas.votes_item.vb)
        finally:
            r.close()
    with_rect, without_rect = heights[True], heights[False]
    assert (without_rect[3] - without_rect[1]) > (with_rect[3] - with_rect[1]) + 5


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_votes_and_elbows_fit_at_larger_sizes(qapp, size):
    for view, preset in (("votes", "linear-model"), ("elbows", "notebook")):
        r, pixels, _frame = rendered(view, preset, 100, size=size, overrides={"steps": 100})
        try:
            c = r.canvas
            assert pixels.shape == (size[1], size[0], 3)
            plots = [c.votes_item, c.errors_item, c.sums_item] if view == "votes" else [c.hist_item, c.trail_item]
            assert_fits(c, [c.caption, c.legend, *plots], size)
            for plot in plots:
                assert not intersects(pixel_rect(c, c.legend), pixel_rect(c, plot.vb))
        finally:
            r.close()


# ---------------------------------------------------------------------- the app's canvas in a narrow tab
@pytest.mark.parametrize("view, preset, select, width", [("elbows", "dead-relus", 3, 620), ("votes", "dance", None, 850),
                                                         ("votes", "dance", None, 620)])
def test_a_narrow_canvas_keeps_everything_inside_its_width(qtbot, view, preset, select, width):
    """A canvas 620 or 850 pixels wide at scale 1 (the app's tab): no title, legend
    entry or caption reaches past its right edge (a long plot title used to set the minimum width
    of the whole layout, and the legend kept more columns than fit)."""
    from reluviz.core.frame import frame_from_history
    from reluviz.plots.canvases import canvas_class

    canvas = canvas_class(view)()
    qtbot.addWidget(canvas)
    canvas.resize(width, 480)
    canvas.show()
    cfg = load_preset(preset).config
    tr, hist, snap = short_run(cfg, 200)
    if select is not None:
        canvas.select_unit(select)
    canvas.show_frame(frame_from_history(snap, hist, tr.dataset, cfg, trail=canvas.trail_spec(cfg)))
    canvas.settle()
    assert canvas.ci.geometry().width() <= width + 1
    items = [canvas.caption, canvas.legend.legend]
    items += [canvas.hist_item, canvas.trail_item] if view == "elbows" else [canvas.votes_item, canvas.sums_item]
    for item in items:
        assert pixel_rect(canvas, item)[2] <= width + 1, type(item).__name__
