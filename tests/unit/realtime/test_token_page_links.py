"""Every role whose token opens a page gets that page's link from ``POST /v1/tokens``: a
dispatcher's token answered ``"link": null`` although ``/dispatch/{region}`` is its console
and ``switchboard token dispatcher`` prints that link."""

from __future__ import annotations

from realtime.pages import ROUTES
from realtime.tokens_api import PAGES, SCOPES, link


def test_a_dispatcher_token_links_to_its_console() -> None:
    assert link("dispatcher", {"region": "pudong"}, "TOK") == "/dispatch/pudong?token=TOK"


def test_every_page_link_is_a_served_page() -> None:
    served = {getattr(r, "path", "") for r in ROUTES}
    for role, path in PAGES.items():
        assert path in served, role
        assert {p.strip("{}") for p in path.split("/") if "{" in p} <= set(SCOPES[role])
