"""The demo site: a clinic with Chinese and English names, for `switchboard serve --demo`."""

from __future__ import annotations

from queueing.model import Counter, Service, SiteConfig

DEMO_SITE = "demo"


def demo_site() -> SiteConfig:
    services = [
        Service("internal", {"zh": "内科", "en": "Internal medicine"}, "A"),
        Service("paediatrics", {"zh": "儿科", "en": "Paediatrics"}, "B"),
        Service("lab", {"zh": "检验科", "en": "Laboratory"}, "C"),
        Service("pharmacy", {"zh": "取药", "en": "Pharmacy"}, "D"),
        Service("cashier", {"zh": "收费", "en": "Cashier"}, "E"),
    ]
    counters = [
        Counter("1", {"zh": "1号诊室", "en": "Room 1"}, ["internal"]),
        Counter("2", {"zh": "2号诊室", "en": "Room 2"}, ["internal", "paediatrics"],
                {"internal": 2.0, "paediatrics": 1.0}),
        Counter("3", {"zh": "3号诊室", "en": "Room 3"}, ["paediatrics"]),
        Counter("4", {"zh": "4号窗口", "en": "Counter 4"}, ["lab"]),
        Counter("5", {"zh": "5号窗口", "en": "Counter 5"}, ["pharmacy", "cashier"]),
        Counter("6", {"zh": "6号窗口", "en": "Counter 6"}, ["cashier", "pharmacy"],
                {"cashier": 2.0, "pharmacy": 1.0}),
    ]
    return SiteConfig(name={"zh": "示范社区诊所", "en": "Demo Community Clinic"},
                      timezone="Asia/Shanghai", languages=["zh", "en"], services=services,
                      counters=counters)
