"""The soak test's arithmetic, with no I/O: Prometheus text, Redis key groups, and the
growth of each sampled series after the warm-up (least-squares slope per hour) with a
verdict on whether it is bounded.

A series is one metric over time: ``[(t_s, value), ...]``. Its verdict:

- ``flat``: after the warm-up it moves less than its tolerance over a day at that slope,
  or its slope is within the noise (under ``MIN_T`` standard errors: clients coming and
  going move a connection count up and down by more than a half-hour trend);
- ``levels off``: it grew, but its last half grew less than half as fast as the whole;
- ``grows``: it still grows at the end (with ``expires`` when Redis holds those keys with
  a time-to-live, so they stop at the TTL's worth rather than for ever);
- ``falls``: it shrinks (a backlog draining, usually).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

Series = Sequence[tuple[float, float]]

# What a series may drift over a day and still be called flat: the larger of an absolute
# floor (by the unit in the metric's name) and a share of its level.
FLOOR = {"_mb": 4.0, "_fds": 8.0, "_threads": 2.0}
DEFAULT_FLOOR = 5.0
SHARE = 0.10
LATE_RATIO = 0.5
# A slope counts only past this many standard errors (samples of clients that stay minutes
# are not independent, so higher than the textbook 2).
MIN_T = 4.0

_METRIC = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
_SLOT = re.compile(r"\{(site|region):[^}]*\}")


def parse_metrics(text: str, prefixes: tuple[str, ...] = ("switchboard_", "process_")
                  ) -> dict[str, float]:
    """Prometheus text → ``{name{labels}: value}`` for the wanted families (histogram
    buckets left out: their sums and counts stay)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = _METRIC.match(line)
        if m is None or not m.group(1).startswith(prefixes) or m.group(1).endswith("_bucket"):
            continue
        try:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        except ValueError:
            continue
    return out


def key_group(key: str) -> str:
    """A Redis key with its ids replaced by ``*``: ``sb:{site:a}:t:a.5f0c`` →
    ``sb:{site:*}:t:*`` (segments holding a digit, an ``@`` or a ``.`` are ids)."""
    key = _SLOT.sub(lambda m: "{" + m.group(1) + ":*}", key)
    parts = []
    for seg in re.split(r"(\{[^}]*\})", key):
        if seg.startswith("{"):
            parts.append(seg)
            continue
        parts.append(":".join("*" if seg_part and re.search(r"[\d@.]", seg_part)
                              else seg_part for seg_part in seg.split(":")))
    return "".join(parts)


def _fit(points: Series) -> tuple[float, float] | None:
    """Least-squares slope of value over time (per second) and its standard error (0
    with only two points); None with fewer than two points or no spread in time."""
    n = len(points)
    if n < 2:
        return None
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    sxx = sum((t - mt) ** 2 for t, _ in points)
    if sxx == 0:
        return None
    b = sum((t - mt) * (v - mv) for t, v in points) / sxx
    if n < 3:
        return b, 0.0
    ssr = sum((v - mv - b * (t - mt)) ** 2 for t, v in points)
    return b, math.sqrt(ssr / (n - 2) / sxx)


def slope_per_hour(points: Series) -> float:
    """Least-squares slope of value over time, per hour (0 with fewer than 2 points)."""
    fit = _fit(points)
    return 0.0 if fit is None else fit[0] * 3600.0


def slope_t(points: Series) -> float:
    """The slope over its standard error (inf for a perfect line, 0 for too few points)."""
    fit = _fit(points)
    if fit is None or len(points) < 3:
        return 0.0
    b, se = fit
    return abs(b) / se if se > 0 else (math.inf if b else 0.0)


def tolerance(name: str, level: float) -> float:
    """How far a flat series may drift in a day."""
    floor = next((v for k, v in FLOOR.items() if name.endswith(k)), DEFAULT_FLOOR)
    return max(floor, SHARE * abs(level))


def after_warmup(points: Series, warmup_s: float) -> Series:
    """The points ``warmup_s`` or more after the first (all of them for a run shorter than
    its warm-up)."""
    t0 = points[0][0]
    after = [(t, v) for t, v in points if t - t0 >= warmup_s]
    return after if len(after) >= 4 else list(points)


def classify(slope: float, late: float, t_stat: float, tol: float) -> str:
    """``flat`` (within ``tol`` a day, or not past MIN_T standard errors), ``falls``,
    ``levels off`` (the second half's slope below LATE_RATIO of the whole) or ``grows``."""
    if abs(slope) * 24 <= tol or t_stat < MIN_T:
        return "flat"
    if slope < 0:
        return "falls"
    return "levels off" if late < LATE_RATIO * slope else "grows"


def growth(name: str, points: Series, warmup_s: float, expires: bool = False
           ) -> dict[str, Any]:
    """The growth of one series after ``warmup_s`` (seconds from its first sample)."""
    if not points:
        return {"metric": name, "samples": 0, "verdict": "no data"}
    after = after_warmup(points, warmup_s)
    slope = slope_per_hour(after)
    late = slope_per_hour(after[len(after) // 2:])
    level = sum(v for _, v in after) / len(after)
    tol = tolerance(name, level)
    t_stat = slope_t(after)
    verdict = classify(slope, late, t_stat, tol)
    if verdict == "grows" and expires:
        verdict = "grows, expires"
    return {"metric": name, "samples": len(points), "start": points[0][1],
            "after_warmup": after[0][1], "end": points[-1][1], "max": max(v for _, v in points),
            "per_hour": round(slope, 3), "late_per_hour": round(late, 3),
            "t": round(t_stat, 1) if math.isfinite(t_stat) else None,
            "per_day_tolerance": round(tol, 3), "verdict": verdict}


def series_of(samples: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """The samples' flat ``values`` dicts → one series per metric name."""
    out: dict[str, list[tuple[float, float]]] = {}
    for s in samples:
        for name, v in s["values"].items():
            if isinstance(v, (int, float)) and math.isfinite(v):
                out.setdefault(name, []).append((s["t"], float(v)))
    return out


def report(samples: list[dict[str, Any]], warmup_s: float,
           expiring: set[str] | None = None) -> list[dict[str, Any]]:
    """One growth row per sampled metric, the ones that still grow first."""
    expiring = expiring or set()
    rows = [growth(n, pts, warmup_s, n in expiring) for n, pts in series_of(samples).items()]
    order = {"grows": 0, "grows, expires": 1, "levels off": 2, "falls": 3, "flat": 4}
    rows.sort(key=lambda r: (order.get(r["verdict"], 5), r["metric"]))
    return rows
