"""The ghost run in exports: ``plan_training(compare=...)`` and ``reluviz export --compare/--no-ghost``.

The ghost is the app's: the same data, init and batch order with some settings changed, trained
step for step beside the main run; each frame shows its state at the frame's step.
"""

from __future__ import annotations

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core import TrainConfig, Trainer
from reluviz.export.plan import plan_training

from helpers import SMALL_NOTEBOOK as SMALL


def _ghost_state_at(config: TrainConfig, compare: dict, step: int) -> np.ndarray:
    main_run = Trainer(config)
    ghost = Trainer(config.updated(compare), dataset=main_run.dataset)
    ghost.run(step)
    return ghost.snapshot().params


def test_each_frame_carries_the_ghost_at_its_step():
    compare = {"optimizer": "adam", "lr": 0.01}
    plan = plan_training(SMALL, np.array([0, 7, 150, 300]), compare=compare)
    assert [f.step for f in plan.frames] == [0, 7, 150, 300]
    for f in plan.frames:
        assert f.ghost is not None and f.ghost.step == f.step
        np.testing.assert_array_equal(f.ghost.params, _ghost_state_at(SMALL, compare, f.step))
    # the ghost starts where the main run does, then goes its own way
    np.testing.assert_array_equal(plan.frames[0].ghost.params, plan.frames[0].snapshot.params)
    assert not np.allclose(plan.frames[-1].ghost.params, plan.frames[-1].snapshot.params)
    assert plan_training(SMALL, np.array([0, 300])).frames[-1].ghost is None


def test_a_ghost_that_blows_up_stays_at_its_last_finite_state():
    plan = plan_training(SMALL, np.array([0, 100, 300]), compare={"lr": 1e6})
    assert all(f.step == s for f, s in zip(plan.frames, [0, 100, 300]))  # the main run goes on
    last = plan.frames[-1].ghost
    assert last.step < 100 and np.all(np.isfinite(last.params))
    assert plan.frames[1].ghost.step == last.step


def test_the_ghost_is_drawn_as_a_grey_dashed_curve_with_its_legend_entry(qapp):
    from reluviz.export.render import FrameRenderer

    compare = {"lr": 0.5}
    plan = plan_training(SMALL, np.array([0, 300]), compare=compare)
    frame = plan.frames[-1]
    r = FrameRenderer(plan.dataset, (640, 400), panels=("main",), caption=False, compare=plan.compare)
    try:
        assert "ghost: lr=0.5" in r.view.fit.legend_row.labels  # (the export's legend: a row above the plot)
        with_ghost = r.render(frame.snapshot, ghost=frame.ghost).astype(int)
        without = r.render(frame.snapshot).astype(int)
    finally:
        r.close()
    changed = np.abs(with_ghost - without).sum(axis=2) > 30
    assert np.count_nonzero(changed) > 100
    px = with_ghost[changed]
    grey = (np.ptp(px, axis=1) < 16) & (px.max(axis=1) < 235)  # the ghost's own grey over white
    assert grey.mean() > 0.6, grey.mean()


def test_cli_draws_the_presets_ghost_unless_told_not_to(tmp_path, qapp):
    from PIL import Image

    common = ["export", "--preset", "dance", "--set", "steps=400", "--every", "400", "--size", "640x360",
              "--panels", "main", "--no-caption", "--quiet"]
    outs = {name: tmp_path / name for name in ("ghost", "plain", "adam")}
    assert main([*common, "--out", str(outs["ghost"])]) == 0
    assert main([*common, "--no-ghost", "--out", str(outs["plain"])]) == 0
    assert main([*common, "--compare", "optimizer=adam", "--out", str(outs["adam"])]) == 0
    last = {k: np.asarray(Image.open(d / "frame_00001.png").convert("RGB")) for k, d in outs.items()}
    first = {k: np.asarray(Image.open(d / "frame_00000.png").convert("RGB")) for k, d in outs.items()}
    assert not np.array_equal(last["ghost"], last["plain"])
    assert not np.array_equal(last["adam"], last["ghost"])  # --compare adds to the preset's ghost
    # at step 0 the ghost lies under the network's curve: only the legend entries differ
    assert not np.array_equal(first["adam"], first["ghost"])


@pytest.mark.parametrize("extra,needle", [
    (["--compare", "lr"], "--compare expects KEY=VALUE"),
    (["--compare", "colour=red"], "unknown setting 'colour'"),
    (["--compare", "optimizer=lbfgs"], "optimizer"),
    (["--compare", "width=5"], "cannot change width"),
    (["--compare", "lr=1", "--no-ghost"], "not allowed with"),
])
def test_bad_ghost_settings_are_one_line_errors_before_any_work(tmp_path, capsys, monkeypatch, extra, needle):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["export", "--steps", "10", "--quiet", "--out", "x.gif", *extra])
    except SystemExit as exc:  # (argparse's own usage errors)
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("reluviz: error:") and needle in err[0], err
    assert list(tmp_path.iterdir()) == []
