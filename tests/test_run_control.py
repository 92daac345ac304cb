"""Changing the run from the window (``gui/run_control.py``): optimizer settings apply from the next
step and keep the run, data and model settings start a new one, presets (with their ghost run) and
CSV files load. Bad files and runs too big to draw live give a notice and leave the run on screen
untouched: same history, same displayed step, same config, and the controls show the run in force.

Modal dialogs never wait for a human here: QFileDialog and QMessageBox are patched per test.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PySide6 import QtWidgets

from reluviz.core import Trainer
from reluviz.core.presets import load_preset
from reluviz.core.session import LIVE_LIMIT, MAX_LIVE_POINTS
from reluviz.gui import run_control as run_control_module
from reluviz.plots import fit_plot

from cases import BAD_CSVS, BAD_SETTINGS_FILES, as_preset, million_row_csv, write
from helpers import SMALL_APP as SMALL, action, train_to


def run_state(window):
    """What must not change when a bad input is refused."""
    with window.session.locked():
        return (len(window.history), window.history.last_step(), window.displayed_snapshot.step, window.config,
                window.displayed_snapshot.params.tobytes(), window.dataset.n)


def panel_matches(window):
    values = window.panel.values()
    cfg = window.config
    return all(values[k] == getattr(cfg, k) for k in ("n_train", "width", "model", "target", "lr"))


def some_fast(rows, fast):
    """``rows`` as pytest params: the cases named in ``fast`` run in the fast loop, the others are slow
    (one window each; the core's tests check every case's message)."""
    return [pytest.param(*row, id=row[0], marks=() if row[0] in fast else pytest.mark.slow) for row in rows]


# ---------------------------------------------------------------------- settings that keep the run
def test_change_lr_mid_run_keeps_the_run(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 50)
    w.panel.widgets["lr"].setValue(0.05)
    assert w.config.lr == 0.05
    assert w.displayed_snapshot.step == 50 and w.history.first_step() == 0  # not reset
    train_to(qtbot, w, 60)
    with w.session.locked():
        steps, lrs = w.history.steps.copy(), w.history.lrs[:, 0].copy()
    assert lrs[steps == 10][0] == pytest.approx(SMALL.lr)
    assert lrs[steps == 55][0] == pytest.approx(0.05)
    # the same as a headless run that changed its rate at step 50
    trainer = Trainer(SMALL)
    trainer.run(50)
    trainer.reconfigure(SMALL.updated({"lr": 0.05}))
    trainer.run(10)
    np.testing.assert_array_equal(w.displayed_snapshot.params[0], trainer.params[0])


def test_change_optimizer_kind_mid_run_then_resume_from_before(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 40)
    combo = w.panel.widgets["optimizer"]
    combo.setCurrentIndex(combo.findData("adam"))
    assert w.config.optimizer == "adam"
    assert len(w.history.segments) == 2  # the state grew Adam's moments: a second segment
    train_to(qtbot, w, 70)
    assert w.history.first_step() == 0 and w.history.last_step() == 70
    w.scrub_to(20)  # back into the SGD part, then go on with Adam from there
    action(w, "actionResume").trigger()
    train_to(qtbot, w, 30)
    trainer = Trainer(SMALL)
    trainer.run(20)
    trainer.reconfigure(SMALL.updated({"optimizer": "adam"}))
    trainer.run(10)
    np.testing.assert_array_equal(w.displayed_snapshot.params[0], trainer.params[0])
    # full batch changes the minibatch shape too
    w.panel.widgets["full_batch"].setChecked(True)
    assert w.config.batch_size == 0
    assert not w.panel.widgets["sampling"].isEnabled()
    train_to(qtbot, w, 35)


# ---------------------------------------------------------------------- settings that start a new run
def test_reset_and_data_change_start_a_new_run(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 20)
    action(w, "actionReset").trigger()
    assert w.displayed_snapshot.step == 0 and len(w.history) == 1
    train_to(qtbot, w, 10)
    w.panel.widgets["n_train"].setValue(150)
    assert w.dataset.n == 150 and w.displayed_snapshot.step == 0
    assert w.notice.isVisible() and "points N changed" in w.notice.text()
    assert "n_train" not in w.notice.text()  # the panel's words, not the field's name
    w.panel.widgets["width"].setValue(7)
    assert w.displayed_snapshot.layout.width == 7 and w.displayed_snapshot.step == 0


def test_invalid_setting_is_explained_not_applied(qtbot, make_window):
    w = make_window()
    w.panel.widgets["n_train"].setValue(5)  # batch size 10 > 5 points: the spin box clamps it
    assert w.config.n_train == 5 and w.config.batch_size <= 5


# ---------------------------------------------------------------------- presets
def test_preset_picker_loads_a_preset(qtbot, make_window):
    w = make_window()
    combo = w.panel.preset_combo
    i = combo.findData("output-only")
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    assert w.config.train == "output" and w.preset_name == "output-only"
    assert w.panel.description.text() == load_preset("output-only").description


def test_dance_preset_runs_a_ghost_in_lockstep(qtbot, make_window):
    w = make_window(None, preset="dance")
    assert w.session.ghost is not None
    train_to(qtbot, w, 30)
    ghost = w.displayed_frame.ghost
    assert ghost.step == 30
    ghost_cfg = w.config.updated({"schedule": "inverse", "decay": 0.002})
    np.testing.assert_array_equal(ghost.params[0], headless_params(ghost_cfg, 30)[0])
    assert w.view.fit.ghost.xData is not None and len(w.view.fit.ghost.xData)
    x, y = w.view.fit.ghost.getData()  # the dashed curve is the ghost network's prediction
    np.testing.assert_allclose(y, ghost.predict(np.asarray(x)), rtol=1e-12, atol=1e-12)
    w.scrub_to(10)
    assert w.displayed_frame.ghost.step == 10


def headless_params(config, steps: int) -> np.ndarray:
    trainer = Trainer(config)
    trainer.run(steps)
    return trainer.params.copy()


@pytest.mark.parametrize("name, content, needle",
                         some_fast(BAD_SETTINGS_FILES, {"truncated.json", "nan_lr.json", "deep.json", "binary.json"}))
def test_broken_preset_file_is_a_notice_and_the_run_stays(qtbot, make_window, tmp_path, monkeypatch,
                                                          name, content, needle):
    presets = tmp_path / "presets"
    presets.mkdir()
    write(presets / "broken.json", as_preset(content))
    monkeypatch.setattr(run_control_module, "load_preset", lambda n: load_preset(n, directory=presets))
    w = make_window()
    train_to(qtbot, w, 15)
    before = run_state(w)
    w.load_preset("broken")
    assert run_state(w) == before
    assert w.notice.isVisible() and "broken.json" in w.notice.text()
    w.load_preset("missing")
    assert run_state(w) == before and "unknown preset 'missing'" in w.notice.text()


def test_a_preset_with_the_old_weight_decay_loads_as_ridge_with_a_notice(qtbot, make_window, tmp_path, monkeypatch):
    presets = tmp_path / "presets"
    presets.mkdir()
    write(presets / "old.json", json.dumps({"title": "an old preset", "config": {"width": 12, "n_train": 100,
                                                                                "batch_size": 10, "weight_decay": 0.5}}))
    monkeypatch.setattr(run_control_module, "load_preset", lambda n: load_preset(n, directory=presets))
    w = make_window()
    w.load_preset("old")
    assert w.config.ridge == 0.25
    assert "Preset old.json: the old setting weight_decay=0.5 is read as ridge=0.25" in w.notice.text()


def test_csv_split_shares_that_leave_too_few_training_rows_are_a_notice_and_the_run_stays(qtbot, make_window,
                                                                                         tmp_path):
    path = write(tmp_path / "ten.csv", "".join(f"{i / 10},{i}\n" for i in range(10)))
    w = make_window()
    w.load_csv(str(path))
    assert (w.dataset.n, w.dataset.n_val, w.dataset.n_test) == (6, 2, 2)
    train_to(qtbot, w, 5)
    before = run_state(w)
    w.apply_config(w.config.updated({"val_fraction": 0.45, "test_fraction": 0.5}))
    assert run_state(w) == before
    assert "leave 1 to train on" in w.notice.text() and "\n" not in w.notice.text()
    w.panel.widgets["val_fraction"].setValue(0.6)  # with test 0.2: fine; then test 0.5 sums to 1.1
    assert w.dataset.n_val == 6
    w.panel.widgets["test_fraction"].setValue(0.5)
    assert "must sum to less than 1" in w.notice.text() and w.panel.widgets["test_fraction"].value() == 0.2


# ---------------------------------------------------------------------- CSV files
def test_csv_data(qtbot, make_window, tmp_path):
    path = tmp_path / "points.csv"
    xs = np.linspace(0, 1, 30)
    path.write_text("x,y\n" + "\n".join(f"{x},{abs(x - 0.5)}" for x in xs))
    w = make_window()
    w.load_csv(str(path))
    assert w.config.target == "csv" and (w.dataset.n, w.dataset.n_val, w.dataset.n_test) == (18, 6, 6)
    train_to(qtbot, w, 3)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\nfoo\n")
    w.load_csv(str(bad))
    assert w.config.csv_path == str(path)  # the run goes on with the good data
    assert "bad.csv" in w.notice.text()


@pytest.mark.parametrize("name, content, needle", some_fast(BAD_CSVS, {"empty.csv", "text.csv", "binary.csv"}))
def test_bad_csv_in_the_window_is_a_notice_and_the_run_stays(qtbot, make_window, tmp_path, monkeypatch,
                                                             name, content, needle):
    path = write(tmp_path / name, content)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    w = make_window()
    train_to(qtbot, w, 30)
    w.scrub_to(12)
    before = run_state(w)
    w.findChild(QtWidgets.QWidget, "loadCsv").click()  # the side panel's button -> the (patched) file dialog
    assert run_state(w) == before
    assert w.notice.isVisible() and needle in w.notice.text() and name in w.notice.text()
    assert panel_matches(w)
    w.go_end()
    train_to(qtbot, w, 40)  # and the run goes on (from its head)


def test_the_file_dialog_cancelled_changes_nothing(qtbot, make_window, monkeypatch):
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    w = make_window()
    before = run_state(w)
    w.findChild(QtWidgets.QWidget, "loadCsv").click()
    assert run_state(w) == before


@pytest.mark.slow
def test_a_million_row_csv_loads_in_the_window_in_a_few_seconds(qtbot, make_window, tmp_path):
    path = million_row_csv(tmp_path / "big.csv")
    w = make_window()
    t0 = time.perf_counter()
    w.load_csv(str(path))
    seconds = time.perf_counter() - t0
    print(f"10^6-row CSV into the window: {seconds:.2f} s")
    assert w.dataset.n == 600_000 and w.config.target == "csv"
    assert seconds < 30.0  # a hang guard (0.9 s here); what keeps it quick is drawing a subset:
    xs, _ = w.view.fit.train.getData()
    assert len(xs) <= fit_plot.MAX_DRAWN_POINTS  # an even subset is drawn
    assert "of 600,000 drawn" in w.view.fit.legend.getLabel(w.view.fit.train).text
    t0 = time.perf_counter()
    train_to(qtbot, w, 2)
    w.step_back(1)
    assert time.perf_counter() - t0 < 30.0  # a hang guard (0.35 s here)


# ---------------------------------------------------------------------- runs too big to draw live
def test_a_csv_too_big_to_draw_live_is_refused_with_the_numbers(qtbot, make_window, tmp_path):
    w = make_window(SMALL.updated({"width": 2000, "n_train": 100}))
    rows = LIVE_LIMIT // 2000 + 100  # every row is evaluated each frame (training, validation, test): just over
    path = tmp_path / "wide.csv"
    x = np.linspace(0, 1, rows)
    np.savetxt(path, np.c_[x, x * x], delimiter=",", fmt="%.6g")
    before = run_state(w)
    w.load_csv(str(path))
    assert run_state(w) == before
    assert "too big to draw live" in w.notice.text() and "2,000 units" in w.notice.text()


def test_points_times_units_beyond_the_live_limit_is_refused_and_the_controls_snap_back(qtbot, make_window):
    """100,000 points x 5,000 units: each frame evaluated the net on every point (seconds a frame,
    gigabytes of temporaries). Now the notice gives the numbers and the controls show the run in force."""
    w = make_window()
    train_to(qtbot, w, 20)
    w.panel.widgets["width"].setValue(5000)  # 100 x 5000: fine, a new run
    assert w.config.width == 5000 and w.displayed_snapshot.step == 0
    train_to(qtbot, w, 5)
    before = run_state(w)
    t0 = time.perf_counter()
    w.panel.widgets["n_train"].setValue(100_000)
    assert time.perf_counter() - t0 < 10.0  # a hang guard: refused before any work (1 ms here)
    assert run_state(w) == before
    assert "too big to draw live" in w.notice.text()
    assert "101,100 points (100,000 training, 100 validation, 1,000 test)" in w.notice.text()
    assert w.panel.widgets["n_train"].value() == 100 and panel_matches(w)
    w.reset_run()  # a reset with the (restored) controls works
    assert w.displayed_snapshot.step == 0 and w.config.n_train == 100


def test_minibatches_beyond_the_app_limit_are_refused(qtbot, make_window):
    """The sampler draws the batches of 1,024 steps at once in the thread the window waits on: at
    B = 47,194 that was 386 MB and 2 s per draw (80 s with sampling=shuffle, see core/sampling.py)."""
    from reluviz.core.session import MAX_LIVE_BATCH

    w = make_window(SMALL.updated({"n_train": 5000}))
    spin = w.panel.widgets["batch_size"]
    assert spin.maximum() == MAX_LIVE_BATCH
    spin.setValue(10**6)
    assert w.config.batch_size == MAX_LIVE_BATCH
    before = run_state(w)
    w.apply_config(w.config.updated({"batch_size": 4000}))
    assert run_state(w) == before and "tick 'full batch'" in w.notice.text()
    w.panel.widgets["full_batch"].setChecked(True)
    assert w.config.batch_size == 0
    train_to(qtbot, w, 2)


# ---------------------------------------------------------------------- what the preset box and notices say
def test_the_preset_box_says_modified_and_what_differs(qtbot, make_window):
    w = make_window(None, preset="notebook")
    combo = w.panel.preset_combo
    title = load_preset("notebook").title
    assert combo.currentText() == title and "Modified" not in w.panel.description.text()
    combo_opt = w.panel.widgets["optimizer"]
    combo_opt.setCurrentIndex(combo_opt.findData("adam"))
    w.panel.widgets["width"].setValue(30)
    assert combo.currentText() == title + " (modified)"
    text = w.panel.description.text()
    assert "Modified: " in text and "optimizer adam (preset: sgd)" in text and "width H 30 (preset: 20)" in text
    assert "momentum" not in text.split("Modified:")[1]  # (a setting that means nothing under either: no change)
    combo_opt.setCurrentIndex(combo_opt.findData("sgd"))
    w.panel.widgets["width"].setValue(20)  # the preset's settings again: no longer modified
    assert combo.currentText() == title and "Modified" not in w.panel.description.text()
    i = combo.findData("dance")  # another preset: its own title, the old one unmarked
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    assert combo.itemText(combo.findData("notebook")) == title and combo.currentText() == load_preset("dance").title


def test_notices_use_the_panels_words_and_say_when_the_schedule_jumps(qtbot, make_window):
    w = make_window()
    train_to(qtbot, w, 400)
    w.panel.widgets["batch_size"].setValue(20)
    assert w.notice.text().startswith("Batch size B changed: applies from step 400; press Play to go on.")
    w.panel.widgets["steps"].setValue(1000)
    schedule = w.panel.widgets["schedule"]
    schedule.setCurrentIndex(schedule.findData("cosine"))
    text = w.notice.text()
    assert "counts from step 0" in text and "lr schedule" in text.lower()
    rate = float(text.split("is already ")[1].split(" ")[0])
    assert rate == pytest.approx(w.displayed_frame.lr, rel=1e-2) and rate < w.config.lr


def test_a_csv_load_says_where_every_row_went(qtbot, make_window, tmp_path):
    w = make_window()
    path = tmp_path / "five.csv"
    path.write_text("x,y\n0,0\n1,1\n2,4\n3,9\n4,16\n")
    w.load_csv(str(path))
    assert (w.dataset.n, w.dataset.n_val, w.dataset.n_test) == (3, 1, 1)
    assert "5 rows: 3 train the network, 1 are held out as validation points and 1 as test points" in w.notice.text()


def legend_layout(fit):
    """The fit legend's labels and their rectangles in scene coordinates."""
    out = []
    for _sample, lab in fit.legend.items:
        out.append((lab.text, lab.mapRectToScene(lab.boundingRect())))
    return out


