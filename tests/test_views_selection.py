"""The model-selection view: its worker thread trains the sweep with progress, the plot draws the
result and marks validation's choice, the status reports its test error once; cancelling, a sweep
that cannot run, a preset's choices, and saving the table and the picture."""

import numpy as np
import pytest
from PIL import Image

from reluviz.core import Trainer
from reluviz.core.presets import load_preset
from reluviz.core.selection import sweep_selection
from reluviz.gui.views import SelectionView
from reluviz.plots import theme

from helpers import read_csv_rows, show

VIEW_CLASS = SelectionView  # the ``view`` fixture (conftest.py) makes one

CONFIG = load_preset("overfitting").config.updated({"width": 16, "steps": 2000})


def give_state(view, config=CONFIG):
    tr = Trainer(config)
    show(view, tr.snapshot(), None, tr.dataset, config)


def run_to_end(view, qtbot, **kwargs):
    worker = view.run_sweep(**kwargs)
    assert worker is not None
    qtbot.waitUntil(lambda: view.result is not None, timeout=30_000)  # (see the cancel test)
    return view.result


def test_the_sweep_runs_in_the_background_and_marks_validations_choice(view, qtbot):
    give_state(view)
    progress = []
    view.configure({"param": "ridge", "from": 1e-5, "to": 1.0, "points": 6, "steps": 800, "seeds": 2})
    worker = view.run_sweep()
    worker.progress.connect(lambda d, t: progress.append((d, t)))
    qtbot.waitUntil(lambda: view.result is not None, timeout=30_000)  # (see the cancel test)
    res = view.result
    assert res.complete and res.param == "ridge" and len(res.values) == 6 and res.seeds == 2
    want = sweep_selection(CONFIG, "ridge", res.values, steps=800, seeds=2)  # the same sweep, in this thread
    np.testing.assert_allclose(res.val, want.val, rtol=1e-12)
    assert progress[-1] == (800, 800) and all(b >= a for (a, _), (b, _) in zip(progress, progress[1:]))
    x, y = view.plot.curves["val"].getData()  # log-log: both are log10
    np.testing.assert_allclose(10 ** np.asarray(x), res.values, rtol=1e-12)
    np.testing.assert_allclose(10 ** np.asarray(y), res.val, rtol=1e-12)
    sx, sy = view.plot.star.getData()
    assert 10 ** sx[0] == pytest.approx(res.best_value) and 10 ** sy[0] == pytest.approx(res.val[res.best])
    assert view.plot.choice.isVisible() and view.plot.choice.value() == pytest.approx(np.log10(res.best_value))
    assert not view.plot.curves["test"].isVisible()  # the test loss of every setting: only when asked
    text = view.status.text()
    assert "Validation picks ridge λ" in text and f"Its test MSE: {res.test_at_best:.4g}" in text
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled() and view.save_button.isEnabled()


def test_the_test_and_true_curves_show_on_request_and_the_legend_lists_what_is_drawn(view, qtbot):
    give_state(view)
    res = run_to_end(view, qtbot, param="width", values=[1, 4, 16], steps=300)
    legend = [label.text for _sample, label in view.plot.legend.items]
    assert legend == ["train", "validation", "validation's choice"]
    view.test_box.setChecked(True)
    x, y = view.plot.curves["test"].getData()
    assert view.plot.curves["test"].isVisible() and 10 ** np.asarray(y) == pytest.approx(res.test, rel=1e-12)
    assert [label.text for _s, label in view.plot.legend.items] == ["train", "validation", "test",
                                                                     "validation's choice"]


def test_the_sweep_can_be_cancelled(view, qtbot):
    give_state(view)
    assert view.run_sweep(param="width", values=[1, 2, 4, 8, 16, 32, 64, 128], steps=200_000) is not None
    # (waitUntil on the view, not qtbot.waitSignal on the worker's signals: a progress signal queued from
    # the worker thread after a first waitSignal ended reached the freed blocker, now and then a segfault)
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=10_000)
    view.cancel_button.click()
    qtbot.waitUntil(lambda: view.result is not None, timeout=20_000)
    assert not view.result.complete and len(view.result.values) < 8
    assert "Cancelled" in view.status.text() and view.run_button.isEnabled()


def test_a_sweep_that_cannot_run_says_so_in_one_line(view):
    give_state(view, CONFIG.updated({"model": "linear"}))
    assert view.run_sweep(param="width", values=[1, 2]) is None
    assert "Cannot run this sweep" in view.status.text() and "needs model=relu" in view.status.text()
    assert view.worker is None


def test_a_presets_choices_set_the_grid(qtbot, make_window):
    w = make_window(None, preset="ridge-selection")
    view = w.tabs.lecture_view()
    assert isinstance(view, SelectionView) and view.param() == "ridge"
    np.testing.assert_allclose(view.values(), np.logspace(-6, 0, 13), rtol=2e-3)
    assert (view.steps_spin.value(), view.seeds_spin.value()) == (30000, 3)


def test_saving_writes_the_table_and_the_picture(view, qtbot, tmp_path):
    give_state(view)
    res = run_to_end(view, qtbot, param="steps", values=[10, 100, 1000, 2000])
    rows = read_csv_rows(view.save(str(tmp_path / "sweep.csv")))
    assert [float(r["steps"]) for r in rows] == [10, 100, 1000, 2000]
    assert [int(r["chosen"]) for r in rows] == [int(k == res.best) for k in range(4)]
    assert float(rows[res.best]["test_loss"]) == pytest.approx(res.test_at_best, rel=1e-8)
    png = view.save(str(tmp_path / "sweep.png"))
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    purple = np.abs(rgb - np.array(theme.VAL_LOSS)).sum(axis=2) < 30
    assert purple.sum() > 200  # the validation curve is drawn
    assert view.save(str(tmp_path / "sweep.png")) is None and "already exists" in view.status.text()
    assert view.save(str(tmp_path / "sweep.txt")) is None and "not 'sweep.txt'" in view.status.text()
