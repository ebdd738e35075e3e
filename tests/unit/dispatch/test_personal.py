"""The matching rules of a region's erasure (dispatch/personal.py): a number inside free
text, in any spelling; jobs, entries and cached copies; a technician's positions."""

from __future__ import annotations

import pytest

from dispatch.personal import Customer, redacted_copy, technician_location

NL = Customer("+31612345678", region="NL")


@pytest.mark.parametrize("text", [
    "+31612345678", "31612345678", "0612345678", "06-12345678", "06 1234 5678",
    "Anna Smit 06 12345678", "bel 06-12345678 bij de poort", "ring +31 6 1234 5678",
    "tel:+31612345678;", "2026-12-06 0612345678"])
def test_the_number_in_any_spelling_among_words(text: str) -> None:
    assert NL.mentions(text)


@pytest.mark.parametrize("text", [
    "", "Anna Smit", "06 12345679", "+31698765432", "12345678", "gate code 345678",
    "+4412345678"])
def test_other_numbers_and_texts_are_not_it(text: str) -> None:
    assert not NL.mentions(text)


def test_without_a_country_only_international_spellings() -> None:
    c = Customer("+8613800138000", region=None)
    assert c.mentions("call +86 138 0013 8000") and c.mentions("8613800138000")
    assert not c.mentions("13800138000")  # read in which country? not this one
    assert Customer("+8613800138000", region="CN").mentions("王先生13800138000")


def test_jobs_named_found_or_marked() -> None:
    c = Customer("+31612345678", frozenset({"R.j-1"}), "NL", reference="ref1")
    assert c.job({"id": "R.j-1"})  # named: whatever it holds
    assert c.job({"id": "R.j-2", "note": "bel 0612345678"})
    assert c.job({"id": "R.j-3", "erased": "ref1"})  # an earlier erasure's open job
    assert not c.job({"id": "R.j-4", "erased": "ref2", "customer": "Anna"})


def test_entries_of_open_jobs_go_only_while_they_hold_name_or_note() -> None:
    c = Customer("+31612345678", frozenset({"R.j-1", "R.j-2"}), "NL",
                 open=frozenset({"R.j-2"}))
    assert c.entry({"job": {"id": "R.j-1", "address": "Keizersgracht 12"}}, b"{}")
    assert c.entry({"job": {"id": "R.j-2", "customer": "Anna"}}, b"{}")
    assert not c.entry({"job": {"id": "R.j-2", "address": "Prinsengracht 5"}}, b"{}")
    raw = b'{"plan":{"why":"Anna 06 1234 5678"}}'
    assert c.entry({"plan": {"why": "Anna 06 1234 5678"}}, raw)  # the number anywhere
    assert not c.entry({"job": {"id": "R.j-9", "note": "other"}}, b'{"note":"other"}')


def test_a_cached_copy_loses_the_texts_and_the_door() -> None:
    j = {"id": "R.j-1", "customer": "Anna", "note": "", "address": "Keizersgracht 12",
         "lat": 52.37123, "lon": 4.89345, "status": "done"}
    out = redacted_copy(j, None)
    assert (out["customer"], out["note"], out["address"]) == (None, "", None)
    assert (out["lat"], out["lon"], out["status"]) == (52.37, 4.89, "done")
    assert redacted_copy(redacted_copy(j)) == redacted_copy(j)  # nothing more the second time


def test_a_technicians_positions_in_the_stream() -> None:
    assert technician_location("gps", {"i": "R.t1", "la": 52.3}, "R.t1")
    assert not technician_location("gps", {"i": "R.t2"}, "R.t1")
    assert technician_location("tech_updated", {"tech": {"id": "R.t1", "fix_ms": 5}}, "R.t1")
    # Set up, before any fix: its position is its home base (the profile, which stays).
    assert not technician_location("tech_updated", {"tech": {"id": "R.t1", "fix_ms": 0}},
                                   "R.t1")
    assert not technician_location("tech_status", {"tech": {"id": "R.t1"}}, "R.t1")
    # Its profile erased (a technician who left): every entry with its hash goes.
    assert technician_location("tech_updated", {"tech": {"id": "R.t1", "fix_ms": 0}},
                               "R.t1", profile=True)
    assert not technician_location("tech_updated", {"tech": {"id": "R.t2"}}, "R.t1",
                                   profile=True)
