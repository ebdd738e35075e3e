"""Loading the demo site and telling a new user what to open."""

from __future__ import annotations

import logging
import shlex
import sys
import time
from pathlib import Path

from queueing import keys
from queueing.booking.engine import BookingEngine
from queueing.demo import DEMO_SITE, demo_booking, demo_site
from queueing.engine import Actor, Engine
from queueing.errors import BookingNotConfigured, UnknownSite
from queueing.numbering import local_day
from queueing.store import Store
from realtime.app import connect
from realtime.auth import make_token
from realtime.settings import Settings

log = logging.getLogger("switchboard")


async def load_demo(settings: Settings) -> dict[str, str]:
    """PUT the demo clinic (idempotent), open its counters, and return ready page links."""
    redis = connect(settings.redis_url or "")
    try:
        engine = Engine(Store(redis))
        who = Actor("demo-loader", "demo")
        cfg = demo_site()
        # A clinic closes at night: what is still open at 03:00 is closed by the worker, so
        # the morning starts with an empty queue and numbers from 001.
        cfg.policy.day_close = "03:00"
        # Only on first start: a restart must find the site, its counters and its booking
        # schedule as the operators left them (delete the data folder to start afresh).
        try:
            await engine.config(DEMO_SITE)
        except UnknownSite:
            await engine.put_site(DEMO_SITE, cfg, who)
            for c in cfg.counters:
                await engine.counter_op(DEMO_SITE, c.id, "open", who)
        bookings = BookingEngine(engine)
        try:
            await bookings.schedule(DEMO_SITE, fresh=True)
        except BookingNotConfigured:
            # Every day of the week, so there are slots whenever the demo runs.
            await bookings.put_config(DEMO_SITE, demo_booking(), who)
        await _dispatch_demo(redis)
        await redis.set(keys.DEMO, 1)  # the worker keeps texts for the demo's phone page
    finally:
        await redis.aclose()
    secret = settings.secret or ""
    today = local_day(int(time.time() * 1000), demo_site().timezone)
    ttl = 7 * 86400
    admin = make_token(secret, "admin", ttl_s=ttl)
    # Screens and kiosks are set up once from these links: they last as long as any
    # display/kiosk token (SWITCHBOARD_DEVICE_TOKEN_TTL_S), not a week.
    device_ttl = settings.device_token_ttl_s
    display = make_token(secret, "display", site=DEMO_SITE, ttl_s=device_ttl)
    kiosk = make_token(secret, "kiosk", site=DEMO_SITE, ttl_s=device_ttl)
    agent = make_token(secret, "agent", site=DEMO_SITE, counter="1", ttl_s=ttl)
    partner = make_token(secret, "partner", site=DEMO_SITE, ttl_s=ttl)
    supervisor = make_token(secret, "supervisor", site=DEMO_SITE, ttl_s=ttl)
    gateway = make_token(secret, "partner", site=DEMO_SITE, subject="demo-sms-gateway",
                         channels=["sms"], ttl_s=ttl)
    return {
        "Home / 首页": "/",
        "Display board / 叫号屏": f"/board/{DEMO_SITE}?token={display}",
        "Kiosk / 取号机": f"/kiosk/{DEMO_SITE}?token={kiosk}",
        "Counter 1 console / 1号窗口": f"/counter/{DEMO_SITE}/1?token={agent}",
        "Floor overview / 现场总览": f"/supervise/{DEMO_SITE}?token={supervisor}",
        "Text to join (phone) / 短信取号": f"/phone/{DEMO_SITE}?token={gateway}",
        "API docs / 接口文档": "/docs",
        "Availability / 可预约": f"/v1/sites/{DEMO_SITE}/availability?service=lab&date="
                                 f"{today}&token={partner}",
        "Admin token": admin,
        "Partner token": partner,
        **_dispatch_tokens(secret, ttl),
    }


