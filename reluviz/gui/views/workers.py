"""A background task for the lecture views: a QThread that runs one function, reports, can be cancelled.

The function runs in the worker thread and never touches a widget. It receives three callables:
``progress(done, total)``, ``should_stop() -> bool`` and ``partial(obj)`` (an intermediate result to
draw), and returns the result. Everything reaches the GUI thread through queued signals:

* ``progress(int, int)``: throttled to about 20 per second (the last one always comes);
* ``partial(object)``: intermediate results (the receiver draws the newest);
* ``finished_ok(object)``: the result (also after a cancel: the function decides what it returns
  when ``should_stop()`` turned True, e.g. a partial record);
* ``failed(str)``: the function raised; the message is one line.

The thread is a child of ``parent`` (a widget), so Qt owns it; ``cancel_and_wait()`` before the
parent goes away.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable

from PySide6 import QtCore

PROGRESS_INTERVAL = 0.05

Task = Callable[[Callable[[int, int], None], Callable[[], bool], Callable[[Any], None]], Any]


class TaskWorker(QtCore.QThread):
    progress = QtCore.Signal(int, int)
    partial = QtCore.Signal(object)
    finished_ok = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, task: Task, parent: QtCore.QObject):
        super().__init__(parent)
        self._task = task
        self._stop = threading.Event()
        self._last = 0.0
        self.cancelled = False
        self.seconds = 0.0

    def cancel(self) -> None:
        self.cancelled = True
        self._stop.set()

    def cancel_and_wait(self, timeout_ms: int = 30000) -> None:
        self.cancel()
        if self.isRunning():
            self.wait(timeout_ms)

    def _progress(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self.progress.emit(int(done), int(total))

    def run(self) -> None:  # worker thread
        t0 = time.perf_counter()
        try:
            result = self._task(self._progress, self._stop.is_set, self.partial.emit)
        except Exception as exc:  # noqa: BLE001 - reported to the user, not swallowed
            self.seconds = time.perf_counter() - t0
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.failed.emit(last)
            return
        self.seconds = time.perf_counter() - t0
        self.finished_ok.emit(result)


class TaskSlot(QtCore.QObject):
    """The one background task a view runs at a time, with the view's controls for it.

    ``start(task, on_done, on_failed, on_partial)`` cancels the previous task (and waits for it),
    starts a ``TaskWorker`` and turns ``run_buttons`` off and ``cancel_button`` on; the
    ``progress`` bar (range 0..1000) follows the running task only; ``finish()`` turns the buttons
    back (the view calls it when its task ended, in its ``on_done`` / ``on_failed``).
    ``is_current(sender)`` tells a signal of the running task from a late one of an earlier task.
    """

    def __init__(self, parent: QtCore.QObject, run_buttons, cancel_button, progress, wait_ms: int = 60000):
        super().__init__(parent)
        self.worker: TaskWorker | None = None
        self._run_buttons = tuple(run_buttons)
        self._cancel_button = cancel_button
        self._progress = progress
        self._wait_ms = wait_ms

    def running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    def is_current(self, sender) -> bool:
        return sender is not None and sender is self.worker

    def start(self, task: Task, on_done, on_failed, on_partial=None) -> TaskWorker:
        self.cancel(wait=True)
        w = TaskWorker(task, self.parent())  # (the view owns the thread)
        w.progress.connect(self._on_progress)
        w.finished_ok.connect(on_done)
        w.failed.connect(on_failed)
        if on_partial is not None:
            w.partial.connect(on_partial)
        self.worker = w
        for b in self._run_buttons:
            b.setEnabled(False)
        self._cancel_button.setEnabled(True)
        self._progress.setValue(0)
        w.start()
        return w

    def finish(self) -> None:
        for b in self._run_buttons:
            b.setEnabled(True)
        self._cancel_button.setEnabled(False)

    def cancel(self, wait: bool = False) -> None:
        if self.running():
            self.worker.cancel()
            if wait:
                self.worker.wait(self._wait_ms)

    def shutdown(self) -> None:
        if self.worker is not None:
            self.worker.cancel_and_wait(self._wait_ms)

    @QtCore.Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if self.is_current(self.sender()):
            self._progress.setValue(int(1000 * done / max(total, 1)))
