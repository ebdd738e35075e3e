"""Redis key names of a site. All carry the hash tag ``{site:ID}`` (one Cluster slot)."""

from __future__ import annotations

ROOT = "sb"
SITES = f"{ROOT}:sites"  # index of site ids (outside any site's slot; written separately)
# Notifications the gateway refused, due for another try (a sorted set by due time, ms): in
# Redis, so a worker's restart does not lose them.
NOTIFY_RETRY = f"{ROOT}:nt:retry"


def prefix(site: str) -> str:
    return f"{ROOT}:{{site:{site}}}:"


def events(site: str) -> str:
    """The site's event stream: the transactional outbox every script appends to."""
    return prefix(site) + "events"


def ticket(site: str, ticket_id: str) -> str:
    return prefix(site) + "t:" + ticket_id


def sms_number(site: str, number: str) -> str:
    """A phone number that texted the site: its open ticket and the language it wrote in."""
    return prefix(site) + "sms:num:" + number


def sms_outbox(site: str, number: str) -> str:
    """The demo's texts to a number (no gateway: the phone page reads them from here)."""
    return prefix(site) + "sms:out:" + number


def short_link(code: str) -> str:
    """What a text's short link ``/s/{code}`` stands for: a page's own link with its token."""
    return f"{ROOT}:sl:{code}"


# Set by ``switchboard serve --demo``: this data is the demo's (its worker then keeps texts
# for the demo's phone page when no gateway is configured).
DEMO = f"{ROOT}:demo"


def site_of_ticket(ticket_id: str) -> str:
    """Ticket ids are ``SITE.RANDOM``: the site (and so the key slot) is in the id."""
    site, _, rest = ticket_id.rpartition(".")
    return site if rest else ""
