"""The estimator's arithmetic: gamma quantiles, the fluid walk, capped overtakers."""

from __future__ import annotations

import math

import pytest

from queueing.estimate.fluid import (
    capped_poisson_mean,
    fluid_wait,
    merge,
    time_for_calls,
)
from queueing.estimate.gamma import gamma_cdf, gamma_ppf, normal_ppf


def seg(start: float, rate: float, jump: float = 0.0, over: float = 0.0,
        pre: float = 0.0) -> tuple[float, float, float, float, float]:
    return (start, rate, jump, over, pre)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_gamma_shape_one_is_exponential(p: float) -> None:
    assert gamma_ppf(p, 1.0) == pytest.approx(-math.log(1.0 - p), rel=1e-6)


def test_erlang_two_cdf_closed_form() -> None:
    for x in (0.3, 1.0, 2.5, 6.0):
        assert gamma_cdf(x, 2.0) == pytest.approx(1.0 - math.exp(-x) * (1.0 + x), rel=1e-9)


@pytest.mark.parametrize("shape", [0.3, 0.8, 2.0, 7.5, 40.0, 300.0, 2000.0])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_gamma_ppf_inverts_cdf(shape: float, p: float) -> None:
    assert gamma_cdf(gamma_ppf(p, shape), shape) == pytest.approx(p, abs=2e-4)


def test_normal_ppf() -> None:
    assert normal_ppf(0.9) == pytest.approx(1.2815515655, abs=1e-8)
    assert normal_ppf(0.01) == pytest.approx(-2.326347874, abs=1e-8)


def test_fluid_plain_queue_is_ql() -> None:
    path = fluid_wait([seg(0, 0.01)], ahead=4, budget=0, hazard=0.0, horizon_s=1e6)
    assert path is not None
    assert path.wait_s == pytest.approx(500.0)  # (4 + 1) / 0.01
    assert path.calls == pytest.approx(5.0)


def test_fluid_overtakers_slow_the_line() -> None:
    # 4 ahead, capacity 0.01/s, higher classes 0.0025/s, budget never reached:
    # the line drains at 0.0075/s, so T = 5 / 0.0075.
    path = fluid_wait([seg(0, 0.01, over=0.0025)], 4, budget=100, hazard=0.0, horizon_s=1e6)
    assert path is not None
    assert path.wait_s == pytest.approx(5 / 0.0075)
    assert path.overtakers == pytest.approx(0.0025 * 5 / 0.0075)
    assert path.calls == pytest.approx(5 + path.overtakers)


def test_fluid_budget_caps_overtakers() -> None:
    # Overtakers arrive at 0.02/s but only 2 may pass: T = (4 + 1 + 2) / 0.01.
    path = fluid_wait([seg(0, 0.01, over=0.02)], 4, budget=2, hazard=0.0, horizon_s=1e6)
    assert path is not None
    assert path.overtakers == pytest.approx(2.0)
    assert path.wait_s == pytest.approx(700.0)


def test_fluid_preempting_class_ignores_budget() -> None:
    path = fluid_wait([seg(0, 0.01, pre=0.002)], 4, budget=0, hazard=0.0, horizon_s=1e6)
    assert path is not None
    assert path.wait_s == pytest.approx(5 / 0.008)


def test_fluid_abandonment_closed_form() -> None:
    h, c, n = 1e-4, 0.01, 10
    path = fluid_wait([seg(0, c)], n, budget=0, hazard=h, horizon_s=1e6)
    assert path is not None
    assert path.wait_s == pytest.approx(math.log1p(h * n / c) / h + 1 / c)
    assert path.abandoned == pytest.approx(n - c * math.log1p(h * n / c) / h)


def test_fluid_roster_gap_and_opening_call() -> None:
    # One counter (0.01/s) closes at 100 s, reopens at 700 s and calls someone at once.
    segments = [seg(0, 0.01), seg(100, 0.0), seg(700, 0.01, jump=1.0)]
    path = fluid_wait(segments, ahead=2, budget=0, hazard=0.0, horizon_s=1e6)
    assert path is not None
    # 1 call by 100 s, 1 at the reopening, the ticket's own 100 s later.
    assert path.wait_s == pytest.approx(800.0)
    assert time_for_calls(segments, 1.0) == pytest.approx(100.0)
    assert time_for_calls(segments, 1.5) == pytest.approx(700.0)
    assert time_for_calls(segments, 2.5) == pytest.approx(750.0)


def test_fluid_no_capacity_coming() -> None:
    assert fluid_wait([seg(0, 0.0)], 1, 0, 0.0, horizon_s=3600) is None
    assert time_for_calls([seg(0, 0.0)], 1.0) is None


def test_merge_keeps_both_step_lists() -> None:
    out = merge([(0.0, 0.01, 0.0), (300.0, 0.02, 1.0)], [(0.0, 1e-3, 0.0), (100.0, 2e-3, 0.0)])
    assert out == [(0.0, 0.01, 0.0, 1e-3, 0.0), (100.0, 0.01, 0.0, 2e-3, 0.0),
                   (300.0, 0.02, 1.0, 2e-3, 0.0)]


def test_capped_poisson_mean() -> None:
    m = 1.7
    assert capped_poisson_mean(m, 1) == pytest.approx(1 - math.exp(-m))
    p0, p1 = math.exp(-m), m * math.exp(-m)
    assert capped_poisson_mean(m, 2) == pytest.approx((1 - p0) + (1 - p0 - p1))
    assert capped_poisson_mean(m, 500) == pytest.approx(m)
    assert capped_poisson_mean(m, 0) == 0.0
