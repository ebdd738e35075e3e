"""Staff actions on the floor overview's appointments (/supervise/{site}), in a real browser
against a demo server: lifting a suspension (DELETE /v1/sites/{site}/suspensions/{id}, behind
a confirm step) and correcting the number a booking's texts go to (POST
/v1/bookings/{id}/notify: a landline refused with its reason's words), each checked in the
server's state afterwards; an agent of the site lifting one (whoever may suspend may lift)
that reaches nobody today, listed all the same (GET /v1/sites/{site}/suspensions); what a
supervisor's token is offered (neither: the server would refuse), and the words in Chinese."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.browser import test_supervise_appointments as appts_page
from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000
daytime = appts_page.daytime  # the demo clinic where it is day now (today's list has the time)


def _get(server: DemoServer, path: str) -> dict[str, Any]:
    r = httpx.get(server.base + path, timeout=10,
                  headers={"Authorization": f"Bearer {server.token('admin')}"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _suspended_booking(server: DemoServer, customer: str) -> tuple[dict[str, Any], str]:
    """A lab booking today with a text number, and a suspension of its room over its time."""
    b = appts_page._lab_booking(server, customer)
    admin = server.token("admin")
    fixed = server.post(f"/v1/bookings/{b['id']}/notify", admin, {"to": "+8613900139000"})
    assert fixed["notify"] == "+8613900139000"
    susp = server.post(f"/v1/sites/demo/resources/{b['resource']}/suspend", admin,
                       {"from": b["start"], "until": b["end"], "reason": "called to theatre"})
    assert any(x["id"] == b["id"] for x in susp["affected"])
    return b, str(susp["id"])


def _open(context: Any, server: DemoServer, token: str, lang: str = "en") -> Any:
    page = context.new_page()
    page.goto(f"{server.base}/supervise/demo?token={token}&lang={lang}")
    page.locator("#appts:not([hidden])").wait_for(timeout=WAIT_MS)
    wait_js(page, "window.switchboardSupervise.appts.list !== null")
    return page


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement?.id || document.activeElement?.dataset"
                             "?.fix || document.activeElement?.dataset?.yes || ''"))


def test_lift_a_suspension_and_correct_a_text_number(
        context: Any, demo_server: DemoServer, daytime: None) -> None:
    b, sid = _suspended_booking(demo_server, "MRN-8101")
    page = _open(context, demo_server, demo_server.token("admin"))
    item = page.locator(f"#susp-list li[data-suspension='{sid}']")
    item.wait_for(timeout=WAIT_MS)
    assert "called to theatre" in item.inner_text()
    # This test's booking, and those earlier tests made in the same slot.
    assert re.search(r"\n\d+ not answered yet\n", item.inner_text())
    lift = item.locator("button[data-lift]")
    assert lift.get_attribute("aria-label") == "Lift the suspension of Blood draw room"
    assert lift.bounding_box()["height"] >= 44
    lift.click()
    # The confirm step: nothing lifted yet, focus on the confirming button.
    yes = item.locator("button", has_text="Yes, lift")
    yes.wait_for()
    assert _focused(page) == sid
    assert "lifted_at" not in _get(demo_server, f"/v1/sites/demo/suspensions/{sid}")
    item.locator("button", has_text="Keep it").click()
    assert page.evaluate("document.activeElement.dataset.lift") == sid
    lift.click()
    yes.click()
    page.locator("#susp-status", has_text=re.compile(
        r"^Lifted: Blood draw room\. Appointments standing again: [1-9]\d*\.$")).wait_for(
            timeout=WAIT_MS)
    item.wait_for(state="detached", timeout=WAIT_MS)
    assert _focused(page) == "susp-title"
    assert _get(demo_server, f"/v1/sites/demo/suspensions/{sid}")["lifted_at"]

    # The text number: shown whole to an admin, corrected through the page.
    row = page.locator(f"tr[data-booking='{b['id']}']")
    assert "+8613900139000" in row.locator(".ap-texts").inner_text()
    fix = row.locator("button[data-fix]")
    assert fix.bounding_box()["height"] >= 44
    fix.click()
    assert _focused(page) == "nt-input"
    assert page.locator("#nt-title").inner_text() == "Text number for MRN-8101"
    page.get_by_label("Mobile number").fill("")
    page.locator("#nt-save").click()
    page.locator("#nt-error", has_text="Type a mobile number.").wait_for()
    page.get_by_label("Mobile number").fill("+86 10 6552 9988")  # a Beijing landline
    page.locator("#nt-save").click()
    page.locator("#nt-error", has_text="That is a landline: texts need a mobile "
                 "number.").wait_for(timeout=WAIT_MS)
    assert page.locator("#nt-input").get_attribute("aria-invalid") == "true"
    assert _focused(page) == "nt-input"
    assert _get(demo_server, f"/v1/bookings/{b['id']}")["notify"] == "+8613900139000"
    page.get_by_label("Mobile number").fill("+86 138 0013 8000")
    page.locator("#nt-save").click()
    page.locator("#nt-status", has_text="Texts for MRN-8101 now go to "
                 "+8613800138000.").wait_for(timeout=WAIT_MS)
    assert page.locator("#nt-form").is_hidden()
    assert _focused(page) == b["id"]
    assert _get(demo_server, f"/v1/bookings/{b['id']}")["notify"] == "+8613800138000"
    row.locator(".ap-texts", has_text="+8613800138000").wait_for(timeout=WAIT_MS)

    # In Chinese.
    page.locator("#lang button", has_text="中文").click()
    page.locator("#appt-head th", has_text="患者 · 短信号码").wait_for()
    assert row.locator("button[data-fix]").inner_text() == "更正"


def test_an_agent_lifts_a_suspension_that_reaches_nobody_today(
        context: Any, demo_server: DemoServer, daytime: None) -> None:
    b = appts_page._lab_booking(demo_server, "MRN-8103")
    agent = demo_server.token("agent", site="demo", counter="1")
    day = 86400_000
    start, end = (datetime.fromisoformat(b[k]).timestamp() * 1000 for k in ("start", "end"))
    tz = datetime.fromisoformat(b["start"]).tzinfo
    # Tomorrow's, reaching nobody: the day's list never showed it.
    susp = demo_server.post(f"/v1/sites/demo/resources/{b['resource']}/suspend", agent, {
        "from": datetime.fromtimestamp((start + day) / 1000, tz).isoformat(),
        "until": datetime.fromtimestamp((end + day) / 1000, tz).isoformat(),
        "reason": "typed the wrong day"})
    assert susp["affected"] == []
    sid = str(susp["id"])
    page = _open(context, demo_server, agent)
    item = page.locator(f"#susp-list li[data-suspension='{sid}']")
    item.wait_for(timeout=WAIT_MS)
    text = item.inner_text()
    assert "typed the wrong day" in text and "0 not answered yet" in text
    tomorrow = datetime.fromtimestamp((start + day) / 1000, tz)
    assert f"{tomorrow.day} {tomorrow.strftime('%b')}" in text  # not today's: with its day
    lift = item.locator("button[data-lift]")
    assert lift.bounding_box()["height"] >= 44
    lift.click()
    item.locator("button", has_text="Yes, lift").click()
    page.locator("#susp-status", has_text="Lifted: Blood draw room. Appointments standing "
                 "again: 0.").wait_for(timeout=WAIT_MS)
    item.wait_for(state="detached", timeout=WAIT_MS)
    assert _focused(page) == "susp-title"
    assert _get(demo_server, f"/v1/sites/demo/suspensions/{sid}")["lifted_at"]


def test_a_supervisor_sees_suspensions_and_masked_numbers_without_the_admins_buttons(
        context: Any, demo_server: DemoServer, daytime: None) -> None:
    b, sid = _suspended_booking(demo_server, "MRN-8102")
    page = _open(context, demo_server, demo_server.token("supervisor", site="demo"), "zh")
    try:
        item = page.locator(f"#susp-list li[data-suspension='{sid}']")
        item.wait_for(timeout=WAIT_MS)
        text = item.inner_text()  # it reads the list: room, period, reason, who has not answered
        assert text.startswith("采血室 · ") and "原因：“called to theatre”" in text
        assert re.search(r"\n\d+ 人尚未答复$", text)  # this test's and earlier ones' in the slot
        assert item.locator("button").count() == 0
        assert page.locator("#susp-note").inner_text() == "只有管理员或本站窗口人员可以撤销停诊。"
        assert page.locator("#susp-title").inner_text() == "停诊"
        cell = page.locator(f"tr[data-booking='{b['id']}'] .ap-texts")
        assert "+8613900139000" not in cell.inner_text()  # masked for a supervisor
        assert cell.locator("button").count() == 0
    finally:
        httpx.delete(f"{demo_server.base}/v1/sites/demo/suspensions/{sid}", timeout=10,
                     headers={"Authorization": f"Bearer {demo_server.token('admin')}"})


UNITS = """async () => {
  const m = await import('/static/js/supervise-appts.js');
  const s = await import('/static/js/supervise-susp.js');
  // As the pages' translators: a key with no words comes back as it is.
  const tr = (k, v) => (k.endsWith('_odd') ? k : v ? `${k}:${JSON.stringify(v)}` : `T:${k}`);
  const b = (status, extra = {}) => ({ status, ...extra });
  return {
    ok: m.textsState(b('confirmed', { notify: '+8613800138000', notify_state: { state: 'ok' } }),
      tr),
    failed: m.textsState(b('held', { notify_state: { state: 'failed', status: 410 } }), tr),
    done: m.textsState(b('checked_in', { notify: '+861…00' }), tr),
    landline: m.notifyError({ ok: false, status: 400,
      data: { code: 'bad_request', details: { reason: 'not_a_mobile' } } }, tr),
    unknown: m.notifyError({ ok: false, status: 400, data: { code: 'odd' } }, tr),
    offline: m.notifyError({ ok: false, status: 0, data: { code: 'network' } }, tr),
    liftNo: s.liftError({ ok: false, status: 403, data: { code: 'forbidden' } }, (k) => `T:${k}`),
    ids: s.suspensionIds([{ suspension: { id: 'a' } }, {}, { suspension: { id: 'a' } },
      { suspension: { id: 'b' } }]),
    today: s.period({ from: '2026-12-07T10:00:00+08:00', until: '2026-12-07T11:30:00+08:00' },
      'en', 'Asia/Shanghai', Date.parse('2026-12-07T08:00:00+08:00')),
    later: s.period({ from: '2026-12-09T10:00:00+08:00', until: '2026-12-09T11:30:00+08:00' },
      'en', 'Asia/Shanghai', Date.parse('2026-12-07T08:00:00+08:00')),
    days: s.period({ from: '2026-12-09T10:00:00+08:00', until: '2026-12-10T09:00:00+08:00' },
      'zh', 'Asia/Shanghai', Date.parse('2026-12-07T08:00:00+08:00')),
    role: s.tokenRole('x.' + btoa(JSON.stringify({ role: 'agent' })).replace(/=+$/, '') + '.y'),
    noRole: s.tokenRole('nonsense'),
    noToken: s.tokenRole(null),
  };
}"""


def test_the_staff_actions_rules(context: Any, demo_server: DemoServer) -> None:
    page = context.new_page()
    page.goto(demo_server.base + "/")
    got = page.evaluate(UNITS)
    assert got["ok"] == {"number": "+8613800138000", "how": "T:nt_ok", "bad": False,
                         "fixable": True}
    assert got["failed"] == {"number": "T:nt_none", "how": 'nt_failed:{"status":410}',
                             "bad": True, "fixable": True}
    assert got["done"]["fixable"] is False and got["done"]["how"] == ""
    assert got["landline"] == "T:ne_not_a_mobile"
    assert got["unknown"] == 'ne_other:{"code":"odd"}'
    assert got["offline"] == "T:ne_network"
    assert got["liftNo"] == "T:sp_e_forbidden"
    assert got["ids"] == ["a", "b"]
    assert got["today"] == "10:00–11:30"
    assert got["later"] == "Wed 9 Dec 10:00–11:30"
    assert got["days"].endswith("10:00 – 12月10日周四 09:00"), got["days"]
    assert got["role"] == "agent" and got["noRole"] is None and got["noToken"] is None
