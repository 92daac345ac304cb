"""Random UI fuzzing: thousands of random clicks on the real window while it trains.

A seeded random walk drives every control of the side panel (found generically by walking the
ControlPanel's child widgets: spin boxes to their minimum, maximum or anything between, typed text
included; combo boxes to any item; check boxes; the learning-rate slider), the playback actions
(play/pause, step, back, home, end, reset, resume from here), the timeline, preset switches, window
resizes, tab switches to every lecture view and their own controls, CSV loading through the (patched)
file dialog, the view toggles and unit clicks. After every action:

* no exception anywhere: ``sys.excepthook`` (Qt slots and virtual methods, and QThread.run, report
  there) and ``threading.excepthook`` are wrapped, and pytest-qt's own capture fails the test too;
* no hang: the action, and the event processing after it, each return within ``ACTION_BOUND`` s
  (measured; a watchdog dumps all stacks and ends the process if anything blocks for a minute);
* what is on screen is what the core recorded: the displayed step is a recorded step, its
  parameters equal ``history.at(step).params``, everything is finite, and no non-finite value
  reaches the fit plot's curves (prediction, units, elbows) or an infinity the loss plot.

Modal dialogs never wait for a human: QMessageBox's static functions and exec, QDialog.exec and the
QFileDialog getters are patched. The count of actions, the seeds and the time are printed.
"""

from __future__ import annotations

import faulthandler
import random
import sys
import threading
import time
import traceback

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtTest import QTest

from reluviz.core.presets import preset_names
from reluviz.gui import MainWindow

from helpers import SMALL_APP as SMALL

SEEDS = (11, 23, 37, 41, 59)
ACTIONS_PER_SEED = 420          # 5 x 420 = 2,100 actions
ACTION_BOUND = 5.0              # seconds an action (or the event processing after it) may take: a hang
                                # guard; the slowest action seen was 1.05 s quiet, 2.1 s with both cores busy
WATCHDOG_SECONDS = 90           # a real hang: dump every thread's stack and end the run

CONTROL_TYPES = (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox, QtWidgets.QComboBox, QtWidgets.QCheckBox,
                 QtWidgets.QSlider)
TYPED = ("0", "-1", "1e999", "-1e999", "nan", "inf", "abc", "", "1e-9", "99999999999", "0.5", "3", "1,5", " ")
PLAYBACK = ("actionPlayPause", "actionStep", "actionStepBack", "actionReset", "actionResume", "actionHome",
            "actionEnd", "actionPlayPause", "actionStep")


