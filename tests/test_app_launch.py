"""``reluviz`` (the app entry point): without a display it says so and exits; bad settings on its
command line are one line before any window opens."""

from __future__ import annotations

import pytest

from reluviz.cli import main
from reluviz.gui.app import run_app

from cases import write


@pytest.fixture
def no_display(monkeypatch, tmp_path):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RELUVIZ_SETTINGS_DIR", str(tmp_path))


def test_run_app_without_a_display_explains_and_exits_1(no_display, capsys):
    assert run_app(None) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no display" in err and "reluviz export" in err


def test_cli_without_a_display(no_display, capsys):
    assert main(["--preset", "dance", "--set", "lr=0.01"]) == 1
    assert "reluviz export" in capsys.readouterr().err


def test_cli_bad_setting_is_a_usage_error(no_display, capsys):
    assert main(["--set", "lr=-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reluviz: error: lr must be a positive number") and err.count("\n") == 1


@pytest.mark.parametrize("args", [["--config", "CFG"], ["--preset", "no-such-preset"], ["--set", "width=0"],
                                  ["--set", "lr"], ["--config", "CFG", "--set", "data_seed=-5"]])
def test_launching_the_app_with_bad_settings_is_one_line_before_any_window(tmp_path, capsys, monkeypatch, args):
    import reluviz.cli as cli

    opened = []
    monkeypatch.setattr(cli, "_launch_app", lambda *a: opened.append(a) or 0)
    bad = write(tmp_path / "bad.json", "[1, 2]")
    code = main([str(bad) if a == "CFG" else a for a in args])
    err = capsys.readouterr().err
    assert code == 2 and not opened
    assert err.startswith("reluviz: error: ") and err.count("\n") == 1
