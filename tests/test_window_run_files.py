"""Run files in the window (``gui/run_files.py``): File > Open run shows a file of ``reluviz train``
(scrub, step, every lecture view, export, resume, play on), Save run writes the run on screen and
opening it again gives back the same steps, a --params-only file turns Resume from here off with a
tooltip saying why, bad files leave the run on screen untouched with one sentence, and the recent
files are remembered. Files are read and written off the GUI thread (``files.busy``)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6 import QtGui, QtWidgets

from reluviz.cli import main
from reluviz.core import Trainer
from reluviz.core.runfile import read_run
from reluviz.gui.run_files import RECENT_MAX

from helpers import SMALL_APP as SMALL, action, read_csv_rows, train_to, wait_step

SETTINGS = ["--set", "width=10", "--set", "n_train=80", "--set", "batch_size=8"]
DANCE_SETTINGS = SETTINGS[2:]  # (the dance preset's affine model has no width)


def train_file(tmp_path, name="run.npz", *extra, steps=400, settings=SETTINGS):
    path = tmp_path / name
    assert main(["train", "--preset", "notebook", *settings, "--steps", str(steps), *extra, "--out", str(path),
                 "--quiet"]) == 0
    return path


def opened(qtbot, window, path):
    window.files.open(str(path))
    qtbot.waitUntil(lambda: not window.files.busy, timeout=20_000)
    return window


def state(window):
    with window.session.locked():
        return (window.session.run_id, len(window.history), window.displayed_snapshot.step, window.config,
                window.displayed_snapshot.params.tobytes())


def test_open_a_train_file_scrub_step_views_and_resume(qtbot, make_window, tmp_path):
    path = train_file(tmp_path, "adam.npz", "--set", "optimizer=adam", "--set", "lr=0.01")
    w = opened(qtbot, make_window(), path)
    config = read_run(path).config
    assert w.config == config and w.displayed_snapshot.step == 400 and w.history.first_step() == 0
    assert path.name in w.windowTitle() and "Opened adam.npz" in w.notice.text()
    assert w.panel.widgets["optimizer"].currentData() == "adam" and w.panel.preset_combo.currentData() == ""
    w.scrub_to(123)
    trainer = Trainer(config)
    trainer.run(123)
    np.testing.assert_array_equal(w.displayed_snapshot.state, trainer.snapshot().state)
    action(w, "actionStepBack").trigger()
    assert w.displayed_snapshot.step == 123 - w.playback.speed
    for index in range(w.tabs.count()):  # every lecture view draws the opened run
        w.tabs.setCurrentIndex(index)
        w.scrub_to(200)
        assert w.displayed_frame.step == 200
    w.tabs.setCurrentIndex(0)
    assert action(w, "actionResume").isEnabled()
    w.scrub_to(100)
    action(w, "actionResume").trigger()
    train_to(qtbot, w, 150)
    trainer = Trainer(config)
    trainer.run(150)
    np.testing.assert_array_equal(w.displayed_snapshot.state, trainer.snapshot().state)


def test_play_on_from_the_end_of_an_opened_file(qtbot, make_window, tmp_path):
    w = opened(qtbot, make_window(), train_file(tmp_path))
    w.step(25)
    wait_step(qtbot, w, 425)
    trainer = Trainer(w.config)
    trainer.run(425)
    np.testing.assert_array_equal(w.displayed_snapshot.params, trainer.params)


def test_export_an_opened_run_from_the_dialog(qtbot, make_window, tmp_path):
    w = opened(qtbot, make_window(), train_file(tmp_path))
    action(w, "actionExport").trigger()
    d = w._export_dialog
    assert d.first.value() == 0 and d.last.value() == 400
    d.path.setText(str(tmp_path / "frames"))
    d.format.setCurrentIndex(d.format.findData("png"))
    d.path.setText(str(tmp_path / "frames"))
    d.spacing.setCurrentIndex(d.spacing.findData("every"))
    d.count.setValue(100)
    d.size.setCurrentText("320x180")
    d.start_export()
    with qtbot.waitSignal(d.job.finished, timeout=20_000):
        pass
    assert [int(r["step"]) for r in read_csv_rows(tmp_path / "frames" / "frames.csv")] == [0, 100, 200, 300, 400]


def test_save_the_run_on_screen_and_open_it_again(qtbot, make_window, tmp_path):
    w = make_window(None, preset="dance")
    w.apply_config(w.config.updated({"width": 12, "n_train": 100, "batch_size": 10}))
    train_to(qtbot, w, 60)
    w.apply_config(w.config.updated({"optimizer": "momentum"}))  # a second stretch of rows
    train_to(qtbot, w, 90)
    with w.session.locked():
        before = [w.session.frame(s) for s in (0, 30, 60, 75, 90)]
    w.files.save(str(tmp_path / "mine"))  # (.npz is added)
    qtbot.waitUntil(lambda: not w.files.busy, timeout=20_000)
    assert (tmp_path / "mine.npz").is_file() and "Saved the run to" in w.notice.text()
    assert "mine.npz" in w.windowTitle()
    action(w, "actionReset").trigger()
    assert "mine.npz" not in w.windowTitle()  # a new run is no longer the file's
    opened(qtbot, w, tmp_path / "mine.npz")
    with w.session.locked():
        after = [w.session.frame(s) for s in (0, 30, 60, 75, 90)]
    for a, b in zip(before, after):
        assert a.step == b.step
        np.testing.assert_array_equal(a.snapshot.state, b.snapshot.state)
        np.testing.assert_array_equal(a.ghost.state, b.ghost.state)
    assert w.session.compare == {"schedule": "inverse", "decay": 0.002}
    assert len(w.history.segments) == 2


def test_save_while_training_writes_the_run_as_it_was_asked(qtbot, make_window, tmp_path):
    w = make_window()
    train_to(qtbot, w, 30)
    w.play()
    w.files.save(str(tmp_path / "live.npz"))
    qtbot.waitUntil(lambda: not w.files.busy, timeout=20_000)
    w.pause()
    run = read_run(tmp_path / "live.npz")
    assert run.last_step >= 30 and run.rows.steps[0] == 0


def test_params_only_file_turns_resume_off_with_the_reason(qtbot, make_window, tmp_path):
    path = train_file(tmp_path, "small.npz", "--set", "optimizer=momentum", "--params-only")
    w = opened(qtbot, make_window(), path)
    assert "Resume from here is off at earlier steps" in w.notice.text()
    resume = action(w, "actionResume")
    assert resume.isEnabled()  # at the last step the state is there
    w.scrub_to(200)
    assert not resume.isEnabled()
    assert "keeps the optimizer's state" in resume.toolTip() and "step 200" in resume.toolTip()
    held = state(w)
    w.playback.resume_from_here()
    assert state(w) == held and "Cannot resume from step 200" in w.notice.text()
    w.go_end()
    assert resume.isEnabled() and resume.toolTip().startswith("Continue training")


@pytest.mark.parametrize("content, needle", [
    (b"not an archive", "not a reluviz run file"),
    (None, "no such file"),
    ("OLD", "older reluviz"),
])
def test_a_bad_file_is_one_sentence_and_the_run_stays(qtbot, make_window, tmp_path, content, needle):
    w = make_window()
    train_to(qtbot, w, 20)
    path = tmp_path / "bad.npz"
    if content == "OLD":
        np.savez(path, step=np.arange(3), config=np.array("{}"))
    elif content is not None:
        path.write_bytes(content)
    held = state(w)
    opened(qtbot, w, path)
    assert state(w) == held
    assert w.notice.kind == "error" and needle in w.notice.text() and "\n" not in w.notice.text()


def test_a_run_too_big_to_draw_live_is_refused(qtbot, make_window, tmp_path):
    path = tmp_path / "wide.npz"
    assert main(["train", "--set", "width=6000", "--set", "n_train=20", "--set", "batch_size=5", "--steps", "2",
                 "--out", str(path), "--quiet"]) == 0
    w = make_window()
    held = state(w)
    opened(qtbot, w, path)
    assert state(w) == held and "width 6,000" in w.notice.text()


def test_recent_files_are_remembered_newest_first(qtbot, make_window, tmp_path):
    paths = [train_file(tmp_path, f"r{k}.npz", steps=20) for k in range(3)]
    w = make_window()
    for p in paths:
        opened(qtbot, w, p)
    names = [a.text() for a in w.files.menu.actions() if a.objectName().startswith("recentRun")]
    assert names == ["&1  r2.npz", "&2  r1.npz", "&3  r0.npz"]
    paths[0].unlink()
    w.files.menu.actions()[2].trigger()  # r0.npz, gone
    qtbot.waitUntil(lambda: not w.files.busy, timeout=20_000)
    assert "no such file" in w.notice.text()
    assert [a.text() for a in w.files.menu.actions() if a.objectName().startswith("recentRun")] == \
        ["&1  r2.npz", "&2  r1.npz"]
    w.close()
    again = make_window()  # a new launch remembers them
    assert len([a for a in again.files.menu.actions() if a.objectName().startswith("recentRun")]) == 2
    for k in range(RECENT_MAX + 2):
        again.files.recent.add(tmp_path / f"x{k}.npz")
    assert len(again.files.recent.paths()) == RECENT_MAX


def test_file_actions_are_in_the_file_menu_with_shortcuts(make_window, monkeypatch, tmp_path):
    w = make_window()
    file_menu = w.menus["&File"]
    texts = [a.text() for a in file_menu.actions() if a.text()]
    assert texts[:3] == ["Open run...", "Open &recent", "Save run..."]
    assert action(w, "actionOpenRun").shortcut() == QtGui.QKeySequence("Ctrl+Shift+O")
    assert action(w, "actionSaveRun").shortcut() == QtGui.QKeySequence("Ctrl+S")
    asked = []
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: asked.append("open") or ("", ""))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a[1:3]) or ("", ""))
    action(w, "actionOpenRun").trigger()
    action(w, "actionSaveRun").trigger()
    assert asked[0] == "open" and asked[1][0] == "Save run" and asked[1][1].endswith(".npz")
    assert not w.files.busy  # cancelled dialogs do nothing


def export_log_frames(qtbot, window, out, frames=7, size="640x360"):
    """PNG frames of the window's run through File > Export (log-spaced over the recorded steps)."""
    action(window, "actionExport").trigger()
    d = window._export_dialog
    d.view_choice.setCurrentIndex(d.view_choice.findData("fit"))  # (the dialog offers the tab on screen)
    d.format.setCurrentIndex(d.format.findData("png"))
    d.path.setText(str(out))
    d.spacing.setCurrentIndex(d.spacing.findData("log"))
    d.count.setValue(frames)
    d.size.setCurrentText(size)
    d.start_export()
    with qtbot.waitSignal(d.job.finished, timeout=20_000):
        pass
    d.close()
    return [np.asarray(Image.open(out / f"frame_{k:05d}.png")) for k in range(frames)]


