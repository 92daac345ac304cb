"""The seed-band view: the worker thread reports progress, delivers bands, and can be cancelled."""

import numpy as np

from reluviz.core import Trainer
from reluviz.core.bands import band
from reluviz.core.presets import load_preset
from reluviz.gui.views import BandsView

from reluviz.export.render import grab_widget
from reluviz.plots.lecture_common import OPTIMIZER_COLORS

from helpers import show

VIEW_CLASS = BandsView  # the ``view`` fixture (conftest.py) makes one


def give_state(view, config):
    tr = Trainer(config)
    show(view, tr.snapshot(), None, tr.dataset, config)


def test_bands_worker_delivers_bands_with_progress(view, qtbot):
    cfg = load_preset("notebook").config.updated({"width": 10})
    give_state(view, cfg)
    progress = []
    worker = view.run_bands(seeds=5, steps=600, optimizers=["sgd", "adam"])
    worker.progress.connect(lambda d, t: progress.append((d, t)))
    with qtbot.waitSignal(worker.finished_ok, timeout=20000):
        pass
    qtbot.waitUntil(lambda: view.result is not None, timeout=2000)
    res = view.result
    assert res.complete and set(res.runs) == {"sgd", "adam"}
    assert progress and progress[-1] == (1200, 1200)
    assert all(b >= a for (a, _), (b, _) in zip(progress, progress[1:]))
    for opt in ("sgd", "adam"):
        runs = res.runs[opt]
        assert runs.train.shape[1] == 5
        b = band(runs.val, runs.steps)  # optimizers are compared on the validation loss
        med = view.val_plot.items[opt][3]
        x, y = med.getData()  # log mode: y is log10
        np.testing.assert_array_equal(x, b.steps)
        np.testing.assert_allclose(10 ** np.asarray(y), b.median, rtol=1e-9)
        assert view.train_plot.items[opt][2].isVisible()  # the filled band
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()
    assert "5 seeds" in view.status.text()
    # drawn in the canvas (the exporter's too), the legend in its row above the plots, not over them
    assert view.canvas.legend.labels == ["sgd", "adam"]
    assert view.canvas.legend.sceneBoundingRect().bottom() <= view.train_plot.plot.vb.sceneBoundingRect().top()
    img = grab_widget(view.canvas, (view.canvas.width(), view.canvas.height()))
    left, top, right, bottom = (int(v) for v in view.train_plot.plot.vb.sceneBoundingRect().getCoords())
    for opt in ("sgd", "adam"):
        colour = np.array(OPTIMIZER_COLORS[opt])
        near = np.all(np.abs(img[top:bottom, left:right].astype(int) - colour) <= 30, axis=2)
        assert near.sum() > 50, opt  # the median line is in the plot's data area


def test_a_ghost_gets_a_band_of_its_own_in_the_app(view, qtbot):
    cfg = load_preset("notebook").config.updated({"width": 10})
    tr = Trainer(cfg)
    show(view, tr.snapshot(), None, tr.dataset, cfg, compare={"lr": 0.05})
    worker = view.run_bands(seeds=3, steps=200, optimizers=["sgd"])
    with qtbot.waitSignal(worker.finished_ok, timeout=20000):
        pass
    qtbot.waitUntil(lambda: view.result is not None, timeout=2000)
    assert list(view.result.runs) == ["sgd", "ghost"]
    assert view.canvas.legend.labels == ["sgd", "ghost: lr=0.05"]
    assert "and the ghost's settings" in view.status.text()
    ghost = view.result.runs["ghost"]
    assert ghost.config.lr == 0.05 and ghost.config.optimizer == cfg.optimizer


def test_bands_worker_can_be_cancelled(view, qtbot):
    cfg = load_preset("notebook").config.updated({"width": 10})
    give_state(view, cfg)
    worker = view.run_bands(seeds=4, steps=1_000_000, optimizers=["sgd", "momentum"])
    # (wait on the view, not on the worker's progress signal: a progress signal queued after such a
    # wait ended could reach pytest-qt's freed blocker and crash the run)
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=10000)
    with qtbot.waitSignal(worker.finished_ok, timeout=10000):
        view.cancel_button.click()
    qtbot.waitUntil(lambda: view.result is not None, timeout=2000)
    assert not view.result.complete
    assert all(runs.steps[-1] < 1_000_000 for runs in view.result.runs.values())  # cut short
    assert "Cancelled" in view.status.text()


def test_sweep_grid_small_in_process(view, qtbot):
    worker = view.run_sweep(seeds=2, steps=60, processes=1)
    with qtbot.waitSignal(worker.finished_ok, timeout=30000):
        pass
    qtbot.waitUntil(lambda: view.result is not None, timeout=2000)
    res = view.result
    assert res.complete and len(res.runs) == 9
    for (width, which), plot in view.sweep_plots.items():
        for opt in ("sgd", "momentum", "adam"):
            x, y = plot.items[opt][3].getData()
            assert len(x) and np.isfinite(y).all()
            b = res.runs[(width, opt)].band(which)  # the median over the seeds, in log mode
            np.testing.assert_array_equal(x, b.steps)
            np.testing.assert_allclose(10 ** np.asarray(y), b.median, rtol=1e-9)
    assert "took" in view.status.text() and "35.2 min" in view.status.text()


def test_before_any_run_the_plots_say_what_run_bands_draws(view):
    view.steps_spin.setValue(5000)
    plot = view.train_plot
    assert plot.empty_note.isVisible() and "Press “Run bands”" in plot.empty_note.toPlainText()
    assert "5,000 steps" in plot.empty_note.toPlainText() and "30 seeds" in plot.empty_note.toPlainText()
    (x0, x1), _ = plot.plot.vb.viewRange()
    assert x0 <= 0 < 5000 <= x1 and x0 > -500  # the steps a run will cover, not -0.4..0.4
    assert view.canvas.legend.labels == []  # no empty legend entries


def test_bands_for_earlier_settings_are_labelled_as_such(view, qtbot):
    cfg = load_preset("notebook").config.updated({"width": 10})
    give_state(view, cfg)
    worker = view.run_bands(seeds=3, steps=200, optimizers=["sgd"])
    with qtbot.waitSignal(worker.finished_ok, timeout=20000):
        pass
    qtbot.waitUntil(lambda: view.result is not None, timeout=2000)
    assert "earlier settings" not in view.status.text()
    assert view.canvas.legend.labels == ["sgd"] and not view.train_plot.empty_note.isVisible()
    give_state(view, cfg.updated({"optimizer": "adam", "steps": 999}))  # settings the bands replace anyway
    assert "earlier settings" not in view.status.text()
    give_state(view, cfg.updated({"lr": 0.05}))
    assert "The bands below are for earlier settings" in view.status.text()
    assert "learning rate 0.02 → 0.05" in view.status.text()
    give_state(view, cfg)  # back to the settings they were computed for
    assert "earlier settings" not in view.status.text() and "seeds × 200 steps" in view.status.text()