class Fuzzer:
    """One seeded random walk over one window."""

    def __init__(self, window: MainWindow, seed: int, csv_paths: list[str], errors: list[str]):
        self.w = window
        self.rng = random.Random(seed)
        self.seed = seed
        self.csv_paths = csv_paths
        self.errors = errors
        self.log: list[str] = []
        self.slowest = (0.0, "")
        self.app = QtWidgets.QApplication.instance()
        self.presets = preset_names()
        self.controls = [c for c in window.panel.findChildren(QtWidgets.QWidget) if isinstance(c, CONTROL_TYPES)]
        self.view_controls = [c for i in range(1, window.tabs.count())
                              for c in window.tabs.widget(i).findChildren(QtWidgets.QWidget)
                              if isinstance(c, CONTROL_TYPES + (QtWidgets.QPushButton,))
                              and c.objectName() not in ("runSweep",)]  # (the sweep: 9 x 30 runs in processes)

    # ------------------------------------------------------------------ actions
    def set_control(self, c: QtWidgets.QWidget, modest: bool = False) -> str:
        rng = self.rng
        name = c.objectName() or type(c).__name__
        if isinstance(c, QtWidgets.QAbstractSpinBox) and rng.random() < 0.15:
            text = rng.choice(TYPED)
            c.setFocus()
            c.lineEdit().selectAll()
            QTest.keyClicks(c.lineEdit(), text)
            QTest.keyClick(c.lineEdit(), QtCore.Qt.Key.Key_Return)
            return f"type {name} {text!r}"
        if isinstance(c, (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox, QtWidgets.QSlider)):
            lo, hi = c.minimum(), c.maximum()
            if modest:
                hi = min(hi, lo + max(1, (hi - lo) // 1000) if isinstance(c, QtWidgets.QSpinBox) else hi)
            kind = rng.random()
            if kind < 0.25:
                value = lo
            elif kind < 0.45:
                value = hi
            elif kind < 0.75 and not isinstance(c, QtWidgets.QDoubleSpinBox):
                value = rng.randint(int(lo), int(min(hi, max(lo + 1, c.value() * 2 + 10))))
            else:
                value = rng.uniform(lo, hi)
            if not isinstance(c, QtWidgets.QDoubleSpinBox):
                value = int(round(value))
            c.setValue(value)
            return f"{name}={value}"
        if isinstance(c, QtWidgets.QComboBox):
            i = rng.randrange(c.count())
            c.setCurrentIndex(i)
            c.activated.emit(i)  # what a user's pick also emits (the preset combo listens to it)
            return f"{name}[{i}]={c.itemData(i)}"
        if isinstance(c, QtWidgets.QCheckBox):
            c.click()
            return f"{name} click -> {c.isChecked()}"
        if isinstance(c, QtWidgets.QPushButton):
            c.click()
            return f"button {name}"
        raise AssertionError(type(c))

    def act(self) -> str:
        rng, w = self.rng, self.w
        r = rng.random()
        if r < 0.40:
            enabled = [c for c in self.controls if c.isEnabled()]
            return self.set_control(rng.choice(enabled))
        if r < 0.68:
            name = rng.choice(PLAYBACK)
            w.findChild(QtGui.QAction, name).trigger()
            return name
        if r < 0.74:
            t = w.timeline
            if rng.random() < 0.3:
                t.sliderPressed.emit()
            value = rng.randint(t.minimum(), t.maximum())
            t.setValue(value)
            return f"scrub {value}"
        if r < 0.80:
            i = rng.randrange(w.tabs.count())
            w.tabs.setCurrentIndex(i)
            return f"tab {w.tabs.tabText(i)}"
        if r < 0.85:
            current = w.tabs.currentIndex()
            controls = [c for c in self.view_controls if c.isEnabled() and w.tabs.widget(current).isAncestorOf(c)
                        and not (isinstance(c, QtWidgets.QComboBox) and c.count() == 0)]  # (nothing to pick)
            if not controls:
                return "no lecture-view control here"
            return "view " + self.set_control(rng.choice(controls), modest=True)
        if r < 0.88:
            name = rng.choice(self.presets)
            w.load_preset(name)
            return f"preset {name}"
        if r < 0.91:
            size = rng.choice([(rng.randint(120, 2400), rng.randint(90, 1500)), (200, 150), (2560, 1600)])
            w.resize(*size)
            return f"resize {size}"
        if r < 0.94:
            path = rng.choice(self.csv_paths)
            self.next_file = path
            w.findChild(QtGui.QAction, "actionLoadCsv").trigger()
            return f"load csv {path.rsplit('/', 1)[-1] or '(cancelled)'}"
        if r < 0.97:
            choice = rng.randrange(5)
            if choice == 0:
                w.findChild(QtGui.QAction, "actionShowTest").toggle()
            elif choice == 1:
                w.findChild(QtGui.QAction, "actionShowUnits").toggle()
            elif choice == 2:
                w.findChild(QtGui.QAction, "actionResetView").trigger()
            elif choice == 3:
                width = w.displayed_snapshot.layout.width
                w.view.fit.unitClicked.emit(rng.randint(-1, max(width - 1, 0) + 2))
            else:
                w.findChild(QtGui.QAction, rng.choice(["actionAbout", "actionShortcuts"])).trigger()
                box = getattr(w, "last_message", None)
                if box is not None:
                    box.close()
            return f"view toggle {choice}"
        ms = rng.choice([5, 20, 60, 150])
        self.pump(ms)
        return f"wait {ms} ms"

    def pump(self, ms: int) -> None:
        end = time.perf_counter() + ms / 1000
        while time.perf_counter() < end:
            self.app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
            time.sleep(0.001)

    # ------------------------------------------------------------------ checks
    def check(self, what: str) -> None:
        w = self.w
        assert not self.errors, f"seed {self.seed}, after {what!r}:\n" + "\n".join(self.errors) + self.trail()
        snap = w.displayed_snapshot
        assert snap is not None
        with w.session.locked():
            steps = w.history.steps
            i = int(np.searchsorted(steps, snap.step))
            recorded = i < len(steps) and steps[i] == snap.step
            kept = w.history.at(snap.step).params.copy() if recorded else None
            last = w.history.last_step()
        assert recorded, f"seed {self.seed}: displayed step {snap.step} is not a recorded step{self.trail()}"
        assert np.array_equal(kept, snap.params), f"seed {self.seed}: step {snap.step} params differ{self.trail()}"
        assert snap.step <= last
        assert np.all(np.isfinite(snap.params)), f"seed {self.seed}: non-finite params on screen{self.trail()}"
        check_plot_items_finite(w, f"seed {self.seed}{self.trail()}")
        if w.displayed_frame.ghost is not None:
            assert np.all(np.isfinite(w.displayed_frame.ghost.params))
        assert w.timeline.value() == snap.step or w.timeline.maximum() < snap.step

    def trail(self) -> str:
        return "\nlast actions:\n  " + "\n  ".join(self.log[-12:])

    def run(self, n: int) -> int:
        for k in range(n):
            t0 = time.perf_counter()
            what = self.act()
            t1 = time.perf_counter()
            self.pump(2)
            t2 = time.perf_counter()
            self.log.append(f"{k}: {what} ({t1 - t0:.3f} s + {t2 - t1:.3f} s)")
            for dt in (t1 - t0, t2 - t1):
                if dt > self.slowest[0]:
                    self.slowest = (dt, what)
                assert dt < ACTION_BOUND, f"seed {self.seed}: {what!r} took {dt:.2f} s{self.trail()}"
            self.check(what)
        return n


def check_plot_items_finite(w: MainWindow, where: str) -> None:
    """No non-finite value in the fit plot's curves; NaN only as the separators of the unit lines."""
    fit = w.view.fit
    for name in ("prediction", "ghost", "elbow_trail"):
        x, y = getattr(fit, name).getData()
        if x is not None and len(x):
            assert np.all(np.isfinite(x)) and np.all(np.isfinite(y)), f"{name} has non-finite data ({where})"
    for name in ("units_pos", "units_neg", "units_dead", "unit_selected"):
        x, y = getattr(fit, name).getData()
        if x is None or not len(x):
            continue
        # one line per unit, all of the same length (4 points for a depth-1 relu unit, every breakpoint for
        # a deep net's), each ended by a NaN
        nan_at = np.flatnonzero(np.isnan(x))
        stride = int(nan_at[0]) + 1 if len(nan_at) else len(x) + 1
        sep = np.zeros(len(x), dtype=bool)
        sep[stride - 1 :: stride] = True
        assert np.all(np.isnan(x[sep])) and np.all(np.isfinite(x[~sep])), f"{name} x ({where})"
        assert np.all(np.isfinite(y[~sep])), f"{name} y has non-finite values ({where})"
    pts = fit.elbows.data
    if len(pts):
        assert np.all(np.isfinite(pts["x"])) and np.all(np.isfinite(pts["y"])), f"elbow markers ({where})"
    for item in (w.view.loss.batch, w.view.loss.train, w.view.loss.test):
        x, y = item.getData()
        if y is not None and len(y):
            assert not np.any(np.isinf(y)) and np.all(np.isfinite(x)), f"loss curve with inf ({where})"


@pytest.fixture
def no_dialogs(monkeypatch):
    """Nothing modal waits for a human; message boxes are recorded."""
    shown: list[str] = []

    def box(*args, **kwargs):
        shown.append(" | ".join(str(a) for a in args[1:3]))
        return QtWidgets.QMessageBox.StandardButton.Ok

    for name in ("information", "warning", "critical", "question", "about"):
        monkeypatch.setattr(QtWidgets.QMessageBox, name, staticmethod(box))
    monkeypatch.setattr(QtWidgets.QMessageBox, "exec", lambda self: QtWidgets.QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QtWidgets.QDialog, "exec", lambda self: 0)
    for name in ("getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QtWidgets.QFileDialog, name, staticmethod(lambda *a, **k: ("", "")))
    return shown


@pytest.fixture
def excepthooks(monkeypatch):
    """Every exception that reaches a hook (Qt slots, virtual methods, QThread.run, Python threads)."""
    errors: list[str] = []
    previous = sys.excepthook

    def hook(kind, value, tb):
        errors.append("".join(traceback.format_exception(kind, value, tb)))
        previous(kind, value, tb)

    def thread_hook(args):
        errors.append("".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))

    monkeypatch.setattr(sys, "excepthook", hook)
    monkeypatch.setattr(threading, "excepthook", thread_hook)
    return errors


@pytest.fixture
def csv_files(tmp_path):
    good = tmp_path / "good.csv"
    x = np.linspace(-1, 2, 300)
    good.write_text("x,y\n" + "".join(f"{a},{np.sin(3 * a)}\n" for a in x))
    few = tmp_path / "few.csv"
    few.write_text("0,0\n1,1\n2,0\n3,1\n4,0\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\nfoo,bar\n")
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 3)
    return [str(good), str(few), str(bad), str(junk), str(tmp_path / "missing.csv"), ""]


@pytest.mark.slow
def test_random_ui_walk_never_crashes_hangs_or_shows_an_unrecorded_state(qtbot, no_dialogs, excepthooks, csv_files,
                                                                        monkeypatch, capsys):
    total, t_start = 0, time.perf_counter()
    report = []
    threads_before = threading.active_count()
    for seed in SEEDS:
        window = MainWindow(SMALL)
        qtbot.addWidget(window)
        window.resize(1300, 850)
        window.show()
        fuzzer = Fuzzer(window, seed, csv_files, excepthooks)
        fuzzer.next_file = ""
        monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                            staticmethod(lambda *a, f=fuzzer, **k: (f.next_file, "")))
        t0 = time.perf_counter()
        faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True, file=sys.__stderr__)
        try:
            fuzzer.check("opening the window")
            total += fuzzer.run(ACTIONS_PER_SEED)
            t_close = time.perf_counter()
            window.close()
            close_s = time.perf_counter() - t_close
        finally:
            faulthandler.cancel_dump_traceback_later()
        assert close_s < 5.0, f"seed {seed}: closing took {close_s:.1f} s"  # a hang guard, like ACTION_BOUND
        assert window.worker.isFinished()
        assert not excepthooks, "\n".join(excepthooks)
        report.append(f"seed {seed}: {ACTIONS_PER_SEED} actions in {time.perf_counter() - t0:.1f} s, slowest "
                      f"{fuzzer.slowest[0]:.2f} s ({fuzzer.slowest[1]}), close {close_s:.2f} s")
    for _ in range(100):  # windows closed: their threads end
        if threading.active_count() <= threads_before:
            break
        qtbot.wait(20)
    assert threading.active_count() <= threads_before
    with capsys.disabled():
        print(f"\nUI fuzz: {total} random actions over seeds {list(SEEDS)} in {time.perf_counter() - t_start:.1f} s, "
              f"no exception, each under {ACTION_BOUND} s")
        for line in report:
            print("  " + line)


