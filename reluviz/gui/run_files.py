"""Run files in the window: reading and writing them off the GUI thread, and the recent files.

``FileJob`` runs one slow core call (``read_run`` + ``load_run``, or ``write_run``) on a Python
thread and reports on the GUI thread through its signals, polled by a timer: the window stays
usable while a long run is read or its losses are evaluated for saving. ``RecentFiles`` keeps the
last opened or saved run files in the app's settings and lists them in File > Open recent.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from PySide6 import QtCore, QtWidgets

from reluviz.core.config import ConfigError

POLL_MS = 50
RECENT_KEY = "files/recent"
RECENT_MAX = 8


class FileJob(QtCore.QObject):
    """Runs ``work(progress)`` on a thread; ``progress(done, total)`` may be called from it.

    Signals (GUI thread): ``progress(int, int)``, ``finished(object)`` with ``work``'s result,
    ``failed(str)`` with a ``ConfigError``'s sentence (or "... failed: ..." for anything else).
    """

    progress = QtCore.Signal(int, int)
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, work: Callable[[Callable[[int, int], None]], object], what: str,
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.what = what
        self._work = work
        self._done = (0, 0)
        self._result: dict = {}
        self._thread = threading.Thread(target=self._run, name=f"reluviz-{what}", daemon=True)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        self._thread.start()
        self._timer.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() or self._timer.isActive()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the work is done (the window waits for a save before it closes), then report."""
        self._thread.join(timeout)
        self._poll()

    def _run(self) -> None:
        def progress(done: int, total: int) -> None:
            self._done = (done, total)

        try:
            self._result["value"] = self._work(progress)
        except ConfigError as exc:
            self._result["error"] = str(exc)
        except MemoryError:
            self._result["error"] = f"{self.what} failed: not enough memory"
        except Exception as exc:  # noqa: BLE001 (reported in one sentence, never a traceback)
            self._result["error"] = f"{self.what} failed: {exc}"

    def _poll(self) -> None:
        if self._thread.is_alive():
            self.progress.emit(*self._done)
            return
        if not self._timer.isActive():
            return  # (reported already)
        self._timer.stop()
        if "error" in self._result:
            self.failed.emit(self._result["error"])
        else:
            self.finished.emit(self._result.get("value"))


