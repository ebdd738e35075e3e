"""One settings object, read once at start-up from flags and ``SWITCHBOARD_*`` variables.

Precedence: command-line flag > environment variable > default. Nothing else in Switchboard
reads ``os.environ``. Units are in the names (``_s``, ``_ms``, ``_bytes``). Unknown
``SWITCHBOARD_*`` variables are warned about, because a typo must not pass silently.
docs/configuration.md lists every field; a test keeps the two in step.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

log = logging.getLogger("switchboard.settings")

ENV_PREFIX = "SWITCHBOARD_"
Positive = Annotated[int, msgspec.Meta(ge=1)]
PublicUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")]
ORIGIN = re.compile(r"^https?://[^\s/?#@]+$")
WEBHOOK_URL = re.compile(r"^https?://[^\s/?#]+(/\S*)?$")
# The default longest token lifetime: five years, the most POST /v1/tokens mints.
MAX_TOKEN_TTL_S = 5 * 366 * 86400
# A booking's token lasts until its appointment (booking horizon: up to 366 days ahead) and
# a day more; a dispatch job's tracking token until its window ends (at most a year ahead)
# and token_ttl_s more. Both stay within token_ttl_s + this.
APPOINTMENT_AHEAD_S = 370 * 86400


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Network
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # Storage: the embedded Redis (default) or a shared one.
    data_dir: str = "./switchboard-data"
    redis_url: str | None = None
    redis_server: str | None = None  # path of the redis-server binary to embed
    redis_fsync: Literal["always", "everysec", "no"] = "everysec"
    # Security
    secret: str | None = None  # HS256 key for tokens; generated into data_dir if unset
    allowed_origins: list[str] = []  # browser Origins allowed on /ws; empty = same host only
    # Proxies whose X-Forwarded-For / -Proto name the real client (nginx on this host):
    # rate limits and logs then see the client, not the proxy. Empty: trust no header.
    trusted_proxies: list[str] = msgspec.field(default_factory=lambda: ["127.0.0.1"])
    token_ttl_s: Positive = 86400
    # display, kiosk and partner tokens (wall devices, integrations: set up once)
    device_token_ttl_s: Positive = 365 * 86400
    # agent, supervisor, dispatcher, tech and org tokens from `switchboard token`: a counter
    # console or a wristband must not stop after a day (revoke one with `switchboard revoke`)
    staff_token_ttl_s: Positive = 30 * 86400
    # The longest lifetime (exp - iat) a token may have; a longer one is refused. This is what
    # lets a subject's revocation cut-off go: once older than this, no token it could refuse
    # is still valid (realtime/revocation.py). At least every lifetime handed out (checked).
    max_token_ttl_s: Positive = MAX_TOKEN_TTL_S
    # HTTP
    max_body_bytes: Positive = 65536
    # Documents only an authenticated admin, dispatcher or organisation sends (a site, a
    # booking schedule, a region with its zone polygons, a batch of up to 1,000 jobs): a
    # large hospital's site document is over 64 KiB. Checked after the token.
    max_document_bytes: Positive = 4 * 1024 * 1024
    # A request's headers must arrive within this of the connection (or the previous
    # response), and its body within this again: slow clients cannot hold sockets.
    http_read_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 15.0
    # Request line and headers, at most (past it: 431 headers_too_large).
    http_max_header_bytes: Annotated[int, msgspec.Meta(ge=4096)] = 65536
    idempotency_ttl_s: Positive = 86400
    config_cache_s: Annotated[float, msgspec.Meta(ge=0)] = 2.0
    # Public tokens (kiosk): tickets, bookings and check-ins per token subject and site per
    # minute, with a burst; check-ins whose code matched nothing, per caller (0: no limit).
    kiosk_rate_per_min: Annotated[int, msgspec.Meta(ge=0)] = 60
    kiosk_rate_burst: Positive = 60
    checkin_failures_per_min: Annotated[int, msgspec.Meta(ge=0)] = 10
    # Hub
    history_ttl_s: Positive = 600
    history_min_entries: Positive = 1000
    trim_interval_s: Positive = 30
    # The audit trail (who called, skipped, cancelled which ticket: docs/audit.md) is kept
    # this many days per site and day; the event stream above lasts minutes.
    audit_keep_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] = 31
    ws_max_frame_bytes: Positive = 65536
    ws_rate_per_s: Positive = 50
    ws_rate_burst: Positive = 100
    ws_max_subscriptions: Positive = 200
    ws_queue_events: Positive = 1000
    ws_ping_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 20.0
    ws_ping_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 20.0
    ws_auth_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    # Notifications (reminders, queue alerts): a signed webhook, or the log if no URL.
    notify_webhook_url: str | None = None
    notify_webhook_secret: str | None = None
    notify_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    # The address people reach the server at (https://queue.example.org): links sent by
    # text (text to join's short links) use it. Unset: the address the request came to
    # (an SMS gateway calling an internal address would hand people that address).
    public_url: PublicUrl | None = None
    # Text to join: open sms tickets a site may hold; a JOIN past it is answered politely and
    # takes none (a leaked gateway token, or a flood of invented senders, cannot fill the
    # hall within the per-gateway rate). 0: no cap.
    sms_max_open_per_site: Annotated[int, msgspec.Meta(ge=0)] = 500
    # The public booking page (/book/{site}) books for a mobile number only with a code
    # texted to it, wherever texts can go (a webhook, or the demo's outbox): anyone holds
    # its link, and without it anyone could book, or be texted, in a stranger's name.
    web_booking_verify: bool = True
    # Codes a site texts in a day, whatever the numbers (10 per number): many addresses
    # asking codes for many numbers stop here. 0: no cap.
    verify_codes_per_site_day: Annotated[int, msgspec.Meta(ge=0)] = 2000
    # "Almost your turn" when a ticket reaches this position or this estimated wait.
    alert_position: Positive = 3
    alert_wait_s: Annotated[int, msgspec.Meta(ge=0)] = 300
    # Maps on the dispatch pages: drawn from lat/lon with no tiles by default (no internet
    # needed); an https tile URL template ({z}/{x}/{y}) adds a base map.
    map_tile_url: str | None = None
    map_attribution: str = ""
    # Demo and logging
    demo: bool = False
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def __post_init__(self) -> None:
        # Raised inside msgspec.convert, this becomes "invalid setting: …" (from_env).
        # Checked here, where the server and the worker both load it: a webhook without
        # its secret started the server (kiosks offered "text me") while the worker exited.
        if self.notify_webhook_url and not self.notify_webhook_secret:
            raise ValueError(
                "SWITCHBOARD_NOTIFY_WEBHOOK_URL is set without SWITCHBOARD_NOTIFY_WEBHOOK_"
                "SECRET (the key texts are signed with): set both, or neither")
        if self.notify_webhook_url and not WEBHOOK_URL.match(self.notify_webhook_url):
            raise ValueError(
                f"SWITCHBOARD_NOTIFY_WEBHOOK_URL {self.notify_webhook_url!r} is no http(s) "
                "address (e.g. https://sms-gateway.example.org/switchboard)")
        for origin in self.allowed_origins:
            if origin != "*" and not ORIGIN.match(origin):
                # A browser's Origin is scheme://host[:port]: anything else matches none.
                raise ValueError(
                    f"SWITCHBOARD_ALLOWED_ORIGINS: {origin!r} is no origin; write it as a "
                    "browser sends it, scheme and host (and port), no path: "
                    f"https://{origin.split('://')[-1].split('/')[0] or 'queue.example.org'}")
        longest = longest_handed_out(self)
        if self.max_token_ttl_s < longest:
            raise ValueError(
                f"max_token_ttl_s ({self.max_token_ttl_s}) is below the longest lifetime the "
                f"server hands out ({longest} s: the device and staff token lifetimes, and "
                f"token_ttl_s + {APPOINTMENT_AHEAD_S} s for a booking's or a job's tracking "
                "token, which lasts until an appointment up to a year ahead)")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()


def longest_handed_out(s: Settings) -> int:
    """The longest lifetime of a token the server or ``switchboard token`` mints by default."""
    return max(s.device_token_ttl_s, s.staff_token_ttl_s,
               s.token_ttl_s + APPOINTMENT_AHEAD_S)


FIELDS = tuple(Settings.__struct_fields__)
_LISTS = {"allowed_origins", "trusted_proxies"}


# Variables of the same prefix that are not server settings: the device simulator's token
# (clients/device_sim.py) and the opt-in memory tracing (realtime/cli.py). A shell that
# exports them and then starts the server is not warned about them.
OTHER_VARIABLES = frozenset({"SWITCHBOARD_TOKEN", "SWITCHBOARD_TRACEMALLOC",
                             "SWITCHBOARD_TRACEMALLOC_DIR"})


_warned: set[str] = set()


def from_env(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``SWITCHBOARD_*`` variables, then ``overrides`` (flags) on top."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        field = name[len(ENV_PREFIX):].lower()
        if field not in FIELDS:
            if name in OTHER_VARIABLES:
                continue
            if name not in _warned:  # once per process: the worker reads these often
                _warned.add(name)
                log.warning("unknown setting %s ignored (known: %s)", name,
                            ", ".join(FIELDS))
            continue
        raw[field] = [v.strip() for v in value.split(",") if v.strip()] if field in _LISTS \
            else value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        # strict=False casts the environment's strings ("8000", "true") to the field types.
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SystemExit(f"switchboard: invalid setting: {_named(str(exc), overrides)}"
                         ) from exc


# Settings whose command-line flag is not named after the field.
FLAG_NAMES = {"public_url": "--base-url"}


def _named(message: str, flags: Mapping[str, Any]) -> str:
    """msgspec's ``… - at `$.kiosk_rate_per_min``` as the operator wrote the setting: the
    flag when one gave it, else the environment variable."""
    def name(m: re.Match[str]) -> str:
        field = m.group(1)
        if flags.get(field) is not None:
            return FLAG_NAMES.get(field, "--" + field.replace("_", "-"))
        return ENV_PREFIX + field.upper()
    return re.sub(r"`\$\.([a-z_]+)`", lambda m: f"`{name(m)}`", message)


def to_env(settings: Settings) -> dict[str, str]:
    """The environment that reproduces ``settings`` in a child process (workers)."""
    out: dict[str, str] = {}
    for field in FIELDS:
        value = getattr(settings, field)
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out[ENV_PREFIX + field.upper()] = str(value)
    return out
