"""The site's own public booking page (/book/{site}): its link carries a partner token whose
only channel is `web`, so anyone who opens it holds that token. It opens the page and books
through `web` only, and what it books is limited per client address like a kiosk's (a
partner app's back end, with its own token and channels, is not)."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from realtime.redisproc import EmbeddedRedis
from tests.integration.test_booking_http import TZ, today
from tests.integration.test_booking_support import sid
from tests.integration.test_security_review import demo_server


def _slot(i: int) -> str:
    return sid("r1", 2, f"{9 + i // 2:02d}:{30 * (i % 2):02d}", tz=TZ, today=today())


async def test_the_page_opens_for_a_web_token_only(redis: Redis, redis_server: EmbeddedRedis,
                                                  tmp_path: Path) -> None:
    async with demo_server(redis_server, tmp_path, booking=True) as s:
        web = s.token("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        page = await s.client.get(f"/book/demo?token={web}")
        assert page.status_code == 200 and '"booking_site"' in page.text
        assert '"max_open_bookings":3' in page.text and '"sms":false' in page.text
        app_only = s.token("partner", site="demo", channels=["app"])  # type: ignore[arg-type]
        for token in (app_only, s.token("kiosk", site="demo"),
                      s.token("partner", site="other", channels=["web"])):  # type: ignore[arg-type]
            r = await s.client.get(f"/book/demo?token={token}")
            assert r.status_code == 403 and '"code":"forbidden"' in r.text
        assert (await s.client.get("/book/demo")).status_code == 401
        # It books through web, not through the channels others hold places for.
        auth = {"Authorization": f"Bearer {web}"}
        r = await s.client.post("/v1/sites/demo/bookings", headers=auth, json={
            "slot": _slot(0), "customer": "+8613800138000", "channel": "phone"})
        assert r.status_code == 403
        r = await s.client.post("/v1/sites/demo/bookings", headers=auth, json={
            "slot": _slot(0), "customer": "+8613800138000", "channel": "web",
            "notify": "+8613800138000"})
        assert r.status_code == 201, r.text
        assert r.json()["manage"].startswith(f"/booking/{r.json()['id']}?token=")


async def test_a_public_web_token_is_limited_per_address_a_partner_app_is_not(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with demo_server(redis_server, tmp_path, booking=True, kiosk_rate_per_min=60,
                           kiosk_rate_burst=4) as s:
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        app = s.auth("partner", site="demo", subject="app-backend")
        codes = []
        for i in range(6):
            r = await s.client.post("/v1/sites/demo/bookings", headers=web, json={
                "slot": _slot(i), "customer": f"w{i}", "channel": "web"})
            codes.append(r.status_code)
        assert codes == [201] * 4 + [429] * 2, codes
        # A partner's back end books for its many users from one address: not limited.
        for i in range(6):
            r = await s.client.post("/v1/sites/demo/bookings", headers=app, json={
                "slot": _slot(i), "customer": f"a{i}", "channel": "web"})
            assert r.status_code == 201, r.text


async def test_the_public_token_books_but_acts_on_no_booking(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found in review: every copy of the public page's link holds the same token, so it
    could read (customer, code) and cancel any booking made through the page, given its id
    (printed in the QR people show). Now it only books; each booking is read and changed
    with its own token. Nor does a kiosk's (public) token read bookings."""
    async with demo_server(redis_server, tmp_path, booking=True) as s:
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        r = await s.client.post("/v1/sites/demo/bookings", headers=web, json={
            "slot": _slot(1), "customer": "+8613800138000", "channel": "web"})
        assert r.status_code == 201, r.text
        b = r.json()
        for method, path in (("GET", ""), ("POST", "/cancel"), ("POST", "/confirm")):
            got = await s.client.request(method, f"/v1/bookings/{b['id']}{path}", headers=web)
            assert got.status_code == 403, (method, path, got.text)
        kiosk = s.auth("kiosk", site="demo")
        assert (await s.client.get(f"/v1/bookings/{b['id']}", headers=kiosk)).status_code == 403
        own = {"Authorization": f"Bearer {b['token']}"}
        assert (await s.client.get(f"/v1/bookings/{b['id']}", headers=own)).json()[
            "status"] == "confirmed"
        assert (await s.client.post(f"/v1/bookings/{b['id']}/cancel", headers=own)).json()[
            "status"] == "cancelled"
