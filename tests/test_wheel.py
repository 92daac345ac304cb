"""The package as a user installs it: an sdist and a wheel built from a copy of the checkout, the
wheel installed (not editable) with its dependencies into a fresh virtual environment outside the
checkout, and there ``reluviz --version``, ``reluviz presets``, ``reluviz train --preset`` for every
preset, ``reluviz export`` (trained and ``--from`` a run file) and the app offscreen with its preset
list and an opened run file. Also: the license, presets and metadata a packaging reviewer expects
are in the sdist and the wheel.

Slow (about 30 s here: the dependencies come from pip's configured sources; this machine keeps
wheels on disk, elsewhere pip downloads them). The phases' times are printed (``pytest -s``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from reluviz import __version__
from reluviz.core.presets import preset_names

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                ".hypothesis", "*.npz", "out")

APP_SCRIPT = r"""
import sys, time
from PySide6 import QtWidgets
app = QtWidgets.QApplication([])
from reluviz.gui import MainWindow
w = MainWindow()
w.show()
combo = w.panel.preset_combo
print("PRESETS", ",".join(combo.itemData(i) for i in range(combo.count()) if combo.itemData(i)))
w.files.open(sys.argv[1])
t0 = time.monotonic()
while w.files.busy and time.monotonic() - t0 < 60:
    app.processEvents()
    time.sleep(0.01)
app.processEvents()
print("OPENED", w.displayed_frame.step, w.windowTitle())
w.shutdown()
"""


def _run(args, cwd, env, timeout=600):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    times = {}
    t = time.perf_counter()
    src, dist = tmp_path / "src", tmp_path / "dist"
    shutil.copytree(ROOT, src, ignore=IGNORE)  # (builds write build/ and *.egg-info: never into the checkout)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    _run([sys.executable, "-c", f"from setuptools import build_meta as b; b.build_sdist({str(dist)!r})"], src, env)
    sdist = next(dist.glob("reluviz-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for name in ("LICENSE", "pyproject.toml", "README.md", *(f"reluviz/presets/{p}.json" for p in preset_names())):
        assert name in names, f"{name} is not in the sdist"
    # the wheel is built from the sdist, so whatever the sdist lacks, the wheel lacks too
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, sdist],
         tmp_path, env)
    wheel = next(dist.glob("reluviz-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        files = set(z.namelist())
        meta = z.read(f"reluviz-{__version__}.dist-info/METADATA").decode()
    assert f"reluviz-{__version__}.dist-info/licenses/LICENSE" in files
    assert {f"reluviz/presets/{p}.json" for p in preset_names()} <= files
    for field in ("License-Expression: MIT", "Requires-Python: >=3.11", "Keywords: ", "Classifier: Topic :: Education",
                  "Requires-Dist: PySide6-Essentials", "Requires-Dist: pyqtgraph", f"Version: {__version__}"):
        assert field in meta, field
    times["build sdist + wheel"] = time.perf_counter() - t

    t = time.perf_counter()
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path, env)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    times["venv"] = time.perf_counter() - t
    t = time.perf_counter()
    _run([python, "-m", "pip", "install", "-q", wheel], tmp_path, env)  # with its dependencies
    times["pip install (with dependencies)"] = time.perf_counter() - t

    t = time.perf_counter()
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**env, "VIRTUAL_ENV": str(venv), "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
           "QT_QPA_PLATFORM": "offscreen", "RELUVIZ_SETTINGS_DIR": str(tmp_path / "settings")}
    where = _run([python, "-c", "import reluviz, importlib.metadata as m; print(reluviz.__file__); "
                  "print(m.distribution('reluviz').read_text('direct_url.json') or '')"], work, env)
    assert where.startswith(str(venv)) and '"editable": true' not in where
    reluviz = bin_dir / "reluviz"
    assert _run([reluviz, "--version"], work, env).strip() == f"reluviz {__version__}"
    listed = _run([reluviz, "presets"], work, env).splitlines()
    assert [line.split()[0] for line in listed] == preset_names()
    for name in preset_names():
        out = _run([reluviz, "train", "--preset", name, "--steps", "40", "--out", f"{name}.npz"], work, env)
        assert out.startswith(f"wrote {name}.npz"), out
    _run([reluviz, "export", "--preset", "dance", "--steps", "40", "--frames", "3", "--size", "160x120",
          "--out", "dance.gif"], work, env)
    _run([reluviz, "export", "--from", "notebook.npz", "--frames", "3", "--size", "160x120", "--out", "frames"],
         work, env)
    for view in ("dance", "votes", "elbows", "bands"):  # (the lecture views' canvases ship in the package too)
        _run([reluviz, "export", "--preset", "gd-oscillates" if view in ("dance", "votes") else "dead-relus",
              "--view", view, "--steps", "40", "--frames", "2", "--size", "320x180", "--out", f"view-{view}.gif"],
             work, env)
        assert (work / f"view-{view}.gif").stat().st_size > 0
    assert (work / "dance.gif").stat().st_size > 0 and len(list((work / "frames").glob("frame_*.png"))) == 3
    app = _run([python, "-c", APP_SCRIPT, work / "notebook.npz"], work, env, timeout=120)
    assert f"PRESETS {','.join(preset_names())}" in app
    assert "OPENED 40 notebook.npz" in app
    times["commands in the installed package"] = time.perf_counter() - t
    print("\n" + "\n".join(f"  {what}: {seconds:.1f} s" for what, seconds in times.items()))
