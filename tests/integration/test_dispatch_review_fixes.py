"""Review findings on a running system (serve --demo, a worker, the device simulator), each
pinned on a real Redis and, where a client sees it, a real server."""

from __future__ import annotations

from redis.asyncio import Redis

from dispatch.engine import NoEnqueuer
from dispatch.model import Action, ActionKind
from tests.integration.conftest import Server
from tests.integration.test_dispatch_http import now, srv
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    config,
    recomputer,
    tech_spec,
)

__all__ = ["srv"]  # the fixture, imported for pytest


async def test_customer_get_job_is_the_tracking_view(srv: Server, redis: Redis) -> None:
    # An offered job: the customer's REST view is the job topic's, never the technician's id,
    # the note, the priority or the offer's deadline; staff keep the whole job.
    eng = clock_engine(redis, now, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, now(), {"city.t1": tech_spec(52.370, 4.891, name="Anna de Vries")})
    c, disp = srv.client, srv.auth("dispatcher", region="city")
    r = await c.post("/v1/regions/city/jobs", headers=disp, json={
        "location": {"lat": 52.371, "lon": 4.891}, "note": "key under the mat",
        "priority": 50, "customer": "Mrs K"})
    assert r.status_code == 201, r.text
    created = r.json()
    jid, cust = created["id"], {"Authorization": f"Bearer {created['token']}"}
    await recomputer(eng).run("city")
    staff = (await c.get(f"/v1/jobs/{jid}", headers=disp)).json()
    assert staff["status"] == "offered" and staff["technician"] == "city.t1"
    assert staff["note"] == "key under the mat" and staff["offer_deadline_ms"]
    r = await c.get(f"/v1/jobs/{jid}", headers=cust)
    assert r.status_code == 200
    view = r.json()
    assert set(view) == {"id", "status", "window", "eta_ms", "technician", "reason"}
    assert view["status"] == "offered" and view["technician"] is None
    assert view["eta_ms"] == staff["eta_ms"]
    # Accepted: the first name, nothing else about the technician.
    await eng.action("city.t1", _accept(jid), ADMIN)
    view = (await c.get(f"/v1/jobs/{jid}", headers=cust)).json()
    assert view["status"] == "assigned" and view["technician"] == {"name": "Anna"}
    # Cancelling answers with the same view.
    r = await c.post(f"/v1/jobs/{jid}/cancel", headers=cust, json={"reason": "moved"})
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled" and "note" not in r.json()
    assert "technician" in (await c.get(f"/v1/jobs/{jid}", headers=disp)).json()
    ended = (await c.get(f"/v1/jobs/{jid}", headers=cust)).json()
    assert ended["status"] == "cancelled" and ended["reason"] == "moved"
    assert ended["technician"] is None and "note" not in ended


def _accept(jid: str) -> Action:
    return Action(f"acc-{jid}", ActionKind.ACCEPT, now(), jid)
