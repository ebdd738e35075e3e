"""Bearer tokens (PyJWT, HS256) and what each role may do.

A token names a role and the things it is scoped to. Roles:

- ``admin``: everything.
- ``agent``: one counter of one site (``site``, ``counter``); sees that site's queues.
- ``kiosk``: takes tickets and checks in at one site.
- ``display``: reads one site's board; with ``area``, only that waiting area's board
  (``board:{site}:{area}``, a waiting room's TV), never the whole site's or another room's.
- ``supervisor``: reads one site (``site``): its board, every service's queue, its stats and
  the floor overview page; changes nothing.
- ``ticket``: one ticket (``ticket``), handed to its holder when it is issued.
- ``booking``: one booking (``booking``), handed to its holder when it is made: read it,
  follow ``booking:{id}``, confirm, cancel, reschedule, check in.
- ``partner``: a partner site, app back end or phone line booking at one site through the
  channels it is given (``channels``; default app, web, partner). ``sms`` is given
  explicitly, to the SMS gateway's adapter only: with it a token posts texts as any phone
  number (docs/sms.md).
- ``dispatcher``: one dispatch region (``region``): technicians, jobs, organisations, plans,
  KPIs, and every ``tech:``, ``job:``, ``org:`` topic of the region.
- ``tech``: one technician (``tech``), the token of its wristband or phone: its own
  ``tech:{id}`` topic, GPS fixes and device actions (accept/decline offers, depart, arrive,
  complete, fail, breaks).
- ``customer``: one job (``job``), handed out when the job is created: read it, follow
  ``job:{id}`` (status, the technician's first name, position and ETA), cancel it.
- ``org``: one organisation (``org``), an enterprise customer: its ``org:{id}`` topic, its
  jobs and batches, order batches, its KPIs.
"""

from __future__ import annotations

import functools
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt

from queueing.errors import Forbidden, Unauthorized
from realtime import clock

ROLES = ("admin", "agent", "kiosk", "display", "supervisor", "ticket", "booking", "partner",
         "dispatcher", "tech", "customer", "org")
# Dispatch roles and the claim each is scoped by.
DISPATCH_SCOPES = {"dispatcher": "region", "tech": "tech", "customer": "job", "org": "org"}
PARTNER_CHANNELS = ("app", "web", "partner")  # "sms" only when given (the SMS gateway)
ALGORITHM = "HS256"
# Clocks of the hosts that mint and check tokens may disagree by a few seconds (a token
# minted on a host 3 s ahead was refused as "not valid"): iat, nbf and exp are checked with
# this much slack, against this process's time (realtime/clock.py: Redis's while this host's
# clock is wrong), not PyJWT's own reading of the host's clock.
LEEWAY_S = 60
# Why a token is refused (401 ``details.reason``), stable for clients and monitors. None
# says anything about the key or the claims beyond what the token's holder already has.
REASONS = ("missing", "malformed", "bad_signature", "expired", "not_yet_valid",
           "missing_claim", "unknown_role", "lifetime", "revoked")


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    subject: str
    site: str | None = None
    counter: str | None = None
    ticket: str | None = None
    booking: str | None = None
    channels: tuple[str, ...] = ()
    region: str | None = None
    tech: str | None = None
    job: str | None = None
    org: str | None = None
    issued_at: float = 0.0  # ``iat``: a subject's revocation refuses tokens issued up to then
    token_id: str | None = None  # ``jti``: revokes this one token (none before 0.1's tokens)
    area: str | None = None  # a display token locked to one waiting area of its site

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require(self, *roles: str, site: str | None = None) -> None:
        """Allow admins, or one of ``roles`` scoped to ``site`` (when given)."""
        if self.is_admin:
            return
        if self.role not in roles:
            article = "an" if self.role[:1] in "aeiou" else "a"
            raise Forbidden(f"{article} {self.role} token cannot do this", role=self.role)
        if site is not None and self.site != site:
            raise Forbidden(f"this token is not for site {site}", role=self.role)

    def require_board(self, site: str, area: str | None) -> None:
        """Read the board of ``site`` (``area``: one waiting area's; None: the whole
        site's). A display token locked to an area reads that area's board only: the whole
        site's or another area's is refused (403, ``reason: other_area``, ``area``: its own,
        so a board opened at the wrong address can say where it belongs)."""
        self.require("display", "agent", "kiosk", "supervisor", site=site)
        if self.area is not None and area != self.area:
            where = f"waiting area {area}" if area else "the whole site"
            raise Forbidden(f"this display token is for waiting area {self.area}, not "
                            f"{where}", role=self.role, reason="other_area", area=self.area)

    def require_counter(self, site: str, counter: str) -> None:
        if self.is_admin:
            return
        self.require("agent", site=site)
        if self.counter != counter:
            raise Forbidden(f"this token is for counter {self.counter}, not {counter}")


