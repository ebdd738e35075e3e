"""The language a person chose on the page that left their ``notify`` target.

A kiosk's "text me before my turn" and the booking page know the language the person is
reading; that choice beats the SMS-history rule (docs/sms.md), which only knows numbers that
texted the site. A language the site does not speak is dropped, not refused: every page
offers Chinese and English, and a site with texts in Chinese only must still send them
rather than cost the person their alert or booking (the existing rule then applies).

A phone-line or desk ticket (``POST /v1/sites/{site}/tickets`` with ``notify``) may carry
``lang`` too: there staff choose it, so one the site does not speak is refused (``required``:
400 ``bad_request``, ``details.reason: unsupported_language``, ``details.allowed``), not
dropped; the person would otherwise get texts in a language nobody asked for. A ticket
taken by text needs none: its alerts go in the language its number last wrote in (Chinese
characters: zh; realtime/sms_api.py keeps it per number, the notification watcher reads it).

Where it is kept: a booking's in its own hash (``lang``, written by book.lua with it, so
the ``booking_*`` events carry it); a ticket's beside it, under ``nt:lang:<ticket>`` for as
long as a ticket's alerts can go (the ticket engine's scripts are not ours to change).
"""

from __future__ import annotations

from redis.asyncio import Redis

from queueing import keys, sms
from queueing.errors import BadRequest

TICKET_TTL_S = 2 * 86400  # a ticket ends with its day (close-day)


def pick(lang: str | None, languages: list[str] | tuple[str, ...]) -> str | None:
    """``lang`` as one of the site's own tags ("en" → "en-GB"), or None: none given, or
    one the site does not speak."""
    return None if not lang else sms.site_language(lang, languages)


def required(lang: str | None, languages: list[str] | tuple[str, ...]) -> str | None:
    """``lang`` as one of the site's own tags (``pick``); None for none given; a language
    the site does not speak: ``BadRequest`` (``details.reason: unsupported_language``)."""
    if not lang:
        return None
    found = pick(lang, languages)
    if found is None:
        raise BadRequest(f"lang: the site's texts are in {', '.join(languages)}, not {lang!r}",
                         field="lang", reason="unsupported_language", allowed=list(languages))
    return found


def _key(site: str, ticket_id: str) -> str:
    return keys.prefix(site) + "nt:lang:" + ticket_id


async def on_notify(redis: Redis, site: str, languages: list[str], ticket_id: str,
                    to: str | None, lang: str | None) -> None:
    """``POST /v1/tickets/{id}/notify``: a language given is kept (dropped when the site
    does not speak it), the number taken back forgets it, and a number given without one
    (an agent's, an older kiosk's) leaves the person's choice as it was."""
    if to is None or lang:
        await keep(redis, site, ticket_id, None if to is None else pick(lang, languages))


async def keep(redis: Redis, site: str, ticket_id: str, lang: str | None) -> None:
    """Remember (or, with None, forget) the language of a ticket's alerts. Written before
    the target is set, so the ``notify_set`` event never runs ahead of it."""
    if lang:
        await redis.set(_key(site, ticket_id), lang, ex=TICKET_TTL_S)
    else:
        await redis.delete(_key(site, ticket_id))


async def of_ticket(redis: Redis, site: str, ticket_id: str) -> str | None:
    raw = await redis.get(_key(site, ticket_id))
    return None if raw is None else raw.decode()
