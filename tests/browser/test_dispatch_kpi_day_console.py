# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""The dispatcher console's KPI tiles are today's (the region topic's are for the region's
local day) and roll over at local midnight with no message: past ``utilisation_live.day_end``
the counts are 0, the means empty, and utilisation runs on from midnight with whoever was
still counting, as dispatch/kpi.py ``roll_terms``. Real browser (the module alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dispatch.kpi import roll_terms, utilisation_at

pytestmark = pytest.mark.browser
WEB = Path(__file__).resolve().parents[2] / "clients" / "web"
H = 3_600_000
# Made at 22:00 (day starts at 0 here): 1 h online today, one technician online, a job whose
# service starts at 23:30; the day ends at 24:00, the next at 48:00.
TERMS = {"at": 22 * H, "on_ms": 0, "on_n": 0, "on_later": [23 * H + H // 2], "online_ms": H,
         "online_n": 1, "online_later": [], "day": "1970-01-01", "day_end": 24 * H,
         "next_day_end": 48 * H}
TILES = {"jobs_created": 7, "jobs_done": 5, "dispatch_response_mean_s": 120, "on_time_rate": 0.8,
         "utilisation": 0.1, "empty_driving_share": 0.3, "km_driven": 42.5, "utilisation_live": TERMS}


def test_the_tiles_roll_over_at_local_midnight(context: Any) -> None:
    page = context.new_page()
    page.route("http://kpi.test/**", lambda route: route.fulfill(
        path=str(WEB / "js" / "dispatch-console-state.js"), content_type="text/javascript")
        if route.request.url.endswith(".js") else route.fulfill(body="<!doctype html>", content_type="text/html"))
    page.goto("http://kpi.test/")
    r = page.evaluate("""async (k) => {
      const m = await import('/dispatch-console-state.js');
      const tiles = (now) => Object.fromEntries(m.kpiTiles(k, (n) => `${n}m`, now).map(([id, , v]) => [id, v]));
      return { before: tiles(23 * 3600000), after: tiles(25 * 3600000), later: tiles(49 * 3600000),
               rolled: m.rollTerms(k.utilisation_live, 25 * 3600000), same: m.rollKpis(k, 23 * 3600000) === k };
    }""", TILES)
    assert r["same"] is True
    assert r["before"]["created"] == "7" and r["before"]["km"] == "42.5"
    assert r["after"] == {"created": "0", "done": "0", "response": "—", "on_time": "—",
                          "util": r["after"]["util"], "empty": "—", "km": "0.0"}
    assert r["rolled"] == roll_terms(TERMS, 25 * H)
    # 00:00-01:00: online the whole hour, on the job (started 23:30) the whole hour.
    assert r["after"]["util"] == f"{round(utilisation_at(roll_terms(TERMS, 25 * H), 25 * H) * 100)} %" == "100 %"
    assert r["later"]["created"] == "0" and r["later"]["util"] == "100 %"  # two midnights on
