"""Ticket numbers and booking codes read as people type them (queueing/typed.py): a code as
the booking page shows it ("HD4 3UX"), with a dash, in full-width forms (a Chinese input
method's "ＨＤ４３ＵＸ", "Ａ００１"); the SMS parser reads texts through the same normaliser."""

from __future__ import annotations

import pytest

from queueing import sms, typed
from queueing.audit import Filter
from queueing.booking import rules
from queueing.tickets import number_key


@pytest.mark.parametrize("value", [
    "HD43UX", "hd43ux", "HD4 3UX", "hd4 3ux", " HD4  3UX ", "HD4-3UX", "hd4‐3ux", "HD4–3UX",
    "HD4\u00a03UX", "ＨＤ４３ＵＸ", "ＨＤ４　３ＵＸ", "ｈｄ４－３ｕｘ", "H D 4 3 U X",
])
def test_a_typed_code_is_read_as_meant(value: str) -> None:
    assert rules.parse_code(value) == (None, "HD43UX")


@pytest.mark.parametrize("value", ["HD43U", "HD43UXX", "HD4 3U0", "HD4/3UX", "HD4.3UX", "",
                                   "   ", "--"])
def test_what_is_no_code_stays_refused(value: str) -> None:
    assert rules.parse_code(value) is None


def test_a_qr_payload_keeps_its_dashes() -> None:
    # A booking id may hold a dash: the payload is read before separators go.
    bid = "demo-2.0123456789ab"
    assert rules.parse_code(rules.qr_payload(bid, "HD43UX")) == (bid, "HD43UX")
    assert rules.parse_code(f" SBK1:{bid}:HD43UX ") == (bid, "HD43UX")
    assert rules.parse_code("ＳＢＫ１:demo.0123456789ab:HD43UX") == ("demo.0123456789ab",
                                                                    "HD43UX")


@pytest.mark.parametrize("value", ["A001", "a1", "A 001", "A-001", "Ａ００１", "ａ１", "Ａ　００１",
                                   "Ａ－００１", " A001 "])
def test_a_typed_ticket_number_is_read_as_meant(value: str) -> None:
    assert number_key(value) == ("A", 1)


@pytest.mark.parametrize("value", ["", "A", "001", "１２３", "A0B1", "甲001", "ABCD1"])
def test_what_is_no_ticket_number_stays_refused(value: str) -> None:
    assert number_key(value) is None


def test_the_history_filter_finds_a_full_width_number() -> None:
    want = Filter(number="Ａ００１")
    assert want({"n": "A001"}) and want({"n": "A1"}) and not want({"n": "A011"})


def test_compact_and_plain() -> None:
    assert typed.plain("Ａ００１？") == "A001?"
    assert typed.compact(" hd4 3ux ") == "hd43ux"
    assert typed.compact("Ａ－００１") == "A001"


def test_sms_reads_through_the_same_normaliser() -> None:
    assert sms.normalise("ＳＴＡＴＵＳ？") == "STATUS"
