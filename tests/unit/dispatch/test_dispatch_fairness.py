"""The load price in the insertion choice (region policy ``fairness_m_per_job``): between two
alike technicians, one already loaded, a job goes to the idle one when the loaded one is
closer by less than the price of its extra jobs; at 0, to the cheaper, as before."""

from __future__ import annotations

import pytest

from dispatch.model import DispatchPolicy
from dispatch.offers import candidates
from dispatch.solver import Plan, Problem, Task, Vehicle, build_plan, insert

from .dispatch_solver_helpers import line_problem

NEW = Task("n", 6, skills=frozenset({"electric"}))
ELECTRIC = frozenset({"electric"})


def _two_alike() -> tuple[Problem, Plan]:
    """"busy" at 5 with two jobs there; "idle" at 8 with none. Open-ended routes, so the
    new job at 6 costs busy 10 (5→6) and idle 20 (8→6): busy is 10 closer, 2 jobs more."""
    planned = [Task("a", 5, skills=ELECTRIC), Task("b", 5, skills=ELECTRIC)]
    vehicles = [Vehicle("busy", start=5, skills=ELECTRIC), Vehicle("idle", start=8,
                                                                   skills=ELECTRIC)]
    problem = line_problem([*planned, NEW], vehicles)
    base = problem.with_tasks(tuple(planned))
    return problem, build_plan(base, {"busy": ["a", "b"]})


@pytest.mark.parametrize(("load_cost", "chosen"), [(0, "busy"), (4, "busy"), (6, "idle")])
def test_the_idle_alike_technician_wins_when_the_detour_is_below_the_load_price(
        load_cost: int, chosen: str) -> None:
    problem, plan = _two_alike()
    got = insert(plan, problem, NEW, load_cost)
    # 2 jobs × 4 = 8 < 10 km saved: still the closer; 2 × 6 = 12 > 10: the idle one.
    assert got.vehicle_id == chosen
    # The cost reported (and recorded with the offer) stays the travel cost.
    assert got.cost == (10 if chosen == "busy" else 20)


def test_without_the_price_the_cheaper_is_chosen_as_before() -> None:
    problem, plan = _two_alike()
    assert insert(plan, problem, NEW).vehicle_id == "busy"


def test_a_technician_who_cannot_take_the_job_does_not_set_the_least_load() -> None:
    # An idle technician without the skill: the loaded one is compared with the least-loaded
    # technician that could take it (busy itself), so nothing is charged.
    planned = [Task("a", 5, skills=ELECTRIC), Task("b", 5, skills=ELECTRIC)]
    vehicles = [Vehicle("busy", start=5, skills=ELECTRIC), Vehicle("gas", start=6)]
    problem = line_problem([*planned, NEW], vehicles)
    plan = build_plan(problem.with_tasks(tuple(planned)), {"busy": ["a", "b"]})
    got = insert(plan, problem, NEW, 1000)
    assert (got.vehicle_id, got.cost) == ("busy", 10)


def test_a_job_nobody_can_take_stays_unassigned_with_the_price_on() -> None:
    # No technician has the skill: no least load to compare with (insert returns before
    # pricing today; _load_price guards the min of nothing too).
    planned = [Task("a", 5)]
    vehicles = [Vehicle("gas", start=5), Vehicle("water", start=8)]
    problem = line_problem([*planned, NEW], vehicles)
    plan = build_plan(problem.with_tasks(tuple(planned)), {"gas": ["a"]})
    got = insert(plan, problem, NEW, 1000)
    assert got.vehicle_id is None and "n" in got.plan.unassigned
    assert insert(plan, problem, NEW).vehicle_id is None  # as without the price


def test_the_offer_ranking_prices_load_the_same_way() -> None:
    problem, plan = _two_alike()
    plain = candidates(problem, plan, NEW, ["busy", "idle"])
    assert plain == [("busy", 10), ("idle", 20)]
    fair = candidates(problem, plan, NEW, ["busy", "idle"], load_cost=6)
    assert fair == [("idle", 20), ("busy", 10)]


def test_the_policy_setting_is_off_by_default() -> None:
    assert DispatchPolicy().fairness_m_per_job == 0
