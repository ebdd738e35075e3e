"""Ending a shift with accepted jobs asks first: the jobs go back to dispatch (pressed by
mistake, "Start shift" would not bring them back). With nothing accepted, it ends at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.dispatch_support import DispatchDemo
from tests.browser.test_dispatch_field_review import accepted_job, on_shift

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo.start(tmp_path_factory.mktemp("end-shift"))
    yield d
    d.stop()


@pytest.mark.timeout(240)
def test_end_shift_with_an_accepted_job_asks_first(browser: Any, demo: DispatchDemo) -> None:
    with accepted_job(browser, demo, "city.tes", "Mrs Qian") as (device, job):
        device.locator(".act-offline").click()
        dialog = device.locator("#end-dialog")
        dialog.wait_for(state="visible")
        assert "1 accepted job" in dialog.inner_text()
        # "Keep working" (focused first: Enter does not end the shift) changes nothing.
        assert device.evaluate("document.activeElement.classList.contains('dialog-cancel')")
        device.keyboard.press("Enter")
        dialog.wait_for(state="hidden")
        device.wait_for_timeout(1000)
        assert demo.tech("city.tes")["status"] == "available"
        assert demo.job(job["id"])["status"] == "assigned"
        # Confirmed: the shift ends.
        device.locator(".act-offline").click()
        device.locator("#end-dialog .end-yes").click()
        device.wait_for_selector("body[data-status='offline']", timeout=30000)
        assert demo.tech("city.tes")["status"] == "offline"


@pytest.mark.timeout(240)
def test_end_shift_with_nothing_accepted_ends_at_once(browser: Any, demo: DispatchDemo) -> None:
    with on_shift(browser, demo, "city.tet", locale="zh-CN") as device:
        device.locator(".act-offline").click()
        device.wait_for_selector("body[data-status='offline']", timeout=30000)
        assert not device.locator("#end-dialog").is_visible()
