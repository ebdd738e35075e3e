"""One spelling per phone number (queueing/phone.py): pure, no Redis."""

from __future__ import annotations

import random

import msgspec
import pytest

from queueing import phone
from queueing.demo import demo_site
from queueing.errors import BadRequest, InvalidPhoneNumber
from queueing.model import SiteConfig, validate_site

CN_MOBILE = "+8613800138000"


@pytest.mark.parametrize("written", ["+8613800138000", "8613800138000", "13800138000",
                                     "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                                     "0086 138 0013 8000", " 13800138000 "])
def test_every_spelling_of_a_chinese_mobile_is_one(written: str) -> None:
    assert phone.normalise(written, "CN") == CN_MOBILE
    assert phone.normalise(written, "CN", international=True) == CN_MOBILE


@pytest.mark.parametrize("written", ["07911 123456", "+44 7911 123456", "447911123456",
                                     "(07911) 123-456"])
def test_a_national_number_at_a_british_site(written: str) -> None:
    assert phone.normalise(written, "GB") == "+447911123456"


def test_a_national_number_is_read_in_the_site_s_country() -> None:
    """The same digits are two phones at two sites: the region is what makes it one."""
    assert phone.normalise("020 7946 0018", "GB") == "+442079460018"
    assert phone.normalise("010 6552 9988", "CN") == "+861065529988"
    assert phone.normalise("13312345678", "CN") == "+8613312345678"
    assert phone.normalise("13312345678", "US") == "+13312345678"


@pytest.mark.parametrize(("written", "region"), [
    ("12", "CN"), ("+12", "CN"), ("1380013800012345678", "CN"), ("abc", "CN"),
    ("+86 138 0013 800O", "CN"), ("+999 1234 5678", "CN"), ("", "CN"), ("8613800138000", "GB"),
])
def test_what_is_no_possible_number_is_refused_with_a_stable_reason(
        written: str, region: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as err:
        phone.normalise(written, region, field="phone")
    e = err.value
    assert isinstance(e, BadRequest) and (e.status, e.code) == (400, "bad_request")
    assert e.details == {"field": "phone", "reason": "invalid_phone_number"}


def test_a_national_number_where_the_site_has_no_country_asks_for_the_plus() -> None:
    with pytest.raises(InvalidPhoneNumber) as err:
        phone.normalise("13800138000", None, field="customer")
    assert err.value.details == {"field": "customer", "reason": "needs_country_code"}
    assert "+" in err.value.message
    assert phone.normalise("+86 138 0013 8000", None) == CN_MOBILE


def test_a_gateway_s_number_is_international_without_its_plus() -> None:
    """A gateway drops the "+" of international numbers: "447911123456" at a Chinese site
    is the British mobile (read nationally it is no Chinese number), and without any
    country too; a Chinese mobile in national form is still read as one (it is no number
    of +1), as are the UK's drama numbers (possible, not valid)."""
    assert phone.normalise("447911123456", "CN", international=True) == "+447911123456"
    assert phone.normalise("8613800138000", None, international=True) == CN_MOBILE
    assert phone.normalise("13800138000", "CN", international=True) == CN_MOBILE
    # A national number must be a real one, even from a gateway: the UK's drama range
    # (07700 900xxx) is possible, not valid; written international it passes.
    assert phone.normalise("+447700900123", "GB", international=True) == "+447700900123"
    assert phone.normalise("447700900123", "GB", international=True) == "+447700900123"


def test_a_notify_target_that_is_no_number_is_kept() -> None:
    endpoint = "https://push.example.com/v1/abc"
    assert phone.target(endpoint, "CN") == endpoint
    assert phone.target("138 0013 8000", "CN") == CN_MOBILE
    with pytest.raises(InvalidPhoneNumber):
        phone.target("12", "CN")


@pytest.mark.parametrize(("customer", "want"), [
    ("13800138000", CN_MOBILE), ("138 0013 8000", CN_MOBILE), ("8613800138000", CN_MOBILE),
    ("+8613800138000", CN_MOBILE), ("Mrs Li", "Mrs Li"), ("P-1001", "P-1001"),
    ("100234", "100234"), ("12345678", "12345678"),  # patient numbers, no phones
])
def test_a_customer_is_a_number_only_when_it_is_one(customer: str, want: str) -> None:
    assert phone.customer(customer, "CN") == want


def test_a_customer_with_a_plus_must_be_a_number() -> None:
    with pytest.raises(InvalidPhoneNumber) as err:
        phone.customer("+12", "CN")
    assert err.value.details["field"] == "customer"


def test_numbers_stored_before_still_match() -> None:
    """Tickets' notify targets were kept as typed: "+86…", "86…", and at a Chinese site the
    national form (which the old "+" prefixing read as a number of +1)."""
    for stored in ("+8613800138000", "8613800138000", "13800138000", "138 0013 8000"):
        assert phone.same(stored, CN_MOBILE, "CN"), stored
    assert not phone.same("13800138001", CN_MOBILE, "CN")
    assert not phone.same("https://push.example.com/x", CN_MOBILE, "CN")
    assert not phone.same("12", CN_MOBILE, "CN")


def test_a_stored_national_number_matches_by_either_reading() -> None:
    """"13312345678" is +86 133 1234 5678 at a Chinese site and, read as international,
    +1 331 234 5678 (Illinois, valid): an erasure finds it by either; text to join reads
    the one it most likely is (the site's national number)."""
    assert phone.same("13312345678", "+8613312345678", "CN")
    assert phone.same("13312345678", "+13312345678", "CN")
    assert phone.same("13312345678", "+8613312345678", "CN", either=False)
    assert not phone.same("13312345678", "+13312345678", "CN", either=False)
    assert phone.reading("13312345678", "CN") == "+8613312345678"
    assert phone.reading("8613312345678", "CN") == "+8613312345678"
    assert phone.reading("+13312345678", "CN") == "+13312345678"
    assert phone.reading("Wang Fang", "CN") is None


def test_random_chinese_mobiles_stored_in_national_form_match() -> None:
    """Every CN mobile stored nationally matches its E.164 however the international
    reading falls (about half are numbers of +1 too)."""
    rng = random.Random(8)
    prefixes = ("130", "133", "135", "138", "139", "150", "153", "158", "166", "177", "180",
                "186", "189", "199")
    both = 0
    for _ in range(400):
        national = rng.choice(prefixes) + f"{rng.randrange(10 ** 8):08d}"
        e164 = "+86" + national
        assert phone.normalise(national, "CN") == e164, national
        assert phone.same(national, e164, "CN"), national
        assert phone.same(national, e164, "CN", either=False), national
        both += phone.same(national, "+" + national, "CN")
    assert both > 50  # the case the erasure missed is common, not contrived


@pytest.mark.parametrize(("typed", "reason", "hint"), [
    ("91234567", "needs_country_code", "+85291234567"),  # a Hong Kong mobile
    ("66123456", "needs_country_code", "+85366123456"),  # Macau's, or Hong Kong's
    ("1380013800", "invalid_phone_number", None),  # a digit short
    ("12345678901", "invalid_phone_number", None),
])
def test_a_national_number_must_be_a_real_one(typed: str, reason: str, hint: str | None
                                              ) -> None:
    """At a Chinese site, national input that is no real number is refused (it was taken
    as a "possible" +86 number); written with + or 00, a possible number still passes
    (libphonenumber's tables lag new ranges)."""
    with pytest.raises(InvalidPhoneNumber) as err:
        phone.normalise(typed, "CN")
    assert err.value.details["reason"] == reason
    if hint:
        assert hint in str(err.value)
    assert phone.normalise("+447700900123", "CN") == "+447700900123"
    assert phone.normalise("0044 7700 900123", "CN") == "+447700900123"


@pytest.mark.parametrize(("zone", "country"), [
    ("Asia/Shanghai", "CN"), ("Europe/London", "GB"), ("Asia/Hong_Kong", "HK"),
    ("America/New_York", "US"), ("Europe/Zurich", "CH"), ("Europe/Amsterdam", "NL"),
    ("PRC", "CN"), ("Asia/Chongqing", "CN"), ("GB", "GB"),  # links, as their zones
    ("UTC", None), ("Etc/UTC", None), ("Etc/GMT-8", None), ("Mars/Base", None),
])
def test_the_country_of_a_time_zone(zone: str, country: str | None) -> None:
    assert phone.zone_country(zone) == country


def test_a_site_s_country_wins_over_its_time_zone() -> None:
    cfg = demo_site()
    assert (cfg.timezone, cfg.country, cfg.phone_region()) == ("Asia/Shanghai", None, "CN")
    assert msgspec.structs.replace(cfg, country="HK").phone_region() == "HK"
    utc = msgspec.structs.replace(cfg, timezone="UTC")
    assert utc.phone_region() is None
    assert msgspec.structs.replace(utc, country="GB").phone_region() == "GB"


def test_a_site_s_country_is_validated() -> None:
    doc = msgspec.to_builtins(demo_site())
    for bad in ("cn", "CHN", "C1"):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert({**doc, "country": bad}, SiteConfig)
    with pytest.raises(BadRequest) as err:
        validate_site(msgspec.convert({**doc, "country": "XX"}, SiteConfig))
    assert err.value.details == {"field": "country"}
    validate_site(msgspec.convert({**doc, "country": "GB"}, SiteConfig))
    # Absent, it is not written back: a site stored before reads and writes the same.
    assert "country" not in msgspec.to_builtins(demo_site())


def test_numbers_typed_with_a_chinese_input_method_are_read() -> None:
    """Full-width digits, plus, dashes and brackets, an ideographic space (what a Chinese
    IME types): read as the ASCII number. Before, ``target`` kept "１３９ ００１３ ９００３"
    as a push endpoint and texts went to it as typed, and "１２３" was taken."""
    assert phone.normalise("１３９ ００１３ ９００３", "CN") == "+8613900139003"
    assert phone.normalise("＋８６　１３８－００１３－８０００", None) == "+8613800138000"
    assert phone.normalise("（０２０）７９４６ ００１８", "GB") == "+442079460018"
    assert phone.normalise("138—0013—8000", "CN") == "+8613800138000"  # em dashes
    assert phone.target("１３９ ００１３ ９００３", "CN") == "+8613900139003"
    with pytest.raises(InvalidPhoneNumber) as err:
        phone.target("１２３", "CN")
    assert err.value.details == {"field": "notify", "reason": "invalid_phone_number"}
    # A patient number typed full-width that is no phone number stays as it was typed.
    assert phone.customer("１２３４５６", "CN") == "１２３４５６"
    assert phone.customer("１３８００１３８０００", "CN") == "+8613800138000"
    assert phone.target("https://push.example/abc", "CN") == "https://push.example/abc"
