"""Test setup: Qt runs offscreen (set before any Qt import; without a display Qt aborts), every test
keeps the app's remembered settings in its own temporary folder, never the user's, Qt tests collect
garbage in the GUI thread only, and the fixtures that build windows and lecture views (each closed
or shut down after its test)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("RELUVIZ_SETTINGS_DIR", str(tmp_path / "settings"))


@pytest.fixture(autouse=True)
def garbage_collected_in_the_gui_thread(request):
    """Qt tests collect garbage in the GUI thread only, as the app does (``reluviz.gui.gc_policy``:
    a collection in a worker thread deleted a dead window's widgets there and deadlocked PySide6)."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("qapp")
    from reluviz.gui.gc_policy import GuiThreadCollector

    collector = GuiThreadCollector(interval_ms=500).start()
    try:
        yield
    finally:
        collector.stop()


@pytest.fixture
def make_window(qtbot):
    """``make_window(config=SMALL_APP, preset=None)``: a shown ``MainWindow`` (1400x900) closed after the test."""
    from helpers import SMALL_APP
    from PySide6 import QtCore

    from reluviz.gui import MainWindow

    # Widgets of earlier tests are deleted later, when an event loop runs: hundreds of graphics
    # items take ~0.5 s (1.7 s while a training thread holds the GIL), which a test that plays a
    # 100,000-step run would otherwise spend with a frozen window. Delete them now.
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)

    def make(config=SMALL_APP, preset=None) -> MainWindow:
        window = MainWindow(config, preset=preset)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        return window

    return make


# ---------------------------------------------------------------------- lecture views
@pytest.fixture
def make_view(qtbot):
    """``make_view(cls)``: a lecture view of class ``cls``; its background work is shut down after the test."""
    made = []

    def make(cls):
        view = cls()
        qtbot.addWidget(view)
        made.append(view)
        return view

    yield make
    for view in made:
        view.shutdown()


@pytest.fixture
def views(qtbot):
    """One of every lecture view, in tab order (``create_views``)."""
    from reluviz.gui.views import create_views

    made = create_views(None)
    for v in made:
        qtbot.addWidget(v)
    yield made
    for v in made:
        v.shutdown()


@pytest.fixture
def view(request, make_view):
    """The lecture view of the class the test module names in ``VIEW_CLASS``."""
    return make_view(request.module.VIEW_CLASS)


@pytest.fixture(params=["numpy", "numba"])
def backend(request, monkeypatch):
    """Runs the test with each training backend (``RELUVIZ_BACKEND``): the NumPy reference and the
    compiled numba kernels."""
    if request.param == "numba":
        pytest.importorskip("numba")
    monkeypatch.setenv("RELUVIZ_BACKEND", request.param)
    return request.param