def test_the_fuzz_checks_catch_slot_exceptions_hangs_and_unrecorded_states(qtbot, no_dialogs, csv_files, monkeypatch):
    """The harness itself: an exception in a slot, a slow action and a displayed state the history
    does not hold each fail the walk (and pytest-qt sees the slot exception as well)."""
    with qtbot.capture_exceptions() as captured:
        errors: list[str] = []
        previous = sys.excepthook
        monkeypatch.setattr(sys, "excepthook", lambda *exc: (errors.append(repr(exc[1])), previous(*exc)))
        window = MainWindow(SMALL)
        qtbot.addWidget(window)
        window.show()
        fuzzer = Fuzzer(window, 0, csv_files, errors)

        def boom(_checked):
            raise RuntimeError("boom in a slot")

        window.findChild(QtGui.QAction, "actionShowTest").toggled.connect(boom)
        window.findChild(QtGui.QAction, "actionShowTest").toggle()
        with pytest.raises(AssertionError, match="boom in a slot"):
            fuzzer.check("toggle")
    assert any("boom in a slot" in str(e[1]) for e in captured)
    errors.clear()
    monkeypatch.setattr(sys.modules[__name__], "ACTION_BOUND", 0.05)
    monkeypatch.setattr(fuzzer, "act", lambda: time.sleep(0.1) or "a slow action")
    with pytest.raises(AssertionError, match="a slow action"):
        fuzzer.run(1)
    window.step(5)
    qtbot.waitUntil(lambda: window.displayed_snapshot.step == 5 and not window.worker.busy, timeout=10_000)
    fuzzer.check("five steps")
    with window.session.locked():
        window.session.history.truncate_after(3)
    with pytest.raises(AssertionError, match="displayed step 5 is not a recorded step"):
        fuzzer.check("a lie")
