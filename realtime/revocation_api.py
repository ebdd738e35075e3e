"""``/v1/revocations``: revoke one token, or every token of a subject, before it expires.

Admin only. The revocation is in force on every server process within a moment (pub/sub) and
closes the websockets that hold the token (``unauthorized``, then close 4001). See
realtime/revocation.py for how it is kept.
"""

from __future__ import annotations

import logging
from typing import Annotated

import msgspec
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from queueing import keys
from queueing.errors import BadRequest, Unauthorized, UnknownSite
from realtime import clock
from realtime.auth import unverified_claims
from realtime.body import json_body
from realtime.context import ctx, principal
from realtime.docs import Operation, register
from realtime.revocation import MAX_SUBJECT_CHARS, Revocations, Revoked

log = logging.getLogger("switchboard.auth")


class RevokeBody(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly one of ``token`` (that one token) or ``subject`` (every token of the subject
    issued up to now, or up to ``before``, epoch seconds). ``site`` with ``subject``: that
    site's tokens of the subject only (a ``lobby-tv`` at another site keeps working);
    without it, the subject's tokens at every site, as before."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)] | None = None
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SUBJECT_CHARS)] | None = None
    before: Annotated[float, msgspec.Meta(ge=0)] | None = None
    site: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


async def revoke(revocations: Revocations, redis: Redis, secret: str, body: RevokeBody,
                 now: float | None = None) -> Revoked:
    """Apply ``body`` (shared by the HTTP route and ``switchboard revoke``). ``now``: this
    process's time, the one tokens are minted and checked by (Redis's while this host's clock
    is off): a cut-off by a clock 10 min behind let tokens minted in those minutes through."""
    now = clock.now_s() if now is None else now
    if (body.token is None) == (body.subject is None):
        raise BadRequest("give exactly one of token or subject")
    if body.token is not None:
        if body.before is not None:
            raise BadRequest("before goes with subject, not token")
        if body.site is not None:
            raise BadRequest("site goes with subject, not token (a token is one already)",
                             field="site")
        try:
            claims = unverified_claims(secret, body.token)
        except Unauthorized as exc:
            raise BadRequest("token is not a token of this server (its signature does not "
                             "match)") from exc
        subject = str(claims["sub"])
        jti = claims.get("jti")
        if jti is not None:
            exp = float(claims.get("exp") or now)
            return await revocations.revoke_token(redis, str(jti), exp, subject)
        # A token minted before tokens had ids: refuse its subject's tokens up to it.
        return await revocations.revoke_subject(redis, subject, float(claims.get("iat") or now))
    before = now if body.before is None else body.before
    if before > now:
        raise BadRequest("before is in the future: it would refuse tokens not yet minted")
    if body.site is not None and not await redis.sismember(keys.SITES, body.site):  # type: ignore[misc]
        # A typo'd site would revoke nothing, and say it had.
        raise UnknownSite(f"unknown site {body.site}", field="site")
    return await revocations.revoke_subject(redis, str(body.subject), before, site=body.site)


async def post_revocation(request: Request) -> Response:
    p = principal(request)
    p.require("admin")
    c = ctx(request)
    body = await json_body(request, RevokeBody, c.settings.max_body_bytes)
    done = await revoke(c.revocations, c.redis, c.secret, body)
    log.warning("%s revoked %s", p.subject, done.as_dict())
    return Response(msgspec.json.encode({"revoked": done.as_dict()}), status_code=200,
                    media_type="application/json")


async def list_revocations(request: Request) -> Response:
    principal(request).require("admin")
    return Response(msgspec.json.encode(ctx(request).revocations.listing()),
                    media_type="application/json")


ROUTES = [Route("/v1/revocations", post_revocation, methods=["POST"]),
          Route("/v1/revocations", list_revocations, methods=["GET"])]

register(
    Operation("post", "/v1/revocations",
              "Revoke one token (`token`) or every token of a subject issued up to now "
              "(`subject`, optional `before`; with `site`, that site's tokens of the "
              "subject only); open websockets holding it are closed",
              "admin", RevokeBody,
              errors=("bad_request", "unknown_field", "unauthorized", "unknown_site",
                      "payload_too_large")),
    Operation("get", "/v1/revocations",
              "Revoked token ids (until their tokens would be refused as expired), subject "
              "cut-offs and one site's subject cut-offs (`site_subjects`)", "admin"),
)
