"""A mobile number proved by a code texted to it, for the public booking page.

The page's link carries a token anyone may hold (realtime.api.public_web): without a proof,
anyone could book in a stranger's number (filling their open bookings, learning whether
they have one) and have texts sent to it. So wherever texts can go (a notification webhook,
or the demo's outbox), ``POST /v1/sites/{site}/verify`` ``{"phone"}`` texts a 6-digit code,
and a booking through that token carries it (``Verification-Code`` header) with the number
as its customer. A code proves the number for ``CODE_TTL_S``; five wrong tries end it; a
number gets ``CODES_BURST`` codes, then one a minute, and ``CODES_PER_DAY`` in a day (and the
page's per-address budget): nobody can have a stranger texted all day from the site's number.
Codes are stored hashed (HMAC with the site and number), never in clear. A number is one
spelling (E.164, queueing/phone.py: "13800138000" and "+86 138 0013 8000" are one number at
a Chinese site), so its codes, tries and day are counted once whichever way it is typed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from queueing import keys, phone
from queueing.booking import delivery, langs, notify, texts
from queueing.errors import (
    Forbidden,
    NotFound,
    RateLimited,
    Unavailable,
    VerificationFailed,
    VerificationRequired,
)
from queueing.model import display_name
from realtime import ratelimit
from realtime.api import kiosk_budget, public_web
from realtime.auth import Principal
from realtime.body import json_body
from realtime.context import ctx, principal
from realtime.docs import Operation, register

CODE_TTL_S = 600
MAX_TRIES = 5
CODES_PER_MIN, CODES_BURST = 1, 3
CODES_PER_DAY = 10  # per number and site, from the first of them
DAY_S = 86400
PHONE = f"^{phone.PATTERN}$"  # as written; normalised before anything is counted


class VerifyRequest(msgspec.Struct, forbid_unknown_fields=True):
    phone: Annotated[str, msgspec.Meta(pattern=PHONE)]
    # The booking page's language: the code is texted in it where the site speaks it.
    lang: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")] | None = None


def required(request: Request, p: Principal) -> bool:
    """Whether a booking by ``p`` needs a proved number: the public page's token, where
    texts can go and the site has not turned it off."""
    s = ctx(request).settings
    return public_web(p) and s.web_booking_verify and bool(s.notify_webhook_url or s.demo)


def _key(site: str, phone: str) -> str:
    return keys.prefix(site) + "vf:" + phone


def _digest(secret: str, site: str, phone: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{site}|{phone}|{code}".encode(),
                    hashlib.sha256).hexdigest()


# KEYS[1]: the number's code; ARGV[1]: the digest tried, ARGV[2]: MAX_TRIES. The try is
# counted before it is compared, in one step: guesses sent at once are each counted, so
# five wrong ones end the code whatever their timing (read, compare, then count let a burst
# of concurrent guesses all be compared). A right one gives its count back. 1: the code;
# 0: wrong (or no code out); -1: wrong, and the code is ended.
TRY = """
local want = redis.call('HGET', KEYS[1], 'h')
if not want then return 0 end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries > tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]); return -1 end
if want == ARGV[1] then redis.call('HINCRBY', KEYS[1], 'tries', -1); return 1 end
if tries >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]); return -1 end
return 0
"""


async def check(request: Request, site: str, phone: str, code: str | None) -> None:
    """Pass if ``code`` is the one texted to ``phone`` (in E.164: queueing/phone.py) and
    still valid; a wrong one counts against the number's tries (the fifth ends the code)."""
    if not code:
        raise VerificationRequired("book with the code texted to the number "
                                   "(POST /v1/sites/{site}/verify, then the Verification-"
                                   "Code header)", field="phone")
    c = ctx(request)
    script = c.redis.register_script(TRY)  # EVALSHA; the script is sent only once
    got = int(await script(keys=[_key(site, phone)],
                           args=[_digest(c.secret, site, phone, code.strip()), MAX_TRIES]))
    if got == 1:
        return
    if got < 0:
        raise VerificationFailed("wrong code, and too many tries: ask for a new code")
    raise VerificationFailed("this is not the code texted to that number, or it has expired")


