"""Web pages served by the server (clients/web/). Owned by the pages work (issue 6)."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
