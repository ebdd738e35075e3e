"""Handing the C heap's free pages back to the system (glibc's ``malloc_trim``).

A process whose live memory is flat can still see its resident size creep. The arq worker
did, +1.8 MB/h in the soak: its Python objects and glibc's bytes in use stayed level while
glibc's main heap grew by 132 KB about once a minute, all of it free space (docs/benchmarks.md,
"Soak", the worker). The cause is asyncio's selector transport, which reads every socket with
``sock.recv(256 KiB)``: each read of a Redis reply allocates 256 KiB and shrinks it to the
bytes received. Only the top of the heap has 256 KiB free in one piece, so each read is
placed there, and what is allocated next to it and outlives it keeps the top from coming
down; the pieces left below are free but resident, and ``free`` returns memory only from
the top. ``malloc_trim(0)`` releases every whole free page anywhere in the heap
(``madvise(MADV_DONTNEED)``), so resident memory follows what is in use.

Only glibc has it: elsewhere (musl, macOS) ``trim`` does nothing and says so.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
from collections.abc import Callable

TRIM_EVERY_S = 60.0


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        fn = ctypes.CDLL(None).malloc_trim  # the C library this process runs on
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def available() -> bool:
    return _malloc_trim() is not None


def trim() -> bool:
    """Release the heap's free pages; True if any memory went back to the system."""
    fn = _malloc_trim()
    return fn is not None and fn(0) == 1


async def trim_every(period_s: float | None = None) -> None:
    """``trim`` every ``period_s`` (default ``TRIM_EVERY_S``) until cancelled, on the event
    loop: the heap is a few tens of MB."""
    if not available():
        return
    while True:
        await asyncio.sleep(TRIM_EVERY_S if period_s is None else period_s)
        trim()
