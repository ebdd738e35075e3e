"""SMS targets are mobile numbers: a fixed line is refused with a reason of its own."""

from __future__ import annotations

import pytest

from queueing import phone
from queueing.errors import InvalidPhoneNumber


def test_a_landline_is_no_notify_target() -> None:
    with pytest.raises(InvalidPhoneNumber) as e:
        phone.target("(010) 6552 9988", "CN")
    assert e.value.details["reason"] == "not_a_mobile"
    assert e.value.details["field"] == "notify"
    assert phone.normalise("(010) 6552 9988", "CN") == "+861065529988"  # still a number
    assert phone.target("138 0013 8000", "CN") == "+8613800138000"
    assert phone.target("+1 202 555 0123", "CN") == "+12025550123"  # fixed or mobile: kept
    assert phone.target("https://push.example/abc", "CN") == "https://push.example/abc"
