"""uvicorn's HTTP protocol with a deadline and a size limit for a request's headers.

uvicorn (0.55) starts its keep-alive timer only after a response, and cancels it on the
first byte of the next request: a client that connects and sends nothing, or trickles one
header line every few seconds, holds its connection (a file descriptor, a protocol object)
for ever. A few thousand such sockets from one laptop exhaust the server's descriptors and
every kiosk, board and phone of the building is refused. Here a request's headers must be
complete within ``SWITCHBOARD_HTTP_READ_TIMEOUT_S`` of the connection (or of the previous
response); otherwise the connection is closed. Websocket upgrades are complete requests
too, so a screen's long-lived connection is not touched once its handshake is read.

Nor does uvicorn's httptools protocol limit the headers' size: a client streaming header
lines pushed 1 GB into a server process in 2 s. A request's header bytes are counted before
they are parsed, whether they come in one read or many; past
``SWITCHBOARD_HTTP_MAX_HEADER_BYTES`` the answer is ``431 headers_too_large`` and the
connection closes (a body read in the same chunk as the end of the headers does not count,
nor does the rest of a body the server answered before reading: a 401 or 413 to a large
upload, whose remaining bytes uvicorn reads and drops).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeaderTimeoutProtocol(HttpToolsProtocol):
    # Set from the settings by realtime.app.create_app (every server process calls it).
    header_timeout_s: float = 15.0
    max_header_bytes: int = 65536

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._tail = b""  # the last bytes of the headers so far (an end split across reads)
        self._refused = False
        # The response went out before the request's body was all read (a 401 or 413 to a
        # large upload): what arrives until the body's end is that body, not the next
        # request's headers (counted as headers, it made the next request a 431).
        self._body_left = False

    def _arm(self) -> None:
        self._disarm()
        self._header_bytes = 0
        self._tail = b""
        self._body_left = False
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped until the close: the 431 reaches the client
        if self._header_deadline is not None and not self._body_left:  # the headers' time
            # Counted before parsing, up to the end of the headers when it is in this chunk
            # (headers that arrive whole in one read are held to the limit too). The end may
            # be split across reads: look for it in the last 3 bytes of the one before too.
            tail = self._tail
            end = (tail + data).find(b"\r\n\r\n")
            head = len(data) if end < 0 else max(0, end + 4 - len(tail))
            if self._header_bytes + head > self.max_header_bytes:
                if not self.transport.is_closing():
                    self._disarm()
                    self._refuse_431()
                return
            self._header_bytes += len(data)
            self._tail = (tail + data)[-3:]
        super().data_received(data)

    def _refuse_431(self) -> None:
        body = json.dumps({"code": "headers_too_large", "message": "request headers over "
                           f"{self.max_header_bytes} bytes",
                           "details": {"limit": self.max_header_bytes}}).encode()
        self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                             b"content-type: application/json\r\n"
                             b"content-length: " + str(len(body)).encode() + b"\r\n"
                             b"connection: close\r\n\r\n" + body)
        # A close with unread bytes would be a reset, which can destroy the answer in
        # flight: say we are done (FIN), drop what still comes, close a moment later.
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(2.0, self.transport.close)

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
            # The deadline runs from now (the rest of a body must come within it too), but
            # bytes are counted from the body's end.
            self._body_left = self.cycle.more_body

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._body_left:
            self._body_left = False
            self._header_bytes = 0
            self._tail = b""

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
