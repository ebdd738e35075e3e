"""A lean websocket client protocol for the load generator (RFC 6455, client side).

The generator holds thousands of connections per process and must not become the
bottleneck it measures, so this is an ``asyncio.Protocol`` with no task or queue per
connection: frames are parsed straight out of ``data_received`` and handed to a callback.
It does the opening handshake, answers pings, echoes a close, and sends masked frames. It
does no compression and no fragmentation on send (servers here send whole frames; incoming
fragments are reassembled). Used only against loopback servers the tool starts or is given.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from typing import Any

TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0

OnMessage = Callable[[bytes, int], None]


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame (clients must mask). The key is random, as RFC 6455 asks."""
    n = len(payload)
    head = bytes((0x80 | opcode,))
    if n < 126:
        head += bytes((0x80 | n,))
    elif n < 65536:
        head += struct.pack("!BH", 0x80 | 126, n)
    else:
        head += struct.pack("!BQ", 0x80 | 127, n)
    key = os.urandom(4)
    if n:
        k = int.from_bytes((key * (n // 4 + 1))[:n], "little")
        payload = (int.from_bytes(payload, "little") ^ k).to_bytes(n, "little")
    return head + key + payload


class WSClient(asyncio.Protocol):
    """One connection. ``on_message(payload, opcode)`` runs for each whole message."""

    def __init__(self, host: str, path: str, on_message: OnMessage,
                 subprotocol: str | None = None) -> None:
        self.host = host
        self.path = path
        self.subprotocol = subprotocol
        self.on_message = on_message
        self.on_close: Callable[[int | None], None] | None = None
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.close_code: int | None = None
        self._buf = bytearray()
        self._handshaken = False
        self._frag: list[bytes] = []
        self._frag_op = 0

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        if self.subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {self.subprotocol}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        if not self._handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[:end + 4]
            if b" 101 " not in status + b" ":
                self._fail(ConnectionError(f"handshake refused: {status.decode(errors='replace')}"))
                return
            self._handshaken = True
            if not self.opened.done():
                self.opened.set_result(None)
        self._parse(buf)

    def _parse(self, buf: bytearray) -> None:
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            head = 2
            if n == 126:
                if size - pos < 4:
                    break
                n = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2:pos + 10], "big")
                head = 10
            if b1 & 0x80:  # a server must not mask; tolerate it anyway
                head += 4
            if size - pos < head + n:
                break
            payload = bytes(buf[pos + head:pos + head + n])
            pos += head + n
            self._frame(b0 & 0x80, b0 & 0x0F, payload)
            if self.closed:
                break
        if pos:
            del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (TEXT, BINARY):
            if fin:
                self.on_message(payload, opcode)
            else:
                self._frag, self._frag_op = [payload], opcode
        elif opcode == CONT:
            self._frag.append(payload)
            if fin:
                data, self._frag = b"".join(self._frag), []
                self.on_message(data, self._frag_op)
        elif opcode == PING:
            self._write(client_frame(PONG, payload))
        elif opcode == CLOSE:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self._write(client_frame(CLOSE, payload[:2]))
            self._shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during handshake"))
        self._shutdown()

    # -- use -------------------------------------------------------------------------------

    def send_text(self, text: str | bytes) -> None:
        self._write(client_frame(TEXT, text.encode() if isinstance(text, str) else text))

    def send_binary(self, data: bytes) -> None:
        self._write(client_frame(BINARY, data))

    def close(self, code: int = 1000) -> None:
        if not self.closed and self.transport is not None:
            self._write(client_frame(CLOSE, struct.pack("!H", code)))
            self._shutdown()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self._shutdown()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _fail(self, exc: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc)
        if self.transport is not None:
            self.transport.close()
        self._shutdown()

    def _shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        if self.on_close is not None:
            self.on_close(self.close_code)


async def connect(url: str, on_message: OnMessage, subprotocol: str | None = None,
                  timeout_s: float = 30.0,
                  made: Callable[[WSClient], None] | None = None) -> WSClient:
    """Open ``ws://host:port/path?query`` and wait for the handshake. ``made`` sees the
    protocol before any frame arrives (the first frame may come with the handshake)."""
    if not url.startswith("ws://"):
        raise ValueError("only ws:// loopback URLs are supported")
    rest = url[5:]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    loop = asyncio.get_running_loop()

    def factory() -> WSClient:
        proto = WSClient(hostport, "/" + path, on_message, subprotocol)
        if made is not None:
            made(proto)
        return proto

    _, proto = await asyncio.wait_for(loop.create_connection(factory, host, int(port)),
                                      timeout_s)
    await asyncio.wait_for(proto.opened, timeout_s)
    return proto