def make_token(secret: str, role: str, *, site: str | None = None, counter: str | None = None,
               ticket: str | None = None, subject: str | None = None, ttl_s: int = 86400,
               now: float | None = None, booking: str | None = None,
               channels: Sequence[str] | None = None, region: str | None = None,
               tech: str | None = None, job: str | None = None, org: str | None = None,
               area: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role in ("agent", "kiosk", "display", "supervisor", "partner", "booking") and not site:
        raise ValueError(f"a {role} token needs --site")
    if role == "agent" and not counter:
        raise ValueError("an agent token needs --counter")
    if area and role != "display":
        raise ValueError("only a display token is locked to a waiting area (--area)")
    if role == "ticket" and not ticket:
        raise ValueError("a ticket token needs a ticket id")
    if role == "booking" and not booking:
        raise ValueError("a booking token needs a booking id")
    dispatch = {"region": region, "tech": tech, "job": job, "org": org}
    if role in DISPATCH_SCOPES and not dispatch[DISPATCH_SCOPES[role]]:
        raise ValueError(f"a {role} token needs a {DISPATCH_SCOPES[role]} id")
    # Milliseconds: a token minted just after its subject was revoked must not fall in the
    # revoked second. The id (``jti``) lets one token be revoked alone.
    iat = math.floor((clock.now_s() if now is None else now) * 1000) / 1000  # never later
    claims: dict[str, object] = {"role": role, "iat": iat, "exp": round(iat + ttl_s, 3),
                                 "jti": secrets.token_urlsafe(9),
                                 "sub": subject or _default_subject(
                                     role, site, counter, ticket or booking or area or _scope(
                                         role, dispatch))}
    for k, v in (("site", site), ("counter", counter), ("ticket", ticket), ("booking", booking),
                 ("area", area), *dispatch.items()):
        if v:
            claims[k] = v
    if role == "partner" and channels:
        # A comma-separated string works too (``--channels phone,window``).
        claims["channels"] = (channels.split(",") if isinstance(channels, str)
                              else list(channels))
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _scope(role: str, dispatch: dict[str, str | None]) -> str | None:
    return dispatch[DISPATCH_SCOPES[role]] if role in DISPATCH_SCOPES else None


def _default_subject(role: str, site: str | None, counter: str | None,
                     ticket: str | None) -> str:
    return ":".join(p for p in (role, site, counter, ticket) if p)


class Revocable(Protocol):
    # The longest lifetime (exp - iat, seconds) accepted; None: any. Enforced, it is what
    # lets a subject's revocation cut-off be forgotten (realtime/revocation.py).
    max_ttl_s: float | None

    def refusal(self, p: Principal) -> str | None: ...

    # The token was used (the registry of issued links' ``last_seen``): cheap, throttled.
    def seen(self, p: Principal) -> None: ...


def verify(secret: str, token: str | None, revoked: Revocable | None = None) -> Principal:
    return verify_until(secret, token, revoked)[0]


def verify_until(secret: str, token: str | None, revoked: Revocable | None = None
                 ) -> tuple[Principal, float]:
    """The token's principal and its expiry (epoch seconds): a websocket holds a token
    for hours and must stop serving it when it expires. ``revoked``: the process's
    revocation lists (realtime.revocation), checked on every use, and the longest lifetime
    it accepts (a token lasting longer is refused, ``reason: lifetime``)."""
    if not token:
        raise Unauthorized("a bearer token is required", reason="missing")
    principal, exp = _verified(secret, token)
    if clock.now_s() >= exp + LEEWAY_S:  # as PyJWT (with its leeway): from the second of exp
        raise Unauthorized("the token has expired", reason="expired")
    if revoked is not None:
        longest = revoked.max_ttl_s
        # 1 s of slack: ``exp`` is rounded to the millisecond after adding the lifetime.
        if longest is not None and exp - principal.issued_at > longest + 1:
            raise Unauthorized(
                f"the token lasts {_days(exp - principal.issued_at)}, longer than this server "
                f"accepts ({_days(longest)}, SWITCHBOARD_MAX_TOKEN_TTL_S); mint a shorter one",
                reason="lifetime")
        why = revoked.refusal(principal)
        if why is not None:
            raise Unauthorized(why, reason="revoked")
        revoked.seen(principal)
    return principal, exp


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.1f} days" if seconds >= 86400 else f"{seconds:.0f} s"


