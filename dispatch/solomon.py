"""Reader for Solomon VRPTW instances and their distance-only best known solutions.

The files use Solomon's text format: a ``VEHICLE`` block (number, capacity) and a ``CUSTOMER``
table with one row per node (``CUST NO. XCOORD. YCOORD. DEMAND READY TIME DUE DATE SERVICE
TIME``); node 0 is the depot. Convention (SINTEF): Euclidean distance in double precision,
travel time equals distance, service begins inside [ready, due], the vehicle returns to the
depot by the depot's due date.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dispatch.solver.errors import InvalidInstance
from dispatch.solver.model import Problem, Task, Vehicle

# Integer solvers see distances and times multiplied by this; reports use double precision.
SCALE = 1000


@dataclass(frozen=True)
class SolomonInstance:
    """One Solomon instance; arrays are indexed by customer number (0 = depot)."""

    name: str
    vehicles: int
    capacity: int
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    demand: NDArray[np.int64]
    ready: NDArray[np.int64]
    due: NDArray[np.int64]
    service: NDArray[np.int64]

    @property
    def customers(self) -> int:
        return len(self.x) - 1

    def distances(self) -> NDArray[np.float64]:
        """Euclidean distance matrix in double precision (node × node)."""
        dx = self.x[:, None] - self.x[None, :]
        dy = self.y[:, None] - self.y[None, :]
        return np.asarray(np.sqrt(dx * dx + dy * dy), dtype=np.float64)


def read_instance(path: str | Path) -> SolomonInstance:
    """Parse one Solomon file; raises ``InvalidInstance`` on a malformed file."""
    path = Path(path)
    try:
        lines = [line.strip() for line in path.read_text().splitlines()]
    except UnicodeDecodeError as exc:
        raise InvalidInstance(str(path), "not a text file") from exc
    name = next((line for line in lines if line), path.stem)
    try:
        vehicle_row = lines.index("VEHICLE") + 2
        vehicles, capacity = (int(v) for v in lines[vehicle_row].split())
        first = lines.index("CUSTOMER") + 2
        rows = [[float(v) for v in line.split()] for line in lines[first:] if line]
    except (ValueError, IndexError) as exc:
        raise InvalidInstance(str(path), "missing or malformed VEHICLE/CUSTOMER block") from exc
    table = np.asarray(rows, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 7 or table.shape[0] < 2:
        raise InvalidInstance(str(path), f"customer table has shape {table.shape}, want (n, 7)")
    if not np.array_equal(table[:, 0], np.arange(len(table))):
        raise InvalidInstance(str(path), "customer numbers are not 0..n in order")
    return SolomonInstance(
        name=name,
        vehicles=vehicles,
        capacity=capacity,
        x=table[:, 1].copy(),
        y=table[:, 2].copy(),
        demand=table[:, 3].astype(np.int64),
        ready=table[:, 4].astype(np.int64),
        due=table[:, 5].astype(np.int64),
        service=table[:, 6].astype(np.int64),
    )


def read_bks(path: str | Path) -> dict[str, float]:
    """Best known distances from a ``bks*.csv`` file (``instance,vehicles,distance,source``)."""
    try:
        with Path(path).open(newline="") as handle:
            return {row["instance"]: float(row["distance"]) for row in csv.DictReader(handle)}
    except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInstance(str(path), "want a csv with columns instance,distance") from exc


def to_problem(inst: SolomonInstance, customers: list[int] | None = None) -> Problem:
    """The instance as a solver ``Problem``: location 0 is the depot, location i customer i.

    Times and distances are scaled by ``SCALE``. Travel times are rounded *up* so that a route
    feasible in integers is feasible in double precision too; distances are rounded to nearest.
    ``customers`` picks a subset (default all); task ids are the customer numbers as strings.
    """
    dist = inst.distances() * SCALE
    duration = np.ceil(dist - 1e-9).astype(np.int64)
    distance = np.rint(dist).astype(np.int64)
    chosen = customers if customers is not None else list(range(1, inst.customers + 1))
    tasks = tuple(
        Task(
            id=str(c),
            location=c,
            service_s=int(inst.service[c]) * SCALE,
            time_windows=((int(inst.ready[c]) * SCALE, int(inst.due[c]) * SCALE),),
            demand=int(inst.demand[c]),
        )
        for c in chosen
    )
    shift = (int(inst.ready[0]) * SCALE, int(inst.due[0]) * SCALE)
    vehicles = tuple(
        Vehicle(id=f"v{k}", start=0, end=0, shift=shift, capacity=inst.capacity)
        for k in range(inst.vehicles)
    )
    return Problem(vehicles=vehicles, tasks=tasks, duration=duration, distance=distance)
