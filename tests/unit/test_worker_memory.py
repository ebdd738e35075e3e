"""The worker hands its C heap's free pages back (realtime/heap.py): its live memory is flat
under the soak, but glibc's heap kept growing by free space between live blocks, which
resident memory counts (docs/benchmarks.md, "Soak")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from realtime import heap, worker

glibc = pytest.mark.skipif(not heap.available(), reason="malloc_trim is glibc's")


@glibc
def test_trim_releases_free_pages_between_live_blocks() -> None:
    # Blocks of 64 KB (below glibc's mmap threshold: from the heap) with a small block kept
    # after each: once the big ones are freed, 25 MB lie free *between* live blocks, where
    # free() never returns memory; only malloc_trim hands those pages back.
    big, kept = [], []
    for _ in range(400):
        big.append(bytearray(64 * 1024))
        kept.append(bytearray(1024))
    del big
    assert heap.trim() is True
    assert len(kept) == 400


def test_trim_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    # A C library without malloc_trim (musl, macOS): the lookup fails as ctypes fails there.
    class NoTrim:
        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)

    heap._malloc_trim.cache_clear()
    monkeypatch.setattr(heap.ctypes, "CDLL", lambda _name: NoTrim())
    try:
        assert heap.available() is False
        assert heap.trim() is False
    finally:
        heap._malloc_trim.cache_clear()


async def test_every_worker_process_trims_its_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    # A step of each process's start-up, not an arq cron job: a cron job runs in one worker.
    assert worker.heap_start in worker.ON_STARTUP
    assert worker.heap_stop in worker.ON_SHUTDOWN
    assert "heap_trim" not in {getattr(c, "name", "") for c in worker.CRON_JOBS}
    calls: list[bool] = []
    real = heap.trim

    def counted() -> bool:
        calls.append(real())
        return calls[-1]

    monkeypatch.setattr(heap, "trim", counted)
    monkeypatch.setattr(heap, "TRIM_EVERY_S", 0.01)
    ctx: dict[str, Any] = {}
    await worker.heap_start(ctx)
    task = ctx["heap_trim"]
    await asyncio.sleep(0.1)
    assert not task.done()
    assert len(calls) >= 3 or not heap.available()
    await worker.heap_stop(ctx)
    assert task.cancelled() and "heap_trim" not in ctx


def test_the_worker_runs_on_uvloop() -> None:
    """asyncio's own loop reads each socket into a fresh 256 KiB buffer, which left the
    worker's heap growing by free space; the worker runs on uvloop, as the server does."""
    pytest.importorskip("uvloop")
    import uvloop

    from realtime.cli import worker_loop
    loop = worker_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
