"""Keeps bearer tokens out of logs.

Pages, QR links and websocket URLs carry their token in the query string (``?token=…``:
a display screen or a phone's tracker cannot set a header), and uvicorn logs every request
line and websocket handshake with it. A log file is read by more people than a token
should be, and a board's token lasts a year, so every handler ``serve`` sets up runs this
filter: ``token=eyJ…`` is logged as ``token=[redacted]``. So are tokens inside a URL-encoded
link (once or twice encoded), as in the kiosk's QR request for a ticket's tracker link:
``/qr.svg?data=…%3Ftoken%3DeyJ…`` is logged as ``…%3Ftoken%3D[redacted]``.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_TOKEN = re.compile(r"((?:^|[?&\s]|%3F|%26|%253F|%2526)(?:access_)?token(?:=|%3D|%253D))"
                    r"(?:(?!%26|%2526)[^&\s\"'])+", re.IGNORECASE)


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "token" in record.msg.lower():
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up with the filter on both of its handlers (a dict, so the
    worker processes of ``--workers N`` set it up the same way)."""
    from uvicorn.config import LOGGING_CONFIG
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": f"{__name__}.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config
