"""Export, which steps become frames (``reluviz.export.frames``) and what each frame carries
(``reluviz.export.plan``): exact frame counts, every K-th step, log spacing, nearest recorded steps
of a thinned history, GIF timing, dense loss curves, early stops. None of it needs Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reluviz.core import History, Trainer
from reluviz.core.presets import load_preset
from reluviz.export.frames import (LOSS_POINTS, ExportError, gif_delays_cs, loss_steps, parse_panels, parse_size,
                                   select_steps, snap_to_recorded)
from reluviz.export.plan import plan_history, plan_training

from helpers import SMALL_NOTEBOOK as SMALL

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- choosing frames
def test_every_k_includes_first_and_last():
    assert list(select_steps(10, every=4)) == [0, 4, 8, 10]
    assert list(select_steps(8, every=4)) == [0, 4, 8]


def test_linear_and_log_spacing():
    lin = select_steps(1000, frames=11, spacing="linear")
    assert list(lin) == list(range(0, 1001, 100))
    log = select_steps(30000, frames=50, spacing="log")
    assert log[0] == 0 and log[-1] == 30000 and np.all(np.diff(log) > 0)
    # log spacing puts as many frames in the first 1% of steps as ... many more than linear does
    assert np.sum(log < 300) > 10 * np.sum(select_steps(30000, frames=50) < 300)


@settings(max_examples=300, deadline=None)
@given(first=st.integers(0, 50), span=st.integers(0, 5000), count=st.integers(1, 300),
       spacing=st.sampled_from(["linear", "log"]))
def test_frames_f_are_exactly_f_unique_steps_ending_at_the_last(first, span, count, spacing):
    steps = select_steps(first + span, frames=count, spacing=spacing, first_step=first)
    assert len(steps) == min(count, span + 1)
    assert steps[-1] == first + span and np.all(np.diff(steps) > 0)
    if count > 1:
        assert steps[0] == first


@settings(max_examples=200, deadline=None)
@given(span=st.integers(0, 5000), every=st.integers(1, 700))
def test_every_k_is_multiples_of_k_and_the_last(span, every):
    steps = select_steps(span, every=every)
    assert list(steps[:-1]) == list(range(0, span, every))[: len(steps) - 1]
    assert steps[0] == 0 and steps[-1] == span and np.all(np.diff(steps) > 0)


def test_log_spacing_is_geometric_past_the_crowded_start():
    steps = select_steps(30000, frames=60, spacing="log")
    assert len(steps) == 60 and list(steps[:9]) == list(range(9))  # consecutive where rounding would collide
    ratios = (steps[20:] + 1) / (steps[19:-1] + 1)
    assert ratios.max() / ratios.min() < 1.05  # then evenly spaced in log(1 + step)


def test_log_needs_frames_not_every():
    with pytest.raises(ExportError, match="--spacing log"):
        select_steps(100, every=10, spacing="log")


@pytest.mark.parametrize("call,needle", [
    (lambda: parse_size("1280"), "look like"),
    (lambda: parse_size("10x10"), "between 64"),
    (lambda: parse_panels("main,foo"), "unknown panel"),
    (lambda: parse_panels(""), "at least one"),
    (lambda: select_steps(10, frames=0), "at least 1"),
    (lambda: select_steps(10, every=0), "at least 1"),
])
def test_bad_options_are_clear_errors(call, needle):
    with pytest.raises(ExportError, match=needle):
        call()


def test_odd_sizes_are_made_even_for_video():
    assert parse_size("641x361") == (640, 360)


def test_snap_to_recorded_uses_nearest_recorded_steps_once():
    recorded = np.r_[np.arange(0, 1000, 64), np.arange(1000, 1101)]
    wanted = select_steps(1100, frames=40)
    got = snap_to_recorded(wanted, recorded)
    assert np.all(np.isin(got, recorded)) and np.all(np.diff(got) > 0)
    assert got[0] == 0 and got[-1] == 1100 and len(got) < len(wanted)  # thinned: fewer frames, no repeats
    assert list(snap_to_recorded([5, 70, 100], [0, 64, 128])) == [0, 64, 128]


def test_gif_delays_do_not_drift():
    for fps in (7, 12, 20, 24, 30, 50):
        delays = gif_delays_cs(300, fps)
        assert abs(sum(delays) - 100 * 300 / fps) <= 0.5 and min(delays) >= 1


def test_loss_steps_grid_holds_every_frame_step():
    frames = np.array([0, 1, 2, 3, 17, 29999, 30000])
    grid = loss_steps(0, 30000, frames)
    assert set(frames) <= set(grid) and LOSS_POINTS <= len(grid) <= LOSS_POINTS + len(frames)


# ---------------------------------------------------------------------------- plans
def test_loss_curves_are_dense_whatever_the_frames():
    plan = plan_training(SMALL, np.array([0, 300]))
    assert [f.step for f in plan.frames] == [0, 300]
    assert len(plan.trace) == 301  # every step of this short run (not just the two frames)
    tr = Trainer(SMALL)
    tr.run(123)
    snap = tr.snapshot()
    i = int(np.searchsorted(plan.trace.steps, 123))
    assert plan.trace.train[i] == pytest.approx(snap.loss(tr.dataset.x_train, tr.dataset.y_train)[0], rel=1e-12)


def test_an_early_stop_chooses_the_frames_again_over_the_steps_that_exist():
    config = load_preset("diverge").config.updated({"width": 8, "lr": 1.5})
    plan = plan_training(config, lambda last: select_steps(last, frames=6), steps=2000)
    stop = plan.last_step
    assert 6 <= stop < 2000 and plan.stop_reason and "stopped" in plan.note  # (linear over 0..2000: 1 frame)
    assert [f.step for f in plan.frames] == list(select_steps(stop, frames=6))
    assert all(np.isfinite(f.train_loss) for f in plan.frames)


def test_plan_from_a_thinned_history_shows_recorded_steps_once():
    tr = Trainer(SMALL)
    h = History.for_trainer(tr, budget_bytes=64 * 1024)  # a small budget: old steps get thinned
    tr.run(3000, record=h)
    h.record_snapshot(tr.snapshot())
    assert h.stride > 1
    plan = plan_history(h, tr.dataset, select_steps(3000, every=3))
    steps = plan.steps
    assert np.all(np.diff(steps) > 0) and np.all(np.isin(steps, h.steps))
    assert "thinned" in plan.note and len(steps) < 1001
    assert plan.frames[-1].step == 3000
    for f in plan.frames[::50]:
        assert f.snapshot.step == f.step and np.array_equal(f.snapshot.params, h.at(f.step).params)


def test_frame_choice_and_plans_need_no_qt():
    code = ("import sys, reluviz.export.frames, reluviz.export.plan; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
