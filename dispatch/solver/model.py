"""The solver's data model: vehicles (technicians), tasks (jobs), the travel matrices, plans.

Everything here is pure and immutable. Times are integers in the matrix's time unit (seconds in
production; scaled units for benchmarks), measured from a reference the caller chooses (e.g.
midnight of the planning day), so they stay well below 2**31 as VROOM requires. Locations are
indices into the square ``duration`` matrix; ``dispatch.solver.matrix`` builds one from
coordinates.

A vehicle's ``fixed`` tasks are the jobs already under way (en route or on site). They stay at
the head of that vehicle's route, in the given order, and no solver or policy may move them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from dispatch.solver.errors import InvalidProblem, UnknownTask

# Latest representable time: VROOM keeps times in 32 bits.
MAX_TIME = 2**31 - 1
Window = tuple[int, int]


class StepKind(StrEnum):
    TASK = "task"
    BREAK = "break"


class Unassigned(StrEnum):
    """Why a task has no vehicle (the reason travels to dashboards as data)."""

    SKILLS = "skills"  # no vehicle has every skill the task needs
    CAPACITY = "capacity"  # every skilled vehicle is full (demand or max tasks)
    TIME_WINDOW = "time_window"  # no position meets the task's windows and the shifts
    SOLVER = "solver"  # the solver left it out (e.g. not worth its cost)


@dataclass(frozen=True)
class Break:
    """A break the technician takes where they are; it may start inside any of its windows."""

    id: str
    time_windows: tuple[Window, ...]
    duration_s: int


@dataclass(frozen=True)
class Vehicle:
    """A technician and their vehicle.

    ``start`` is the current position (a location index); ``end`` is where the shift must end,
    or ``None`` for a route that ends at its last task. ``shift`` is (available from, done by):
    the route leaves ``start`` no earlier than the first and reaches ``end`` no later than the
    second. ``capacity`` and ``max_tasks`` count every task on the route, fixed ones included.
    """

    id: str
    start: int
    end: int | None = None
    shift: Window = (0, MAX_TIME)
    skills: frozenset[str] = frozenset()
    capacity: int | None = None
    max_tasks: int | None = None
    breaks: tuple[Break, ...] = ()
    fixed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """A job: served at ``location`` for ``service_s``, starting inside one of ``time_windows``
    (none means any time), by a vehicle holding all ``skills``. ``priority`` is 0..100 and
    decides which tasks are left out when not all fit."""

    id: str
    location: int
    service_s: int = 0
    time_windows: tuple[Window, ...] = ()
    skills: frozenset[str] = frozenset()
    priority: int = 0
    demand: int = 0


@dataclass(frozen=True, eq=False)
class Problem:
    """Vehicles, tasks and the matrices they are routed on.

    ``duration`` is the travel time (location × location, int64). ``distance`` is the travel
    cost that solvers minimise; it defaults to ``duration``.
    """

    vehicles: tuple[Vehicle, ...]
    tasks: tuple[Task, ...]
    duration: NDArray[np.int64]
    distance: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        n = self.duration.shape[0]
        if self.duration.ndim != 2 or self.duration.shape != (n, n):
            raise InvalidProblem("duration", f"not a square matrix: {self.duration.shape}")
        if self.distance is not None and self.distance.shape != self.duration.shape:
            raise InvalidProblem("distance", "shape differs from duration")
        if len(self.task_by_id) != len(self.tasks):
            raise InvalidProblem("tasks", "task ids are not unique")
        if len(self.vehicle_by_id) != len(self.vehicles):
            raise InvalidProblem("vehicles", "vehicle ids are not unique")
        locations = [t.location for t in self.tasks] + [v.start for v in self.vehicles]
        locations += [v.end for v in self.vehicles if v.end is not None]
        if locations and not 0 <= min(locations) <= max(locations) < n:
            raise InvalidProblem("location", f"index outside the {n}×{n} matrix")
        seen: set[str] = set()
        for vehicle in self.vehicles:
            for task_id in vehicle.fixed:
                if task_id not in self.task_by_id or task_id in seen:
                    raise InvalidProblem("fixed", f"{task_id} unknown or fixed twice")
                seen.add(task_id)
            for brk in vehicle.breaks:
                if brk.id in self.task_by_id:
                    raise InvalidProblem("breaks", f"break id {brk.id} is also a task id")

    @cached_property
    def task_by_id(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks}

    @cached_property
    def vehicle_by_id(self) -> dict[str, Vehicle]:
        return {v.id: v for v in self.vehicles}

    @cached_property
    def cost(self) -> NDArray[np.int64]:
        """The matrix solvers minimise (``distance``, else ``duration``)."""
        return self.duration if self.distance is None else self.distance

    @cached_property
    def fixed_owner(self) -> dict[str, str]:
        """Committed task id → the vehicle it is fixed on."""
        return {t: v.id for v in self.vehicles for t in v.fixed}

    def task(self, task_id: str) -> Task:
        try:
            return self.task_by_id[task_id]
        except KeyError:
            raise UnknownTask(task_id) from None

    def with_tasks(self, tasks: tuple[Task, ...]) -> Problem:
        """The same fleet and matrices with another task list."""
        return Problem(self.vehicles, tasks, self.duration, self.distance)

    def with_vehicles(self, vehicles: tuple[Vehicle, ...]) -> Problem:
        return Problem(vehicles, self.tasks, self.duration, self.distance)


@dataclass(frozen=True)
class Stop:
    """One step of a route with its schedule: ``arrival`` at the location (the ETA), ``start``
    of service (after any wait for the window) and ``departure``."""

    id: str
    kind: StepKind
    location: int
    arrival: int
    start: int
    departure: int


@dataclass(frozen=True)
class Route:
    """A vehicle's ordered stops; ``end_arrival`` is when it reaches ``end`` (or leaves its
    last stop for an open route), ``cost`` the travel cost of the whole route."""

    vehicle_id: str
    stops: tuple[Stop, ...]
    end_arrival: int
    cost: int

    @property
    def task_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.stops if s.kind is StepKind.TASK)

    @property
    def sequence(self) -> tuple[str, ...]:
        """Stop ids in order, breaks included (the input form of ``schedule.route``)."""
        return tuple(s.id for s in self.stops)


@dataclass(frozen=True, eq=False)
class Plan:
    """Vehicle id → route for every vehicle of the problem, plus the tasks left unassigned."""

    routes: Mapping[str, Route]
    unassigned: Mapping[str, Unassigned] = field(default_factory=dict)

    @cached_property
    def assignment(self) -> dict[str, str]:
        """Task id → vehicle id, for every planned task."""
        return {t: r.vehicle_id for r in self.routes.values() for t in r.task_ids}

    @property
    def cost(self) -> int:
        return sum(r.cost for r in self.routes.values())

    @property
    def planned(self) -> int:
        return len(self.assignment)

    def sequences(self) -> dict[str, tuple[str, ...]]:
        return {v: r.sequence for v, r in self.routes.items()}
