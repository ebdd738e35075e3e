"""The Solomon instance reader and its conversion to a solver problem."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.solomon import SCALE, read_bks, read_instance, to_problem
from dispatch.solver import InvalidInstance

from .dispatch_solver_helpers import vrptw_dir

TINY = """TINY

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0         0          0          0        100          0
    1      3         4          5         10         20          2
    2      6         8          5          0         50          2
"""


def test_reads_a_small_file(tmp_path):
    path = tmp_path / "TINY.txt"
    path.write_text(TINY.replace("\n", "\r\n"))
    inst = read_instance(path)
    assert (inst.name, inst.vehicles, inst.capacity, inst.customers) == ("TINY", 2, 10, 2)
    assert inst.distances()[0, 1] == 5.0 and inst.distances()[0, 2] == 10.0
    assert list(inst.ready) == [0, 10, 0] and list(inst.service) == [0, 2, 2]


def test_converts_to_a_scaled_integer_problem(tmp_path):
    path = tmp_path / "TINY.txt"
    path.write_text(TINY)
    problem = to_problem(read_instance(path))
    assert [t.id for t in problem.tasks] == ["1", "2"]
    task = problem.task_by_id["1"]
    assert task.time_windows == ((10 * SCALE, 20 * SCALE),) and task.service_s == 2 * SCALE
    assert problem.duration[0, 1] == 5 * SCALE
    assert [v.capacity for v in problem.vehicles] == [10, 10]
    assert problem.vehicles[0].shift == (0, 100 * SCALE)


def test_travel_times_round_up_so_integer_feasible_means_float_feasible():
    inst = read_instance(vrptw_dir() / "R101.txt")
    problem = to_problem(inst)
    exact = inst.distances() * SCALE
    assert np.all(problem.duration >= exact - 1e-6)
    assert np.all(problem.duration - exact < 1.0)


def test_reads_the_real_c101_and_its_best_known_distance():
    inst = read_instance(vrptw_dir() / "C101.txt")
    assert (inst.name, inst.vehicles, inst.capacity, inst.customers) == ("C101", 25, 200, 100)
    assert (inst.x[1], inst.y[1], inst.demand[1], inst.ready[1], inst.due[1]) == (
        45,
        68,
        10,
        912,
        967,
    )
    bks = read_bks(vrptw_dir() / "bks_distance.csv")
    assert len(bks) == 56 and bks["C101"] == 828.94


def test_a_malformed_file_is_a_named_error(tmp_path):
    path = tmp_path / "BAD.txt"
    path.write_text("BAD\n\nVEHICLE\nNUMBER CAPACITY\n  x  y\n")
    with pytest.raises(InvalidInstance):
        read_instance(path)
    path.write_text(TINY.replace("    2      6", "    7      6"))
    with pytest.raises(InvalidInstance):
        read_instance(path)
