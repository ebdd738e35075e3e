"""The erasure's matching rules (queueing/personal.py): pure, fed values."""

from __future__ import annotations

from queueing.personal import Person, alias, spellings

PHONE = "+8613800138000"


def test_any_spelling_of_the_number_is_theirs() -> None:
    p = Person(PHONE, region="CN")
    for v in (PHONE, "8613800138000", "13800138000", "+86 138-0013-8000", "138 0013 8000"):
        assert p.number(v), v
    for no in ("", None, "https://push.example/x", "P-1001", "Wang Fang", "+8613800138001",
               "13800138001"):
        assert not p.number(no), no
    assert not Person(PHONE).number("13800138000")  # no country: a national form is not read
    assert spellings(PHONE) == (PHONE, "8613800138000", "13800138000")
    assert spellings("+447700900123") == ("+447700900123", "447700900123", "07700900123")


def test_a_national_number_that_is_also_one_of_another_country_is_theirs() -> None:
    """"13312345678" stored before numbers were normalised is +86 133 1234 5678 at a
    Chinese site, and read as international also +1 331 234 5678 (valid): theirs."""
    p = Person("+8613312345678", region="CN")
    assert p.number("13312345678") and p.ticket({"id": "s.t9", "notify": "13312345678"})
    assert p.booking({"id": "s.b9", "customer": "13312345678", "notify": ""})


def test_tickets_and_bookings_by_number_or_named() -> None:
    p = Person(PHONE, frozenset({"s.t1"}), frozenset({"s.b1"}))
    assert p.ticket({"id": "s.t2", "notify": "8613800138000"})
    # A check-in copies the booking's customer, which may be the number: theirs too.
    assert p.ticket({"id": "s.t2", "notify": "+8613800138001", "customer": PHONE})
    assert p.ticket({"id": "s.t2", "notify": "", "customer": "8613800138000"})
    assert not p.ticket({"id": "s.t2", "notify": "+8613800138001", "customer": "Wang Fang"})
    assert p.ticket({"id": "s.t1", "notify": "https://push.example/x"})  # named: anything
    assert not p.ticket({"id": "s.t1", "notify": "", "customer": ""})  # nothing left
    assert p.booking({"id": "s.b2", "customer": PHONE, "notify": ""})
    assert p.booking({"id": "s.b2", "customer": "P-1", "notify": PHONE})
    assert not p.booking({"id": "s.b2", "customer": "P-1", "notify": "+447700900123"})
    assert p.booking({"id": "s.b1", "customer": "P-1", "notify": ""})
    assert not p.booking({"id": "s.b1", "customer": alias("s.b1"), "notify": ""})
    assert alias("s.b1") != alias("s.b2") and alias("s.b1").startswith("erased-")


def test_event_entries() -> None:
    p = Person(PHONE)
    hit = b'{"ticket":{"id":"s.t3","notify":"+8613800138000"}}'
    assert p.entry({"ticket": {"id": "s.t3", "notify": PHONE}}, hit)
    assert p.entry({"to": "8613800138000"}, b'{"to":"8613800138000"}')  # anywhere, quoted
    longer = b'{"to":"+86138001380001"}'
    assert not p.entry({"to": "+86138001380001"}, longer)
    assert not p.entry({"counter": "1"}, b'{"counter":"1"}')
    assert not Person(None, frozenset({"s.t1"})).entry({"x": PHONE}, b'{"x":"+8613800138000"}')


def test_the_reference_is_keyed_and_stable() -> None:
    from queueing.personal import reference
    ref = reference("k" * 32, "s1", PHONE)
    assert ref == reference("k" * 32, "s1", PHONE) and len(ref) == 16
    assert ref != reference("j" * 32, "s1", PHONE) and ref != reference("k" * 32, "s2", PHONE)
    assert "13800138000" not in ref
