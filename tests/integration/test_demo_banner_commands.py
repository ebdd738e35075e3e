"""The commands `serve --demo` prints to run beside it work in a shell that never activated
the virtual environment: they name this Python's own executables by their full path (the
banner used to print a bare `switchboard worker`, "command not found" after the README's
install, and `python -m clients.device_sim`, a Python without httpx)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from realtime.demo import next_commands, own_command
from realtime.settings import Settings


def _argv(line: str) -> list[str]:
    """The printed line's program and subcommand: its words before the first option,
    without the leading VAR=value assignments and the trailing comment."""
    words = shlex.split(line.split("    #", 1)[0])
    while "=" in words[0]:
        words.pop(0)
    head = []
    for w in words:
        if w.startswith("--"):
            break
        head.append(w)
    return head


@pytest.mark.parametrize("which", [0, 1], ids=["worker", "device_sim"])
def test_each_printed_command_runs_without_the_venv_on_path(tmp_path: Path,
                                                             which: int) -> None:
    settings = Settings(port=8731, data_dir=str(tmp_path / "data"))
    argv = _argv(next_commands(settings, "http://127.0.0.1:8731")[which])
    assert Path(argv[0]).is_absolute() and os.access(argv[0], os.X_OK), argv
    # A fresh shell: no venv on PATH, somewhere else than the checkout.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([*argv, "--help"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, (argv, done.stderr[-2000:])
    assert "usage:" in done.stdout


def test_without_a_console_script_the_module_runs_with_this_python() -> None:
    assert own_command("clients.device_sim") == \
        f"{shlex.quote(sys.executable)} -m clients.device_sim"
    assert own_command("realtime.cli", "no-such-script") == \
        f"{shlex.quote(sys.executable)} -m realtime.cli"
    here = Path(sys.executable).parent / "switchboard"
    if here.is_file():  # installed: the venv's own script, not whatever PATH finds
        assert own_command("realtime.cli", "switchboard") == shlex.quote(str(here))
