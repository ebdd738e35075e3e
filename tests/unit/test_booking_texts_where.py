"""The first text of a booking or a ticket, and a reminder, say where (the site), with whom
(the doctor or room) and, where the number can answer by text, the words to reply with;
within one SMS part (160 GSM-7 characters, 70 UCS-2)."""

from __future__ import annotations

from queueing.booking.texts import PerLanguage, render
from queueing.sms import gsm7

SITE = PerLanguage(en="Riverside Clinic", zh="市一医院")
BOOKING = {"service": PerLanguage(en="Internal medicine", zh="内科"), "code": "K7RZMQ",
           "time": PerLanguage(en="Wed 9 Dec 08:15", zh="12月9日（周三）08:15")}
DOCTOR = PerLanguage(en="Dr Wang", zh="王医生")


def _one_part(text: dict[str, str]) -> None:
    for lang, t in text.items():
        assert len(t) <= (160 if gsm7(t) else 70), (lang, len(t), t)


def test_a_reminder_names_the_site_the_doctor_and_the_words_to_reply() -> None:
    text = render("reminder", ["en", "zh"], **BOOKING, site=SITE, resource=DOCTOR,
                  replies=True)
    assert text["en"] == ("Reminder: Internal medicine with Dr Wang at Riverside Clinic, Wed "
                          "9 Dec 08:15. Code K7RZMQ. Reply CANCEL to cancel; on the day, text "
                          "ARRIVED when you are here.")
    assert text["zh"] == ("提醒：您预约的市一医院内科（王医生）在 12月9日（周三）08:15，"
                          "预约码 K7RZMQ。回复“取消”可取消；到达后回复“签到”。")
    _one_part(text)


def test_a_number_that_cannot_reply_is_not_told_to() -> None:
    text = render("reminder", ["en", "zh"], **BOOKING, site=SITE, resource=None,
                  replies=False)
    assert text["en"] == "Reminder: Internal medicine at Riverside Clinic, Wed 9 Dec 08:15. " \
                         "Code K7RZMQ."
    assert "回复" not in text["zh"] and "市一医院内科在" in text["zh"]


def test_booked_and_issued_say_where() -> None:
    booked = render("booked", ["en", "zh"], **BOOKING, site=SITE, resource=DOCTOR,
                    replies=True)
    assert booked["en"].startswith("Booked at Riverside Clinic: Internal medicine with Dr Wang,")
    assert booked["zh"].startswith("预约成功：市一医院内科（王医生），")
    _one_part(booked)
    issued = render("issued", ["en", "zh"], number="A001", ahead=3, minutes=12, replies=True,
                    service=PerLanguage(en="Internal medicine", zh="内科"), site=SITE)
    assert issued["en"] == ("Your ticket at Riverside Clinic: A001 (Internal medicine), 3 "
                            "ahead, about 12 min. We'll text you when you are called. Reply "
                            "STATUS to check, CANCEL to leave.")
    assert issued["zh"].startswith(
        "【市一医院】您的号码是 A001（内科），目前前面有 3 人，预计约 12 分钟。")
    assert issued["zh"].endswith("回复“查询”看进度，“取消”退号。")
    _one_part(issued)
