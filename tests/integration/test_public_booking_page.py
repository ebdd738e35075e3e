"""The site's own public booking page (/book/{site}): its link carries a partner token whose
only channel is `web`, so anyone who opens it holds that token. It opens the page and books
through `web` only, and what it books is limited per client address like a kiosk's (a
partner app's back end, with its own token and channels, is not)."""

from __future__ import annotations

from pathlib import Path

import msgspec
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


async def _code(redis: Redis, phone: str) -> str:
    """The last code the demo's outbox holds for ``phone`` (what the phone would show): the
    outbox is the number's in E.164, as the demo (Asia/Shanghai, so CN) reads it."""
    from queueing import keys
    from queueing.phone import normalise
    raw = await redis.lrange(keys.sms_outbox("demo", normalise(phone, "CN")), -1, -1)
    n = msgspec.json.decode(raw[0])
    assert n["kind"] == "verify" and n["text"]["en"].startswith(n["data"]["code"])
    return str(n["data"]["code"])


async def test_where_texts_can_go_the_page_books_for_a_proved_number(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found in review: anyone holding the page's link could book in a stranger's number
    (filling their open bookings, learning whether they had one) and have texts sent to it.
    Where texts can go (here the demo's outbox), a booking through the page needs the code
    texted to the number: wrong codes are refused and the fifth ends the code."""
    async with demo_server(redis_server, tmp_path, booking=True, demo=True) as s:
        c = s.client
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        phone = "13800138123"
        body = {"slot": _slot(2), "customer": phone, "channel": "web", "notify": phone}
        r = await c.post("/v1/sites/demo/bookings", headers=web, json=body)
        assert (r.status_code, r.json()["code"]) == (403, "verification_required")
        r = await c.post("/v1/sites/demo/verify", headers=web, json={"phone": phone})
        assert r.status_code == 202
        code = await _code(redis, phone)
        # The demo (no gateway) shows what the text says, since no phone gets it.
        assert r.json() == {"sent": True, "expires_in_s": 600, "demo_text": {
            "zh": f"{code} 是您在示范社区诊所预约的验证码，10 分钟内有效。如非本人操作，请忽略。",
            "en": f"{code} is your code to book at Demo Community Clinic. It is valid for 10 "
                  "minutes. If you did not ask for it, ignore this text."}}
        wrong = str((int(code) + 1) % 1_000_000).zfill(6)
        r = await c.post("/v1/sites/demo/bookings", json=body,
                         headers={**web, "Verification-Code": wrong})
        assert (r.status_code, r.json()["code"]) == (403, "verification_failed")
        # Texts go to the proved number only; the booking is for it.
        r = await c.post("/v1/sites/demo/bookings", json={**body, "notify": "13900000000"},
                         headers={**web, "Verification-Code": code})
        assert r.status_code == 403
        r = await c.post("/v1/sites/demo/bookings", json=body,
                         headers={**web, "Verification-Code": code})
        assert r.status_code == 201, r.text
        # Five wrong tries end a code: the right one no longer works.
        other = "13800138124"
        await c.post("/v1/sites/demo/verify", headers=web, json={"phone": other})
        good = await _code(redis, other)
        bad = str((int(good) + 1) % 1_000_000).zfill(6)
        body2 = {"slot": _slot(3), "customer": other, "channel": "web"}
        for _ in range(5):
            r = await c.post("/v1/sites/demo/bookings", json=body2,
                             headers={**web, "Verification-Code": bad})
            assert r.status_code == 403
        r = await c.post("/v1/sites/demo/bookings", json=body2,
                         headers={**web, "Verification-Code": good})
        assert (r.status_code, r.json()["code"]) == (403, "verification_failed")
        # Three codes to a number, then one a minute.
        answers = [(await c.post("/v1/sites/demo/verify", headers=web,
                                 json={"phone": "13800138125"})).status_code for _ in range(4)]
        assert answers == [202, 202, 202, 429]
        # A partner app's own back end proves its users itself: no code asked.
        app = s.auth("partner", site="demo", subject="app-backend")
        r = await c.post("/v1/sites/demo/bookings", headers=app, json={
            "slot": _slot(4), "customer": "app-user-1", "channel": "app"})
        assert r.status_code == 201, r.text


async def test_no_texts_no_codes(redis: Redis, redis_server: EmbeddedRedis,
                                 tmp_path: Path) -> None:
    """Where no text can go, no code can be asked: the page books as before."""
    async with demo_server(redis_server, tmp_path, booking=True) as s:
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        r = await s.client.post("/v1/sites/demo/verify", headers=web,
                                json={"phone": "13800138000"})
        assert r.status_code == 404
        for bad in ({"phone": "12"}, {"phone": 13800138000}, {"phone": "1", "x": 1}):
            r = await s.client.post("/v1/sites/demo/verify", headers=web, json=bad)
            assert r.status_code == 400, bad


async def test_through_a_gateway_the_code_goes_by_text_only(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """With an SMS gateway (a signed webhook), the code goes to the number through it and
    nowhere else (no demo text in the answer); a gateway that refuses is a 503 to retry, and
    the code it did not carry does not work."""
    import time

    from queueing.booking.notify import verify_signature
    from tests.integration.test_notif_webhook import SECRET as HOOK_SECRET
    from tests.integration.test_notif_webhook import receiver
    async with receiver() as rec, demo_server(
            redis_server, tmp_path, booking=True, notify_webhook_url=rec.url,
            notify_webhook_secret=HOOK_SECRET) as s:
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        r = await s.client.post("/v1/sites/demo/verify", headers=web,
                                json={"phone": "+8613800138222"})
        assert r.status_code == 202 and r.json() == {"sent": True, "expires_in_s": 600}
        headers, body = rec.got[-1]
        assert verify_signature(HOOK_SECRET, headers, body, time.time())
        n = msgspec.json.decode(body)
        assert (n["kind"], n["to"]) == ("verify", "+8613800138222")
        code = n["data"]["code"]
        r = await s.client.post("/v1/sites/demo/bookings", json={
            "slot": _slot(5), "customer": "+8613800138222", "channel": "web"},
            headers={**web, "Verification-Code": code})
        assert r.status_code == 201, r.text
        rec.status = 500  # the gateway is down
        r = await s.client.post("/v1/sites/demo/verify", headers=web,
                                json={"phone": "+8613800138223"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "10"
        lost = msgspec.json.decode(rec.got[-1][1])["data"]["code"]
        r = await s.client.post("/v1/sites/demo/bookings", json={
            "slot": _slot(6), "customer": "+8613800138223", "channel": "web"},
            headers={**web, "Verification-Code": lost})
        assert (r.status_code, r.json()["code"]) == (403, "verification_failed")
