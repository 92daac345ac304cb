"""`reluviz export --view NAME`: every lecture view as an animation, drawn by the view's own canvas."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from reluviz.cli import main
from reluviz.export.frames import EXPORT_VIEWS

SIZE = ["--size", "320x180"]


def _frames(path) -> list[np.ndarray]:
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("RGB")))
    return out


def test_an_unknown_view_is_one_line_and_writes_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["export", "--preset", "dance", "--view", "nope", "--out", str(tmp_path / "x.gif")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0] and "dance" in err[0]
    assert not list(tmp_path.iterdir())


def test_the_dance_view_exported_as_a_gif_with_its_frames_csv(tmp_path, qapp, capsys):
    out = tmp_path / "dance.gif"
    assert main(["export", "--preset", "dance", "--view", "dance", "--steps", "600", "--frames", "4", *SIZE,
                 "--out", str(out), "--quiet"]) == 0
    frames = _frames(out)
    assert len(frames) == 4 and frames[0].shape == (180, 320, 3)
    with open(str(out) + ".frames.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [0, 200, 400, 600]
    assert not np.array_equal(frames[0], frames[-1])  # the iterate moves
    fit = tmp_path / "fit.gif"
    assert main(["export", "--preset", "dance", "--steps", "600", "--frames", "4", *SIZE, "--out", str(fit),
                 "--quiet"]) == 0
    assert np.mean(np.any(_frames(fit)[-1] != frames[-1], axis=2)) > 0.05  # not the fit panels (most pixels: white)


def test_a_view_of_a_run_file_is_the_view_of_the_run_trained_again(tmp_path, qapp):
    run = tmp_path / "dance.npz"
    assert main(["train", "--preset", "dance", "--steps", "300", "--out", str(run), "--quiet"]) == 0
    assert main(["export", "--from", str(run), "--view", "dance", "--frames", "3", *SIZE,
                 "--out", str(tmp_path / "opened"), "--quiet"]) == 0
    assert main(["export", "--preset", "dance", "--view", "dance", "--steps", "300", "--frames", "3", *SIZE,
                 "--out", str(tmp_path / "trained"), "--quiet"]) == 0
    for k in range(3):
        a = np.asarray(Image.open(tmp_path / "opened" / f"frame_{k:05d}.png"))
        b = np.asarray(Image.open(tmp_path / "trained" / f"frame_{k:05d}.png"))
        np.testing.assert_array_equal(a, b)


def test_no_legend_leaves_the_legends_out(tmp_path, qapp):
    args = ["export", "--preset", "dance", "--view", "dance", "--steps", "100", "--frames", "1", "--size", "640x360"]
    assert main([*args, "--out", str(tmp_path / "with"), "--quiet"]) == 0
    assert main([*args, "--no-legend", "--out", str(tmp_path / "without"), "--quiet"]) == 0
    a = np.asarray(Image.open(tmp_path / "with" / "frame_00000.png"))
    b = np.asarray(Image.open(tmp_path / "without" / "frame_00000.png"))
    assert a.shape == b.shape and not np.array_equal(a, b)


def test_every_view_named_by_export_has_a_canvas():
    from reluviz.plots.canvases import CANVASES, canvas_class

    assert EXPORT_VIEWS[0] == "fit" and set(EXPORT_VIEWS[1:]) == set(CANVASES)
    for name in CANVASES:
        assert hasattr(canvas_class(name), "show_frame")


def test_drawing_every_view_warns_nothing(tmp_path, qapp, qtlog):
    """Relaying a legend out removed items its grid did not hold: Qt printed "removeAt: invalid
    index -1" on stderr for every legend rebuild (in the app's terminal too)."""
    for view in EXPORT_VIEWS:
        assert main(["export", "--preset", "dance" if view in ("fit", "dance", "votes") else "notebook",
                     "--view", view, "--steps", "60", "--frames", "2", *SIZE, "--out", str(tmp_path / view),
                     "--quiet"]) == 0
    assert not [r.message for r in qtlog.records if "removeAt" in r.message]
