"""loadtest.restart_resume, small: after kill -9 and a restart with the history intact,
every subscription resumes but the service: ones, which resync by design."""

from __future__ import annotations

from loadtest.restart_resume import parse, run


async def test_only_service_topics_resync_after_a_restart() -> None:
    r = await run(parse(["--boards", "2", "--phones", "3", "--overviews", "1"]))
    # 6 consoles (counter: + 9 service:), 1 overview (board: + 5 service:), 2 boards, 3 phones
    assert (r["clients"], r["subscriptions"]) == (12, 26)
    assert r["reasons"] == {"service: not replayable": 14}
    assert (r["resumes"], r["resyncs"]) == (12, 14)
    assert r["client_resyncs"] == {"console service": 9, "overview service": 5}
