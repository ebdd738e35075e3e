"""The demo site: a clinic with Chinese and English names, for `switchboard serve --demo`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from queueing.model import Counter, Service, SiteConfig, Vocabulary

if TYPE_CHECKING:
    from queueing.booking.model import BookingConfig

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
                      counters=counters, vocabulary=Vocabulary.CLINIC)


def demo_booking() -> BookingConfig:
    """The demo clinic's booking schedule: every day, so there are bookable slots today and
    the next 7 days whenever the demo runs (the lab draws blood around the clock). A fifth
    of each slot is held for the phone line and the window until the day before."""
    from queueing.booking.model import (
        WEEKDAYS,
        BookingConfig,
        BookingPolicy,
        Quota,
        Resource,
        Session,
        Template,
    )
    from queueing.model import Channel

    every = list(WEEKDAYS)
    resources = [
        Resource("dr-wang", {"zh": "王医生", "en": "Dr Wang"}, ["internal"]),
        Resource("dr-li", {"zh": "李医生", "en": "Dr Li"}, ["internal", "paediatrics"]),
        Resource("dr-chen", {"zh": "陈医生", "en": "Dr Chen"}, ["paediatrics"]),
        Resource("lab-1", {"zh": "采血室", "en": "Blood draw room"}, ["lab"]),
    ]
    day = [Session("08:00", "12:00", 5, 15), Session("14:00", "17:30", 5, 15)]
    templates = [
        Template("dr-wang", "internal", every, day),  # type: ignore[arg-type]
        Template("dr-li", "internal", ["mon", "wed", "fri"], [Session("08:00", "12:00", 5, 20)]),
        Template("dr-li", "paediatrics", ["tue", "thu", "sat", "sun"],
                 [Session("08:00", "12:00", 5, 20)]),
        Template("dr-chen", "paediatrics", every, day),  # type: ignore[arg-type]
        Template("lab-1", "lab", every, [Session("00:00", "24:00", 5, 5)]),  # type: ignore[arg-type]
    ]
    return BookingConfig(resources=resources, templates=templates,
                         quotas=[Quota([Channel.PHONE, Channel.WINDOW], 0.2, 86400)],
                         policy=BookingPolicy(horizon_days=14))
