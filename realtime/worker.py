"""The arq worker: ``switchboard worker`` runs background jobs (reminders, dispatch
recomputes) against the same Redis as the server.

Task modules add their functions and cron jobs to ``FUNCTIONS`` and ``CRON_JOBS`` here.
"""

from __future__ import annotations

import time
from typing import Any

from arq import cron
from arq.connections import RedisSettings

from realtime.settings import from_env

HEARTBEAT_KEY = "sb:worker:heartbeat"


async def heartbeat(ctx: dict[str, Any]) -> None:
    """Record that a worker is alive (readable by operators and health checks)."""
    await ctx["redis"].set(HEARTBEAT_KEY, int(time.time() * 1000), ex=180)


FUNCTIONS: list[Any] = [heartbeat]
CRON_JOBS: list[Any] = [cron(heartbeat, second={0, 30}, run_at_startup=True)]


def redis_settings() -> RedisSettings:
    settings = from_env()
    url = settings.redis_url or f"unix://{settings.data_path / 'redis.sock'}"
    if url.startswith("unix://"):
        return RedisSettings(unix_socket_path=url[len("unix://"):])
    return RedisSettings.from_dsn(url)


class WorkerSettings:
    functions = FUNCTIONS
    cron_jobs = CRON_JOBS
    redis_settings = redis_settings()
    max_jobs = 50
    job_timeout = 300