def test_opened_in_the_app_and_exported_gives_the_frames_of_the_run_trained_there(qtbot, make_window, tmp_path):
    """A file of `reluviz train` (a ghost run too) exported from the app: the frames of the same run
    trained in the app and exported alike, pixel for pixel; frames.csv as `reluviz export`'s."""
    path = train_file(tmp_path, "dance.npz", "--preset", "dance", steps=300,
                      settings=DANCE_SETTINGS)  # (the later --preset wins)
    w = opened(qtbot, make_window(), path)
    assert w.session.ghost is not None
    from_file = export_log_frames(qtbot, w, tmp_path / "opened")
    config = read_run(path).config
    w.close()
    trained = make_window(config, preset="dance")
    train_to(qtbot, trained, 300)
    live = export_log_frames(qtbot, trained, tmp_path / "trained")
    assert read_csv_rows(tmp_path / "opened" / "frames.csv") == read_csv_rows(tmp_path / "trained" / "frames.csv")
    assert all(np.array_equal(a, b) for a, b in zip(from_file, live))
    assert main(["export", "--preset", "notebook", *DANCE_SETTINGS, "--preset", "dance", "--steps", "300", "--frames", "7",
                 "--spacing", "log", "--size", "640x360", "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    assert read_csv_rows(tmp_path / "cli" / "frames.csv") == read_csv_rows(tmp_path / "opened" / "frames.csv")


def test_reluviz_open_hands_the_read_run_to_the_app(tmp_path, monkeypatch):
    import reluviz.cli as cli

    path = train_file(tmp_path, steps=20)
    launched = []
    monkeypatch.setattr(cli, "_launch_app", lambda config, args, recorded=None: launched.append(recorded) or 0)
    assert main(["--open", str(path)]) == 0
    assert launched[0].path == path and launched[0].last_step == 20


def test_ctrl_z_after_opening_a_file_brings_back_the_run_it_replaced(qtbot, make_window, tmp_path):
    path = train_file(tmp_path, steps=20)
    w = make_window()
    train_to(qtbot, w, 30)
    before = (w.config, w.history.last_step(), w.displayed_snapshot.params.tobytes())
    opened(qtbot, w, path)
    assert w.history.last_step() == 20 and "Ctrl+Z" in w.notice.text() and w.actionUndoRun.isEnabled()
    w.undo_new_run()
    assert (w.config, w.history.last_step(), w.displayed_snapshot.params.tobytes()) == before
