"""Which Switchboard is running: ``switchboard --version`` and the ``switchboard_build_info``
gauge on /metrics (one constant series, its ``version`` label the package's version), so a
monitor sees which hosts an upgrade reached."""

from __future__ import annotations

from importlib import metadata

from prometheus_client import Gauge


def version() -> str:
    try:
        return metadata.version("switchboard")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "unknown"


# "max": with several processes (PROMETHEUS_MULTIPROC_DIR) still one series, not one per pid.
BUILD_INFO = Gauge("switchboard_build_info", "The running Switchboard's version (always 1)",
                   ["version"], multiprocess_mode="max")
BUILD_INFO.labels(version()).set(1)
