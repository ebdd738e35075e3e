"""stabilise: committed tasks never move, the penalty and the hourly cap are honoured."""

from __future__ import annotations

from dispatch.solver import Churn, StabilityPolicy, Task, Vehicle, build_plan, churn, stabilise

from .dispatch_solver_helpers import line_problem

# Two technicians at both ends of a line; tasks spread along it.
TASKS = [Task(n, loc) for n, loc in (("a", 1), ("b", 2), ("c", 9), ("d", 10), ("e", 5))]


def problem(fixed_on_left: tuple[str, ...] = ()):
    return line_problem(
        TASKS, [Vehicle("L", start=0, end=0, fixed=fixed_on_left), Vehicle("R", start=11, end=11)]
    )


def test_churn_arithmetic():
    p = problem()
    before = build_plan(p, {"L": ["a", "b", "e"], "R": ["c", "d"]})
    after = build_plan(p, {"L": ["a", "b"], "R": ["e", "c", "d"]})
    assert churn(before, after) == Churn(moved=1, planned=5)
    assert churn(before, after).ratio == 0.2
    assert churn(before, before).ratio == 0.0
    assert Churn(0, 0).ratio == 0.0


def test_adopts_a_move_whose_gain_beats_the_penalty():
    p = problem()
    # c sits at 9 but is served from the left; swapping c and e saves 160 and moves 2 tasks.
    current = build_plan(p, {"L": ["a", "b", "c"], "R": ["d", "e"]})
    candidate = build_plan(p, {"L": ["a", "b", "e"], "R": ["c", "d"]})
    gain = current.cost - candidate.cost
    assert gain > 0
    assert gain == 160
    taken = stabilise(p, current, candidate, StabilityPolicy(79), {}, now=0)
    assert taken.plan.assignment == candidate.assignment
    assert taken.churn == Churn(moved=2, planned=5)
    assert taken.changed == {"L", "R"}
    assert taken.history == {"L": (0,), "R": (0,)}


def test_keeps_the_current_plan_when_the_gain_does_not_beat_the_penalty():
    p = problem()
    current = build_plan(p, {"L": ["a", "b", "c"], "R": ["d", "e"]})
    candidate = build_plan(p, {"L": ["a", "b", "e"], "R": ["c", "d"]})
    # 2 moves × 80 equals the gain of 160: not strictly better, so nothing changes.
    kept = stabilise(p, current, candidate, StabilityPolicy(80), {}, now=0)
    assert kept.plan.assignment == current.assignment
    assert kept.churn.moved == 0 and kept.gain == 0 and not kept.changed


def test_never_moves_a_committed_task():
    p = problem(fixed_on_left=("c",))
    current = build_plan(p, {"L": ["c", "a", "b"], "R": ["d", "e"]})
    candidate = build_plan(p, {"L": ["a", "b"], "R": ["c", "d", "e"]})
    assert candidate.cost < current.cost
    kept = stabilise(p, current, candidate, StabilityPolicy(0), {}, now=0)
    assert kept.plan.routes["L"].task_ids[0] == "c"
    assert kept.plan.assignment == current.assignment


def test_never_reorders_a_committed_task_either():
    p = problem(fixed_on_left=("b", "a"))
    current = build_plan(p, {"L": ["b", "a"], "R": ["c", "d", "e"]})
    candidate = build_plan(p, {"L": ["a", "b"], "R": ["c", "d", "e"]})
    kept = stabilise(p, current, candidate, StabilityPolicy(0), {}, now=0)
    assert kept.plan.routes["L"].task_ids == ("b", "a")


def test_honours_the_hourly_cap_per_technician():
    p = problem()
    current = build_plan(p, {"L": ["a", "b", "c"], "R": ["d", "e"]})
    candidate = build_plan(p, {"L": ["a", "b", "e"], "R": ["c", "d"]})
    policy = StabilityPolicy(0, max_changes_per_hour=2)
    full = {"R": (100, 2000)}
    assert not stabilise(p, current, candidate, policy, full, now=3000).changed
    # An hour later the old changes no longer count (and are dropped from the history).
    later = stabilise(p, current, candidate, policy, full, now=2100 + 3600)
    assert later.changed == {"L", "R"}
    assert later.history["R"] == (5700,)


def test_independent_components_are_judged_separately():
    tasks = [*TASKS, Task("f", 3), Task("g", 8)]
    vehicles = [Vehicle("L", 0, 0), Vehicle("R", 11, 11), Vehicle("M", 6, 6)]
    p = line_problem(tasks, vehicles)
    current = build_plan(p, {"L": ["a", "b", "c"], "R": ["d", "e"], "M": ["g", "f"]})
    # L/R swap c and e (a big gain); M only reorders g and f (no gain at all).
    candidate = build_plan(p, {"L": ["a", "b", "e"], "R": ["c", "d"], "M": ["f", "g"]})
    assert candidate.routes["M"].cost >= current.routes["M"].cost
    out = stabilise(p, current, candidate, StabilityPolicy(10), {}, now=0)
    assert out.changed == {"L", "R"}
    assert out.plan.routes["M"].task_ids == ("g", "f")


def test_newly_served_tasks_count_as_gain_and_dropped_ones_as_loss():
    p = problem()
    current = build_plan(p, {"L": ["a", "b"], "R": ["c", "d"]})  # e unassigned
    candidate = build_plan(p, {"L": ["a", "b", "e"], "R": ["c", "d"]})
    assert stabilise(p, current, candidate, StabilityPolicy(5), {}, 0).plan.planned == 5
    assert stabilise(p, candidate, current, StabilityPolicy(5), {}, 0).plan.planned == 5


def test_the_move_allowance_is_a_token_bucket():
    policy = StabilityPolicy(0, max_moved_ratio=0.02, burst_ratio=0.05)
    assert policy.allowance(100, 0.0) == 2.0
    assert policy.allowance(100, 2.5) == 4.5
    assert policy.allowance(100, 10.0) == 5.0  # never beyond the burst
    assert StabilityPolicy(0).allowance(100, 3.0) is None


def test_an_allowance_defers_components_that_move_too_much():
    p = problem()
    current = build_plan(p, {"L": ["a", "b", "c"], "R": ["d", "e"]})
    candidate = build_plan(p, {"L": ["a", "b", "e"], "R": ["c", "d"]})  # 2 moves
    held = stabilise(p, current, candidate, StabilityPolicy(0), {}, 0, allowance=1.5)
    assert not held.changed and held.deferred == {"L", "R"} and held.carry == 1.5
    taken = stabilise(p, current, candidate, StabilityPolicy(0), {}, 0, allowance=2.5)
    assert taken.changed == {"L", "R"} and not taken.deferred and taken.carry == 0.5
