"""Texts about a booking carry a short link to the person's own page (realtime/links.py):
the same link in every text about one booking, not guessable, redirecting (GET /s/{code})
to /booking/{id} with the booking's own token, which opens the page; none where the server
has no public address (a link to 127.0.0.1 in a text would be worse than none)."""

from __future__ import annotations

from pathlib import Path

import jwt
from redis.asyncio import Redis

from queueing import keys
from queueing.booking import texts
from queueing.booking.engine import BookingEngine
from queueing.booking.tasks import Services, fire_due
from realtime.links import Links, short_code
from tests.integration.conftest import SECRET, Clock, Server
from tests.integration.test_booking_flow import FlakyNotifier, bk, start_of  # noqa: F401
from tests.integration.test_booking_support import KIOSK, req, sid

BASE = "https://q.example.org"


async def test_a_reminder_carries_the_booking_pages_short_link(bk: BookingEngine,  # noqa: F811
                                                                redis: Redis,
                                                                clock: Clock) -> None:
    slot = sid("r1", 3, "10:00")
    b = (await bk.book("demo", req(slot, "p1", notify="+8613800138000"), KIOSK)).booking
    start = await start_of(bk, slot)
    notifier = FlakyNotifier(failing="")
    links = Links(redis, SECRET, BASE + "/", 86400)
    clock.now = start - 7200_000  # both reminders due
    assert await fire_due(Services(redis, bk, notifier, links=links.booking), "demo") == 2
    assert len(notifier.sent) == 2
    urls = {n.data["link"] for n in notifier.sent}
    assert len(urls) == 1  # one link per booking
    url = urls.pop()
    code = short_code(SECRET, f"booking:{b['id']}")
    assert url == f"{BASE}/s/{code}" and len(code) == 11
    for n in notifier.sent:
        assert n.text["en"].endswith(f"Your appointment: {url}")
        assert n.text["zh"].endswith(f"查看或改约：{url}")
    target = (await redis.get(keys.short_link(code))).decode()
    token = target.removeprefix(f"/booking/{b['id']}?token=")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert (claims["role"], claims["booking"], claims["site"]) == ("booking", b["id"], "demo")
    # It lasts until a day after the appointment ends, however soon the reminder comes.
    assert await redis.ttl(keys.short_link(code)) > (start - clock.now) // 1000 + 86000


async def test_no_public_address_no_link(bk: BookingEngine, redis: Redis,  # noqa: F811
                                         clock: Clock) -> None:
    slot = sid("r1", 3, "10:30")
    await bk.book("demo", req(slot, "p2", notify="+8613800138001"), KIOSK)
    notifier = FlakyNotifier(failing="")
    clock.now = await start_of(bk, slot) - 7200_000
    links = Links(redis, SECRET, None, 86400)
    await fire_due(Services(redis, bk, notifier, links=links.booking), "demo")
    assert notifier.sent and all("link" not in n.data and "/s/" not in n.text["en"]
                                 for n in notifier.sent)


async def test_the_short_link_opens_the_booking_page(server: Server, redis: Redis) -> None:
    """What a text's link does on a phone: /s/{code} redirects to the booking's page, which
    opens with its token; an unknown code is a page that says the link has gone."""
    b = {"id": "demo.0123456789ab", "site": "demo", "end_ms": 4102444800000}
    url = await Links(redis, SECRET, BASE, 86400).booking(b, 1_700_000_000_000)
    assert url is not None
    r = await server.client.get(url.removeprefix(BASE))
    assert r.status_code == 302
    assert r.headers["location"].startswith("/booking/demo.0123456789ab?token=")
    gone = await server.client.get("/s/AAAAAAAAAAA")
    assert gone.status_code == 404


def test_the_link_sentence_follows_each_language() -> None:
    text = {"en": "Reminder.", "zh": "提醒。", "zh-TW": "提醒。", "fr": "Rappel."}
    out = texts.with_link(text, "https://x/s/abc")
    assert out == {"en": "Reminder. Your appointment: https://x/s/abc",
                   "zh": "提醒。查看或改约：https://x/s/abc",
                   "zh-TW": "提醒。查看或改约：https://x/s/abc",
                   "fr": "Rappel. Your appointment: https://x/s/abc"}


def test_the_worker_signs_links_with_the_servers_key(tmp_path: Path) -> None:
    """A worker started with the server's --data-dir signs with the key `serve` generated
    there (a link signed with another key would not open the page); no public address or no
    key known: no links, and the worker still runs."""
    from realtime.auth import load_secret
    from realtime.settings import Settings
    from realtime.worker import _link_secret
    key = load_secret(None, tmp_path)  # what `switchboard serve` makes on first start
    assert _link_secret(Settings(data_dir=str(tmp_path), public_url=BASE)) == key
    assert _link_secret(Settings(data_dir=str(tmp_path), public_url=BASE, secret=SECRET)) == SECRET
    assert _link_secret(Settings(data_dir=str(tmp_path))) == ""
    assert _link_secret(Settings(data_dir=str(tmp_path / "none"), public_url=BASE)) == ""
