"""Scenario files for the simulator (JSON, validated by msgspec; unknown keys are refused so
a typo in a scenario cannot silently change what was measured). Times of day are in hours
(8.5 is 08:30); durations carry their unit in the name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from queueing.model import DEFAULT_CLASSES

CLASS_IDS = [c.id for c in DEFAULT_CLASSES]
PREEMPT = frozenset(i for i, c in enumerate(DEFAULT_CLASSES) if c.preempt)

Hour = Annotated[float, msgspec.Meta(ge=0, le=24)]
Positive = Annotated[float, msgspec.Meta(gt=0)]
Share = Annotated[float, msgspec.Meta(ge=0, le=1)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ServiceTime(_Strict):
    dist: Literal["exponential", "lognormal", "empirical"] = "exponential"
    mean_s: Positive = 300.0
    cv: Annotated[float, msgspec.Meta(ge=0, le=10)] = 1.0  # lognormal only
    samples_s: list[Positive] = []  # empirical only: resampled as is (mean_s is ignored)


class ServiceSpec(_Strict):
    id: str
    arrivals_per_hour: Annotated[list[Annotated[float, msgspec.Meta(ge=0)]],
                                 msgspec.Meta(min_length=24, max_length=24)]
    service_time: ServiceTime = msgspec.field(default_factory=ServiceTime)
    priority_mix: dict[str, Share] = msgspec.field(default_factory=lambda: {"walk_in": 1.0})


class CounterSpec(_Strict):
    id: str
    services: Annotated[list[str], msgspec.Meta(min_length=1)]
    shifts: list[tuple[Hour, Hour]]
    weights: dict[str, Annotated[float, msgspec.Meta(gt=0, le=100)]] = {}
    speed: Positive = 1.0  # call durations are divided by this (a faster clerk)


class Pauses(_Strict):
    """Unplanned pauses (a doctor called away): Poisson per day, on a random open counter.

    The live desk announces an expected return, ``start + mean_min``; the real length is
    uniform on [0.5, 1.5] × ``mean_min``.
    """

    per_day: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    mean_min: Positive = 20.0


class Scenario(_Strict, kw_only=True):
    seed: int = 0
    days: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1
    open_h: Hour
    close_h: Hour
    services: Annotated[list[ServiceSpec], msgspec.Meta(min_length=1)]
    counters: Annotated[list[CounterSpec], msgspec.Meta(min_length=1)]
    no_show_rate: Share = 0.0
    abandon_mean_s: Positive | None = None
    # Keys beyond the minimum (docs/estimates.md):
    name: str = ""
    description: str = ""
    erlang_check: bool = False  # an M/M/c scenario: compare the mean wait with Erlang C
    warmup_h: Annotated[float, msgspec.Meta(ge=0)] = 0.0  # tickets issued earlier not scored
    aging_factor: Annotated[float, msgspec.Meta(ge=1, le=100)] = 2.0
    no_show_delay_s: Annotated[float, msgspec.Meta(ge=0)] = 60.0  # recalls before giving up
    appointment_early_min: float = 5.0  # appointment holders arrive this early on average …
    appointment_sd_min: Annotated[float, msgspec.Meta(ge=0)] = 10.0  # … give or take this
    # Arrived earlier than this before the time: a walk-in from arrival (policy.keeps_appointment)
    appointment_early_s: Annotated[int, msgspec.Meta(ge=0)] = 600
    pauses: Pauses = msgspec.field(default_factory=Pauses)


class ScenarioError(ValueError):
    """A scenario file that cannot be simulated, with the reason."""


def load(path: str | Path) -> Scenario:
    try:
        scenario = msgspec.json.decode(Path(path).read_bytes(), type=Scenario)
    except msgspec.ValidationError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    except msgspec.DecodeError as exc:  # not JSON at all (truncated, a stray comma)
        raise ScenarioError(f"{path}: not valid JSON: {exc}") from exc
    check(scenario)
    return scenario


def check(s: Scenario) -> None:
    """Whole-document checks: ids resolve, hours make sense, mixes name known classes, and
    every service has a counter on shift while the doors are open (else its tickets are
    never called)."""
    if not s.open_h < s.close_h:
        raise ScenarioError("open_h must be before close_h")
    ids = [svc.id for svc in s.services]
    if len(set(ids)) != len(ids):
        raise ScenarioError("duplicate service ids")
    if len({c.id for c in s.counters}) != len(s.counters):
        raise ScenarioError("duplicate counter ids")
    for svc in s.services:
        unknown = set(svc.priority_mix) - set(CLASS_IDS)
        if unknown:
            raise ScenarioError(f"service {svc.id}: unknown classes {sorted(unknown)}")
        if sum(svc.priority_mix.values()) <= 0:
            raise ScenarioError(f"service {svc.id}: priority_mix sums to 0")
        if svc.service_time.dist == "empirical" and not svc.service_time.samples_s:
            raise ScenarioError(f"service {svc.id}: empirical times need samples_s")
    for c in s.counters:
        for sid in [*c.services, *c.weights]:
            if sid not in ids:
                raise ScenarioError(f"counter {c.id}: unknown service {sid}")
        for start, end in c.shifts:
            if not start < end:
                raise ScenarioError(f"counter {c.id}: shift {start}-{end} is empty")
    for svc in s.services:
        serving = [c for c in s.counters if svc.id in c.services]
        if not serving:
            raise ScenarioError(f"service {svc.id}: no counter serves it")
        if not any(start < s.close_h and end > s.open_h
                   for c in serving for start, end in c.shifts):
            raise ScenarioError(f"service {svc.id}: no counter serving it is on shift between "
                                f"open_h and close_h")
