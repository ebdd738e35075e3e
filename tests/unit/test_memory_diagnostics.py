"""The opt-in memory diagnostics of a server process (SWITCHBOARD_TRACEMALLOC, SIGUSR2) and
the soak's comparison of two snapshots (loadtest/soak_memory.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loadtest.soak_memory import compare, snapshots, type_growth
from realtime.cli import memory_diagnostics

ROOT = Path(__file__).resolve().parents[2]


def test_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_TRACEMALLOC", raising=False)
    assert memory_diagnostics() is False
    monkeypatch.setenv("SWITCHBOARD_TRACEMALLOC", "0")
    assert memory_diagnostics() is False


@pytest.mark.skipif(sys.platform == "win32", reason="SIGUSR2")
def test_sigusr2_writes_snapshots_the_soak_compares(tmp_path: Path) -> None:
    # A process that keeps 2,000 small lists between its two snapshots: the comparison names
    # the line that made them and counts them by type.
    script = textwrap.dedent("""
        import os, signal, time
        from realtime.cli import memory_diagnostics
        assert memory_diagnostics()
        kept = []
        os.kill(os.getpid(), signal.SIGUSR2)
        time.sleep(1.1)
        for i in range(2000):
            kept.append([i])  # the grower
        os.kill(os.getpid(), signal.SIGUSR2)
        time.sleep(0.1)
    """)
    env = {**os.environ, "SWITCHBOARD_TRACEMALLOC": "5",
           "SWITCHBOARD_TRACEMALLOC_DIR": str(tmp_path / "mem")}
    subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True,
                   timeout=60)
    found = snapshots(tmp_path / "mem")
    assert len(found) == 2
    text = compare(found[0], found[1])
    assert "<string>" in text.split("top growers by traceback:")[1].split("\n")[2]
    old, new = (json.loads(p.read_text()) for _, _, p in found)
    rows = {name: (before, after) for name, before, after, _ in type_growth(old, new, 1.0)}
    assert rows["list"][1] - rows["list"][0] >= 2000
