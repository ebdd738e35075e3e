"""The soak test's arithmetic (loadtest/soak_stats.py): slopes, verdicts, key groups."""

from __future__ import annotations

from loadtest.soak_stats import growth, key_group, parse_metrics, report, slope_per_hour


def test_slope_per_hour_of_a_line() -> None:
    pts = [(t, 10 + 2 * t / 60) for t in range(0, 600, 15)]  # 2 a minute
    assert abs(slope_per_hour(pts) - 120) < 1e-9
    assert slope_per_hour(pts[:1]) == 0.0
    assert slope_per_hour([(5, 1), (5, 2)]) == 0.0


def test_verdicts() -> None:
    minutes = range(0, 3600, 30)
    flat = [(t, 100 + (t // 30) % 2) for t in minutes]  # noise on a level
    assert growth("server_rss_mb", flat, 600)["verdict"] == "flat"
    line = [(t, 100 + t / 36) for t in minutes]  # +100 an hour, to the end
    assert growth("hub_subscribers", line, 600)["verdict"] == "grows"
    assert growth("redis:sb:t:*:keys", line, 600, expires=True)["verdict"] == "grows, expires"
    capped = [(t, min(1000, t / 2)) for t in minutes]  # a stream until its trim cap
    assert growth("redis:x:events:max_len", capped, 600)["verdict"] == "levels off"
    drain = [(t, 1000 - t / 10) for t in minutes]
    assert growth("hub_connections", drain, 600)["verdict"] == "falls"
    row = growth("server_fds", line, 600)
    assert row["start"] == 100 and row["end"] == line[-1][1] and row["per_hour"] > 99
    assert growth("x", [], 0)["verdict"] == "no data"


def test_noise_is_not_growth() -> None:
    # Connections coming and going: +-10 around 50 with a slight drift inside the noise.
    import random
    rng = random.Random(3)
    noisy = [(t, 50 + rng.uniform(-10, 10) + t / 3600) for t in range(0, 1800, 15)]
    assert growth("hub_connections", noisy, 0)["verdict"] == "flat"


def test_tolerance_is_a_share_of_the_level_or_a_floor() -> None:
    # 3 MB a day on a 100 MB process is flat; 30 MB a day is not.
    slow = [(t, 100 + 3 * t / 86400) for t in range(0, 7200, 60)]
    fast = [(t, 100 + 30 * t / 86400) for t in range(0, 7200, 60)]
    assert growth("server_rss_mb", slow, 0)["verdict"] == "flat"
    assert growth("server_rss_mb", fast, 0)["verdict"] == "grows"


def test_key_groups() -> None:
    assert key_group("sb:{site:demo}:t:demo.5f0c9a") == "sb:{site:*}:t:*"
    assert key_group("sb:{site:a}:events") == "sb:{site:*}:events"
    assert key_group("sb:{region:city}:gps:city.t17") == "sb:{region:*}:gps:*"
    assert key_group("sb:rl:kiosk:{site:x}:soak:kiosk:3@127.0.0.1") == \
        "sb:rl:kiosk:{site:*}:soak:kiosk:*"
    assert key_group("sb:sites") == "sb:sites"


def test_parse_metrics_keeps_levels_not_buckets() -> None:
    text = "\n".join([
        "# HELP switchboard_connections Open websocket connections",
        "switchboard_connections 12.0",
        'switchboard_hub_table_entries{table="subscribers"} 7.0',
        'switchboard_delivery_lag_seconds_bucket{le="0.001"} 3.0',
        "switchboard_delivery_lag_seconds_count 9.0",
        "python_gc_objects_collected_total 5.0", "process_open_fds 31.0"])
    assert parse_metrics(text) == {
        "switchboard_connections": 12.0,
        'switchboard_hub_table_entries{table="subscribers"}': 7.0,
        "switchboard_delivery_lag_seconds_count": 9.0, "process_open_fds": 31.0}


def test_report_orders_growth_first() -> None:
    samples = [{"t": t, "values": {"a_flat": 5.0, "b_grows": float(t)}}
               for t in range(0, 3600, 60)]
    rows = report(samples, 600)
    assert [r["metric"] for r in rows] == ["b_grows", "a_flat"]
