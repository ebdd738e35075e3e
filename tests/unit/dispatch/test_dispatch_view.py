"""The region view reducer, the topic messages built from it, and the KPI accumulators."""

from __future__ import annotations

from typing import Any

import msgspec

from dispatch.kpi import Kpis
from dispatch.view import RegionView
from realtime.hub.dispatch_topics import JobTopic, OrgTopic, TechTopic, job_state, offer_frame
from realtime.hub.entry import Entry
from realtime.hub.topics import Ref
from realtime.protocol import MSGPACK, Event, encode

T0 = 1_795_000_000_000


def job(jid: str, status: str = "new", tech: str = "", **kw: Any) -> dict[str, Any]:
    return {"id": jid, "status": status, "tech": tech, "lat": 52.371, "lon": 4.895,
            "org": "city.acme", "batch": "city.b-1", "duration_s": 1800, "priority": 0,
            "skills": "", "win_start": T0 + 3600_000, "win_end": T0 + 7200_000,
            "eta_ms": "", "created_ms": T0, **kw}


def snapshot() -> dict[str, Any]:
    tech = {"id": "city.t1", "name": "Anna de Vries", "status": "available", "lat": 52.36,
            "lon": 4.88, "fix_ms": T0, "active": ""}
    return {"config": {"timezone": "UTC"}, "epoch": "e1", "offset": "1-0", "trimmed": "0-0",
            "techs": {"city.t1": tech}, "jobs": {"city.j-1": job("city.j-1")},
            "routes": {"city.t1": ""},
            "orgs": {"city.acme": {"name": "ACME", "counts": {"new": 1},
                                   "batches": {"city.b-1": {"id": "city.b-1", "name": "A",
                                                            "size": 1,
                                                            "counts": {"new": 1}}}}}}


class Feed:
    """What the namespaces read from a RegionFeed."""

    def __init__(self, rv: RegionView) -> None:
        self.rv = rv
        self._last: dict[str, Any] = {}

    def unchanged(self, topic: str, value: Any) -> bool:
        if self._last.get(topic) == value:
            return True
        self._last[topic] = value
        return False


def entry(kind: str, data: dict[str, Any], n: int) -> Entry:
    return Entry(f"{T0 + n}-0", kind, T0 + n, "x", "test", data)


def test_offer_then_progress_through_the_view() -> None:
    rv = RegionView.from_snapshot("city", snapshot())
    feed = Feed(rv)
    offered = job("city.j-1", "offered", "city.t1", eta_ms=T0 + 3600_000,
                  deadline_ms=T0 + 60_000, offer_n=1)
    plan = {"routes": {"city.t1": [{"j": "city.j-1", "eta": T0 + 3600_000,
                                    "start": T0 + 3600_000, "end": T0 + 5400_000}]},
            "reason": "job", "moved": 0, "planned": 0}
    ch = rv.apply("plan", plan)
    assert ch.techs == {"city.t1"}
    d = {"job": offered, "tech": "city.t1", "n": 1, "deadline_ms": T0 + 60_000}
    ch = rv.apply("offered", d)
    assert rv.orgs["city.acme"]["counts"] == {"new": 0, "offered": 1}
    assert rv.orgs["city.acme"]["batches"]["city.b-1"]["counts"]["offered"] == 1
    ref = Ref("tech:city.t1", "tech", ("city.t1",), "city")
    msg = TechTopic().live(feed, ref, entry("offered", d, 2), ch)
    assert msg is not None and msg.type == "offer" and msg.is_event
    # The offer frame a wristband receives is within its 256-byte budget.
    frame = encode(Event("tech:city.t1", "9f3e1c2a", f"{T0 + 2}-12", "offer", msg.data), MSGPACK)
    assert len(frame) <= 256, len(frame)
    assert set(offer_frame(d)) == {"j", "la", "lo", "d", "dl", "n", "p", "w"}
    # The customer sees no technician until one has accepted.
    assert job_state(rv, rv.jobs["city.j-1"])["technician"] is None
    accepted = {**offered, "status": "assigned"}
    rv.apply("offer_accepted", {"job": accepted, "tech": "city.t1"})
    going = {**accepted, "status": "en_route"}
    rv.apply("job_departed", {"job": going, "tech_state": {"id": "city.t1",
                                                           "status": "en_route",
                                                           "active": "city.j-1"}})
    ch = rv.apply("gps", {"i": "city.t1", "t": T0 + 10_000, "la": 52.365, "lo": 4.89})
    assert ch.moved == "city.t1" and ch.jobs == {"city.j-1"} and ch.orgs == {"city.acme"}
    jref = Ref("job:city.j-1", "job", ("city.j-1",), "city")
    m = JobTopic().live(feed, jref, entry("gps", {}, 3), ch)
    assert m is not None and m.type == "position" and not m.is_event
    tech = m.data["technician"]
    assert tech == {"name": "Anna", "lat": 52.365, "lon": 4.89, "at_ms": T0 + 10_000}
    assert T0 + 10_000 < m.data["eta_ms"] < T0 + 3600_000  # live, from the fix
    # The same position again: nothing to send.
    assert JobTopic().live(feed, jref, entry("gps", {}, 4), ch) is None
    oref = Ref("org:city.acme", "org", ("city.acme",), "city")
    om = OrgTopic().live(feed, oref, entry("gps", {}, 5), ch)
    assert om is not None and om.data["on_the_way"][0]["technician"] == "Anna"
    done = {**going, "status": "done"}
    rv.apply("job_done", {"job": done, "tech_state": {"id": "city.t1", "status": "available",
                                                      "active": ""}})
    assert "city.j-1" not in rv.jobs and rv.routes["city.t1"] == []
    assert rv.orgs["city.acme"]["counts"]["done"] == 1


