"""Wait estimates: pure code, time passed in (docs/estimates.md).

What the server calls:

* ``estimate(view, tracker) -> Estimate | None``: a ticket's wait, point and P10–P90 range.
* ``RateTracker``: measured rates, fed with ``observe_*`` events; one per site.
* ``noticeable(last, new)``: whether a new estimate is worth sending to the ticket's phone.
* ``AccuracyTracker`` and ``DayStats``: per service and local day, for the HTTP endpoint.
* ``baselines``: the predictors the estimate is measured against (simulator, benchmarks).
"""

from queueing.estimate.accuracy import AccuracyTracker, Score
from queueing.estimate.daystats import DayStats
from queueing.estimate.notify import noticeable
from queueing.estimate.predictor import estimate
from queueing.estimate.rates import RateTracker, ServiceRates, TrackerSettings
from queueing.estimate.types import ZERO, CounterView, Estimate, RosterChange, TicketView

__all__ = [
    "ZERO",
    "AccuracyTracker",
    "CounterView",
    "DayStats",
    "Estimate",
    "RateTracker",
    "RosterChange",
    "Score",
    "ServiceRates",
    "TicketView",
    "TrackerSettings",
    "estimate",
    "noticeable",
]
