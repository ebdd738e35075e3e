"""`switchboard worker` stopped (SIGTERM, as `systemctl stop` does) while it waits between
attempts to reach Redis ends at once. uvloop's closed loop kept arq's signal handlers and
swallowed the signal: the worker went on trying until systemd's SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow


def test_sigterm_during_the_back_off_ends_the_worker(tmp_path: Path) -> None:
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        # Nothing listens there: arq tries 6 times a second apart, then the back-off waits.
        worker = subprocess.Popen([sys.executable, "-m", "realtime.cli", "worker",
                                   "--redis-url", f"redis://127.0.0.1:{free_port()}"],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "retrying in 1 s" not in log_path.read_text():
                assert worker.poll() is None and time.monotonic() < deadline, \
                    log_path.read_text()[-2000:]
                time.sleep(0.05)
            time.sleep(0.3)  # in its 1-second wait
            worker.send_signal(signal.SIGTERM)
            rc = worker.wait(4)  # not the next attempt's 5 s and more
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    text = log_path.read_text()
    assert rc == 0, text[-2000:]
    assert "Traceback" not in text, text[-2000:]