async def forget_demo(settings: Settings) -> bool:
    """``serve`` without ``--demo``: the data is no longer the demo's, even if this folder (or
    this Redis) once ran it. The demo's flag made the worker keep every text for the demo's
    phone page instead of logging it, for ever; it goes now. True when there was one."""
    redis = connect(settings.redis_url or "")
    try:
        if not await redis.delete(keys.DEMO):
            return False
    finally:
        await redis.aclose()
    log.warning("this data once ran the demo (serve --demo): its texts outbox is off now; "
                "restart a worker already running, so that it sends or logs them again")
    return True


async def _dispatch_demo(redis: object) -> None:
    """Dispatch region 'city' (dispatch/demo.py): technicians, jobs, an enterprise batch."""
    from dispatch import demo
    from dispatch.engine import DispatchEngine
    from dispatch.store import Store as DispatchStore
    from dispatch.tasks import ArqEnqueuer, arq_redis
    eng = DispatchEngine(DispatchStore(redis),  # type: ignore[arg-type]
                         enqueuer=ArqEnqueuer(arq_redis(redis)))
    await demo.load(eng, int(time.time() * 1000))


def _dispatch_tokens(secret: str, ttl: int) -> dict[str, str]:
    from dispatch import demo
    return {
        "City dispatcher token": make_token(secret, "dispatcher", region=demo.REGION,
                                           ttl_s=ttl),
        "Technician city.t1 token": make_token(secret, "tech", tech="city.t1", ttl_s=ttl),
        "ACME org token": make_token(secret, "org", org=demo.ORG, ttl_s=ttl),
    }


def own_command(module: str, script: str | None = None) -> str:
    """How to run ``module`` with this very Python, whatever the shell's PATH: the console
    ``script`` beside ``sys.executable`` (the virtual environment's bin folder), else
    ``sys.executable -m module``. A bare ``switchboard`` or ``python`` is "command not found"
    or a Python without Switchboard's packages in a shell that never activated the venv.
    ``sys.executable`` is not resolved: the venv's python is a link out of the venv."""
    here = Path(sys.executable).parent
    if script and (here / script).is_file():
        return shlex.quote(str(here / script))
    return f"{shlex.quote(sys.executable)} -m {module}"


def next_commands(settings: Settings, base: str) -> list[str]:
    """The worker and the device simulator, pointed at this server and its Redis (a command
    printed without them would look in ./switchboard-data and at port 8000), run by this
    server's own Python (own_command)."""
    embedded = f"unix://{settings.data_path / 'redis.sock'}"
    if settings.redis_url and settings.redis_url != embedded:
        where = f"--redis-url {shlex.quote(settings.redis_url)}"
    else:
        where = f"--data-dir {shlex.quote(str(settings.data_path.resolve()))}"
    # Texts carry links to people's pages only where the worker knows the public address:
    # here, this demo server's.
    env = "" if settings.public_url else f"SWITCHBOARD_PUBLIC_URL={shlex.quote(base)} "
    worker = own_command("realtime.cli", "switchboard")
    sim = own_command("clients.device_sim")
    return [f"{env}{worker} worker {where}"
            "    # reminders, recomputes, offer timeouts / 后台任务",
            f"{sim} --base {base} --token <city dispatcher token> "
            "--region city    # drives the technicians / 模拟技师设备"]


def print_welcome(settings: Settings, pages: dict[str, str]) -> None:
    base = f"http://{settings.host}:{settings.port}"
    print("\nSwitchboard demo is loaded: site 'demo' (a clinic, 5 services, 6 counters).")
    print("Open / 打开:")
    for label, path in pages.items():
        value = path if label.endswith("token") else base + path
        print(f"  {label:28} {value}")
    print("Dispatch region 'city' (8 technicians, calls and an ACME batch) is loaded too.")
    print("Run beside it / 另开终端运行:")
    for line in next_commands(settings, base):
        print(f"  {line}")
    print("Start both together: with the worker but no simulator, nobody answers the offers;\n"
          "each goes to the next technician after 2 min and the job finally waits as\n"
          "unassignable (POST /v1/jobs/{id}/retry with the dispatcher token offers it again).\n"
          "两者一起启动：只有 worker 没有模拟器时无人接单，\n"
          "工单最终变为无法派单（可用 retry 重新派单）。")
    print("Stop with Ctrl-C.\n", flush=True)