def unverified_claims(secret: str, token: str) -> dict[str, Any]:
    """A token's claims, its signature checked but not its expiry (to revoke it)."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM],
                                            leeway=LEEWAY_S,
                                            options={"verify_exp": False,
                                                     "verify_iat": False,
                                                     "verify_nbf": False,
                                                     "require": ["role", "sub"]})
    except jwt.PyJWTError as exc:
        raise refusal(exc) from exc
    _check_times(claims)
    return claims


# PyJWT reads the host's clock for iat, nbf and exp: a server 10 min behind refused every
# token minted on a right clock (not_yet_valid). They are checked here instead, by this
# process's time, with the same leeway, types and refusal reasons.
NOT_YET_VALID = ("the token is not valid yet (issued in the future: is this server's clock "
                 "or the minting host's wrong?)")


def _check_times(claims: dict[str, Any], expiry: bool = False) -> None:
    """As PyJWT's checks: iat, nbf (and ``expiry``: exp) numbers, iat and nbf not later
    than now + LEEWAY_S (now: the later of this host's clock and this process's time, so
    a token this host minted by its own clock, e.g. ``switchboard token``, is not refused
    either), exp not LEEWAY_S past (this process's time)."""
    for name in ("iat", "nbf", "exp"):
        if name in claims:
            try:
                int(claims[name])
            except (ValueError, TypeError, OverflowError):
                raise Unauthorized("the token is not valid", reason="malformed") from None
    latest = max(time.time(), clock.now_s()) + LEEWAY_S
    if any(name in claims and int(claims[name]) > latest for name in ("iat", "nbf")):
        raise Unauthorized(NOT_YET_VALID, reason="not_yet_valid")
    if expiry and int(claims["exp"]) <= clock.now_s() - LEEWAY_S:
        raise Unauthorized("the token has expired", reason="expired")


def refusal(exc: jwt.PyJWTError) -> Unauthorized:
    """PyJWT's error as a 401 with its stable ``reason`` (``REASONS``)."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return Unauthorized("the token has expired", reason="expired")
    if isinstance(exc, jwt.ImmatureSignatureError):
        return Unauthorized(NOT_YET_VALID, reason="not_yet_valid")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return Unauthorized(f"the token is not valid: it has no {exc.claim!r} claim",
                            reason="missing_claim")
    if isinstance(exc, jwt.InvalidSignatureError):
        return Unauthorized("the token is not valid (its signature does not match this "
                            "server's key)", reason="bad_signature")
    return Unauthorized("the token is not valid", reason="malformed")


# A kiosk, a counter console or a partner sends the same bearer token with every request;
# PyJWT's HMAC key checks and the signature cost ~50 µs per decode (measured: a sixth of a
# booking's server CPU). A token verified once is remembered with its expiry, which
# ``verify`` checks on every use; refusals are not cached. Bounded: a flood of distinct
# tokens only evicts.
@functools.lru_cache(maxsize=8192)
def _verified(secret: str, token: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=LEEWAY_S,
                            options={"verify_exp": False, "verify_iat": False,
                                     "verify_nbf": False,
                                     "require": ["exp", "iat", "role", "sub"]})
    except jwt.PyJWTError as exc:
        raise refusal(exc) from exc
    _check_times(claims, expiry=True)  # a refusal is not cached: not yet valid, then valid
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthorized("the token names no known role", reason="unknown_role")
    channels = claims.get("channels") or (PARTNER_CHANNELS if role == "partner" else ())
    return Principal(role=role, subject=str(claims["sub"]), site=claims.get("site"),
                     counter=claims.get("counter"), ticket=claims.get("ticket"),
                     booking=claims.get("booking"), channels=tuple(map(str, channels)),
                     region=claims.get("region"), tech=claims.get("tech"),
                     job=claims.get("job"), org=claims.get("org"),
                     issued_at=float(claims["iat"]),
                     token_id=_str_or_none(claims.get("jti")),
                     area=_str_or_none(claims.get("area"))), float(claims["exp"])


def _str_or_none(v: object) -> str | None:
    return None if v is None else str(v)


MIN_SECRET_CHARS = 32


def check_secret(secret: str, where: str) -> str:
    """A kiosk token is public (the kiosk page's URL) and signed with this key: a short
    key is found offline from it, and every token (admin too) forged. Never echoed."""
    if len(secret) < MIN_SECRET_CHARS:
        raise SystemExit(
            f"switchboard: {where} must be at least {MIN_SECRET_CHARS} characters (it has "
            f"{len(secret)}): a short key can be found from any public kiosk token. Make "
            "one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return secret


# What a data folder holds once a server has run in it (its embedded Redis's files).
SERVER_FILES = ("redis.sock", "appendonlydir", "appendonly.aof", "dump.rdb")


def load_secret(configured: str | None, data_dir: Path, create: bool = True) -> str:
    """The signing key: the setting, else ``DATA_DIR/secret`` (created on first use; with
    ``create=False``, a missing one stops the command saying why, ``no_secret``)."""
    if configured:
        return check_secret(configured, "SWITCHBOARD_SECRET")
    path = data_dir / "secret"
    try:
        found = path.exists()
    except PermissionError:
        raise SystemExit(no_secret(data_dir, readable=False)) from None
    if found:
        return check_secret(path.read_text().strip(), str(path))
    if not create:
        raise SystemExit(no_secret(data_dir))
    from realtime.redisproc import private_dir
    private_dir(data_dir)
    key = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


def server_ran_in(data_dir: Path) -> bool:
    """A server has used this data folder (its embedded Redis's files are there)."""
    try:
        return any((data_dir / name).exists() for name in SERVER_FILES)
    except PermissionError:
        return False


def no_secret(data_dir: Path, readable: bool = True) -> str:
    """Why a command (``switchboard token``, ``revoke``) has no signing key, and what to do.
    It said "run `switchboard serve` once" to an admin whose server was running, with its
    key in SWITCHBOARD_SECRET (a systemd unit's root-only EnvironmentFile): the command's
    shell has not that environment, and the folder has no ``secret``."""
    path = data_dir / "secret"
    if not readable:
        return (f"switchboard: cannot read {path} (permission denied): run this command as "
                "the server's user (e.g. sudo -u switchboard ...) or as root / 无权读取密钥"
                "文件：请以服务的用户或 root 运行")
    same = ("give this command the server's SWITCHBOARD_SECRET: --env-file FILE (the file "
            "that sets it, e.g. /etc/switchboard/env, run as a user who can read it: sudo), "
            "or SWITCHBOARD_SECRET=... in its environment")
    if server_ran_in(data_dir):
        return (f"switchboard: no SWITCHBOARD_SECRET here and no {path}: the server using "
                f"{data_dir} takes its key from SWITCHBOARD_SECRET in its own environment; "
                f"{same} / 服务器的密钥来自其环境变量 SWITCHBOARD_SECRET：请用 --env-file "
                "指向设置它的文件（如 /etc/switchboard/env，需 sudo），或设置同样的变量")
    return (f"switchboard: no SWITCHBOARD_SECRET and no {path}, and no server has used "
            f"{data_dir}: give the server's data folder (--data-dir, its "
            f"SWITCHBOARD_DATA_DIR); if its key is SWITCHBOARD_SECRET, {same}; a new server "
            "makes the file when `switchboard serve` first starts / 找不到密钥：请用 "
            "--data-dir 指定服务器的数据目录，或用 --env-file 给出服务器的 SWITCHBOARD_SECRET")
