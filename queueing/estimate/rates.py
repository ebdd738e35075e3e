"""RateTracker: the measured rates an estimate needs, kept per site in sliding windows.

The server feeds it events as they happen, in time order (arrivals, completed calls,
realised waits, cancellations, and the estimate announced at issue once the ticket is
called) and passes ``now_ms`` with every question, so it holds no clock and does no I/O.
Questions about one service are answered from a small cached ``ServiceRates``, rebuilt only
when that service saw an event or the clock moved on by ``cache_ms``: the hub can
re-estimate thousands of tickets of one queue against one snapshot of the rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from queueing.estimate.calibrate import Calibrator
from queueing.estimate.profile import ArrivalProfile
from queueing.estimate.types import Estimate
from queueing.estimate.window import Window

_MIN = 60_000


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """Window lengths and priors. Service times change slowly, arrivals fast."""

    # Call durations and patience do not change overnight: keep the last week (at most
    # maxlen), or every morning would start from the prior.
    service_span_ms: int = 7 * 24 * 60 * _MIN
    service_maxlen: int = 100  # per (service, counter)
    arrival_span_ms: int = 30 * _MIN  # arrival rates per class
    wait_span_ms: int = 30 * _MIN  # realised waits (LES, rolling average)
    abandon_span_ms: int = 7 * 24 * 60 * _MIN  # cancellations and the waiting they came from
    abandon_maxlen: int = 2_000  # waits (of called and cancelled tickets) kept
    # Waiting seen before anything is measured, with no cancellation in it: patience is
    # cancellations / exposure, and one cancellation after 2 s of waiting at the start of a
    # day made it 0.5/s, so every ticket ahead "abandoned" in the fluid and 11 people ahead
    # were told 1 s (1–8 min). With a working day of prior exposure (8 h), that one
    # cancellation says "patience about 8 h" until real waiting outweighs the prior (a
    # busy service sees that much waiting in its first hour).
    abandon_prior_s: float = 8 * 3_600.0
    prior_service_s: float = 300.0  # mean call duration before anything is measured
    prior_weight: float = 5.0  # pseudo-count pulling a counter's mean to its service's
    min_arrival_span_ms: int = 10 * _MIN  # a rate from 2 minutes of data is mostly noise
    cache_ms: int = 5_000
    utc_offset_ms: int = 0  # the site's offset, so profile slots are local times of day
    profile_slot_ms: int = 30 * _MIN
    profile_memory_days: int = 20
    profile_trust_days: float = 3.0  # after d days the profile has weight d / (d + this)
    level_span_ms: int = 120 * _MIN  # "today vs a usual day" is measured over this
    level_prior: float = 10.0  # pseudo-arrivals pulling that ratio towards 1
    calibration_maxlen: int = 300
    calibration_prior_n: int = 30


@dataclass(frozen=True, slots=True)
class ServiceRates:
    """One service's measured rates at one moment (what the estimator reads)."""

    mean_service_s: float  # mean call duration at any counter (served or no-show)
    cv2: float  # squared coefficient of variation of those durations
    counter_service_s: dict[str, float]  # per counter, shrunk towards ``mean_service_s``
    counter_any_s: dict[str, float]  # per counter, its mean call of any service
    arrivals_per_s: dict[int, float]  # per class rank, over the recent window
    abandon_hazard: float  # cancellations per second of waiting (exponential patience)
    profile: ArrivalProfile | None = None  # past days by time of day (None before a full day)
    profile_weight: float = 0.0  # how far to trust it over the recent window
    level: float = 1.0  # today's arrivals / the profile's, over the last level_span_ms


@dataclass(slots=True)
class _Service:
    durations: Window  # call durations, all counters pooled
    waits: Window  # realised waits, value = wait in s
    cancels: Window  # value = waited s before cancelling
    waited: Window  # waited s of called and cancelled tickets (the exposure to abandon)
    calibrator: Calibrator
    by_rank: dict[int, Calibrator]
    profile: ArrivalProfile
    recent: Window  # every arrival, for today's level against the profile
    by_counter: dict[str, Window] = field(default_factory=dict)
    arrivals: dict[int, Window] = field(default_factory=dict)
    arrivals_since_ms: int | None = None  # start of the current run of arrivals
    last_arrival_ms: int | None = None
    last_by_rank: dict[int, tuple[int, float]] = field(default_factory=dict)
    version: int = 0


