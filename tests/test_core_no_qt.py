"""reluviz.core must stay pure NumPy: importing all of it loads no Qt, and no file names Qt."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import reluviz.core

CORE = Path(reluviz.core.__file__).parent


def test_core_modules_import_without_qt():
    names = [m.name for m in pkgutil.iter_modules([str(CORE)])]
    assert len(names) >= 8
    code = (
        "import sys, importlib\n"
        + "".join(f"importlib.import_module('reluviz.core.{n}')\n" for n in names)
        + "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6', 'qtpy')]\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"reluviz.core pulled in Qt modules: {out.stdout}"


def test_core_sources_do_not_mention_qt_imports():
    for path in CORE.glob("*.py"):
        text = path.read_text()
        for word in ("PySide6", "pyqtgraph", "PyQt", "shiboken"):
            assert f"import {word}" not in text and f"from {word}" not in text, f"{path.name} imports {word}"