async def send_code(request: Request) -> Response:
    """``POST /v1/sites/{site}/verify`` ``{"phone"}``: text a code to the number."""
    site = request.path_params["site"]
    p = principal(request)
    p.require("partner", site=site)
    if not p.is_admin and "web" not in p.channels:
        raise Forbidden("codes are for the web channel's booking page", role=p.role)
    c = ctx(request)
    body = await json_body(request, VerifyRequest, c.settings.max_body_bytes)
    if not (c.settings.web_booking_verify and (c.settings.notify_webhook_url or c.settings.demo)):
        raise NotFound("this site sends no texts: bookings need no code")
    cfg = await c.engine.config(site)
    # Before any budget is taken: a number that is none costs nothing and stores nothing.
    number = phone.normalise(body.phone, cfg.phone_region())
    await kiosk_budget(request, p, site)
    await ratelimit.take(c.redis, "verify", site, number, CODES_PER_MIN, CODES_BURST,
                         what="codes to this number")
    await _site_budget(c.redis, site, c.settings.verify_codes_per_site_day)
    await _day_budget(c.redis, site, number)
    code = f"{secrets.randbelow(1_000_000):06d}"
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    names = texts.PerLanguage({lang: display_name(cfg.name, lang, site)
                               for lang in cfg.languages or ["en"]})
    note = notify.Notification(
        id=f"{site}:verify:{secrets.token_hex(8)}", kind="verify", site=site, to=number,
        text=texts.render("verify", cfg.languages, code=code, site=names),
        at=notify.local_iso(now_ms, cfg.timezone), data={"code": code},
        valid_until=notify.local_iso(now_ms + CODE_TTL_S * 1000, cfg.timezone),
        lang=langs.pick(body.lang, cfg.languages))
    key = _key(site, number)
    pipe = c.redis.pipeline(transaction=True)
    pipe.delete(key)
    pipe.hset(key, mapping={"h": _digest(c.secret, site, number, code), "tries": 0})
    pipe.expire(key, CODE_TTL_S)
    await pipe.execute()
    notifier = _notifier(request)
    try:
        await notifier.send(note)
    except notify.NotifyFailed as exc:
        await delivery.failed(c.redis, note.id, note.kind, now_ms)
        await delivery.given_up(c.redis, note.id, note.kind)  # the page asks for another
        await c.redis.delete(key)
        raise Unavailable("the text could not be sent; try again in a moment",
                          retry_after_s=10) from exc
    finally:
        await notifier.aclose()
    await delivery.sent(c.redis, note.id, note.kind)
    out: dict[str, Any] = {"sent": True, "expires_in_s": CODE_TTL_S}
    if not c.settings.notify_webhook_url:
        # The demo (no gateway): the text goes to its outbox, and the page shows it, since
        # no phone will get it (a demo's outbox is read with a token its front page lists).
        out["demo_text"] = note.text
    return Response(msgspec.json.encode(out), status_code=202, media_type="application/json")


# KEYS[1]: the number's day count. Counts one code; answers 0, or the seconds until the day
# that began with the number's first code ends, once CODES_PER_DAY (ARGV[1]) have gone.
DAY = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
  return ttl
end
return 0
"""


async def _day_budget(redis: Any, site: str, phone: str) -> None:
    """At most ``CODES_PER_DAY`` codes to a number in a day (one a minute is 1,440)."""
    script = redis.register_script(DAY)
    wait = int(await script(keys=[_key(site, phone) + ":day"], args=[CODES_PER_DAY, DAY_S]))
    if wait > 0:
        raise RateLimited(f"{CODES_PER_DAY} codes were texted to this number today; retry in "
                          f"{wait} s", retry_after_s=wait, limit_per_day=CODES_PER_DAY)


async def _site_budget(redis: Any, site: str, per_day: int) -> None:
    """At most ``per_day`` codes from a site in a day, whatever the numbers: many addresses
    asking codes for many numbers (SMS pumping, at the site's cost) stop there. 0: no cap."""
    if per_day <= 0:
        return
    script = redis.register_script(DAY)
    wait = int(await script(keys=[keys.prefix(site) + "vf:day"], args=[per_day, DAY_S]))
    if wait > 0:
        raise RateLimited(f"this site has texted its {per_day} codes for today; retry in "
                          f"{wait} s", retry_after_s=wait, limit_per_day=per_day)


def _notifier(request: Request) -> Any:
    """The gateway's webhook, or in the demo its outbox (the phone page shows the text)."""
    c = ctx(request)
    s = c.settings
    if s.notify_webhook_url:
        return notify.from_settings(s.notify_webhook_url, s.notify_webhook_secret,
                                    s.notify_timeout_s)
    return notify.OutboxNotifier(c.redis)


ROUTES: list[BaseRoute] = [Route("/v1/sites/{site}/verify", send_code, methods=["POST"])]

register(
    Operation("post", "/v1/sites/{site}/verify", "Text a 6-digit code to a mobile number "
              "(the public booking page: a booking through a web-only partner token then "
              "carries it in the Verification-Code header, with the number as customer). "
              "202 {sent, expires_in_s} (the demo, with no gateway: and demo_text, what the text "
              "says); 404 where the site sends no texts",
              "a partner token of the site with the web channel", VerifyRequest, 202,
              ("bad_request", "forbidden", "not_found", "rate_limited", "unavailable")),
)
