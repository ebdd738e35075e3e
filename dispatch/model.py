"""The dispatch domain's documents and states: regions, technicians, jobs, organisations.

The msgspec types here validate HTTP bodies (unknown fields refused) and document the API.
Coordinates are WGS84 degrees; polygons are GeoJSON-ordered ``[lon, lat]`` rings. Times on
the wire are epoch milliseconds (``*_ms``) or durations in seconds (``*_s``); shift hours are
local ``"HH:MM"`` in the region's time zone.
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

from queueing import phone
from queueing.model import PLAIN, PLAIN_LINES

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Skill = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Ms = Annotated[int, msgspec.Meta(ge=0)]


class TechStatus(enum.StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    ON_BREAK = "on_break"


class JobStatus(enum.StrEnum):
    NEW = "new"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"
    UNASSIGNABLE = "unassignable"


class Unassignable(enum.StrEnum):
    """Why a job has no technician (reasons travel to dashboards as data)."""

    OUTSIDE_ZONES = "outside_zones"  # the job lies in no service zone of the region
    SKILLS = "skills"  # no technician on shift has every skill the job needs
    DECLINED = "declined"  # every technician who could do it declined or did not answer
    CAPACITY = "capacity"  # every skilled technician's day is full
    TIME_WINDOW = "time_window"  # no technician can reach it inside its window
    # A job without a window: nobody can reach it within the service level (the region's
    # service_within_s, or urgent_within_s if urgent) of its order — not a customer's window.
    SERVICE_LEVEL = "service_level"
    NO_TECHNICIAN = "no_technician"  # nobody is on shift in the region
    SOLVER = "solver"  # left out by the solver (not worth its cost)


class Point(msgspec.Struct, forbid_unknown_fields=True, array_like=False):
    lat: Lat
    lon: Lon


# A label in one language or per language: "电工 Electrician", {"zh": "电工", "en": "Electrician"}.
_Label = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
_PerLanguage = Annotated[dict[Annotated[str, msgspec.Meta(
    pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")], _Label], msgspec.Meta(min_length=1, max_length=20)]
LocalName = _Label | _PerLanguage
# The same, where a name may be left out (""): a region's or a zone's name.
OptionalName = Text | _PerLanguage


class Zone(msgspec.Struct, forbid_unknown_fields=True):
    """A service zone: a polygon of ``[lon, lat]`` points (GeoJSON order), at least 3."""

    id: Ident
    polygon: Annotated[list[tuple[Lon, Lat]], msgspec.Meta(min_length=3, max_length=10_000)]
    name: OptionalName = ""


class DispatchPolicy(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Per-region behaviour (docs/dispatch.md, "Region policy")."""

    offer_timeout_s: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 60
    # Travel model: geodesic distance × detour at this speed (or an OSRM-compatible router).
    speed_kmh: Annotated[float, msgspec.Meta(gt=0, le=200)] = 30.0
    detour: Annotated[float, msgspec.Meta(ge=1, le=5)] = 1.3
    # 24 factors on speed_kmh by local hour (rush hours below 1); none: the same all day.
    speed_by_hour: Annotated[list[Annotated[float, msgspec.Meta(gt=0, le=3)]],
                             msgspec.Meta(min_length=24, max_length=24)] | None = None
    osrm_url: str | None = None
    # Stability: a move of an accepted job must gain more than this (metres of driving).
    reassignment_penalty_m: Annotated[int, msgspec.Meta(ge=0)] = 3000
    max_changes_per_hour: Annotated[int, msgspec.Meta(ge=1)] = 4
    max_moved_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = 0.05
    burst_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.1
    improve_s: Annotated[float, msgspec.Meta(ge=0, le=600)] = 2.0
    # A region with no plan yet and many jobs is solved from scratch within this budget.
    solve_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    recompute_every_s: Annotated[int, msgspec.Meta(ge=10)] = 300
    # A technician coming online while others due at this shift start are still offline:
    # its pass waits this long, so the burst of log-ins is one pass (dispatch/settle.py).
    online_settle_s: Annotated[float, msgspec.Meta(ge=0, le=300)] = 30.0
    plan_breaks: bool = True
    # A job without a window is due within this of its creation (0: whenever). Planning
    # treats it as a window, which spreads work over technicians.
    service_within_s: Annotated[int, msgspec.Meta(ge=0)] = 4 * 3600
    # An urgent job without a window (priority ≥ urgent_priority) is due within this
    # instead (0: service_within_s): cheapest insertion otherwise put it behind hours of
    # routine work on the nearest route while a technician a few km away sat idle.
    urgent_within_s: Annotated[int, msgspec.Meta(ge=0)] = 3600
    urgent_priority: Annotated[int, msgspec.Meta(ge=0, le=101)] = 80
    # A job no technician can reach inside its window is planned late rather than left out.
    late_ok: bool = True
    # Fairness among technicians who could take a job: its insertion is charged this many
    # metres per job already planned for the technician beyond the least-loaded one that could
    # take it (0: off, cheapest insertion only). docs/dispatch.md, "Offers over a whole day".
    fairness_m_per_job: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 0
    # Triggers: recompute when a technician is this far from where the plan assumed it...
    gps_drift_m: Annotated[int, msgspec.Meta(ge=10)] = 1000
    # ...or its live ETA to the current job differs from the planned one by this much.
    eta_drift_s: Annotated[int, msgspec.Meta(ge=10)] = 600
    # GPS validation.
    max_speed_kmh: Annotated[float, msgspec.Meta(gt=0)] = 200.0
    max_future_s: Annotated[int, msgspec.Meta(ge=0)] = 10
    # Geofence: inside at enter_m, outside again only beyond exit_m, after dwell_s.
    geofence_enter_m: Annotated[int, msgspec.Meta(ge=5)] = 80
    geofence_exit_m: Annotated[int, msgspec.Meta(ge=10)] = 160
    geofence_dwell_s: Annotated[int, msgspec.Meta(ge=0)] = 30
    # A manual "arrived" while the technician's GPS (the fix nearest the tap, within 2 min)
    # puts it farther than this from the job is accepted but flagged (job `arrive_m`, KPI).
    arrive_far_m: Annotated[int, msgspec.Meta(ge=10)] = 500
    # A job is at risk when its ETA is within this of its window's end (or past it).
    at_risk_s: Annotated[int, msgspec.Meta(ge=0)] = 900


class RegionConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: OptionalName = ""
    timezone: str = "UTC"
    zones: list[Zone] = []
    policy: DispatchPolicy = msgspec.field(default_factory=DispatchPolicy)
    # What the pages call each skill (a skill without a name is shown as its id).
    skill_names: Annotated[dict[Skill, LocalName], msgspec.Meta(max_length=200)] = {}
    # Where the region is (ISO 3166 alpha-2, "NL"): national phone numbers in its jobs'
    # texts are read as this country's. Absent: the country of ``timezone``, as a site's.
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")] | None = None

    def phone_region(self) -> str | None:
        """The country its national phone numbers are read in (None: "+" numbers only)."""
        return phone.region(self.country, self.timezone)


class BreakSpec(msgspec.Struct, forbid_unknown_fields=True):
    """A break of ``duration_s`` starting between ``start`` and ``end`` (local time)."""

    start: HHMM
    end: HHMM
    duration_s: Annotated[int, msgspec.Meta(ge=60, le=4 * 3600)] = 1800


class Shift(msgspec.Struct, forbid_unknown_fields=True):
    start: HHMM = "08:00"
    end: HHMM = "18:00"


class TechnicianSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A technician as the dispatcher describes them (``PUT /v1/technicians/{id}``).

    ``name`` is the first name customers may see; nothing else personal is shown to them.
    ``zones`` are ids of the region's zones the technician serves (empty: all of them).
    """

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=PLAIN)]
    skills: Annotated[list[Skill], msgspec.Meta(max_length=50)] = []
    rating: Annotated[float, msgspec.Meta(ge=0, le=5)] = 5.0
    zones: Annotated[list[Ident], msgspec.Meta(max_length=50)] = []
    shift: Shift = msgspec.field(default_factory=Shift)
    breaks: Annotated[list[BreakSpec], msgspec.Meta(max_length=4)] = []
    home: Point
    max_jobs: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None


class Window(msgspec.Struct, forbid_unknown_fields=True):
    """The customer's time window: service starts between ``start_ms`` and ``end_ms``."""

    start_ms: Ms
    end_ms: Ms


class JobRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A job (``POST /v1/regions/{region}/jobs``, or one entry of a batch).

    ``location`` or ``address`` (geocoded through the region's geocoder, if one is set up).
    ``priority`` 0..100; 80 and above is urgent (the hot path inserts it at once).
    """

    location: Point | None = None
    address: Annotated[str, msgspec.Meta(max_length=200, pattern=PLAIN)] = ""
    skills: Annotated[list[Skill], msgspec.Meta(max_length=20)] = []
    duration_s: Annotated[int, msgspec.Meta(ge=60, le=24 * 3600)] = 3600
    window: Window | None = None
    priority: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    org: str | None = None
    customer: Annotated[str, msgspec.Meta(max_length=40, pattern=PLAIN)] = ""
    note: Annotated[str, msgspec.Meta(max_length=200, pattern=PLAIN_LINES)] = ""


class OrgSpec(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=PLAIN)]


class BatchRequest(msgspec.Struct, forbid_unknown_fields=True):
    """An enterprise order: many jobs at once (e.g. 200 disinfections in time slots)."""

    jobs: Annotated[list[JobRequest], msgspec.Meta(min_length=1, max_length=1000)]
    name: Annotated[str, msgspec.Meta(max_length=200, pattern=PLAIN)] = ""


class Fix(msgspec.Struct, forbid_unknown_fields=True):
    """One GPS fix (REST fallback): time, position, optional speed (m/s) and accuracy (m)."""

    t: Ms
    la: Lat
    lo: Lon
    s: Annotated[float, msgspec.Meta(ge=0)] | None = None
    a: Annotated[float, msgspec.Meta(ge=0)] | None = None


class Fixes(msgspec.Struct, forbid_unknown_fields=True):
    fixes: Annotated[list[Fix], msgspec.Meta(min_length=1, max_length=3600)]


class ActionKind(enum.StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    DEPART = "depart"
    ARRIVE = "arrive"
    COMPLETE = "complete"
    FAIL = "fail"
    BREAK = "break"
    RESUME = "resume"
    ONLINE = "online"
    OFFLINE = "offline"


# Device actions about the technician, not one job; every other kind names its job (``j``).
JOBLESS = frozenset({ActionKind.BREAK, ActionKind.RESUME, ActionKind.ONLINE,
                     ActionKind.OFFLINE})

ActionId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


class Action(msgspec.Struct, forbid_unknown_fields=True):
    """A device action: ``aid`` is the device's own id for it (applied at most once), ``k``
    the kind, ``j`` the job it concerns (offer answers and job steps), ``t`` when it happened
    on the device (epoch ms), ``r`` a reason (decline, fail)."""

    aid: ActionId
    k: ActionKind
    t: Ms
    j: Annotated[str, msgspec.Meta(max_length=140)] = ""
    r: Annotated[str, msgspec.Meta(max_length=64)] = ""


class Actions(msgspec.Struct, forbid_unknown_fields=True):
    actions: Annotated[list[Action], msgspec.Meta(min_length=1, max_length=1000)]


class CancelBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=64)] = ""


URGENT = 80
TERMINAL = frozenset({JobStatus.DONE, JobStatus.CANCELLED, JobStatus.FAILED})
COMMITTED = frozenset({JobStatus.EN_ROUTE, JobStatus.ON_SITE})
ON_SHIFT = frozenset(
    {TechStatus.AVAILABLE, TechStatus.EN_ROUTE, TechStatus.ON_SITE, TechStatus.ON_BREAK}
)
