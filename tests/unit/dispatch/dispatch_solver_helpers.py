"""Small hand-made problems for the solver tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dispatch.solver import Problem, Task, Vehicle

# The shared benchmark data sits beside the repository (``shared/`` next to the clone).
# A clone elsewhere falls back to the copy of C101 and the best-known table in tests/data.
_SHARED = Path(__file__).resolve().parents[4] / "shared" / "bench" / "vrptw"
_LOCAL = Path(__file__).resolve().parents[2] / "data" / "vrptw"
VRPTW_DIR = _SHARED if (_SHARED / "C101.txt").exists() else _LOCAL


def line_matrix(n: int, step: int = 10) -> np.ndarray:
    """Locations 0..n-1 on a line, ``step`` time units apart."""
    idx = np.arange(n)
    return (np.abs(idx[:, None] - idx[None, :]) * step).astype(np.int64)


def line_problem(tasks: list[Task], vehicles: list[Vehicle], n: int = 12) -> Problem:
    return Problem(tuple(vehicles), tuple(tasks), line_matrix(n))


def vrptw_dir() -> Path:
    assert (VRPTW_DIR / "C101.txt").exists(), f"benchmark data missing at {VRPTW_DIR}"
    return VRPTW_DIR