class RateTracker:
    """Sliding-window rates per service and counter for one site (pure, time passed in)."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self._services: dict[str, _Service] = {}
        self._cache: dict[str, tuple[int, int, ServiceRates]] = {}
        self._counters: dict[str, Window] = {}  # call durations per counter, any service

    # -- feeding --------------------------------------------------------------------------

    def _svc(self, service: str) -> _Service:
        s = self._services.get(service)
        if s is None:
            st = self.settings
            s = _Service(
                durations=Window(st.service_span_ms, 4 * st.service_maxlen),
                waits=Window(st.wait_span_ms, 2_000),
                cancels=Window(st.abandon_span_ms, 100_000),
                waited=Window(st.abandon_span_ms, st.abandon_maxlen),
                calibrator=Calibrator(st.calibration_maxlen, st.calibration_prior_n),
                by_rank={},
                profile=ArrivalProfile(st.profile_slot_ms, st.utc_offset_ms,
                                       st.profile_memory_days),
                recent=Window(st.level_span_ms, 100_000),
            )
            self._services[service] = s
        s.version += 1
        return s

    def observe_arrival(self, service: str, rank: int, at_ms: int) -> None:
        """A ticket of class ``rank`` joined ``service``."""
        s = self._svc(service)
        span = self.settings.arrival_span_ms
        if s.last_arrival_ms is None or at_ms - s.last_arrival_ms > span:
            s.arrivals_since_ms = at_ms  # a new run (a new day): rates start from here
        s.last_arrival_ms = at_ms
        w = s.arrivals.get(rank)
        if w is None:
            w = s.arrivals[rank] = Window(span, 10_000)
        w.add(at_ms)
        s.profile.add(rank, at_ms)
        s.recent.add(at_ms)

    def observe_service(self, service: str, counter: str, started_ms: int, ended_ms: int) -> None:
        """A counter finished a call of ``service``: served, or given up as a no-show."""
        s = self._svc(service)
        dur = max(0.0, (ended_ms - started_ms) / 1000.0)
        s.durations.add(ended_ms, dur)
        w = s.by_counter.get(counter)
        if w is None:
            st = self.settings
            w = s.by_counter[counter] = Window(st.service_span_ms, st.service_maxlen)
        w.add(ended_ms, dur)
        any_w = self._counters.get(counter)
        if any_w is None:
            st = self.settings
            any_w = self._counters[counter] = Window(st.service_span_ms, 2 * st.service_maxlen)
        any_w.add(ended_ms, dur)

    def observe_call(self, service: str, rank: int, issued_ms: int, called_ms: int) -> None:
        """A waiting ticket was called: its realised wait (for LES, rolling, abandonment)."""
        s = self._svc(service)
        wait = max(0.0, (called_ms - issued_ms) / 1000.0)
        s.waits.add(called_ms, wait)
        s.waited.add(called_ms, wait)
        s.last_by_rank[rank] = (called_ms, wait)

    def observe_cancel(self, service: str, issued_ms: int, at_ms: int) -> None:
        """A waiting ticket left (cancelled, or timed out as abandoned) before its call."""
        s = self._svc(service)
        waited = max(0.0, (at_ms - issued_ms) / 1000.0)
        s.cancels.add(at_ms, waited)
        s.waited.add(at_ms, waited)

    def observe_outcome(self, service: str, rank: int, announced: Estimate,
                        actual_s: float) -> None:
        """A called ticket's estimate at issue and its realised wait (calibrates the range)."""
        s = self._svc(service)
        s.calibrator.observe(announced, actual_s)
        cal = s.by_rank.get(rank)
        if cal is None:
            st = self.settings
            cal = s.by_rank[rank] = Calibrator(st.calibration_maxlen, st.calibration_prior_n)
        cal.observe(announced, actual_s)

    # -- questions ------------------------------------------------------------------------

    def calibrate(self, service: str, rank: int, p10: float, p50: float,
                  p90: float) -> Estimate:
        """The model's range corrected by the service's (and the class's) recent errors."""
        s = self._services.get(service)
        if s is None:
            return Calibrator().adjust(p10, p50, p90)
        cal = s.by_rank.get(rank)
        if cal is None:
            return s.calibrator.adjust(p10, p50, p90)
        return cal.adjust(p10, p50, p90, s.calibrator)

    def rates(self, service: str, now_ms: int) -> ServiceRates:
        """The service's rates at ``now_ms`` (cached for ``cache_ms`` or until an event)."""
        s = self._services.get(service)
        version = s.version if s is not None else -1
        bucket = now_ms // self.settings.cache_ms
        hit = self._cache.get(service)
        if hit is not None and hit[0] == version and hit[1] == bucket:
            return hit[2]
        rates = self._compute(service, s, now_ms)
        self._cache[service] = (version, bucket, rates)
        return rates

    def last_wait(self, service: str, rank: int | None, now_ms: int) -> float | None:
        """LES: the realised wait of the last ticket called, same class if one is recent."""
        s = self._services.get(service)
        if s is None:
            return None
        horizon = now_ms - self.settings.wait_span_ms
        if rank is not None:
            same = s.last_by_rank.get(rank)
            if same is not None and same[0] >= horizon:
                return same[1]
        last = s.waits.last()
        return last[1] if last is not None else None

    def mean_wait(self, service: str, now_ms: int) -> float | None:
        """Rolling average: the mean realised wait of tickets called within the window."""
        s = self._services.get(service)
        if s is None:
            return None
        s.waits.evict(now_ms)
        return s.waits.mean()

    def _compute(self, service: str, s: _Service | None, now_ms: int) -> ServiceRates:
        st = self.settings
        if s is None:
            return ServiceRates(st.prior_service_s, 1.0, {}, {}, {}, 0.0)
        s.durations.evict(now_ms)
        pooled = s.durations.mean()
        mean = pooled if pooled is not None else st.prior_service_s
        n_pooled = len(s.durations)
        # Few measurements: pull towards the prior as well, the same way as per counter.
        mean = (mean * n_pooled + st.prior_service_s * st.prior_weight) / (
            n_pooled + st.prior_weight) if n_pooled < 20 else mean
        cv2 = s.durations.cv2()
        per_counter: dict[str, float] = {}
        for cid, w in s.by_counter.items():
            w.evict(now_ms)
            n = len(w)
            per_counter[cid] = (w.total + st.prior_weight * mean) / (n + st.prior_weight)
        any_service: dict[str, float] = {}
        for cid in per_counter:
            w = self._counters[cid]
            w.evict(now_ms)
            any_service[cid] = w.mean() or per_counter[cid]
        arrivals: dict[int, float] = {}
        since = s.arrivals_since_ms if s.arrivals_since_ms is not None else now_ms
        span_s = max(min(st.arrival_span_ms, now_ms - since), st.min_arrival_span_ms) / 1000.0
        for rank, w in s.arrivals.items():
            w.evict(now_ms)
            arrivals[rank] = len(w) / span_s
        s.waited.evict(now_ms)
        oldest = s.waited.first()
        if oldest is not None:  # count cancellations over the same stretch as the exposure
            s.cancels.evict_before(oldest[0])
        exposure = s.waited.total + st.abandon_prior_s
        hazard = len(s.cancels) / exposure if exposure > 0.0 else 0.0
        profile, weight, level = None, 0.0, 1.0
        if s.profile.days:
            profile = s.profile
            weight = profile.days / (profile.days + st.profile_trust_days)
            s.recent.evict(now_ms)
            usual = profile.expected(now_ms - st.level_span_ms, now_ms)
            level = (len(s.recent) + st.level_prior) / (usual + st.level_prior)
        return ServiceRates(mean, cv2 if cv2 is not None else 1.0, per_counter, any_service,
                            arrivals, hazard, profile, weight, level)