def test_history_skips_gps_and_current_attaches_state() -> None:
    rv = RegionView.from_snapshot("city", snapshot())
    feed = Feed(rv)
    ref = Ref("tech:city.t1", "tech", ("city.t1",), "city")
    assert TechTopic().history(feed, ref, entry("gps", {"i": "city.t1", "t": T0, "la": 1,
                                                        "lo": 2}, 1), T0) is None
    cur = TechTopic().current(feed, ref)
    assert cur is not None and cur.data["position"]["t"] == T0 and not cur.is_event


def test_kpis_from_events() -> None:
    k = Kpis()
    j = {"id": "j1", "created_ms": T0, "org": "acme", "win_start": T0 + 600_000,
         "win_end": T0 + 1_200_000}
    k.apply("tech_status", T0, {"tech": {"id": "t1", "status": "available"}})
    k.apply("job_created", T0, {"job": j})
    k.apply("offer_accepted", T0 + 90_000, {"job": j, "at": T0 + 90_000})
    k.apply("offer_accepted", T0 + 99_000, {"job": j})  # a re-offer: not a second response
    k.apply("job_departed", T0 + 100_000, {"job": j, "tech_state": {"id": "t1",
                                                                    "status": "en_route"}})
    k.apply("gps", T0, {"i": "t1", "t": T0, "la": 52.37, "lo": 4.89})
    k.apply("gps", T0, {"i": "t1", "t": T0 + 60_000, "la": 52.38, "lo": 4.89})  # 1.1 km loaded
    k.apply("job_arrived", T0 + 1_500_000, {"job": j, "at": T0 + 1_500_000,
                                            "tech_state": {"id": "t1", "status": "on_site"}})
    k.apply("job_done", T0 + 2_100_000, {"job": j, "at": T0 + 2_100_000,
                                         "tech_state": {"id": "t1", "status": "available"}})
    k.apply("gps", T0, {"i": "t1", "t": T0 + 2_200_000, "la": 52.37, "lo": 4.89})  # 1.1 km empty
    k.apply("plan", T0, {"moved": 1, "planned": 10})
    s = k.summary(T0 + 3_000_000)
    assert s["dispatch_response_mean_s"] == 90.0 and s["accepted"] == 1
    assert s["on_time_rate"] == 0.0 and s["lateness_mean_s"] == 300.0
    assert abs(s["empty_driving_share"] - 0.5) < 1e-9
    assert abs(s["utilisation"] - 600 / 3000) < 1e-9  # 10 min on the job in 50 min online
    assert s["churn"] == 0.1 and s["jobs_done"] == 1
    assert k.summary(T0, org="acme")["accepted"] == 1
    back = Kpis.from_builtins(msgspec.json.decode(msgspec.json.encode(k.to_builtins())))
    assert back.summary(T0 + 3_000_000) == s


def test_a_removed_technician_leaves_the_view_and_the_kpis() -> None:
    rv = RegionView.from_snapshot("city", snapshot())
    feed = Feed(rv)
    removed = entry("tech_removed", {"tech": {"id": "city.t1"}, "from": "available",
                                     "withdrawn": 0}, 1)
    change = rv.apply(removed.type, removed.data)
    assert "city.t1" not in rv.techs and "city.t1" not in rv.routes
    ref = Ref("tech:city.t1", "tech", ("city.t1",), "city")
    told = TechTopic().live(feed, ref, removed, change)  # its followers are told
    assert told is not None and told.type == "removed" and told.data == {"tech": "city.t1"}
    k = Kpis()
    k.apply("tech_status", T0, {"tech": {"id": "city.t1", "status": "available"}})
    k.apply("gps", T0, {"i": "city.t1", "t": T0, "la": 52.36, "lo": 4.88})
    k.apply("tech_removed", T0 + 3600_000, {"tech": {"id": "city.t1"}})
    assert k.online_ms == 3600_000 and not k.online_since  # its time on shift ends there
    assert "city.t1" not in k.tech_pos and "city.t1" not in k.tech_status


def test_a_job_without_a_window_says_when_the_service_level_has_it_due() -> None:
    """The customer's page said "nobody can reach you within the time promised after your
    order" with no time at all: the view now carries ``due_ms`` (creation + the region's
    service level, the urgent one for an urgent job); none for a job with a window."""
    rv = RegionView.from_snapshot("city", snapshot())
    plain = job("city.j-2", "unassignable", reason="service_level", win_start="", win_end="")
    urgent = job("city.j-3", priority=90, win_start="", win_end="")
    policy = rv.config.policy
    assert job_state(rv, plain)["due_ms"] == T0 + policy.service_within_s * 1000
    assert job_state(rv, urgent)["due_ms"] == T0 + min(
        policy.urgent_within_s, policy.service_within_s) * 1000
    assert job_state(rv, rv.jobs["city.j-1"])["due_ms"] is None  # it has a window
