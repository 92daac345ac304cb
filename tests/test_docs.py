"""docs/architecture.md cannot drift from the code.

* Every inline code span shaped like a Python name (``Session``, ``Session.frame``,
  ``frame_drawn()``, ``reluviz.core.bands``) names something that exists: a ``reluviz.*`` module
  imported by its dotted path, otherwise a module-level name of some reluviz module, followed
  through attributes (a dataclass field or an instance attribute the class assigns counts).
* Every inline span that is a path (``reluviz/core/``, ``examples/``, ``reluviz/presets/NAME.json``)
  exists in the repository (an ALLCAPS file name is a placeholder: its folder must exist).
* Every capitalised name in the ```text flow diagram resolves the same way.
* The ```layers table (``gui -> core, plots, export``) allows every import between reluviz's
  layers, function-level imports included.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import reluviz

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
NAME = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\(.*\))?$")
LAYERS = ("core", "plots", "export", "gui", "cli")


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _blocks(text: str) -> dict[str, list[str]]:
    """Fenced blocks by their language tag."""
    out: dict[str, list[str]] = {}
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M):
        out.setdefault(lang, []).append(body)
    return out


def _prose(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", _prose(text))


def _all_modules() -> dict[str, object]:
    mods = {"reluviz": reluviz}
    for info in pkgutil.walk_packages(reluviz.__path__, "reluviz."):
        mods[info.name] = importlib.import_module(info.name)
    return mods


@pytest.fixture(scope="module")
def index() -> dict[str, object]:
    """Module-level names of every reluviz module (and the modules themselves by last part)."""
    names: dict[str, object] = {}
    for mod_name, mod in _all_modules().items():
        names.setdefault(mod_name.rsplit(".", 1)[-1], mod)
        for key, value in vars(mod).items():
            names.setdefault(key, value)
    return names


def _has(obj: object, attr: str) -> bool:
    if hasattr(obj, attr):
        return True
    if inspect.isclass(obj):
        if dataclasses.is_dataclass(obj) and attr in {f.name for f in dataclasses.fields(obj)}:
            return True
        for klass in obj.__mro__:  # an instance attribute the class assigns (self.lock = ...)
            try:
                source = inspect.getsource(klass)
            except (OSError, TypeError):
                continue
            if re.search(rf"\bself\.{re.escape(attr)}\s*(?::[^=\n]+)?=", source):
                return True
    return False


def _resolve(token: str, index: dict[str, object]) -> str | None:
    """None when ``token`` names something that exists, else what is missing."""
    dotted = token.split("(", 1)[0]
    parts = dotted.split(".")
    if parts[0] == "reluviz":
        obj, i = reluviz, 1
        while i < len(parts):  # the longest importable module prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[: i + 1]))
                i += 1
            except ModuleNotFoundError:
                break
        rest = parts[i:]
    else:
        if parts[0] not in index:
            return f"no reluviz module defines {parts[0]!r}"
        obj, rest = index[parts[0]], parts[1:]
    for attr in rest:
        if not _has(obj, attr):
            return f"{getattr(obj, '__name__', obj)!s} has no {attr!r}"
        obj = getattr(obj, attr, None)
        if obj is None:  # an instance attribute: nothing further to follow
            break
    return None


def test_the_doc_exists_and_names_its_parts():
    text = _doc()
    for part in ("reluviz/core/", "reluviz/plots/", "reluviz/export/", "reluviz/gui/", "reluviz/cli.py"):
        assert f"`{part}`" in text
    for state in ("live", "looking back", "replaying", "stopped"):
        assert f"**{state}**" in text


def test_every_name_in_backticks_exists(index):
    spans = [s for s in _spans(_doc()) if NAME.match(s)]
    assert len(spans) > 60  # the doc's names are checked, not skipped
    missing = {s: why for s in spans if (why := _resolve(s, index))}
    assert not missing, missing


def test_every_path_in_backticks_exists():
    paths = [s for s in _spans(_doc()) if "/" in s and " " not in s and not s.startswith("--")]
    assert len(paths) >= 10
    for p in paths:
        path = ROOT / p
        if re.fullmatch(r"[A-Z]+\.\w+", path.name):  # reluviz/presets/NAME.json
            assert path.parent.is_dir(), p
        else:
            assert path.exists(), p


def test_every_name_in_the_flow_diagram_exists(index):
    (flow,) = _blocks(_doc())["text"]
    names = re.findall(r"\b[A-Z]\w*(?:\.\w+)*", flow)
    assert {"TrainConfig", "Trainer", "Session.checkpoint", "Session.frame", "Frame", "Playback"} <= set(names)
    missing = {n: why for n in names if (why := _resolve(n, index))}
    assert not missing, missing


def _layer_table() -> dict[str, set[str]]:
    (table,) = _blocks(_doc())["layers"]
    allowed = {}
    for line in table.strip().splitlines():
        layer, _, targets = line.partition("->")
        allowed[layer.strip()] = {t.strip() for t in targets.split(",") if t.strip()}
    return allowed


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_imports_follow_the_layer_table():
    allowed = _layer_table()
    assert set(allowed) == set(LAYERS)
    wrong = []
    for path in (ROOT / "reluviz").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        here = _layer(module)
        if here is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                there = _layer(target) if target.startswith("reluviz.") else None
                if there is not None and there != here and there not in allowed[here]:
                    wrong.append(f"{module} imports {target}")
    assert not wrong, wrong
