"""The dispatch demo for ``switchboard serve --demo``: region ``city`` (Shanghai), eight
technicians with skills and zones, a dozen service calls, and an enterprise (ACME) with a
batch of disinfection jobs across its office towers in one-hour slots."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.engine import Actor, DispatchEngine
from dispatch.model import (
    Action,
    ActionKind,
    BatchRequest,
    DispatchPolicy,
    JobRequest,
    OrgSpec,
    Point,
    RegionConfig,
    Shift,
    TechnicianSpec,
    Window,
    Zone,
)
from dispatch.recompute import Recomputer

REGION = "city"
ORG = "city.acme"
TZ = "Asia/Shanghai"
WHO = Actor("demo-loader", "demo")
# West and east of the Huangpu, overlapping along the river.
PUXI = Zone("puxi", [(121.30, 31.10), (121.505, 31.10), (121.505, 31.35), (121.30, 31.35)],
            "浦西 Puxi")
PUDONG = Zone("pudong", [(121.485, 31.10), (121.70, 31.10), (121.70, 31.35), (121.485, 31.35)],
              "浦东 Pudong")
TECHS = [
    ("city.t1", "王伟 Wang Wei", ["appliance", "electric"], ["puxi"], (31.228, 121.446)),
    ("city.t2", "李娜 Li Na", ["plumbing"], ["puxi"], (31.205, 121.430)),
    ("city.t3", "张强 Zhang Qiang", ["electric", "plumbing"], ["puxi", "pudong"],
     (31.240, 121.490)),
    ("city.t4", "刘洋 Liu Yang", ["disinfection"], ["pudong"], (31.225, 121.540)),
    ("city.t5", "陈静 Chen Jing", ["disinfection", "appliance"], ["pudong"], (31.210, 121.560)),
    ("city.t6", "杨磊 Yang Lei", ["disinfection"], [], (31.235, 121.510)),
    ("city.t7", "赵敏 Zhao Min", ["appliance"], ["pudong"], (31.250, 121.580)),
    ("city.t8", "黄杰 Huang Jie", ["plumbing", "disinfection"], ["puxi"], (31.190, 121.460)),
]


SKILL_NAMES: dict[str, str | dict[str, str]] = {
    "appliance": {"zh": "家电维修", "en": "Appliances"},
    "plumbing": {"zh": "水管", "en": "Plumbing"},
    "electric": {"zh": "电工", "en": "Electrical"},
    "disinfection": {"zh": "消毒", "en": "Disinfection"},
}


def region_config() -> RegionConfig:
    return RegionConfig(name="上海 Shanghai field service", timezone=TZ, zones=[PUXI, PUDONG],
                        policy=DispatchPolicy(offer_timeout_s=120, speed_kmh=25),
                        skill_names=SKILL_NAMES)


def _local(day: datetime, hour: float) -> int:
    return int((day + timedelta(hours=hour)).timestamp() * 1000)


async def load(engine: DispatchEngine, now_ms: int) -> bool:
    """Create the demo region (idempotent); jobs only on first start. True if created."""
    r = await engine.put_region(REGION, region_config(), WHO)
    for tid, name, skills, zones, home in TECHS:
        await engine.put_tech(tid, TechnicianSpec(name=name, skills=skills, zones=zones,
                                                  home=Point(*home), shift=Shift("00:00",
                                                                                 "24:00")),
                              WHO)
    await engine.put_org(ORG, OrgSpec("ACME 办公园区 ACME offices"), WHO)
    if not r.get("created"):
        return False
    rng = random.Random(5)
    for i, (tid, *_rest) in enumerate(TECHS):
        await engine.action(tid, Action(f"demo-online-{i}", ActionKind.ONLINE, now_ms), WHO)
    day = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(TZ))
    skills = ["appliance", "plumbing", "electric", ""]
    for k in range(12):
        hours_ahead = rng.uniform(1, 6)
        start = day + timedelta(hours=hours_ahead)
        window = Window(int(start.timestamp() * 1000),
                        int((start + timedelta(hours=2)).timestamp() * 1000))
        skill = skills[k % len(skills)]
        await engine.create_job(REGION, JobRequest(
            location=Point(31.23 + rng.uniform(-0.04, 0.04), 121.48 + rng.uniform(-0.07, 0.07)),
            skills=[skill] if skill else [], duration_s=rng.choice([1800, 2700, 3600]),
            window=window if k % 3 else None, priority=90 if k == 0 else rng.randint(0, 50),
            customer=f"客户 {k + 1}"), WHO)
    base = day.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    batch = [JobRequest(location=Point(31.236 + rng.uniform(-0.003, 0.003),
                                       121.502 + rng.uniform(-0.003, 0.003)),
                        skills=["disinfection"], duration_s=1500,
                        window=Window(_local(base, k // 4), _local(base, k // 4 + 1)))
             for k in range(20)]
    await engine.create_batch(ORG, BatchRequest(batch, "Tower A-D disinfection"), WHO)
    await Recomputer(engine).run(REGION, "demo")
    return True
