"""uvicorn's HTTP protocol with a deadline for a request's headers (slowloris).

uvicorn (0.55) starts its keep-alive timer only after a response, and cancels it on the
first byte of the next request: a client that connects and sends nothing, or trickles one
header line every few seconds, holds its connection (a file descriptor, a protocol object)
for ever. A few thousand such sockets from one laptop exhaust the server's descriptors and
every kiosk, board and phone of the building is refused. Here a request's headers must be
complete within ``SWITCHBOARD_HTTP_READ_TIMEOUT_S`` of the connection (or of the previous
response); otherwise the connection is closed. Websocket upgrades are complete requests
too, so a screen's long-lived connection is not touched once its handshake is read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderTimeoutProtocol(HttpToolsProtocol):
    # Set from the settings by realtime.app.create_app (every server process calls it).
    header_timeout_s: float = 15.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle.response_complete:
            self._arm()  # the next request's headers (keep-alive) are held to it as well

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
