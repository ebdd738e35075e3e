"""Queue alert rules and notification texts: pure."""

from __future__ import annotations

from queueing.booking import alerts, texts


def test_due_by_position_or_wait() -> None:
    th = alerts.Thresholds(position=3, wait_s=300)
    assert alerts.almost_due(3, 10_000, th)
    assert not alerts.almost_due(4, 301, th)
    assert alerts.almost_due(9, 300, th)


def test_rough_wait_and_scan_depth() -> None:
    assert alerts.rough_wait_s(1, 2, 300) == 0
    assert alerts.rough_wait_s(5, 2, 300) == 600
    th = alerts.Thresholds(position=3, wait_s=600)
    # With 2 counters and 5-minute calls, the 5th in line waits 10 minutes: still due.
    assert alerts.scan_depth(th, 2, 300) == 5
    assert alerts.almost_due(5, alerts.rough_wait_s(5, 2, 300), th)
    assert not alerts.almost_due(6, alerts.rough_wait_s(6, 2, 300), th)


def test_call_lengths_learn_from_completions() -> None:
    cl = alerts.CallLengths()
    assert cl.get("lab") == alerts.DEFAULT_SERVICE_S
    cl.observe("completed", {"ticket": {"service": "lab", "called_ms": 0, "ended_ms": 60_000}})
    cl.observe("called", {"ticket": {"service": "lab", "called_ms": 0}})
    # One call moves the mean a sixth of the way from the prior (5 calls' worth of it).
    assert cl.get("lab") == alerts.DEFAULT_SERVICE_S + (60 - alerts.DEFAULT_SERVICE_S) / 6
    before = cl.get("lab")
    cl.observe("completed", {"ticket": {"service": "lab", "called_ms": 0, "ended_ms": 160_000}})
    assert 160 < cl.get("lab") < before


def test_texts_per_language() -> None:
    t = texts.render("almost", ["zh", "en", "fr"], ahead=2, number="A012")
    assert t["zh"] == "快到您了：A012 号前面还有 2 人。"
    assert t["fr"] == t["en"] == "Almost your turn: 2 ahead of ticket A012."


def test_each_language_gets_its_own_service_name() -> None:
    """An English reminder names the service in English, not in the site's first language."""
    lab = texts.names({"zh": "检验科", "en": "Laboratory"}, ["zh", "en", "fr"], "lab")
    t = texts.render("reminder", ["zh", "en", "fr"], time="10:00", code="ABC123", service=lab)
    assert "检验科" in t["zh"] and "Laboratory" not in t["zh"]
    assert t["en"].startswith("Reminder: Laboratory, 10:00.") and "检验科" not in t["en"]
    # No French name: the first one, in the English template.
    assert t["fr"].startswith("Reminder: 检验科, 10:00.")
    plain = texts.names("Lab", ["zh", "en"], "lab")
    assert texts.render("offer", ["en"], time="9", until="8", service=plain)["en"].count("Lab") == 1
    assert texts.names(None, ["en"], "lab").pick("en") == "lab"