def expected_legend(frame, constant_fit: bool = False) -> list[str]:
    from reluviz.core.compare import ghost_text

    cfg = frame.config
    st = frame.structure
    names = [] if cfg.target == "csv" else ["true function"]
    names.append("training data")
    if frame.dataset.n_val:
        names.append("validation data")  # (test points: hidden unless asked for)
    if cfg.batch_size != 0 and cfg.batch_size < frame.dataset.n:
        names.append("minibatch")
    names.append("network f(x)")
    if cfg.model == "relu":
        stride = -(-cfg.width // 300) if cfg.depth == 1 and cfg.activation == "relu" else 1  # (a wide net: a sample)
        sample = f" (1 in {stride} drawn)" if stride > 1 else ""
        names += [f"unit, v > 0{sample}", f"unit, v &lt; 0{sample}",
                  ("dead unit" if st.piecewise else "saturated unit") + sample]
        if st.piecewise and (cfg.depth > 1 or cfg.activation != "relu"):  # (kinks on f, one entry a layer)
            names += [f"kink from layer {k}" for k in range(1, cfg.depth + 1)]
        if constant_fit and st.constant_fit is not None:
            names.append("piecewise constant (Fig. 4)")
    if frame.compare:
        names.append(ghost_text(frame.compare))
    return names


def test_after_every_preset_switch_the_fit_legend_lists_what_is_drawn(qtbot, make_window):
    from reluviz.core.presets import preset_names
    from reluviz.export.render import FrameRenderer

    w = make_window(None, preset="dance")  # a ghost first: its removal broke the legend's grid
    names = preset_names()
    assert {"dance", "constant-model", "linear-model", "notebook"} <= set(names)
    for name in [*names, "dance", "constant-model", "notebook"]:
        w.load_preset(name)
        w.tabs.setCurrentIndex(0)
        qtbot.wait(20)
        frame = w.displayed_frame
        fit = w.view.fit
        layout = legend_layout(fit)
        fig4 = w.view.fit.structure.show_constant  # (the piecewise-constant preset turns Figure 4 on)
        assert fig4 == (name == "piecewise-constant")
        assert [text for text, _ in layout] == expected_legend(frame, fig4), name
        plot_rect = fit.plot.vb.sceneBoundingRect()
        for text, rect in layout:  # every entry inside the plot, none on top of another
            assert plot_rect.contains(rect), (name, text)
        for i, (a, ra) in enumerate(layout):
            for b, rb in layout[i + 1:]:
                assert not ra.intersects(rb), (name, a, b)
        # the exported frame's legend lists the same
        renderer = FrameRenderer(frame.dataset, (800, 450), compare=dict(frame.compare), constant_fit=fig4)
        renderer.render(frame.snapshot, ghost=frame.ghost)
        assert renderer.view.fit.legend_row.labels == [t for t, _ in layout], name  # (its legend: a row above)


def test_a_full_batch_csv_run_has_no_minibatch_or_true_function_in_its_legend(qtbot, make_window, tmp_path):
    path = tmp_path / "line.csv"
    path.write_text("".join(f"{i / 20},{i / 40}\n" for i in range(40)))
    w = make_window()
    w.load_csv(str(path))
    names = [t for t, _ in legend_layout(w.view.fit)]
    assert names == expected_legend(w.displayed_frame) and "minibatch" not in names and "true function" not in names


def test_more_points_than_the_app_draws_live_are_refused_whatever_the_width(qtbot, make_window):
    """A one-parameter model passes points x units with ten million points: they took 3-14 s to draw
    and evaluate, on every frame. The app takes at most MAX_LIVE_POINTS (training, validation, test)."""
    w = make_window(SMALL.updated({"model": "linear"}))
    train_to(qtbot, w, 5)
    before = run_state(w)
    t0 = time.perf_counter()
    w.panel.widgets["n_train"].setValue(9_896_583)
    assert time.perf_counter() - t0 < 5.0  # a hang guard: refused before any work
    assert run_state(w) == before
    assert f"are more than the app's {MAX_LIVE_POINTS:,}" in w.notice.text() and "9,896,583 training" in w.notice.text()