class RecentFiles(QtCore.QObject):
    """The last ``RECENT_MAX`` run files opened or saved (newest first), kept in ``settings`` and
    shown in ``menu``; choosing one emits ``chosen(path)``."""

    chosen = QtCore.Signal(str)

    def __init__(self, settings: QtCore.QSettings, menu: QtWidgets.QMenu, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.menu = menu
        self.menu.setToolTipsVisible(True)
        self._rebuild()

    def paths(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # (QSettings gives a lone entry as a string)
            value = [value]
        return [str(v) for v in (value or []) if v][:RECENT_MAX]

    def add(self, path: str | Path) -> None:
        path = str(Path(path).expanduser().resolve())
        self._store([path] + [p for p in self.paths() if p != path])

    def remove(self, path: str) -> None:
        self._store([p for p in self.paths() if p != path])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[str]) -> None:
        self.settings.setValue(RECENT_KEY, paths[:RECENT_MAX])
        self.settings.sync()
        self._rebuild()

    def _rebuild(self) -> None:
        self.menu.clear()
        paths = self.paths()
        for k, path in enumerate(paths):
            label = f"&{k + 1}  {Path(path).name}" if k < 9 else Path(path).name
            action = self.menu.addAction(label)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.setObjectName(f"recentRun{k}")
            action.triggered.connect(lambda _c=False, p=path: self.chosen.emit(p))
        if paths:
            self.menu.addSeparator()
            clear = self.menu.addAction("Clear the list")
            clear.triggered.connect(self.clear)
        else:
            empty = self.menu.addAction("(no run files yet)")
            empty.setEnabled(False)
        self.menu.setEnabled(True)


class RunFiles(QtCore.QObject):
    """File > Open run, Save run and Open recent for ``window`` (a ``MainWindow``): files are read,
    prepared and written by ``FileJob`` threads; the run changes through ``window.runs``
    (``RunControl.show_loaded``, ``RunControl.capture``) and notices say what happened."""

    FILTER = "reluviz run files (*.npz);;All files (*)"

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.job: FileJob | None = None
        self.path: Path | None = None  # the run file the run on screen came from or went to
        file_menu = window.menus["&File"]
        self.menu = QtWidgets.QMenu("Open &recent", window)
        self.menu.setObjectName("menuRecentRuns")
        file_menu.insertMenu(window.actionSaveRun, self.menu)
        self.recent = RecentFiles(window.settings, self.menu, self)
        self.recent.chosen.connect(self.open)

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.running

    # ------------------------------------------------------------------ opening
    def open_dialog(self) -> None:
        start = str(self.path.parent) if self.path else (self.recent.paths() or [str(Path.home())])[0]
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Open run", start, self.FILTER)
        if path:
            self.open(path)

    def open(self, path: str | Path) -> None:
        """Read the run file ``path`` and show its run (off the GUI thread; a notice says when)."""
        from reluviz.core.runfile import read_run

        path = Path(path).expanduser()
        self._start(lambda _progress: self._prepare(read_run(path)), f"open {path.name}",
                    f"Opening {path.name}...", lambda loaded: self._opened(loaded, path),
                    lambda message: self._open_failed(message, path))

    def show_recorded(self, run) -> None:
        """Show a run already read (``reluviz --open``)."""
        self._start(lambda _progress: self._prepare(run), f"open {run.path.name}", f"Opening {run.path.name}...",
                    lambda loaded: self._opened(loaded, run.path), lambda message: self._open_failed(message, run.path))

    def _prepare(self, run):
        from reluviz.core.runfile import load_run
        from reluviz.core.session import check_live_size

        check_live_size(run.dataset.n, run.config)  # (before the slow part)
        return load_run(run, self.window.session.budget)

    def _opened(self, loaded, path: Path) -> None:
        outcome = self.window.runs.show_loaded(loaded)
        self.window._after(outcome)
        if outcome.new_run:
            self.window._show_preset(None)
            self._set_path(path)
            self.recent.add(path)

    def _open_failed(self, message: str, path: Path) -> None:
        self.window.show_notice(message, "error")
        if not path.exists():
            self.recent.remove(str(path.resolve()))

    # ------------------------------------------------------------------ saving
    def save_dialog(self) -> None:
        if self.path is not None:
            start = self.path
        else:
            name = self.window.preset_name or "reluviz-run"
            start = Path.home() / f"{name}-step{self.window.session.head_step}.npz"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Save run", str(start), self.FILTER)
        if path:
            self.save(path)

    def save(self, path: str | Path) -> None:
        """Write the run on screen to ``path`` (``.npz`` added when missing), atomically, off the
        GUI thread: training may go on meanwhile; the file holds the run as it was when asked."""
        from reluviz.core.recording import write_run

        path = Path(path).expanduser()
        if path.suffix.lower() != ".npz":
            path = path.with_name(path.name + ".npz")
        captured = self.window.runs.capture()
        self._start(lambda progress: write_run(path, captured, progress), f"saving {path.name}",
                    f"Saving the run to {path.name}...", lambda _r: self._saved(path, captured),
                    lambda message: self.window.show_notice(f"Not saved: {message}", "error"),
                    percent=True)

    def _saved(self, path: Path, captured) -> None:
        self._set_path(path)
        self.recent.add(path)
        self.window.show_notice(f"Saved the run to {path} ({captured.rows:,} recorded steps up to step "
                                f"{captured.last_step:,}); open it again with File > Open run.", "info")

    # ------------------------------------------------------------------ jobs
    def _start(self, work, what: str, text: str, done, failed, percent: bool = False) -> None:
        if self.busy:
            self.window.show_notice(f"Still busy ({self.job.what}); try again when it is done.", "warn")
            return
        job = FileJob(work, what, self)
        self.job = job
        self.window.show_notice(text, "info", sticky=True)
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.BusyCursor)
        if percent:
            job.progress.connect(lambda k, n: n and self.window.show_notice(f"{text} {100 * k // n}%", "info",
                                                                          sticky=True))

        def finish(callback, value) -> None:
            QtWidgets.QApplication.restoreOverrideCursor()
            if self.window.notice.sticky:
                self.window.notice.clear()
            callback(value)

        job.finished.connect(lambda value: finish(done, value))
        job.failed.connect(lambda message: finish(failed, message))
        job.start()

    def _set_path(self, path: Path | None) -> None:
        self.path = path
        self.window.setWindowTitle(f"{path.name} \u2014 reluviz" if path else self.window.TITLE)

    def forget_path(self) -> None:
        """The run on screen no longer is the file's (a new run started)."""
        if self.path is not None:
            self._set_path(None)

    def shutdown(self) -> None:
        """The window closes: a save in progress is finished first (it would be lost)."""
        if self.job is not None and self.job.running and self.job.what.startswith("saving"):
            self.job.wait()
